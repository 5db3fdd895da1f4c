"""Contentstack's JSON query language compiled to SQL for SQLite and PostgreSQL (catalogue §3.3).

    where = compile_query(tx.dialect, schema, {"price": {"$lt": 90}, "tags": {"$in": ["a"]}})
    tx.all(f"SELECT * FROM entries WHERE ... AND {where.sql}", ..., *where.params)

A query is parsed once into conditions (`parse`) that name fields through the schema allow-list
(`query_paths.resolve`); an unknown field or operator is a 400 with error_code 102. The SQL carries
only bound parameters: values, and even JSON paths, never appear in its text.

Semantics, shared with the plain-Python evaluator in `query_eval.py` (Mongo's, as Contentstack's):
a field inside arrays (multiple fields, group lists, modular blocks, references) matches when any
element matches; `$ne`/`$nin` are the negation of `=`/`$in` (so documents without the field match);
comparisons are typed by the schema (`{"price": "5"}` is the number 5) and never match across
types or against a missing value; each operator of `{"$gt": 1, "$lt": 5}` is tested on its own.
`$regex` speaks one dialect on both engines, checked here and rendered for each (`query_regex`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from stackyard.store.query_paths import SCALAR_KINDS, FieldPath, bad_query, coerce, resolve, storable
from stackyard.store.query_regex import MAX_REGEX, parse_regex, search

OPS = ("$ne", "$in", "$nin", "$lt", "$lte", "$gt", "$gte", "$exists", "$regex")
MAX_NODES = 200
MAX_DEPTH = 8
MAX_LIST = 1000
_CMP = {"$lt": "<", "$lte": "<=", "$gt": ">", "$gte": ">="}


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


Node = Cond | Group


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


def parse(schema: list[dict[str, Any]], query: Any) -> Group:
    """Validate a query against the schema; answers its conditions as an `$and` group."""
    counter = [0]
    return _parse_object(schema, query, 0, counter)


def _parse_object(schema: list[dict[str, Any]], query: Any, depth: int, counter: list[int]) -> Group:
    if not isinstance(query, dict):
        raise bad_query("A query must be a JSON object.")
    if depth > MAX_DEPTH:
        raise bad_query(f"The query is nested more than {MAX_DEPTH} levels deep.")
    items: list[Node] = []
    for key, value in query.items():
        counter[0] += 1
        if counter[0] > MAX_NODES:
            raise bad_query(f"The query has more than {MAX_NODES} conditions.")
        if key in ("$and", "$or"):
            if not isinstance(value, list) or not value:
                raise bad_query(f"'{key}' takes a non-empty list of queries.")
            items.append(Group(key, tuple(_parse_object(schema, q, depth + 1, counter) for q in value)))
        elif key.startswith("$"):
            raise bad_query(f"'{key}' is not a supported query operator.")
        else:
            items.extend(_parse_field(schema, key, value))
    return Group("$and", tuple(items))


def _parse_field(schema: list[dict[str, Any]], name: str, value: Any) -> list[Cond]:
    path = resolve(schema, name)
    if isinstance(value, dict) and value and all(isinstance(k, str) and k.startswith("$") for k in value):
        return _parse_ops(name, path, value)
    if isinstance(value, dict | list) or value is None:
        raise bad_query(f"'{name}' needs a value or an operator object such as {{\"$in\": [...]}}.")
    return [Cond(name, path, "$eq", coerce(path.kind, value, name))]


def _parse_ops(name: str, path: FieldPath, ops: dict[str, Any]) -> list[Cond]:
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
            if not isinstance(arg, list) or len(arg) > MAX_LIST:
                raise bad_query(f"'{op}' takes a list of at most {MAX_LIST} values.")
            out.append(Cond(name, path, op, tuple(coerce(path.kind, v, name) for v in arg)))
        elif op == "$regex":
            if path.kind != "string" or not isinstance(arg, str) or len(arg) > MAX_REGEX or not storable(arg):
                raise bad_query(f"'$regex' takes a pattern of at most {MAX_REGEX} characters on text fields.")
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


@dataclass
class _Dialect:
    name: str
    table: str
    alias: int = 0

    def column(self, name: str) -> str:
        return f"{self.table}.{name}" if self.table else name

    def next_alias(self) -> str:
        self.alias += 1
        return f"q{self.alias}"


def _jsonpath(keys: tuple[str, ...]) -> str:
    return "$" + "".join(f'."{k}"' for k in keys)


def _param(d: _Dialect, kind: str, value: Any) -> Any:
    if d.name == "postgresql" and kind == "number" and not isinstance(value, bool):
        return Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
    return value


def _root(d: _Dialect, fp: FieldPath) -> str:
    return d.column(fp.root if fp.root is not None else "data")


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


def _leaf(d: _Dialect, fp: FieldPath, base: str, params: list[Any]) -> str:
    """A typed SQL expression for the value at the path's tail (NULL when missing or of another type)."""
    if fp.root is not None and not fp.steps:
        return base  # a plain system column
    if d.name == "sqlite":
        if fp.tail:
            path = _jsonpath(fp.tail)
            params.extend([path, path])
            return f"(CASE WHEN json_type({base}, ?) IN {_SQLITE_TYPES[fp.kind]} THEN json_extract({base}, ?) END)"
        # `base` is a json_each alias's value here; its `type` column says what it holds.
        alias = base.split(".")[0]
        return f"(CASE WHEN {alias}.type IN {_SQLITE_TYPES[fp.kind]} THEN {base} END)"
    jtype = {"number": "number", "string": "string", "boolean": "boolean"}[fp.kind]
    if fp.tail:
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


def _node_sql(d: _Dialect, node: Node) -> Where:
    if isinstance(node, Cond):
        return _cond_sql(d, node)
    if not node.items:
        return Where("1 = 1")
    parts = [_node_sql(d, n) for n in node.items]
    joiner = " AND " if node.kind == "$and" else " OR "
    return Where("(" + joiner.join(p.sql for p in parts) + ")", [p for w in parts for p in w.params])


def compile_query(dialect: str, schema: list[dict[str, Any]], query: Any, *, table: str = "") -> Where:
    """`query` as a WHERE condition over rows (of `table`, if named) with system columns and `data`."""
    return _node_sql(_Dialect(dialect, table), parse(schema, query))


def order_by(
    dialect: str, schema: list[dict[str, Any]], name: str, descending: bool, *, table: str = ""
) -> Where:
    """An ORDER BY term for a single-valued scalar field; missing values sort last either way."""
    fp = resolve(schema, name)
    if fp.iterates or fp.kind not in SCALAR_KINDS:
        raise bad_query(f"'{name}' cannot be sorted on: it is not a single value.")
    params: list[Any] = []
    d = _Dialect(dialect, table)
    leaf = _leaf(d, fp, _root(d, fp), params)
    second = list(params)
    return Where(f"({leaf} IS NULL), {leaf}{' DESC' if descending else ''}", params + second)


def _regexp(pattern: str, value: Any) -> int:
    return 1 if search(pattern, value) else 0


def prepare(tx: Any) -> None:
    """Register the SQLite function `$regex` compiles to on this transaction's connection (RE2:
    linear in the text, where Python's backtracking `re` could hold the event loop for seconds)."""
    if tx.dialect == "sqlite":
        tx._conn.create_function("sy_regexp", 2, _regexp, deterministic=True)
