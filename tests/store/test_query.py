"""The query compiler against the plain-Python evaluator, on SQLite and PostgreSQL.

Random documents of one schema and random queries over them must select the same entries in SQL
as in `query_eval`; unknown fields and operators are 400s; the SQL text never carries a value.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stackyard.access.caller import Caller, StackAccess
from stackyard.access.resolve import stack_access
from stackyard.errors import BadRequest
from stackyard.identity import organizations, users
from stackyard.stacks import stacks
from stackyard.store import query_eval
from stackyard.store.engine import Database, jdump
from stackyard.store.query import compile_query, order_by, parse_param
from stackyard.store.query_paths import resolve
from stackyard.store.query_regex import prepare

SCHEMA: list[dict[str, Any]] = [
    {"uid": "title", "data_type": "text"},
    {"uid": "price", "data_type": "number"},
    {"uid": "nums", "data_type": "number", "multiple": True},
    {"uid": "flag", "data_type": "boolean"},
    {"uid": "words", "data_type": "text", "multiple": True},
    {"uid": "when", "data_type": "isodate"},
    {
        "uid": "info",
        "data_type": "group",
        "schema": [{"uid": "name", "data_type": "text"}, {"uid": "n", "data_type": "number"}],
    },
    {
        "uid": "items",
        "data_type": "group",
        "multiple": True,
        "schema": [
            {"uid": "name", "data_type": "text"},
            {"uid": "ks", "data_type": "text", "multiple": True},
        ],
    },
    {
        "uid": "sections",
        "data_type": "blocks",
        "blocks": [
            {
                "uid": "hero",
                "schema": [{"uid": "heading", "data_type": "text"}, {"uid": "size", "data_type": "number"}],
            },
            {"uid": "quote", "schema": [{"uid": "text", "data_type": "text"}]},
        ],
    },
    {"uid": "author", "data_type": "reference", "reference_to": ["author"]},
    {"uid": "seo", "data_type": "global_field", "schema": [{"uid": "keywords", "data_type": "text"}]},
]

PATHS = {
    "string": [
        "title",
        "words",
        "when",
        "info.name",
        "items.name",
        "items.ks",
        "sections.hero.heading",
        "sections.quote.text",
        "author.uid",
        "seo.keywords",
        "tags",
        "locale",
    ],
    "number": ["price", "nums", "info.n", "sections.hero.size", "_version"],
    "boolean": ["flag"],
    "any": ["info", "items", "sections", "author", "seo", "sections.hero", "words"],
}
STRINGS = ["", "a", "b", "ab", "Ab", "é", "É", "10", "2", "2024-01-02", "2024-01-10", "a\nb", "aaaaaaaaaaaa!"]
NUMBERS = [-1, 0, 1, 1.5, 2, 10, 2.25]

string = st.sampled_from(STRINGS)
number = st.sampled_from(NUMBERS)


# Patterns of the `$regex` dialect (store/query_regex.py), built from its pieces.
REGEX_ATOMS = ["a", "b", "A", "é", "0", "1", "!", " ", "\n", ".", "\\d", "\\w", "\\s", "\\W", "\\D"]
REGEX_ATOMS += ["[a-c]", "[^a]", "[0-9]", "[A-Z]", "[\\d.]", "[é-ë]", "\\.", "\\-", "\\$", "\\(", "[\\]]"]
quantifiers = st.sampled_from(["", "", "", "*", "+", "?", "{2}", "{0,1}", "{1,}", "+?", "{2,3}"])
regex_seq = st.lists(st.builds(str.__add__, st.sampled_from(REGEX_ATOMS), quantifiers), max_size=4).map(
    "".join
)
regex_body = st.recursive(
    regex_seq,
    lambda inner: (
        st.builds(lambda a, b, q: f"({a}|{b}){q}", inner, inner, quantifiers)
        | st.builds(lambda a, b: f"(?:{a}){b}", inner, inner)
        | st.builds(str.__add__, inner, inner)
    ),
    max_leaves=4,
)
regexes = st.one_of(
    st.builds(
        lambda pre, body, post: pre + body + post,
        st.sampled_from(["", "^"]),
        regex_body,
        st.sampled_from(["", "$"]),
    ),
    st.sampled_from(
        ["^a", "b$", "^$", "A", "[0-9]", "^20", "(a+)+$", "^([A-Za-z ]+)+$", "(a|aa)*!", "a{12}"]
    ),
)


def maybe(s: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(st.just("<missing>"), st.none(), s)


def obj(**fields: st.SearchStrategy[Any]) -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries({k: maybe(v) for k, v in fields.items()}).map(
        lambda d: {k: v for k, v in d.items() if v != "<missing>"}
    )


documents = st.fixed_dictionaries(
    {
        "title": string,
        "data": obj(
            price=number,
            nums=st.lists(number, max_size=3),
            flag=st.booleans(),
            words=st.lists(string, max_size=3),
            when=st.sampled_from(["2024-01-02", "2024-01-10", "2023-12-31T10:00:00.000Z"]),
            info=obj(name=string, n=number),
            items=st.lists(obj(name=string, ks=st.lists(string, max_size=2)), max_size=3),
            sections=st.lists(
                st.one_of(
                    obj(heading=string, size=number).map(lambda b: {"hero": b}),
                    obj(text=string).map(lambda b: {"quote": b}),
                ),
                max_size=3,
            ),
            author=st.lists(
                st.builds(lambda u: {"uid": u, "_content_type_uid": "author"}, string), max_size=2
            ),
            seo=obj(keywords=string),
        ),
        "tags": st.lists(string, max_size=2),
        "version": st.integers(1, 3),
        "locale": st.sampled_from(["en-us", "fr-fr"]),
    }
)


def value_for(kind: str) -> st.SearchStrategy[Any]:
    if kind == "number":
        return st.one_of(number, number.map(str))  # the delivery SDK stringifies query() values
    if kind == "boolean":
        return st.one_of(st.booleans(), st.sampled_from(["true", "false"]))
    return string


def condition(kind: str) -> st.SearchStrategy[dict[str, Any]]:
    path = st.sampled_from(PATHS[kind])
    if kind == "any":
        return st.builds(lambda p, b: {p: {"$exists": b}}, path, st.booleans())
    v = value_for(kind)
    ops = [
        st.builds(lambda p, x: {p: x}, path, v),
        st.builds(lambda p, x: {p: {"$ne": x}}, path, v),
        st.builds(lambda p, xs: {p: {"$in": xs}}, path, st.lists(v, max_size=3)),
        st.builds(lambda p, xs: {p: {"$nin": xs}}, path, st.lists(v, max_size=3)),
        st.builds(lambda p, b: {p: {"$exists": b}}, path, st.booleans()),
    ]
    if kind != "boolean":
        ops.append(
            st.builds(
                lambda p, op, x, op2, y: {p: {op: x, op2: y}},
                path,
                st.sampled_from(["$lt", "$lte"]),
                v,
                st.sampled_from(["$gt", "$gte"]),
                v,
            )
        )
        ops.append(st.builds(lambda p, op, x: {p: {op: x}}, path, st.sampled_from(["$lt", "$gte"]), v))
    if kind == "string":
        ops.append(
            st.builds(
                lambda p, rx, i: {p: {"$regex": rx, **({"$options": "i"} if i else {})}},
                path,
                regexes,
                st.booleans(),
            )
        )
    return st.one_of(*ops)


leaf = st.one_of(condition("string"), condition("number"), condition("boolean"), condition("any"))
queries = st.recursive(
    leaf,
    lambda children: st.one_of(
        st.builds(lambda xs: {"$and": xs}, st.lists(children, min_size=1, max_size=3)),
        st.builds(lambda xs: {"$or": xs}, st.lists(children, min_size=1, max_size=3)),
        st.builds(lambda a, b: {**a, **b}, children, children),
    ),
    max_leaves=6,
)


def make_stack(db: Database) -> StackAccess:
    """A user, an organization and a stack, made through the services; answers the owner's access."""
    with db.write() as tx:
        user_uid, _ = users.create(tx, "q@example.com", password="correct horse battery")
        org = organizations.create(tx, user_uid, "Org")
        caller = Caller(kind="user", user_uid=user_uid, email="q@example.com")
        api_key = stacks.create(tx, caller, {"name": "Q", "master_locale": "en-us"}, org)
        return stack_access(tx, caller, api_key)


def as_doc(uid: str, d: dict[str, Any]) -> dict[str, Any]:
    return {
        **d["data"],
        "uid": uid,
        "title": d["title"],
        "tags": d["tags"],
        "_version": d["version"],
        "locale": d["locale"],
    }


def load(db: Database, api_key: str, docs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    with db.write() as tx:
        tx.run("DELETE FROM entries WHERE api_key = ?", api_key)
        for i, d in enumerate(docs):
            uid = f"e{i:03d}"
            tx.run(
                "INSERT INTO entries (api_key, branch, uid, locale, content_type_uid, version, title, data, tags, "
                "localized, created_by, updated_by, created_at, updated_at) VALUES (?, 'main', ?, ?, 'doc', ?, ?, ?, ?, 0, 'u', 'u', 't', 't')",
                api_key,
                uid,
                d["locale"],
                d["version"],
                d["title"],
                jdump({**d["data"], "title": d["title"]}),
                jdump(d["tags"]),
            )
            out.append(as_doc(uid, d))
    return out


def select(db: Database, api_key: str, query: Any, order: tuple[str, bool] | None = None) -> list[str]:
    with db.read() as tx:
        prepare(tx)
        where = compile_query(tx.dialect, SCHEMA, query)
        sort_sql, sort_params = "uid", []
        if order:
            o = order_by(tx.dialect, SCHEMA, order[0], order[1])
            sort_sql, sort_params = o.sql + ", uid", o.params
        rows = tx.all(
            f"SELECT uid FROM entries WHERE api_key = ? AND {where.sql} ORDER BY {sort_sql}",
            api_key,
            *where.params,
            *sort_params,
        )
    return [r["uid"] for r in rows]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(docs=st.lists(documents, max_size=8), qs=st.lists(queries, min_size=1, max_size=6))
def test_sql_agrees_with_the_reference_evaluator(db: Database, docs: list[Any], qs: list[Any]) -> None:
    access = _stack(db)
    expected_docs = load(db, access.api_key, docs)
    for q in qs:
        expected = sorted(d["uid"] for d in expected_docs if query_eval.matches(SCHEMA, q, d))
        assert select(db, access.api_key, q) == expected, q


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    docs=st.lists(documents, max_size=8),
    field=st.sampled_from(["price", "title", "info.n", "info.name", "flag", "_version", "when"]),
    descending=st.booleans(),
)
def test_ordering_agrees_with_the_reference(
    db: Database, docs: list[Any], field: str, descending: bool
) -> None:
    access = _stack(db)
    loaded = load(db, access.api_key, docs)
    fp = resolve(SCHEMA, field)
    by_uid = sorted(loaded, key=lambda d: d["uid"])
    present = [d for d in by_uid if not query_eval.sort_key(fp, d)[0]]
    missing = [d for d in by_uid if query_eval.sort_key(fp, d)[0]]
    present.sort(key=lambda d: query_eval.sort_key(fp, d)[1], reverse=descending)
    expected = [d["uid"] for d in present + missing]
    got = select(db, access.api_key, {}, (field, descending))
    # entries with equal sort keys form a group; the order inside a group is not specified
    assert _group_ties(got, fp, loaded) == _group_ties(expected, fp, loaded)


def _group_ties(uids: list[str], fp: Any, docs: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    by = {d["uid"]: d for d in docs}
    out: list[tuple[Any, ...]] = []
    for u in uids:
        key = query_eval.sort_key(fp, by[u])
        if out and out[-1][0] == key:
            out[-1] = (key, tuple(sorted((*out[-1][1], u))))
        else:
            out.append((key, (u,)))
    return out


_STACKS: dict[int, tuple[Database, StackAccess]] = {}


def _stack(db: Database) -> StackAccess:
    """One stack per database for all hypothesis examples of a test (the db is kept so ids stay unique)."""
    if id(db) not in _STACKS or _STACKS[id(db)][0] is not db:
        _STACKS[id(db)] = (db, make_stack(db))
    return _STACKS[id(db)][1]


@pytest.mark.parametrize(
    "query",
    [
        {"nope": 1},
        {"info.nope": "a"},
        {"price": {"$where": "1"}},
        {"$where": "sleep(1)"},
        {"price": {"$in": "x"}},
        {"price": "not a number"},
        {"flag": "maybe"},
        {"title": {"$regex": "("}},
        {"info": {"$gt": 1}},
        {"$or": []},
        {"price": {"a": 1}},
        {"title": None},
        {"price": {"$options": "i"}},
        {"sections.nope.heading": "a"},
        [1, 2],
    ],
)
def test_unknown_fields_and_operators_are_400(query: Any) -> None:
    with pytest.raises(BadRequest) as err:
        compile_query("sqlite", SCHEMA, query)
    assert err.value.status == 400 and err.value.error_code == 102


@pytest.mark.parametrize("raw", ["brand", "[1]", "{bad json", '"x"'])
def test_unparsable_query_parameter_is_400(raw: str) -> None:
    with pytest.raises(BadRequest) as err:
        parse_param(raw)
    assert err.value.error_code == 102


@pytest.mark.parametrize("dialect", ["sqlite", "postgresql"])
def test_values_never_reach_the_sql_text(dialect: str) -> None:
    marker = "zq'; DROP TABLE entries; --"
    query = {
        "$or": [
            {"title": marker},
            {"info.name": {"$regex": marker.replace("(", "")}},
            {"items.ks": {"$in": [marker, marker + "2"]}},
            {"price": {"$gt": 424242}},
            {"sections.hero.heading": {"$ne": marker}},
        ]
    }
    where = compile_query(dialect, SCHEMA, query)
    assert marker not in where.sql and "424242" not in where.sql and "DROP" not in where.sql
    assert where.sql.count("?") == len(where.params)
    assert marker in where.params


def test_stringified_numbers_match_number_fields(db: Database) -> None:
    access = _stack(db)
    docs = [
        {"title": "a", "data": {"price": 5}, "tags": [], "version": 1, "locale": "en-us"},
        {"title": "b", "data": {"price": 7.5}, "tags": [], "version": 1, "locale": "en-us"},
    ]
    load(db, access.api_key, docs)
    assert select(db, access.api_key, {"price": "5"}) == ["e000"]
    assert select(db, access.api_key, {"price": {"$gt": "6"}}) == ["e001"]
    assert select(db, access.api_key, {"title": {"$regex": "^A", "$options": "i"}}) == ["e000"]
