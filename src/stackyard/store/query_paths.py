"""Resolving a query's dotted field path against a content type schema (the allow-list).

Both the SQL compiler (`store/query.py`) and the plain-Python evaluator (`store/query_eval.py`)
walk a document the same way, so they share this one description of a path: which keys to follow,
where an array is iterated (a multiple field, a group list, modular blocks, references), and what
kind of value sits at the end. A path that the schema does not name is a 400 (error_code 102).

    resolve(schema, "author.name")  ->  FieldPath(root=None, steps=(Step(("author",), True),), tail=("name",), kind="string")
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

from stackyard.errors import BadRequest

# A key we are willing to put into a JSON path; schema uids are snake_case in practice.
KEY = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_\-]{0,99}$")

# System fields live in columns: name -> (column, kind, iterate). `tags` is a JSON array column.
SYSTEM: dict[str, tuple[str, str, bool]] = {
    "uid": ("uid", "string", False),
    "title": ("title", "string", False),
    "locale": ("locale", "string", False),
    "created_at": ("created_at", "string", False),
    "updated_at": ("updated_at", "string", False),
    "created_by": ("created_by", "string", False),
    "updated_by": ("updated_by", "string", False),
    "_version": ("version", "number", False),
    "tags": ("tags", "string", True),
}

SCALAR_KINDS = ("string", "number", "boolean")
_LEAF_KIND = {
    "text": "string",
    "isodate": "string",
    "file": "string",
    "number": "number",
    "boolean": "boolean",
}
# Sub-keys of structured values that may be queried: reference stubs, links, taxonomy terms.
_SUBKEYS = {
    "reference": {"uid": "string", "_content_type_uid": "string"},
    "link": {"title": "string", "href": "string"},
    "taxonomy": {"taxonomy_uid": "string", "term_uid": "string"},
}


def bad_query(message: str) -> BadRequest:
    return BadRequest(message, error_code=102, errors={"query": [message]})


@dataclass(frozen=True)
class Step:
    """Follow `keys` from the current value, then iterate the array found there."""

    keys: tuple[str, ...]


@dataclass(frozen=True)
class FieldPath:
    """Where a path's values are: a system column (root) or the data document, then steps and a tail."""

    root: str | None
    steps: tuple[Step, ...]
    tail: tuple[str, ...]
    kind: str  # "string" | "number" | "boolean" | "any" (containers: only $exists)

    @property
    def iterates(self) -> bool:
        return bool(self.steps)


def _is_multiple(field: dict[str, Any]) -> bool:
    dt = field.get("data_type")
    if dt in ("reference", "blocks", "taxonomy"):
        return True
    return bool(field.get("multiple"))


def _fields(schema: Any) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for f in schema or []:
        if isinstance(f, dict) and isinstance(f.get("uid"), str):
            out[f["uid"]] = f
    return out


def resolve(schema: list[dict[str, Any]], path: str) -> FieldPath:
    """The FieldPath of `path`, or a 400 naming the unknown part."""
    if not isinstance(path, str) or not path:
        raise bad_query("A query field must be a non-empty string.")
    if path in SYSTEM:
        column, kind, iterate = SYSTEM[path]
        return FieldPath(column, (Step(()),) if iterate else (), (), kind)
    segs = path.split(".")
    for s in segs:
        if not KEY.match(s):
            raise bad_query(f"'{path}' is not a valid field path.")
    steps: list[Step] = []
    keys: list[str] = []
    fields = _fields(schema)
    i = 0
    while i < len(segs):
        seg = segs[i]
        field = fields.get(seg)
        if field is None:
            raise bad_query(f"'{path}' is not a field of this content type.")
        keys.append(seg)
        dt = field.get("data_type")
        last = i == len(segs) - 1
        multiple = _is_multiple(field)
        if dt in ("group", "global_field"):
            if multiple:
                steps.append(Step(tuple(keys)))
                keys = []
            if last:
                return FieldPath(None, tuple(steps), tuple(keys), "any")
            fields = _fields(field.get("schema"))
            i += 1
            continue
        if dt == "blocks":
            steps.append(Step(tuple(keys)))
            keys = []
            if last:
                return FieldPath(None, tuple(steps), (), "any")
            blocks = {b.get("uid"): b for b in field.get("blocks") or [] if isinstance(b, dict)}
            block = blocks.get(segs[i + 1])
            if block is None:
                raise bad_query(f"'{path}' is not a field of this content type.")
            keys.append(segs[i + 1])
            if i + 1 == len(segs) - 1:
                return FieldPath(None, tuple(steps), tuple(keys), "any")
            fields = _fields(block.get("schema"))
            i += 2
            continue
        if multiple:
            steps.append(Step(tuple(keys)))
            keys = []
        if dt in _SUBKEYS:
            if last:
                return FieldPath(None, tuple(steps), tuple(keys), "any")
            sub = _SUBKEYS[str(dt)].get(segs[i + 1])
            if sub is None or i + 1 != len(segs) - 1:
                raise bad_query(f"'{path}' is not a field of this content type.")
            return FieldPath(None, tuple(steps), (*keys, segs[i + 1]), sub)
        if not last:
            raise bad_query(f"'{path}' is not a field of this content type.")
        return FieldPath(None, tuple(steps), tuple(keys), _LEAF_KIND.get(str(dt), "any"))
    raise bad_query(f"'{path}' is not a field of this content type.")  # pragma: no cover


def coerce(kind: str, value: Any, path: str) -> Any:
    """A query value as the field's type: the delivery SDK sends `{"price": "5"}` for numbers."""
    if kind == "number":
        if isinstance(value, bool):
            raise bad_query(f"'{path}' is a number field; {value!r} is not a number.")
        if isinstance(value, int):
            if abs(value) >= 2**63:
                raise bad_query(f"'{path}': {value} is too large a number.")
            return value
        if isinstance(value, float):
            if not math.isfinite(value):
                raise bad_query(f"'{path}' is a number field; {value!r} is not a number.")
            return value
        if isinstance(value, str):
            try:
                return coerce(kind, int(value), path)
            except ValueError:
                pass
            try:
                f = float(value)
            except ValueError:
                raise bad_query(f"'{path}' is a number field; {value!r} is not a number.") from None
            if f != f or f in (float("inf"), float("-inf")):
                raise bad_query(f"'{path}' is a number field; {value!r} is not a number.")
            return f
        raise bad_query(f"'{path}' is a number field; {value!r} is not a number.")
    if kind == "boolean":
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true"
        raise bad_query(f"'{path}' is a boolean field; {value!r} is not true or false.")
    if kind == "string":
        if isinstance(value, str):
            return text(value, path)
        if isinstance(value, int | float) and not isinstance(value, bool):
            return str(value)
        raise bad_query(f"'{path}' is a text field; {value!r} is not a string.")
    raise bad_query(f"'{path}' can only be queried with $exists.")


def storable(value: str) -> bool:
    """Text both engines can hold: no NUL character (PostgreSQL refuses it), no unpaired surrogate."""
    if "\x00" in value:
        return False
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def text(value: str, path: str) -> str:
    if not storable(value):
        raise bad_query(f"'{path}': the value holds a NUL character or an unpaired surrogate.")
    return value


def in_document(fp: FieldPath, name: str) -> FieldPath:
    """`fp` for documents that hold the system fields as keys too (the delivery's published
    documents): a system column becomes the document's key of the same name."""
    if fp.root is None:
        return fp
    if fp.steps:  # tags: an array
        return FieldPath(None, (Step((name,)),), (), fp.kind)
    return FieldPath(None, (), (name,), fp.kind)


def _field_at(schema: Any, segs: list[str]) -> tuple[int, dict[str, Any]] | None:
    """The first reference field along `segs` (through groups, global fields and blocks), with
    the index of its segment; None when the path crosses none."""
    fields = _fields(schema)
    i = 0
    while i < len(segs):
        field = fields.get(segs[i])
        if field is None:
            return None
        dt = field.get("data_type")
        if dt == "reference":
            return i, field
        if dt in ("group", "global_field"):
            fields = _fields(field.get("schema"))
            i += 1
        elif dt == "blocks" and i + 1 < len(segs):
            blocks = {b.get("uid"): b for b in field.get("blocks") or [] if isinstance(b, dict)}
            block = blocks.get(segs[i + 1])
            if block is None:
                return None
            fields = _fields(block.get("schema"))
            i += 2
        else:
            return None
    return None


def _targets(field: dict[str, Any]) -> list[str]:
    to = field.get("reference_to")
    if isinstance(to, str):
        return [to]
    return [t for t in to or [] if isinstance(t, str)]


def reference_field(schema: Any, path: str) -> list[str] | None:
    """The content types the reference field at `path` refers to; None when it is not one."""
    if not isinstance(path, str):
        return None
    segs = path.split(".")
    found = _field_at(schema, segs)
    if found is None or found[0] != len(segs) - 1:
        return None
    return _targets(found[1])


def reference_split(schema: Any, path: str) -> tuple[str, str] | None:
    """`("author", "name")` for `author.name`, when `author` is a reference and `name` is not one of
    its stub keys (`uid`, `_content_type_uid`): a query on the referenced entries."""
    if not isinstance(path, str) or "." not in path:
        return None
    segs = path.split(".")
    found = _field_at(schema, segs)
    if found is None:
        return None
    i = found[0]
    if i == len(segs) - 1 or (i == len(segs) - 2 and segs[-1] in _SUBKEYS["reference"]):
        return None
    return ".".join(segs[: i + 1]), ".".join(segs[i + 1 :])
