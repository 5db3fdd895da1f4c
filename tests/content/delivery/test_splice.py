"""`include[]` by splicing stored texts (`content.delivery.splice`) gives the answers the general
path (`shape.expand` over decoded documents) gives: for random documents and include paths, and
over HTTP for the reads the other delivery tests make, with the stored spans and without them."""

from __future__ import annotations

from typing import Any

import hypothesis
import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from stackyard.content.delivery.shape import expand, trie
from stackyard.content.delivery.splice import reference_fields, splice
from stackyard.settings import Settings
from stackyard.store import json_spans
from stackyard.store.engine import jdump, jload
from tests.content.delivery.conftest import Site
from tests.store.test_query import SCHEMA, STRINGS, as_doc, documents

# -- json_spans --------------------------------------------------------------------------------
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=8,
)


@given(doc=st.dictionaries(st.text(max_size=8), json_values, max_size=6))
def test_spans_name_where_each_top_level_array_is(doc: dict[str, Any]) -> None:
    text, spans = json_spans.dump(doc)
    assert text == jdump(doc)
    assert spans is not None
    where = orjson.loads(spans)
    assert set(where) == {k for k, v in doc.items() if isinstance(v, list)}
    for key, (start, end) in where.items():
        assert jload(text[start:end]) == doc[key]
        assert text[:start].endswith(json_spans.key_text(key))


def test_only_objects_with_string_keys_have_spans() -> None:
    assert json_spans.dump([1, 2]) == ("[1,2]", None)
    assert json_spans.dump({1: [2]}) == ('{"1":[2]}', None)


# -- splicing against expanding ----------------------------------------------------------------
AUTHORS = {u: {"uid": u, "title": f"Author {u!r}", "age": 40} for u in STRINGS[:6]}
PATHS = ["author", "author", "author.books", "info", "info.name", "sections.hero", "seo", "title", "nope"]
_stubs = st.lists(
    st.builds(lambda u: {"uid": u, "_content_type_uid": "author"}, st.sampled_from([*AUTHORS, "gone"]))
    | st.sampled_from([{"uid": "a"}, {"uid": 1, "_content_type_uid": "author"}, "a"]),
    min_size=1,
    max_size=4,
)
# Mostly arrays of references (some to entries not published), now and then something else.
author_values = st.one_of(_stubs, _stubs, _stubs, _stubs, st.sampled_from(["<missing>", [], None, "a", {}]))


def _fetcher(stored: dict[tuple[str, str], str], asked: list[set[tuple[str, str]]]) -> Any:
    def fetch(wanted: set[tuple[str, str]]) -> dict[tuple[str, str], Any]:
        asked.append(set(wanted))
        return {k: stored[k] for k in wanted if k in stored}

    return fetch


def _refs(*uids: str) -> list[dict[str, str]]:
    return [{"uid": u, "_content_type_uid": "author"} for u in uids]


_DOC = {
    "title": "t",
    "data": {"price": 1.5, "info": {"n": 1e-05}},
    "tags": [],
    "version": 1,
    "locale": "en-us",
}


@hypothesis.settings(max_examples=300)
@hypothesis.example(  # two found, one not, one twice; and a second entry
    docs=[(_DOC, _refs("a", "gone", "b", "a")), (_DOC, _refs("ab"))],
    paths=["author", "title"],
    published={"a", "b", "ab"},
    empty=False,
)
@hypothesis.example(docs=[(_DOC, _refs("a", "b"))], paths=["author"], published={"a", "b"}, empty=True)
@given(
    docs=st.lists(st.tuples(documents, author_values), min_size=1, max_size=5),
    paths=st.lists(st.sampled_from(PATHS), min_size=1, max_size=3),
    published=st.sets(st.sampled_from(sorted(AUTHORS)), min_size=1),
    empty=st.booleans(),
)
def test_splicing_gives_what_expanding_gives(
    docs: list[tuple[dict[str, Any], Any]], paths: list[str], published: set[str], empty: bool
) -> None:
    stored = {("author", u): jdump(AUTHORS[u]) for u in published}
    if empty and published:  # an entry stored as `{}` is decoded, not appended to
        stored[("author", min(published))] = "{}"
    entries = []
    for i, (d, author) in enumerate(docs):
        entry = {k: v for k, v in as_doc(f"e{i}", d).items() if k != "author"}
        entries.append(entry if author == "<missing>" else {**entry, "author": author})
    rows = [json_spans.dump(e) for e in entries]
    node = trie(paths, 3, 100)
    names = reference_fields(SCHEMA, node)
    if names is None:  # a path into a group, a block or past a reference: the general path's
        assert any(p.startswith(("author.", "info", "sections", "seo")) for p in paths)
        return
    fast_asked: list[set[tuple[str, str]]] = []
    fast = splice(rows, names, _fetcher(stored, fast_asked))
    slow_asked: list[set[tuple[str, str]]] = []
    slow = [jload(text) for text, _ in rows]
    expand(slow, SCHEMA, node, _fetcher(stored, slow_asked), lambda ct: None, 3, verbatim=True)
    if fast is None:  # an author field holding no array: the general path makes it []
        assert any("author" in e and not isinstance(e["author"], list) for e in entries)
        return
    assert _normal({"entries": fast}) == _normal({"entries": slow})
    assert fast_asked == slow_asked  # the same entries fetched (and so tagged)


def _normal(body: Any) -> bytes:
    """The answer as orjson writes it after decoding (the stored text may spell a number as `json`
    does, `1e-05` for orjson's `1e-5`); key order and duplicate keys still count."""
    return orjson.dumps(jload(orjson.dumps(body).decode()))


# -- over HTTP ----------------------------------------------------------------------------------
@pytest.fixture
def settings(settings: Settings) -> Settings:
    """The delivery tests' settings, with no response cache: each read runs."""
    return settings.replace(delivery_cache_bytes=0)


READS: list[tuple[str, list[tuple[str, str]]]] = [
    ("", [("include[]", "author")]),
    ("", [("include[]", "author"), ("include_count", "true"), ("include_content_type", "true")]),
    ("", [("include[]", "author"), ("include[]", "author.books")]),
    ("", [("include[]", "author"), ("only[author][]", "title")]),
    ("", [("include[]", "author"), ("except[BASE][]", "body"), ("include_branch", "true")]),
    ("", [("include[]", "author"), ("only[BASE][]", "author")]),
    ("", [("include[]", "author"), ("locale", "fr-ca"), ("include_fallback", "true")]),
    ("", [("include[]", "author"), ("include[]", "info"), ("desc", "rating"), ("limit", "2")]),
    ("", [("include[]", "author"), ("query", '{"rating": {"$gte": 3}}'), ("include_metadata", "true")]),
    ("", [("include[]", "nope"), ("include[]", "title")]),
    ("/{article}", [("include[]", "author")]),
    ("/{article}", [("include[]", "author"), ("locale", "fr-fr"), ("include_fallback", "true")]),
    ("/{article}", [("include[]", "author"), ("include_embedded_items[]", "BASE")]),
    ("/{lone}", [("include[]", "author")]),
]


def _answers(site: Site, paths: dict[str, str]) -> list[tuple[int, bytes, str | None]]:
    out = []
    with site.cda() as c:
        for tail, params in READS:
            r = c.get("/v3/content_types/article/entries" + tail.format(**paths), params=params)
            out.append((r.status_code, _normal(r.json()), r.headers.get("x-tag")))
    return out


def test_reads_with_includes_answer_the_same_from_spliced_texts(site: Site, books: dict[str, Any]) -> None:
    # given an article in fr-fr too, and one whose author is not published
    art = books["articles"][0]["uid"]
    site.update("article", art, {"title": "Article FR", "rating": 2}, locale="fr-fr")
    site.publish("article", art, locale="fr-fr")
    ghost = site.create("author", {"title": "Ghost"})
    lone = site.create(
        "article", {"title": "Lone", "author": [{"uid": ghost["uid"], "_content_type_uid": "author"}]}
    )
    site.publish("article", lone["uid"])
    paths = {"article": art, "lone": lone["uid"]}
    db = site.live.db
    with db.read() as tx:
        kept = [r["spans"] for r in tx.all("SELECT spans FROM published WHERE kind = 'entry'")]
    if db.dialect == "sqlite":  # the text as stored is what SQLite hands back: spans were kept
        assert len(kept) == 8 and all("tags" in orjson.loads(s) for s in kept)
    else:  # JSONB keeps no text of its own to splice
        assert kept == [None] * 8
    # when the same reads are answered from the spliced texts, then without the spans
    spliced = _answers(site, paths)
    with db.write() as tx:
        tx.run("UPDATE published SET spans = NULL")
    general = _answers(site, paths)
    # then every answer is the same: status, body and cache tags
    assert all(status == 200 for status, _, _ in spliced)
    for read, a, b in zip(READS, spliced, general, strict=True):
        assert a == b, read
    with site.cda() as c:  # the unpublished author is left out, as if not referenced
        r = c.get(f"/v3/content_types/article/entries/{lone['uid']}", params={"include[]": "author"})
        assert r.json()["entry"]["author"] == []


def test_an_included_entry_carries_its_content_type_uid(site: Site, books: dict[str, Any]) -> None:
    with site.cda() as c:
        r = c.get("/v3/content_types/article/entries", params={"include[]": "author"})
    assert r.status_code == 200
    for e in r.json()["entries"]:
        assert [(a["title"], a["_content_type_uid"]) for a in e["author"]] == [("Ann", "author")]
        assert e["author"][0]["books"][0]["_content_type_uid"] == "book"  # a stub, not included
