"""JSON columns' text (`store.tx.jdump`): orjson writes it, byte for byte what the standard library's
`json.dumps(value, separators=(",", ":"), ensure_ascii=False)` wrote before, so stored documents
(and what is served from them as they are) do not change."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stackyard.store.tx import jdump


def _stdlib(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


_FLOATS = st.floats(allow_nan=False, allow_infinity=False) | st.sampled_from(
    [1e-05, 9.5e-05, 1e-07, 0.0001, 1e16, 1.5e300, 5e-324, -0.0, 123456789.125]
)
_SCALARS = st.none() | st.booleans() | st.integers(-(2**70), 2**70) | _FLOATS | st.text()
_VALUES = st.recursive(
    _SCALARS,
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=8), inner, max_size=5),
    max_leaves=30,
)


def _nested(depth: int) -> Any:
    value: Any = 1
    for _ in range(depth):
        value = [value]
    return value


@settings(max_examples=500, deadline=None)
@given(_VALUES)
def test_jdump_writes_what_the_standard_library_wrote(value: Any) -> None:
    assert jdump(value) == _stdlib(value)


@pytest.mark.parametrize(
    "value",
    [
        {"ratio": 1e-05, "tiny": [7e-09], "text": "a:0.00001 and [1e-5"},  # small floats, and look-alike text
        {"big": 2**64, "n": -(2**63)},  # integers orjson refuses past 64 bits
        {1: "a", None: "b"},  # keys JSON has to turn into strings
        {"lone": "\ud800"},  # an unpaired surrogate orjson refuses
        {"control": "\x00\x1f\x7f\u2028 é 中 😀", "quote": '"\\'},
        _nested(300),  # deeper than orjson goes
    ],
)
def test_jdump_matches_where_orjson_differs_or_refuses(value: Any) -> None:
    assert jdump(value) == _stdlib(value)


def test_jdump_refuses_what_the_standard_library_refuses() -> None:
    import datetime

    with pytest.raises(TypeError):
        jdump({"at": datetime.datetime(2026, 1, 1)})
    with pytest.raises(TypeError):
        jdump({"x": object()})


def test_ids_and_timestamps_that_look_like_floats_are_not_written_twice(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given a document like a webhook's trace: a tag joining hex ids (here `...5ae-6b0f...`), a
    # timestamp with `0.0000` in it, a header value with `e-5`
    doc = {
        "trace_tag": "trigger-core.6b0f34946983ed9ed5e4d5ae-6b0f34946983ed9ed5e4d668",
        "at": "2026-12-01T20:56:50.000012Z",
        "headers": {"x-ratio": "5e-5", "range": "bytes=0-1"},
        "n": [1, -2, 3.5],
    }
    expected = _stdlib(doc)
    # When it is written with the standard library out of reach
    monkeypatch.setattr("stackyard.store.tx.json.dumps", lambda *a, **k: pytest.fail("encoded twice"))
    # Then orjson's text is kept, and it is the same text
    assert jdump(doc) == expected
