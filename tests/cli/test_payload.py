"""Bodies from --file / --data / attribute flags, and the usage errors they raise."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from stackyard.cli import payload
from stackyard.cli.errors import UsageError

FIELDS = [
    payload.field_of("NAME", key="name", help="n", verbs=("create",)),
    payload.field_of("--desc", key="meta.description", help="d"),
    payload.field_of(
        "--url", key="urls", help="u", action="append", type=payload.pairs, convert=payload.locale_urls
    ),
]


def _args(*argv: str) -> argparse.Namespace:
    p = argparse.ArgumentParser()
    payload.add_body_options(p, "thing")
    for f in FIELDS:
        f.add_to(p)
    return p.parse_args(list(argv))


def test_flags_build_a_wrapped_body() -> None:
    body = payload.build(_args("prod", "--desc", "x", "--url", "en-us=https://a=b"), "environment", FIELDS)
    assert body == {
        "environment": {
            "name": "prod",
            "meta": {"description": "x"},
            "urls": [{"locale": "en-us", "url": "https://a=b"}],
        }
    }


def test_wrapped_and_bare_documents_are_the_same(tmp_path: Path) -> None:
    f = tmp_path / "d.json"
    f.write_text(json.dumps({"environment": {"name": "a", "x": 1}}))
    wrapped = payload.build(_args("--file", str(f)), "environment", FIELDS)
    bare = payload.build(_args("--data", '{"name": "a", "x": 1}'), "environment", FIELDS)
    assert wrapped == bare == {"environment": {"name": "a", "x": 1}}
    # flags override the document
    assert payload.build(_args("b", "--data", '{"name": "a"}'), "environment", FIELDS) == {
        "environment": {"name": "b"}
    }


@pytest.mark.parametrize(
    "argv,message",
    [
        (("--data", "{nope"), "--data is not valid JSON"),
        (("--data", "[1, 2]"), "--data must hold a JSON object"),
        (("--file", "/nonexistent/x.json"), "cannot read /nonexistent/x.json"),
        ((), "nothing to send: give --file, --data or --desc, --url"),
    ],
)
def test_bad_bodies_are_usage_errors(argv: tuple[str, ...], message: str) -> None:
    with pytest.raises(UsageError) as e:
        payload.build(_args(*argv), "environment", FIELDS)
    assert message in str(e.value)
    assert e.value.exit_code == 2


def test_pairs_need_a_key_and_an_equals_sign() -> None:
    with pytest.raises(SystemExit):
        _args("--url", "https://no-locale")
