"""`core.json_input`: what clients' JSON may not hold, refused at parse time."""

from __future__ import annotations

import pytest

from stackyard.core.json_input import Refused, loads


@pytest.mark.parametrize(
    "raw",
    [
        b"[" * 10_000 + b"]" * 10_000,
        b"[" * 65 + b"]" * 65,
        b'{"a": ' * 65 + b"1" + b"}" * 65,
        b"1" + b"0" * 400,
        b"9223372036854775808",
        b"-9223372036854775809",
        b"1e400",
        b"-1e400",
        b"NaN",
        b"[Infinity]",
        b'"\\ud800"',
        b'{"\\udfff": 1}',
        '"\\uD800"',
        b'"\xed\xa0\x80"',
        b'{"a": "\\u0000"}',
        b"not json",
    ],
)
def test_refused(raw: bytes | str) -> None:
    with pytest.raises(ValueError):
        loads(raw, max_depth=64)


@pytest.mark.parametrize(
    ("raw", "value"),
    [
        (b"[" * 64 + b"]" * 64, eval("[" * 64 + "]" * 64)),
        (b"9223372036854775807", 2**63 - 1),
        (b"-9223372036854775808", -(2**63)),
        (b"1.7e308", 1.7e308),
        (b'"\\ud83d\\ude00"', "\U0001f600"),
        (b'{"a": ["\\u00e9"]}', {"a": ["é"]}),
    ],
)
def test_taken(raw: bytes, value: object) -> None:
    assert loads(raw, max_depth=64) == value


def test_refusals_say_why() -> None:
    with pytest.raises(Refused, match="64 levels"):
        loads(b"[" * 100 + b"]" * 100, max_depth=64)
    with pytest.raises(Refused, match="surrogate"):
        loads(b'"\\ud800"', max_depth=64)
