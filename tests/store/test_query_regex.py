"""The `$regex` dialect: refused patterns are 400s before any SQL runs, and patterns that made
Python's backtracking `re` run for seconds are matched in linear time, on both engines alike."""

from __future__ import annotations

import time
from typing import Any

import pytest

from stackyard.errors import BadRequest
from stackyard.store import query_eval
from stackyard.store.engine import Database
from stackyard.store.query_regex import parse_regex
from tests.store.test_query import SCHEMA, _stack, load, select

HOSTILE = [
    "a{4294967296}",  # OverflowError (500) in Python's re
    "a{256}",  # PostgreSQL's limit is 255
    "(?P<n>a)(?P=n)",  # Python takes it, PostgreSQL refused it with a 500
    "(a)\\1",
    "\\1",
    "(?=a)",
    "(?!a)b",
    "(?<=a)b",
    "a*+",
    "a++",
    "(?i)a",
    "\\bword\\b",
    "\\p{L}",
    "[[:alpha:]]",
    "(a{100}){100}",
    "|".join(f"(?:x{i}){{200}}" for i in range(10)),
    "a" * 257,
    "(",
    "[a",
    "*a",
]


def _doc(title: str, **data: Any) -> dict[str, Any]:
    return {"title": title, "data": data, "tags": [], "version": 1, "locale": "en-us"}


@pytest.mark.parametrize("pattern", HOSTILE)
def test_patterns_outside_the_dialect_are_400_on_both_engines(db: Database, pattern: str) -> None:
    # given a stack with an entry
    access = _stack(db)
    load(db, access.api_key, [_doc("a")])
    # when a query uses the pattern, then it is refused as a bad query before the database sees it
    with pytest.raises(BadRequest) as err:
        select(db, access.api_key, {"title": {"$regex": pattern}})
    assert err.value.status == 400 and err.value.error_code == 102
    assert "$regex" in err.value.error_message and err.value.errors["query"]


@pytest.mark.parametrize(
    ("pattern", "title"),
    [
        ("(a+)+$", "a" * 25 + "!"),  # 8.7 s with Python's re inside SQLite
        ("^([A-Za-z ]+)+$", "The quick brown fox jumps over the lazy dog again and again!"),
        ("(a|aa)*!$", "a" * 40),
        ("(x+x+)+y", "x" * 5000),
    ],
)
def test_catastrophic_patterns_run_in_linear_time(db: Database, pattern: str, title: str) -> None:
    # given entries whose titles make a backtracking engine explode
    access = _stack(db)
    docs = load(db, access.api_key, [_doc(title), _doc(title[:-1] + "y"), _doc("aaaa")])
    query = {"title": {"$regex": pattern}}
    # when the query runs
    started = time.monotonic()
    got = select(db, access.api_key, query)
    took = time.monotonic() - started
    # then it answers at once, and what the reference evaluator answers
    assert took < 0.5, f"{pattern!r} took {took:.2f} s"
    assert got == sorted(d["uid"] for d in docs if query_eval.matches(SCHEMA, query, d))


def test_options_i_folds_ascii_letters_only_on_both_engines(db: Database) -> None:
    access = _stack(db)
    load(db, access.api_key, [_doc("ABC"), _doc("É"), _doc("a\nb"), _doc("x.y")])
    assert select(db, access.api_key, {"title": {"$regex": "^abc$", "$options": "i"}}) == ["e000"]
    assert select(db, access.api_key, {"title": {"$regex": "é", "$options": "i"}}) == []
    assert select(db, access.api_key, {"title": {"$regex": "[^a-z]", "$options": "i"}}) == [
        "e001",
        "e002",
        "e003",
    ]
    # `.` takes a newline too, `^`/`$` are the ends of the text, `\.` is a dot
    assert select(db, access.api_key, {"title": {"$regex": "^a.b$"}}) == ["e002"]
    assert select(db, access.api_key, {"title": {"$regex": "x\\.y"}}) == ["e003"]


def test_both_engines_get_our_rendering_not_the_clients_text() -> None:
    rx = parse_regex("^Hello [a-z]+\\d{2,}$", "i")
    assert rx.ere == "^[Hh][Ee][Ll][Ll][Oo] [A-Za-z]+[0-9]{2,}$"
    assert rx.re2 == "(?s)" + rx.ere
