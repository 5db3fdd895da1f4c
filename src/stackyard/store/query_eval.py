"""The query language evaluated in plain Python: the reference the SQL compiler is tested against.

    matches(schema, {"price": {"$lt": 90}}, entry)   # entry: system fields and field values

It parses with the same `query.parse` and walks documents with the same `FieldPath`s, so the only
thing that differs from the SQL is the evaluation itself. Also used where a query applies to values
already in memory (the PULL update operator).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from stackyard.store.query import Cond, Group, Node, RefQuery, SchemaOf, parse
from stackyard.store.query_paths import SYSTEM, FieldPath
from stackyard.store.query_regex import search

_TYPES: dict[str, tuple[type, ...]] = {"number": (int, float), "string": (str,), "boolean": (bool,)}


def _typed(kind: str, value: Any) -> bool:
    if kind == "number" and isinstance(value, bool):
        return False
    return isinstance(value, _TYPES[kind])


def _follow(value: Any, keys: tuple[str, ...]) -> Any:
    for k in keys:
        if not isinstance(value, dict):
            return None
        value = value.get(k)
    return value


def values(fp: FieldPath, doc: dict[str, Any]) -> list[Any]:
    """Every value the path reaches in `doc` (several when it crosses arrays)."""
    if fp.root is not None:
        name = next(k for k, v in SYSTEM.items() if v[0] == fp.root)
        current: list[Any] = [doc.get(name)]
    else:
        current = [doc]
    for step in fp.steps:
        nxt: list[Any] = []
        for v in current:
            arr = _follow(v, step.keys)
            if isinstance(arr, list):
                nxt.extend(arr)
        current = nxt
    return [_follow(v, fp.tail) for v in current]


def _one(c: Cond, v: Any) -> bool:
    kind = c.path.kind
    if c.op == "$exists":
        return v is not None
    if not _typed(kind, v):
        return False
    if c.op in ("$eq", "$ne"):
        return bool(v == c.value)
    if c.op in ("$in", "$nin"):
        return any(v == x for x in c.value)
    if c.op == "$lt":
        return bool(v < c.value)
    if c.op == "$lte":
        return bool(v <= c.value)
    if c.op == "$gt":
        return bool(v > c.value)
    if c.op == "$gte":
        return bool(v >= c.value)
    if c.op == "$regex":
        return search(c.value, v)  # RE2, as SQLite; PostgreSQL reads the same dialect
    return False  # pragma: no cover


# The referenced entry a reference query looks at: (content type uid, entry uid) -> document or None.
Lookup = Callable[[str, str], "dict[str, Any] | None"]


def _ref(node: RefQuery, doc: dict[str, Any], lookup: Lookup | None) -> bool:
    if lookup is None:
        return False
    hit = False
    for stub in values(node.path, doc):
        if not isinstance(stub, dict) or not isinstance(stub.get("uid"), str):
            continue
        for ct, group in node.targets:
            target = lookup(ct, stub["uid"])
            if target is not None and evaluate(group, target, lookup):
                hit = True
    return not hit if node.negate else hit


def evaluate(node: Node, doc: dict[str, Any], lookup: Lookup | None = None) -> bool:
    if isinstance(node, Group):
        results = (evaluate(n, doc, lookup) for n in node.items)
        return all(results) if node.kind == "$and" else any(results)
    if isinstance(node, RefQuery):
        return _ref(node, doc, lookup)
    hit = any(_one(node, v) for v in values(node.path, doc))
    if node.op in ("$ne", "$nin") or (node.op == "$exists" and node.value is False):
        return not hit
    return hit


def matches(
    schema: list[dict[str, Any]],
    query: Any,
    doc: dict[str, Any],
    *,
    schemas: SchemaOf | None = None,
    lookup: Lookup | None = None,
) -> bool:
    """Does `doc` (system fields and field values, as rendered) satisfy `query`? With `schemas`
    and `lookup`, reference queries look at the referenced documents."""
    return evaluate(parse(schema, query, schemas=schemas), doc, lookup)


def sort_key(fp: FieldPath, doc: dict[str, Any]) -> tuple[bool, Any]:
    """Ordering as `query.order_by` sorts: missing (or mistyped) values last."""
    found = values(fp, doc)
    v = found[0] if found else None
    if v is None or not _typed(fp.kind, v):
        return (True, 0)
    return (False, v)
