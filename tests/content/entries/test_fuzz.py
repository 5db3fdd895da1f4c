"""Random queries and bodies against the entry routes: never a 5xx, every error in the canonical shape.

The generic route fuzzer (tests/server/test_fuzz.py) reaches these routes without entries or a
rich schema; this one aims at what the entry code parses: query JSON built from the schema's field
names and the operators, and entry bodies whose values and update operators are of random types.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.content.entries.test_entries import ARTICLE, AUTHOR, E

CANONICAL = {"error_message", "error_code", "errors"}
FIELDS = ["title", "body", "views", "scores", "authors", "authors.uid", "info", "info.name", "info.n",
          "sections", "sections.hero.heading", "uid", "tags", "locale", "_version", "nope", "info.nope"]  # fmt: skip
OPS = ["$ne", "$in", "$nin", "$lt", "$lte", "$gt", "$gte", "$exists", "$regex", "$options", "$where", "$eq"]
UPDATE_OPS = ["ADD", "SUB", "PUSH", "PULL", "UPDATE", "data", "index", "query"]

scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text(max_size=6)
    | st.sampled_from(["1", "a", "^a", "true"])
)
values = st.recursive(
    scalars,
    lambda c: (
        st.lists(c, max_size=3) | st.dictionaries(st.sampled_from(OPS + UPDATE_OPS + FIELDS), c, max_size=3)
    ),
    max_leaves=6,
)
queries = st.recursive(
    st.dictionaries(st.sampled_from(FIELDS), values, max_size=3),
    lambda c: st.dictionaries(
        st.sampled_from(["$and", "$or", *FIELDS]), st.lists(c, max_size=2) | values, max_size=2
    ),
    max_leaves=5,
)
bodies = st.dictionaries(st.sampled_from([*FIELDS, "_version", "tags"]), values, max_size=5)


def sane(r: httpx.Response) -> None:
    assert r.status_code < 500, (r.request.method, r.request.url, r.text)
    if r.status_code >= 400:
        assert set(r.json()) >= CANONICAL, r.text


@pytest.fixture
def article(cma: httpx.Client) -> tuple[httpx.Client, str]:
    for body in (AUTHOR, ARTICLE):
        assert cma.post("/v3/content_types", json=body).status_code == 201
    r = cma.post(E.format("article"), json={"entry": {"title": "Fuzz", "views": 1, "scores": [1, 2]}})
    return cma, r.json()["entry"]["uid"]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(query=queries, sort=st.sampled_from([None, "views", "title", "scores", "info.n", "nope"]))
def test_random_queries_never_fail_the_server(
    article: tuple[httpx.Client, str], query: Any, sort: str | None
) -> None:
    cma, _ = article
    params = {"query": json.dumps(query)}
    if sort:
        params["asc"] = sort
    sane(cma.get(E.format("article"), params=params))
    sane(cma.get(E.format("article"), params={**params, "include_fallback": "true", "locale": "en-us"}))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=bodies)
def test_random_bodies_never_fail_the_server(article: tuple[httpx.Client, str], body: dict[str, Any]) -> None:
    cma, uid = article
    raw = json.dumps({"entry": body})  # NaN and Infinity included, as a careless client sends them
    sane(cma.post(E.format("article"), content=raw))
    sane(cma.put(E.format("article") + "/" + uid, content=raw))
