"""Contentstack's JSON query language compiled to SQL for SQLite and PostgreSQL (catalogue §3.3).

    where = compile_query(tx.dialect, schema, {"price": {"$lt": 90}, "tags": {"$in": ["a"]}})
    tx.all(f"SELECT * FROM entries WHERE ... AND {where.sql}", ..., *where.params)

A query is parsed once into conditions (`parse`) that name fields through the schema allow-list
(`query_paths.resolve`); an unknown field or operator is a 400 with error_code 102. The SQL carries
only bound parameters: values never appear in its text, nor do JSON paths, except over the
delivery's documents, where allow-listed keys are spelled out so expression indexes can serve them.

Semantics, shared with the plain-Python evaluator in `query_eval.py` (Mongo's, as Contentstack's):
a field inside arrays (multiple fields, group lists, modular blocks, references) matches when any
element matches; `$ne`/`$nin` are the negation of `=`/`$in` (so documents without the field match);
comparisons are typed by the schema (`{"price": "5"}` is the number 5) and never match across
types or against a missing value; each operator of `{"$gt": 1, "$lt": 5}` is tested on its own.
`$regex` speaks one dialect on both engines, checked here and rendered for each (`query_regex`).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from stackyard.errors import BadRequest
from stackyard.store.query_paths import (
    KEY,
    SCALAR_KINDS,
    FieldPath,
    bad_query,
    coerce,
    in_document,
    reference_field,
    reference_split,
    resolve,
    storable,
)
from stackyard.store.query_regex import MAX_REGEX, parse_regex

OPS = ("$ne", "$in", "$nin", "$lt", "$lte", "$gt", "$gte", "$exists", "$regex")
REF_OPS = ("$in_query", "$nin_query")
MAX_NODES = 200
MAX_DEPTH = 8
MAX_LIST = 1000
_CMP = {"$lt": "<", "$lte": "<=", "$gt": ">", "$gte": ">="}


@dataclass(frozen=True)
class Limits:
    """Guardrails of one query: nesting, conditions, `$in` list size and regex length."""

    depth: int = MAX_DEPTH
    nodes: int = MAX_NODES
    in_list: int = MAX_LIST
    regex: int = MAX_REGEX


# The schema of a content type a reference points to, for `$in_query` (None: no such type).
SchemaOf = Callable[[str], "list[dict[str, Any]] | None"]


@dataclass(frozen=True)
class Cond:
    name: str
    path: FieldPath
    op: str  # "$eq" or one of OPS
    value: Any  # a `query_regex.Regex` for $regex
    options: str = ""


@dataclass(frozen=True)
class Group:
    kind: str  # "$and" | "$or"
    items: tuple[Any, ...]


@dataclass(frozen=True)
class RefQuery:
    """`{"author": {"$in_query": {...}}}`: some referenced entry (of one of `targets`, each a content
    type and the query on it) matches; `$nin_query` (negate) when none does."""

    name: str
    path: FieldPath  # to the reference array's elements (`{uid, _content_type_uid}` stubs)
    targets: tuple[tuple[str, Group], ...]
    negate: bool


Node = Cond | Group | RefQuery


@dataclass
class _Ctx:
    schemas: SchemaOf | None
    document: bool
    limits: Limits
    counter: int = 0


def parse_param(raw: str | None) -> dict[str, Any]:
    """The `query` query-string parameter as an object (absent -> {}); bad JSON is a 400."""
    if raw is None or not raw.strip():
        return {}
    try:
        value = json.loads(raw)
    except ValueError:
        raise bad_query("The 'query' parameter must be a JSON object.") from None
    if not isinstance(value, dict):
        raise bad_query("The 'query' parameter must be a JSON object.")
    return value


def parse(
    schema: list[dict[str, Any]],
    query: Any,
    *,
    schemas: SchemaOf | None = None,
    document: bool = False,
    limits: Limits | None = None,
) -> Group:
    """Validate a query against the schema; answers its conditions as an `$and` group.

    `document`: system fields are keys of the one JSON document (the delivery's published
    documents) rather than columns. `schemas`: how to find referenced content types, which makes
    `$in_query`/`$nin_query` and dot paths through references (`author.title`) possible."""
    return _parse_object(schema, query, 0, _Ctx(schemas, document, limits or Limits()))


def _parse_object(schema: list[dict[str, Any]], query: Any, depth: int, ctx: _Ctx) -> Group:
    if not isinstance(query, dict):
        raise bad_query("A query must be a JSON object.")
    if depth > ctx.limits.depth:
        raise bad_query(f"The query is nested more than {ctx.limits.depth} levels deep.")
    items: list[Node] = []
    for key, value in query.items():
        ctx.counter += 1
        if ctx.counter > ctx.limits.nodes:
            raise bad_query(f"The query has more than {ctx.limits.nodes} conditions.")
        if key in ("$and", "$or"):
            if not isinstance(value, list) or not value:
                raise bad_query(f"'{key}' takes a non-empty list of queries.")
            items.append(Group(key, tuple(_parse_object(schema, q, depth + 1, ctx) for q in value)))
        elif key.startswith("$"):
            raise bad_query(f"'{key}' is not a supported query operator.")
        else:
            items.extend(_parse_field(schema, key, value, depth, ctx))
    return Group("$and", tuple(items))


def _parse_field(schema: list[dict[str, Any]], name: str, value: Any, depth: int, ctx: _Ctx) -> list[Node]:
    if not isinstance(name, str):
        raise bad_query("A query field must be a non-empty string.")
    if isinstance(value, dict) and any(k in REF_OPS for k in value):
        return [_parse_ref(schema, name, value, depth, ctx)]
    if ctx.schemas is not None:
        split = reference_split(schema, name)
        if split is not None:  # `author.title`: a query on the referenced entries
            ref, rest = split
            return [_parse_ref(schema, ref, {"$in_query": {rest: value}}, depth, ctx)]
    path = resolve(schema, name)
    if ctx.document:
        path = in_document(path, name)
    if isinstance(value, dict) and value and all(isinstance(k, str) and k.startswith("$") for k in value):
        return list(_parse_ops(name, path, value, ctx.limits))
    if isinstance(value, dict | list) or value is None:
        raise bad_query(f"'{name}' needs a value or an operator object such as {{\"$in\": [...]}}.")
    return [Cond(name, path, "$eq", coerce(path.kind, value, name))]


def _parse_ref(
    schema: list[dict[str, Any]], name: str, value: dict[str, Any], depth: int, ctx: _Ctx
) -> RefQuery:
    if ctx.schemas is None:
        raise bad_query("Reference queries ($in_query, $nin_query) are not supported here.")
    if len(value) != 1:
        raise bad_query(f"'{name}' takes one of $in_query or $nin_query, alone.")
    op, sub = next(iter(value.items()))
    if op not in REF_OPS or not isinstance(sub, dict):
        raise bad_query(f"'{op}' takes a query object on the referenced entries.")
    field_ = reference_field(schema, name)
    if field_ is None:
        raise bad_query(f"'{name}' is not a reference field of this content type.")
    path = resolve(schema, name)
    targets: list[tuple[str, Group]] = []
    errors: list[Exception] = []
    for ct in field_:
        target = ctx.schemas(ct)
        if target is None:
            continue
        inner = _Ctx(ctx.schemas, True, ctx.limits, ctx.counter)
        try:
            targets.append((ct, _parse_object(target, sub, depth + 1, inner)))
        except BadRequest as exc:  # the field may be one of another of the referenced types
            errors.append(exc)
        ctx.counter = max(ctx.counter, inner.counter)
    if not targets:
        if errors:
            raise errors[0]
        raise bad_query(f"'{name}' refers to no content type that exists.")
    return RefQuery(name, path, tuple(targets), op == "$nin_query")


def _parse_ops(name: str, path: FieldPath, ops: dict[str, Any], limits: Limits | None = None) -> list[Cond]:
    limits = limits or Limits()
    out: list[Cond] = []
    options = ops.get("$options", "")
    if "$options" in ops and "$regex" not in ops:
        raise bad_query("'$options' goes with '$regex'.")
    if not isinstance(options, str) or options not in ("", "i"):
        raise bad_query("'$options' may only be \"i\" (case-insensitive).")
    for op, arg in ops.items():
        if op == "$options":
            continue
        if op not in OPS:
            raise bad_query(f"'{op}' is not a supported query operator.")
        if op == "$exists":
            if not isinstance(arg, bool):
                if isinstance(arg, str) and arg.lower() in ("true", "false"):
                    arg = arg.lower() == "true"
                else:
                    raise bad_query("'$exists' takes true or false.")
            out.append(Cond(name, path, op, arg))
            continue
        if path.kind not in SCALAR_KINDS:
            raise bad_query(f"'{name}' can only be queried with $exists.")
        if op in ("$in", "$nin"):
            if not isinstance(arg, list) or len(arg) > limits.in_list:
                raise bad_query(f"'{op}' takes a list of at most {limits.in_list} values.")
            out.append(Cond(name, path, op, tuple(coerce(path.kind, v, name) for v in arg)))
        elif op == "$regex":
            if (
                path.kind != "string"
                or not isinstance(arg, str)
                or len(arg) > min(limits.regex, MAX_REGEX)
                or not storable(arg)
            ):
                raise bad_query(
                    f"'$regex' takes a pattern of at most {min(limits.regex, MAX_REGEX)} characters on text fields."
                )
            out.append(Cond(name, path, op, parse_regex(arg, options), options))
        else:
            out.append(Cond(name, path, op, coerce(path.kind, arg, name)))
    return out


# -- SQL ----------------------------------------------------------------------------------------


@dataclass
class Where:
    """A SQL condition and its parameters, in order."""

    sql: str
    params: list[Any] = field(default_factory=list)


# The rows a reference query looks in: given the dialect, a fresh table alias, the SQL of a
# referenced uid and a content type uid, answers a FROM item and its join condition with params
# (`published AS r`, `r.uid = <uid> AND r.content_type_uid = ? AND ...`). Their documents are
# queried in the `document` column.
RefJoin = Callable[[str, str, str, str], tuple[str, str, list[Any]]]


@dataclass
class _Dialect:
    name: str
    table: str
    data: str = "data"
    refs: RefJoin | None = None
    counter: list[int] = field(default_factory=lambda: [0])
    # Spell a value's JSON path out in the SQL (keys are allow-listed: `query_paths.KEY`), so an
    # index on the same expression can serve it (`leaf_sql`); otherwise paths are parameters too.
    literal: bool = False

    def column(self, name: str) -> str:
        return f"{self.table}.{name}" if self.table else name

    def next_alias(self) -> str:
        self.counter[0] += 1
        return f"q{self.counter[0]}"


def _jsonpath(keys: tuple[str, ...]) -> str:
    return "$" + "".join(f'."{k}"' for k in keys)


def _param(d: _Dialect, kind: str, value: Any) -> Any:
    if d.name == "postgresql" and kind == "number" and not isinstance(value, bool):
        return Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
    return value


def _root(d: _Dialect, fp: FieldPath) -> str:
    return d.column(fp.root if fp.root is not None else d.data)


def _from_items(d: _Dialect, fp: FieldPath, params: list[Any]) -> tuple[list[str], str]:
    """FROM items iterating the path's arrays; answers (items, expression of the current element)."""
    current = _root(d, fp)
    items: list[str] = []
    for step in fp.steps:
        alias = d.next_alias()
        if d.name == "sqlite":
            if step.keys:
                items.append(f"json_each({current}, ?) AS {alias}")
                params.append(_jsonpath(step.keys))
            else:
                items.append(f"json_each({current}) AS {alias}")
        else:
            if step.keys:
                target = f"({current} #> ?::text[])"
                params.extend([list(step.keys), list(step.keys)])
            else:
                target = current
            items.append(
                f"jsonb_array_elements(CASE WHEN jsonb_typeof({target}) = 'array' "
                f"THEN {target} ELSE '[]'::jsonb END) AS {alias}(value)"
            )
        current = f"{alias}.value"
    return items, current


_SQLITE_TYPES = {"number": "('integer', 'real')", "string": "('text')", "boolean": "('true', 'false')"}
_PG_CAST = {"number": "::numeric", "boolean": "::boolean"}


def _spelled(d: _Dialect, keys: tuple[str, ...]) -> bool:
    return d.literal and all(KEY.match(k) for k in keys)


def _leaf(d: _Dialect, fp: FieldPath, base: str, params: list[Any]) -> str:
    """A typed SQL expression for the value at the path's tail (NULL when missing or of another type)."""
    if fp.root is not None and not fp.steps:
        return base  # a plain system column
    if d.name == "sqlite":
        if fp.tail:
            path = _jsonpath(fp.tail)
            if _spelled(d, fp.tail):
                mark = f"'{path}'"
            else:
                mark = "?"
                params.extend([path, path])
            return (
                f"(CASE WHEN json_type({base}, {mark}) IN {_SQLITE_TYPES[fp.kind]} "
                f"THEN json_extract({base}, {mark}) END)"
            )
        # `base` is a json_each alias's value here; its `type` column says what it holds.
        alias = base.split(".")[0]
        return f"(CASE WHEN {alias}.type IN {_SQLITE_TYPES[fp.kind]} THEN {base} END)"
    jtype = {"number": "number", "string": "string", "boolean": "boolean"}[fp.kind]
    if fp.tail and _spelled(d, fp.tail):
        expr = f"({base} #> '{{{','.join(fp.tail)}}}'::text[])"
    elif fp.tail:
        expr = f"({base} #> ?::text[])"
        params.extend([list(fp.tail), list(fp.tail)])
    else:
        expr = base
    if fp.kind == "string":
        return f"(CASE WHEN jsonb_typeof({expr}) = '{jtype}' THEN {expr} #>> '{{}}' END) COLLATE \"C\""
    return f"(CASE WHEN jsonb_typeof({expr}) = '{jtype}' THEN ({expr}){_PG_CAST[fp.kind]} END)"


def _present(d: _Dialect, fp: FieldPath, base: str, params: list[Any]) -> str:
    """True when the value at the tail exists and is not JSON null."""
    if fp.root is not None and not fp.steps:
        return f"{base} IS NOT NULL"
    if d.name == "sqlite":
        if fp.tail:
            path = _jsonpath(fp.tail)
            params.extend([path, path])
            return f"(json_type({base}, ?) IS NOT NULL AND json_type({base}, ?) <> 'null')"
        return f"{base.split('.')[0]}.type <> 'null'"
    if fp.tail:
        expr = f"({base} #> ?::text[])"
        params.extend([list(fp.tail), list(fp.tail)])
    else:
        expr = base
    return f"({expr} IS NOT NULL AND jsonb_typeof({expr}) <> 'null')"


def _predicate(d: _Dialect, c: Cond, base: str, params: list[Any]) -> str:
    """The condition on one value; parameters are appended in the order their `?` appear."""
    kind = c.path.kind
    if c.op == "$exists":
        return _present(d, c.path, base, params)
    if c.op in ("$in", "$nin") and not c.value:
        return "1 = 0"
    if c.op == "$regex" and d.name == "sqlite":
        params.append(c.value.re2)
        leaf = _leaf(d, c.path, base, params)
        return f"sy_regexp(?, {leaf}) = 1"
    leaf = _leaf(d, c.path, base, params)
    if c.op in ("$eq", "$ne"):
        params.append(_param(d, kind, c.value))
        return f"{leaf} = ?"
    if c.op in ("$in", "$nin"):
        params.extend(_param(d, kind, v) for v in c.value)
        return f"{leaf} IN ({', '.join('?' * len(c.value))})"
    if c.op in _CMP:
        params.append(_param(d, kind, c.value))
        return f"{leaf} {_CMP[c.op]} ?"
    if c.op == "$regex":
        params.append(c.value.ere)  # `$options` "i" is spelled out in the pattern itself
        return f"{leaf} ~ ?"
    raise bad_query(f"'{c.op}' is not a supported query operator.")  # pragma: no cover


def _cond_sql(d: _Dialect, c: Cond) -> Where:
    positive = c.op not in ("$ne", "$nin") and not (c.op == "$exists" and c.value is False)
    params: list[Any] = []
    items, base = _from_items(d, c.path, params)
    pred = _predicate(d, c, base, params)
    sql = f"EXISTS (SELECT 1 FROM {', '.join(items)} WHERE {pred})" if items else f"(({pred}) IS TRUE)"
    return Where(sql if positive else f"NOT {sql}", params)


def _ref_sql(d: _Dialect, node: RefQuery) -> Where:
    if d.refs is None:
        raise bad_query("Reference queries ($in_query, $nin_query) are not supported here.")
    params: list[Any] = []
    items, base = _from_items(d, node.path, params)
    uid = f"json_extract({base}, '$.uid')" if d.name == "sqlite" else f"({base} ->> 'uid')"
    parts: list[str] = []
    out: list[Any] = []
    for ct, group in node.targets:
        alias = d.next_alias()
        source, join, join_params = d.refs(d.name, alias, uid, ct)
        inner = _node_sql(_Dialect(d.name, alias, "document", d.refs, d.counter, d.literal), group)
        parts.append(f"EXISTS (SELECT 1 FROM {', '.join([*items, source])} WHERE {join} AND {inner.sql})")
        out.extend([*params, *join_params, *inner.params])  # in the order their `?` appear
    sql = "(" + " OR ".join(parts) + ")"
    return Where(f"NOT {sql}" if node.negate else sql, out)


def _node_sql(d: _Dialect, node: Node) -> Where:
    if isinstance(node, Cond):
        return _cond_sql(d, node)
    if isinstance(node, RefQuery):
        return _ref_sql(d, node)
    if not node.items:
        return Where("1 = 1")
    parts = [_node_sql(d, n) for n in node.items]
    joiner = " AND " if node.kind == "$and" else " OR "
    return Where("(" + joiner.join(p.sql for p in parts) + ")", [p for w in parts for p in w.params])


def compile_query(
    dialect: str,
    schema: list[dict[str, Any]],
    query: Any,
    *,
    table: str = "",
    document: str | None = None,
    schemas: SchemaOf | None = None,
    refs: RefJoin | None = None,
    limits: Limits | None = None,
) -> Where:
    """`query` as a WHERE condition over rows (of `table`, if named) with system columns and `data`;
    or, with `document`, over rows whose one JSON column of that name holds system fields too.
    `schemas` and `refs` make reference queries possible (see `RefQuery`, `RefJoin`)."""
    node = parse(schema, query, schemas=schemas, document=document is not None, limits=limits)
    return compile_node(dialect, node, table=table, document=document, refs=refs)


def compile_node(
    dialect: str, node: Node, *, table: str = "", document: str | None = None, refs: RefJoin | None = None
) -> Where:
    """A parsed query (`parse`) as a WHERE condition; see `compile_query`."""
    return _node_sql(_Dialect(dialect, table, document or "data", refs, literal=document is not None), node)


def order_by(
    dialect: str,
    schema: list[dict[str, Any]],
    name: str,
    descending: bool,
    *,
    table: str = "",
    document: str | None = None,
) -> Where:
    """An ORDER BY term for a single-valued scalar field; missing values sort last either way."""
    fp = resolve(schema, name)
    if document is not None:
        fp = in_document(fp, name)
    if fp.iterates or fp.kind not in SCALAR_KINDS:
        raise bad_query(f"'{name}' cannot be sorted on: it is not a single value.")
    params: list[Any] = []
    d = _Dialect(dialect, table, document or "data", literal=document is not None)
    leaf = _leaf(d, fp, _root(d, fp), params)
    second = list(params)
    return Where(f"({leaf} IS NULL), {leaf}{' DESC' if descending else ''}", params + second)


def leaf_sql(
    dialect: str, schema: list[dict[str, Any]], name: str, *, table: str = "", document: str = "document"
) -> Where | None:
    """The typed value of a single-valued scalar field as SQL with its path spelled out, exactly as
    queries over `document` compile it: what an expression index must hold to serve them (with
    `table=""`), and what a sort may range over. None when the field is no such value."""
    try:
        fp = in_document(resolve(schema, name), name)
    except BadRequest:
        return None
    if fp.iterates or fp.kind not in SCALAR_KINDS or not fp.tail or not all(KEY.match(k) for k in fp.tail):
        return None
    params: list[Any] = []
    d = _Dialect(dialect, table, document, literal=True)
    return Where(_leaf(d, fp, _root(d, fp), params), params)
