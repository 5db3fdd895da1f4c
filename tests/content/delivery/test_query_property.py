"""The delivery query over published documents: random documents and random queries (reference
queries included) select the same entries from SQLite, from PostgreSQL and from the plain-Python
evaluator (`store/query_eval.py`)."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from stackyard.store import query_eval
from stackyard.store.engine import Database, jdump
from stackyard.store.query import compile_query, order_by
from stackyard.store.query_paths import in_document, resolve
from stackyard.store.query_regex import prepare
from tests.store.test_query import SCHEMA, documents, make_stack, queries

AUTHOR_SCHEMA: list[dict[str, Any]] = [
    {"uid": "title", "data_type": "text"},
    {"uid": "age", "data_type": "number"},
]
AUTHORS = ["a1", "a2", "a3"]
SCHEMAS = {"doc": SCHEMA, "author": AUTHOR_SCHEMA}

author_docs = st.lists(
    st.fixed_dictionaries(
        {
            "uid": st.sampled_from(AUTHORS),
            "title": st.sampled_from(["Ann", "Bob", "ann"]),
            "age": st.integers(20, 60),
        }
    ),
    max_size=3,
    unique_by=lambda d: d["uid"],
)
stubs = st.lists(
    st.builds(lambda u: {"uid": u, "_content_type_uid": "author"}, st.sampled_from([*AUTHORS, "gone"])),
    max_size=2,
)
sub_queries = st.one_of(
    st.builds(lambda t: {"title": t}, st.sampled_from(["Ann", "Bob"])),
    st.builds(lambda n: {"age": {"$gt": n}}, st.integers(20, 60)),
    st.builds(lambda rx: {"title": {"$regex": rx, "$options": "i"}}, st.sampled_from(["^a", "b$", "n+"])),
)
ref_queries = st.one_of(
    st.builds(lambda op, q: {"author": {op: q}}, st.sampled_from(["$in_query", "$nin_query"]), sub_queries),
    st.builds(lambda n: {"author.age": {"$lte": n}}, st.integers(20, 60)),
    st.builds(lambda t: {"author.title": t}, st.sampled_from(["Ann", "Bob"])),
)
all_queries = st.one_of(
    queries,
    ref_queries,
    st.builds(lambda a, b: {"$or": [a, b]}, queries, ref_queries),
    st.builds(lambda a, b: {"$and": [a, b]}, ref_queries, queries),
)

_ENV, _LOCALE = "env1", "en-us"


def publish(
    db: Database, api_key: str, docs: list[dict[str, Any]], authors: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    out = []
    with db.write() as tx:
        tx.run("DELETE FROM published WHERE api_key = ?", api_key)
        rows = []
        for i, d in enumerate(docs):
            doc = {
                **d["data"],
                "uid": f"e{i:03d}",
                "title": d["title"],
                "tags": d["tags"],
                "_version": d["version"],
                "locale": d["locale"],
            }
            out.append(doc)
            rows.append(("doc", doc))
        for a in authors:
            rows.append(("author", {**a, "locale": "en-us", "tags": [], "_version": 1}))
        for ct, doc in rows:
            tx.run(
                "INSERT INTO published (api_key, branch, environment, locale, kind, uid, content_type_uid, source_locale, "
                "version, document, published_at, published_by) VALUES (?, 'main', ?, ?, 'entry', ?, ?, ?, 1, ?, 't', 'u')",
                api_key,
                _ENV,
                _LOCALE,
                doc["uid"],
                ct,
                _LOCALE,
                jdump(doc),
            )
    return out


def _refs(dialect: str, alias: str, uid_sql: str, ct: str) -> tuple[str, str, list[Any]]:
    return (
        f"published AS {alias}",
        f"{alias}.api_key = p.api_key AND {alias}.environment = p.environment AND {alias}.locale = p.locale "
        f"AND {alias}.kind = 'entry' AND {alias}.content_type_uid = ? AND {alias}.uid = {uid_sql}",
        [ct],
    )


def select(db: Database, api_key: str, query: Any, order: tuple[str, bool] | None = None) -> list[str]:
    with db.read() as tx:
        prepare(tx)
        where = compile_query(
            tx.dialect, SCHEMA, query, table="p", document="document", schemas=SCHEMAS.get, refs=_refs
        )
        sort_sql, sort_params = "p.uid", []
        if order:
            o = order_by(tx.dialect, SCHEMA, order[0], order[1], table="p", document="document")
            sort_sql, sort_params = o.sql + ", p.uid", o.params
        rows = tx.all(
            f"SELECT p.uid FROM published p WHERE p.api_key = ? AND p.environment = ? AND p.locale = ? "
            f"AND p.content_type_uid = 'doc' AND {where.sql} ORDER BY {sort_sql}",
            api_key,
            _ENV,
            _LOCALE,
            *where.params,
            *sort_params,
        )
    return [r["uid"] for r in rows]


_STACK: list[tuple[Database, str]] = []


def _stack(db: Database) -> str:
    """One stack per test database, across the examples of a test."""
    if not _STACK or _STACK[0][0] is not db:
        _STACK[:] = [(db, make_stack(db).api_key)]
    return _STACK[0][1]


@settings(max_examples=60)
@given(
    docs=st.lists(st.tuples(documents, stubs), max_size=8),
    authors=author_docs,
    qs=st.lists(all_queries, min_size=1, max_size=6),
)
def test_sql_agrees_with_the_evaluator_on_published_documents(
    db: Database, docs: list[Any], authors: list[dict[str, Any]], qs: list[Any]
) -> None:
    api_key = _stack(db)
    with_refs = [{**d, "data": {**d["data"], "author": s}} for d, s in docs]
    loaded = publish(db, api_key, with_refs, authors)
    by_uid = {a["uid"]: {**a, "locale": "en-us", "tags": [], "_version": 1} for a in authors}

    def lookup(ct: str, uid: str) -> dict[str, Any] | None:
        return by_uid.get(uid) if ct == "author" else None

    for q in qs:
        expected = sorted(
            d["uid"] for d in loaded if query_eval.matches(SCHEMA, q, d, schemas=SCHEMAS.get, lookup=lookup)
        )
        assert select(db, api_key, q) == expected, q


@settings(max_examples=25)
@given(
    docs=st.lists(documents, max_size=8),
    field=st.sampled_from(["price", "title", "info.n", "_version", "when"]),
    descending=st.booleans(),
)
def test_sorting_on_published_documents(db: Database, docs: list[Any], field: str, descending: bool) -> None:
    api_key = _stack(db)
    loaded = publish(db, api_key, docs, [])
    fp = in_document(resolve(SCHEMA, field), field)
    present = [d for d in loaded if not query_eval.sort_key(fp, d)[0]]
    missing = [d["uid"] for d in loaded if query_eval.sort_key(fp, d)[0]]
    got = select(db, api_key, {}, (field, descending))
    assert sorted(got[len(present) :]) == sorted(missing)
    keys = [query_eval.sort_key(fp, next(d for d in loaded if d["uid"] == u))[1] for u in got[: len(present)]]
    assert keys == sorted(keys, reverse=descending)
