"""Entry values against their schema: every data type, valid and invalid, with the exact `errors`."""

from __future__ import annotations

import time
from typing import Any

import pytest

from stackyard.content.entries.validation import check


def f(uid: str, data_type: str, **extra: Any) -> dict[str, Any]:
    return {"uid": uid, "display_name": uid, "data_type": data_type, **extra}


SCHEMA: list[dict[str, Any]] = [
    f("title", "text", mandatory=True),
    f("body", "text", field_metadata={"multiline": True}),
    f("md", "text", field_metadata={"markdown": True}),
    f("html", "text", field_metadata={"allow_rich_text": True, "rich_text_type": "advanced"}),
    f("slug", "text", format="^[a-z-]+$", error_messages={"format": "must be lowercase words."}),
    f("code", "text", min=2, max=4),
    f("price", "number", min=0, max=100),
    f("done", "boolean"),
    f("when", "isodate"),
    f("cover", "file"),
    f("site", "link"),
    f("author", "reference", reference_to=["author"], field_metadata={"ref_multiple": False}),
    f("related", "reference", reference_to=["author", "article"]),
    f(
        "color",
        "text",
        display_type="dropdown",
        enum={"advanced": False, "choices": [{"value": "red"}, {"value": "blue"}]},
    ),
    f(
        "size",
        "number",
        display_type="radio",
        enum={"advanced": False, "choices": [{"value": 1}, {"value": 2}]},
    ),
    f(
        "labels",
        "text",
        display_type="checkbox",
        multiple=True,
        enum={"advanced": False, "choices": [{"value": "a"}, {"value": "b"}]},
    ),
    f("info", "group", schema=[f("name", "text", mandatory=True), f("n", "number")]),
    f("items", "group", multiple=True, max_instance=2, schema=[f("name", "text")]),
    f(
        "sections",
        "blocks",
        blocks=[
            {"uid": "hero", "title": "Hero", "schema": [f("heading", "text", mandatory=True)]},
            {"uid": "quote", "title": "Quote", "schema": [f("text", "text")]},
        ],
    ),
    f("seo", "global_field", reference_to="seo", schema=[f("keywords", "text")]),
    f("rte", "json", field_metadata={"allow_json_rte": True, "rich_text_type": "advanced"}),
    f("extra", "json"),
    f("topics", "taxonomy", taxonomies=[{"taxonomy_uid": "colors", "max_terms": 2}]),
    f("scores", "number", multiple=True, min_instance=1, max_instance=3),
    f("stars", "number", field_metadata={"default_value": 3}),
]
EXISTING = {"blt_author": "author", "blt_article": "article"}


def run(data: dict[str, Any], *, create: bool = True) -> Any:
    return check(SCHEMA, {"title": "T", **data}, create=create, lookup=EXISTING.get)


VALID: list[tuple[str, Any]] = [
    ("body", "line one\nline two"),
    ("md", "# Heading"),
    ("html", "<p>Hi</p>"),
    ("slug", "hello-world"),
    ("code", "abc"),
    ("price", 0),
    ("price", 99.5),
    ("done", False),
    ("when", "2024-01-31"),
    ("when", "2024-01-31T10:00:00.000Z"),
    ("cover", "blt0123456789abcdef"),
    ("site", {"title": "Home", "href": "https://example.com"}),
    ("author", [{"uid": "blt_author", "_content_type_uid": "author"}]),
    ("related", [{"uid": "blt_author", "_content_type_uid": "author"}, {"uid": "blt_article"}]),
    ("color", "red"),
    ("size", 2),
    ("labels", ["a", "b"]),
    ("info", {"name": "x", "n": 1}),
    ("items", [{"name": "a"}, {"name": "b", "_metadata": {"uid": "cs1"}}]),
    ("sections", [{"hero": {"heading": "H"}}, {"quote": {"text": "Q"}}]),
    ("seo", {"keywords": "k"}),
    (
        "rte",
        {"type": "doc", "uid": "u", "attrs": {}, "children": [{"type": "p", "children": [{"text": "x"}]}]},
    ),
    ("extra", {"any": ["json", 1]}),
    ("topics", [{"taxonomy_uid": "colors", "term_uid": "red"}]),
    ("scores", [1, 2, 3]),
]


@pytest.mark.parametrize(("name", "value"), VALID)
def test_valid_values_are_kept(name: str, value: Any) -> None:
    checked = run({name: value, "scores": [1]} if name != "scores" else {name: value})
    assert checked.errors == {}
    expected = value
    if name == "related":
        expected = [value[0], {"uid": "blt_article", "_content_type_uid": "article"}]
    assert checked.data[name] == expected


INVALID: list[tuple[dict[str, Any], dict[str, list[str]]]] = [
    ({"title": None}, {"title": ["is required."]}),
    ({"title": ""}, {"title": ["is required."]}),
    ({"title": 5}, {"title": ["must be a string."]}),
    ({"body": ["x"]}, {"body": ["must be a single value, not a list."]}),
    ({"slug": "Hello World"}, {"slug": ["must be lowercase words."]}),
    ({"code": "a"}, {"code": ["must be at least 2 characters long."]}),
    ({"code": "abcde"}, {"code": ["must be at most 4 characters long."]}),
    ({"price": "5"}, {"price": ["must be a number."]}),
    ({"price": True}, {"price": ["must be a number."]}),
    ({"price": -1}, {"price": ["must be at least 0."]}),
    ({"price": 101}, {"price": ["must be at most 100."]}),
    ({"done": "yes"}, {"done": ["must be true or false."]}),
    (
        {"when": "31/01/2024"},
        {"when": ["must be an ISO 8601 date, such as 2024-01-31 or 2024-01-31T10:00:00.000Z."]},
    ),
    ({"cover": 7}, {"cover": ["must be the uid of an asset."]}),
    ({"site": "https://x"}, {"site": ["must be an object {title, href}."]}),
    ({"site": {"title": "x", "url": "y"}}, {"site": ["must be an object {title, href}."]}),
    ({"author": [{"uid": "blt_missing"}]}, {"author.0": ["refers to an entry that does not exist."]}),
    (
        {"author": [{"uid": "blt_article"}]},
        {"author.0": ["refers to an entry of a content type this field does not accept."]},
    ),
    (
        {"author": [{"uid": "blt_author", "_content_type_uid": "article"}]},
        {"author.0": ["refers to an entry that does not exist."]},
    ),
    ({"author": [{"uid": "blt_author"}, {"uid": "blt_author"}]}, {"author": ["takes only one entry."]}),
    ({"author": {"uid": "blt_author"}}, {"author": ["must be a list."]}),
    ({"related": [5]}, {"related.0": ["must be an object {uid, _content_type_uid}."]}),
    ({"color": "green"}, {"color": ["is not one of the field's choices."]}),
    ({"size": 3}, {"size": ["is not one of the field's choices."]}),
    ({"size": "1"}, {"size": ["must be a number."]}),
    ({"labels": ["a", "c"]}, {"labels.1": ["is not one of the field's choices."]}),
    ({"labels": "a"}, {"labels": ["must be a list."]}),
    ({"info": {"n": 1}}, {"info.name": ["is required."]}),
    ({"info": {"name": "x", "bogus": 1}}, {"info.bogus": ["is not a field of this content type."]}),
    ({"info": "x"}, {"info": ["must be an object."]}),
    ({"items": [{"name": 1}]}, {"items.0.name": ["must be a string."]}),
    ({"items": [{}, {}, {}]}, {"items": ["must have at most 2 items."]}),
    ({"sections": [{"hero": {}}]}, {"sections.0.hero.heading": ["is required."]}),
    ({"sections": [{"video": {}}]}, {"sections.0.video": ["is not a block of this field."]}),
    (
        {"sections": [{"hero": {"heading": "h"}, "quote": {}}]},
        {"sections.0": ['must be an object with one block, such as {"block_uid": {...}}.']},
    ),
    ({"seo": {"keywords": 1}}, {"seo.keywords": ["must be a string."]}),
    ({"rte": {"children": []}}, {"rte": ["must be a JSON rich text document {type, children}."]}),
    ({"extra": "text"}, {"extra": ["must be a JSON object."]}),
    (
        {"topics": [{"taxonomy_uid": "sizes", "term_uid": "s"}]},
        {"topics.0.taxonomy_uid": ["is not a taxonomy of this field."]},
    ),
    (
        {"topics": [{"taxonomy_uid": "colors", "term_uid": t} for t in "abc"]},
        {"topics": ["takes at most 2 terms of 'colors'."]},
    ),
    ({"scores": []}, {"scores": ["must have at least 1 items."]}),
    ({"scores": [1, 2, 3, 4]}, {"scores": ["must have at most 3 items."]}),
    ({"scores": [1, "2"]}, {"scores.1": ["must be a number."]}),
    ({"nope": 1}, {"nope": ["is not a field of this content type."]}),
]


@pytest.mark.parametrize(("data", "errors"), INVALID)
def test_invalid_values_are_named_by_path(data: dict[str, Any], errors: dict[str, list[str]]) -> None:
    checked = run({"scores": [1], **data})
    assert checked.errors == errors


def test_defaults_fill_in_on_create_only() -> None:
    assert run({"scores": [1]}).data["stars"] == 3
    assert "stars" not in run({"scores": [1]}, create=False).data
    assert run({"scores": [1], "stars": 5}).data["stars"] == 5


def test_system_fields_echoed_back_are_ignored() -> None:
    checked = run(
        {"scores": [1], "uid": "x", "_version": 4, "ACL": {}, "created_at": "t", "publish_details": []}
    )
    assert checked.errors == {}
    assert set(checked.data) == {"title", "scores", "stars"}


def test_unique_values_are_reported_for_the_caller_to_check() -> None:
    schema = [f("title", "text", mandatory=True, unique=True)]
    checked = check(schema, {"title": "Hello"}, create=True, lookup=EXISTING.get)
    assert checked.unique == [("title", "Hello")]


def test_references_are_collected() -> None:
    checked = run({"scores": [1], "related": [{"uid": "blt_author"}, {"uid": "blt_article"}]})
    assert checked.refs == [("blt_author", "author"), ("blt_article", "article")]


def test_multiple_fields_hold_at_most_max_items_even_without_max_instance() -> None:
    schema = [f("words", "text", multiple=True), f("nums", "number", multiple=True, max_instance=10)]
    ok = check(
        schema, {"words": ["a"] * 3, "nums": [1] * 3}, create=True, lookup=lambda uid: None, max_items=3
    )
    assert ok.errors == {}
    # a field's max_instance can only lower the cap, never raise it
    over = check(
        schema, {"words": ["a"] * 4, "nums": [1] * 4}, create=True, lookup=lambda uid: None, max_items=3
    )
    assert over.errors == {"words": ["must have at most 3 items."], "nums": ["must have at most 3 items."]}


@pytest.mark.solo  # measures latency: runs alone
def test_the_default_cap_refuses_a_million_items_at_once() -> None:
    schema = [f("nums", "number", multiple=True)]
    started = time.monotonic()
    result = check(schema, {"nums": [1] * 1_600_000}, create=True, lookup=lambda uid: None)
    assert result.errors == {"nums": ["must have at most 1000 items."]}
    assert time.monotonic() - started < 1.0


@pytest.mark.solo  # measures latency: runs alone
def test_a_catastrophic_format_is_matched_in_linear_time() -> None:
    """`^(a+)+$` against 40 a's and a '!' takes Python's backtracking `re` about 2^40 steps (hours);
    the format is matched with RE2, so the save answers at once, with the format's error."""
    schema = [f("title", "text", format="^(a+)+$", error_messages={"format": "only a's."})]
    start = time.perf_counter()
    checked = check(schema, {"title": "a" * 40 + "!"}, create=True, lookup=EXISTING.get)
    assert time.perf_counter() - start < 1.0
    assert checked.errors == {"title": ["only a's."]}


@pytest.mark.parametrize("value", [9.3e18, -9.3e18, 1e300])
def test_numbers_stay_inside_the_64_bit_integers(value: float) -> None:
    """A whole float past 2^63 would be stored as an integer the body parser refuses on import."""
    assert run({"stars": value}).errors == {"stars": ["must be between -2^63 and 2^63 (exclusive)."]}
