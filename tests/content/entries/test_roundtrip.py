"""Property tests over HTTP: random valid entries of a rich schema round-trip unchanged through
create -> fetch -> export -> import -> fetch; random invalid ones are refused and nothing is stored."""

from __future__ import annotations

import itertools
import json
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import Live
from tests.content.model.test_content_types import ct, text

E = "/v3/content_types/{}/entries"
SERIAL = itertools.count()


def field(uid: str, data_type: str, **extra: Any) -> dict[str, Any]:
    return {"display_name": uid, "uid": uid, "data_type": data_type, **extra}


RICH = ct(
    "rich",
    text("body", field_metadata={"multiline": True}),
    field("price", "number"),
    field("done", "boolean"),
    field("when", "isodate"),
    field("cover", "file"),
    field("site", "link"),
    field(
        "pick",
        "text",
        display_type="dropdown",
        enum={"advanced": False, "choices": [{"value": "a"}, {"value": "b"}]},
    ),
    text("words", multiple=True),
    field("info", "group", schema=[text("name"), field("n", "number")]),
    field("items", "group", multiple=True, schema=[text("name")]),
    field(
        "sections",
        "blocks",
        blocks=[
            {"uid": "hero", "title": "Hero", "schema": [text("heading")]},
            {"uid": "quote", "title": "Quote", "schema": [text("text")]},
        ],
    ),
    field("extra", "json"),
    field("rte", "json", field_metadata={"allow_json_rte": True, "rich_text_type": "advanced"}),
    field("writer", "reference", reference_to=["writer"]),
)

strings = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=20)
numbers = st.one_of(
    st.integers(-(10**12), 10**12),
    # number fields hold values inside the 64-bit integers (values.NUMBER_LIMIT)
    st.floats(allow_nan=False, allow_infinity=False, width=32, min_value=-(2.0**62), max_value=2.0**62),
)
dates = st.dates().map(lambda d: d.isoformat())
scalars = st.one_of(st.none(), st.booleans(), st.integers(-1000, 1000), strings)
json_values = st.recursive(
    scalars,
    lambda c: st.one_of(st.lists(c, max_size=3), st.dictionaries(strings, c, max_size=3)),
    max_leaves=8,
)


def optional(**fields: st.SearchStrategy[Any]) -> st.SearchStrategy[dict[str, Any]]:
    """Objects holding any subset of `fields`."""
    return st.fixed_dictionaries({}, optional=fields)


def entries(writer: str, cover: str) -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries(
        {"title": strings.filter(lambda s: s.strip() != "")},
        optional={
            "body": strings,
            "price": numbers,
            "done": st.booleans(),
            "when": dates,
            "cover": st.just(cover),
            "site": optional(title=strings, href=strings),
            "pick": st.sampled_from(["a", "b"]),
            "words": st.lists(strings, max_size=3),
            "info": optional(name=strings, n=numbers),
            "items": st.lists(optional(name=strings), max_size=3),
            "sections": st.lists(
                st.one_of(
                    optional(heading=strings).map(lambda b: {"hero": b}),
                    optional(text=strings).map(lambda b: {"quote": b}),
                ),
                max_size=3,
            ),
            "extra": st.dictionaries(strings, json_values, max_size=3),
            "rte": st.builds(
                lambda t: {
                    "type": "doc",
                    "uid": "u1",
                    "attrs": {},
                    "children": [{"type": "p", "children": [{"text": t}]}],
                },
                strings,
            ),
            "writer": st.just([{"uid": writer, "_content_type_uid": "writer"}]),
            "tags": st.lists(strings.filter(bool), max_size=3, unique=True),
        },
    )


# one field made invalid, with the error path it must be reported under
INVALID = st.sampled_from(
    [
        ({"price": "12"}, "price"),
        ({"done": 1}, "done"),
        ({"when": "yesterday"}, "when"),
        ({"cover": 5}, "cover"),
        ({"cover": "blt00000000000000ff"}, "cover"),  # no such asset
        ({"site": {"href": 1}}, "site.href"),
        ({"pick": "c"}, "pick"),
        ({"words": "w"}, "words"),
        ({"info": {"n": "1"}}, "info.n"),
        ({"items": [{"name": 2}]}, "items.0.name"),
        ({"sections": [{"video": {}}]}, "sections.0.video"),
        ({"extra": "x"}, "extra"),
        ({"rte": {"type": "doc"}}, "rte"),
        ({"writer": [{"uid": "bltmissing00000000"}]}, "writer.0"),
        ({"unknown": 1}, "unknown"),
        ({"title": ""}, "title"),
    ]
)


@pytest.fixture
def rich(cma: httpx.Client) -> tuple[httpx.Client, str, str]:
    assert cma.post("/v3/content_types", json=ct("writer")).status_code == 201
    assert cma.post("/v3/content_types", json=RICH).status_code == 201, cma.post(
        "/v3/content_types", json=RICH
    ).text
    writer = cma.post(E.format("writer"), json={"entry": {"title": "W"}}).json()["entry"]["uid"]
    upload = cma.post("/v3/assets", files={"asset[upload]": ("cover.txt", b"a cover", "text/plain")})
    assert upload.status_code == 201, upload.text
    return cma, writer, upload.json()["asset"]["uid"]


FIELDS = {f["uid"] for f in RICH["content_type"]["schema"]}


def values_of(entry: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in entry.items() if k in FIELDS or k == "tags"}


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_valid_entries_round_trip(rich: tuple[httpx.Client, str, str], data: st.DataObject) -> None:
    cma, writer, cover = rich
    entry = data.draw(entries(writer, cover))
    entry["title"] = f"{entry['title']}#{next(SERIAL)}"  # titles are unique per locale
    r = cma.post(E.format("rich"), json={"entry": entry})
    assert r.status_code == 201, r.text
    created = r.json()["entry"]
    expected = {"tags": [], **entry}
    assert values_of(created) == expected
    one = E.format("rich") + "/" + created["uid"]
    assert values_of(cma.get(one).json()["entry"]) == expected
    exported = cma.get(one + "/export").json()
    cma.delete(one)
    r = cma.post(E.format("rich") + "/import", files={"entry": ("e.json", json.dumps(exported))})
    assert r.status_code == 201, r.text
    again = cma.get(E.format("rich") + "/" + r.json()["entry"]["uid"]).json()["entry"]
    assert values_of(again) == expected


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data(), bad=INVALID)
def test_invalid_entries_are_refused(
    rich: tuple[httpx.Client, str, str], live: Live, data: st.DataObject, bad: tuple[dict[str, Any], str]
) -> None:
    cma, writer, cover = rich
    entry = {**data.draw(entries(writer, cover)), **bad[0]}
    with live.db.read() as tx:
        before = tx.scalar("SELECT COUNT(*) AS n FROM entry_versions")
    r = cma.post(E.format("rich"), json={"entry": entry})
    assert r.status_code == 422, r.text
    assert bad[1] in r.json()["errors"] and r.json()["error_code"] == 119
    with live.db.read() as tx:
        assert tx.scalar("SELECT COUNT(*) AS n FROM entry_versions") == before


@pytest.mark.parametrize("bad", ["nul\x00here", "lone\ud800surrogate"])
def test_text_no_engine_can_store_is_refused(rich: tuple[httpx.Client, str, str], bad: str) -> None:
    cma, _, _ = rich
    body = json.dumps({"entry": {"title": "t", "body": bad}}).encode()
    r = cma.post(E.format("rich"), content=body)
    # refused by the body parser (400) or by entry validation (422); never stored, never a 500
    assert r.status_code in (400, 422) and r.json()["errors"], r.text
    assert cma.get(E.format("rich")).json()["entries"] == []
    r = cma.get(E.format("rich"), params={"query": json.dumps({"body": bad})})
    assert r.status_code == 400
