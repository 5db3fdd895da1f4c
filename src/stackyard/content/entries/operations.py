"""The update operators of an entry PUT (catalogue §2.4): ADD/SUB on numbers, PUSH/PULL/UPDATE on lists.

    {"entry": {"views": {"ADD": 1}, "tags_field": {"PUSH": {"data": ["x"], "index": 0}},
               "scores": {"PULL": {"query": {"$in": [2, 3]}}}, "items": {"PULL": {"index": [0]}},
               "numbers": {"UPDATE": {"index": 0, "data": 1}}}}

Operators apply to the entry's current values inside the write transaction (so two concurrent ADDs
both count), and the result is then validated like any other value.
"""

from __future__ import annotations

from typing import Any

from stackyard.content.entries.validation import is_multiple
from stackyard.content.entries.values import Errors, add, is_number
from stackyard.store.query import parse
from stackyard.store.query_eval import evaluate

_NUMBER_OPS = frozenset({"ADD", "SUB"})
_LIST_OPS = frozenset({"PUSH", "PULL", "UPDATE"})
_ELEMENT_SCHEMA_KIND = {"number": "number", "boolean": "boolean"}


def _operator(f: dict[str, Any], value: Any) -> str | None:
    if not isinstance(value, dict) or len(value) != 1:
        return None
    (op,) = value
    if f.get("data_type") == "number" and not is_multiple(f) and op in _NUMBER_OPS:
        return str(op)
    if is_multiple(f) and op in _LIST_OPS:
        return str(op)
    return None


def apply(
    schema: list[dict[str, Any]], current: dict[str, Any], body: dict[str, Any]
) -> tuple[dict[str, Any], Errors]:
    """`body` with each top-level operator replaced by the value it produces from `current`."""
    fields = {f["uid"]: f for f in schema if isinstance(f, dict) and isinstance(f.get("uid"), str)}
    out = dict(body)
    errors: Errors = {}
    for uid, value in body.items():
        f = fields.get(uid)
        op = _operator(f, value) if f is not None else None
        if f is None or op is None:
            continue
        arg = value[op]
        if op in _NUMBER_OPS:
            base = current.get(uid, 0)
            if not is_number(arg) or not is_number(base):
                add(errors, uid, f"{op} takes a number, on a number field.")
                continue
            out[uid] = base + arg if op == "ADD" else base - arg
        elif op == "PUSH":
            out[uid] = _push(list(current.get(uid) or []), arg, uid, errors)
        elif op == "UPDATE":
            out[uid] = _update(list(current.get(uid) or []), arg, uid, errors)
        else:
            out[uid] = _pull(f, list(current.get(uid) or []), arg, uid, errors)
    return out, errors


def _push(items: list[Any], arg: Any, uid: str, errors: Errors) -> list[Any]:
    if not isinstance(arg, dict) or "data" not in arg or set(arg) - {"data", "index"}:
        add(errors, uid, "PUSH takes {data, index?}.")
        return items
    data = arg["data"]
    new = data if isinstance(data, list) else [data]
    index = arg.get("index")
    if index is None:
        return items + new
    if not isinstance(index, int) or isinstance(index, bool) or not 0 <= index <= len(items):
        add(errors, uid, f"PUSH index must be between 0 and {len(items)}.")
        return items
    return items[:index] + new + items[index:]


def _update(items: list[Any], arg: Any, uid: str, errors: Errors) -> list[Any]:
    if not isinstance(arg, dict) or set(arg) != {"index", "data"}:
        add(errors, uid, "UPDATE takes {index, data}.")
        return items
    index = arg["index"]
    if not isinstance(index, int) or isinstance(index, bool) or not 0 <= index < len(items):
        add(errors, uid, f"UPDATE index must be between 0 and {len(items) - 1}.")
        return items
    items[index] = arg["data"]
    return items


def _pull(f: dict[str, Any], items: list[Any], arg: Any, uid: str, errors: Errors) -> list[Any]:
    if not isinstance(arg, dict) or len(arg) != 1 or next(iter(arg)) not in ("query", "index"):
        add(errors, uid, "PULL takes {query} or {index}.")
        return items
    if "index" in arg:
        index = arg["index"]
        indexes = index if isinstance(index, list) else [index]
        if not all(isinstance(i, int) and not isinstance(i, bool) and 0 <= i < len(items) for i in indexes):
            add(errors, uid, f"PULL index must be between 0 and {len(items) - 1}.")
            return items
        return [v for i, v in enumerate(items) if i not in indexes]
    query = arg["query"]
    try:
        matcher = _matcher(f, query)
    except Exception as e:  # a bad query in a body is the client's fault, named on the field
        add(errors, uid, f"PULL query is not valid: {getattr(e, 'error_message', e)}")
        return items
    return [v for v in items if not matcher(v)]


def _matcher(f: dict[str, Any], query: Any) -> Any:
    """A predicate on one list element: operators on the element itself, or on its fields."""
    if not isinstance(query, dict) or not query:
        raise ValueError("a query object is required")
    if all(k.startswith("$") for k in query):
        kind = _ELEMENT_SCHEMA_KIND.get(str(f.get("data_type")), "text")
        schema = [{"uid": "v", "data_type": kind}]
        if f.get("data_type") == "reference":
            schema = [{"uid": "v", "data_type": "text"}]
        group = parse(schema, {"v": query})

        def on_value(v: Any) -> bool:
            element = v.get("uid") if isinstance(v, dict) and f.get("data_type") == "reference" else v
            return evaluate(group, {"v": element})

        return on_value
    sub: list[dict[str, Any]] = list(f.get("schema") or [])
    if f.get("data_type") == "reference":
        sub = [{"uid": "uid", "data_type": "text"}, {"uid": "_content_type_uid", "data_type": "text"}]
    group = parse(sub, query)
    return lambda v: isinstance(v, dict) and evaluate(group, v)
