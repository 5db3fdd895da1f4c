"""Entry values checked against their content type's schema, before anything is stored.

    checked = check(schema, {"title": "Hi", "price": "x"}, create=True, lookup=entry_content_type)
    checked.errors == {"price": ["must be a number."]}

Faults are keyed by dotted path into the entry (`author.0`, `items.1.name`, `sections.0.hero.heading`)
so a client learns every one at once; the caller raises them as one 422. Unknown fields are refused;
system fields a client echoes back from a fetch (uid, _version, created_at...) are ignored. On create
a field's `field_metadata.default_value` fills in a missing value. References must point at entries
that exist, of a content type the field accepts; `lookup(uid)` answers an entry's content type.
A multiple field holds at most `max_items` values (`max_field_items`), its `max_instance` if lower:
without a cap, a few entries of millions of items each made every list of them megabytes long.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from weakref import WeakKeyDictionary

from stackyard.content.entries import values
from stackyard.content.entries.values import Errors, add
from stackyard.core.readonly import READ_ONLY
from stackyard.store.query_paths import storable

# Keys of a fetched entry that are not field values: ignored in a request body (`tags` and
# `_version` are read by the entry service itself).
SYSTEM_KEYS = READ_ONLY["entry"] | {"tags", "_version"}
MAX_DEPTH = 20
MAX_FIELD_ITEMS = 1000  # the default of settings.max_field_items
Lookup = Callable[[str], str | None]
_ITEM_CAPS: WeakKeyDictionary[Any, int] = WeakKeyDictionary()


def configure(db: Any, *, max_field_items: int) -> None:
    """Cap the items of one multiple field in entries written through `db` (`max_field_items`)."""
    _ITEM_CAPS[db] = max(0, max_field_items)


def item_cap(db: Any) -> int:
    """The most items one multiple field may hold in entries written through `db`."""
    return _ITEM_CAPS.get(db, MAX_FIELD_ITEMS) if db is not None else MAX_FIELD_ITEMS


@dataclass
class Checked:
    """The cleaned values, the references they hold, unique values to verify, and the faults."""

    data: dict[str, Any]
    refs: list[tuple[str, str]] = field(default_factory=list)
    unique: list[tuple[str, Any]] = field(default_factory=list)
    errors: Errors = field(default_factory=dict)


def is_multiple(f: dict[str, Any]) -> bool:
    """Values held as lists: multiple fields, and references, blocks and taxonomies always."""
    return f.get("data_type") in ("reference", "blocks", "taxonomy") or f.get("multiple") is True


def _empty(v: Any) -> bool:
    return v is None or v == "" or v == [] or v == {}


class _Walk:
    def __init__(
        self,
        lookup: Lookup,
        create: bool,
        max_items: int = MAX_FIELD_ITEMS,
        asset_exists: Callable[[str], bool] | None = None,
    ) -> None:
        self.lookup = lookup
        self.asset_exists = asset_exists
        self.create = create
        self.max_items = max_items
        self.errors: Errors = {}
        self.refs: list[tuple[str, str]] = []

    def object(self, schema: Any, data: Any, prefix: str, depth: int, *, top: bool = False) -> dict[str, Any]:
        fields = {f["uid"]: f for f in schema or [] if isinstance(f, dict) and isinstance(f.get("uid"), str)}
        out: dict[str, Any] = {}
        if depth > MAX_DEPTH:
            add(self.errors, prefix or "entry", "is nested too deeply.")
            return out
        for key, value in data.items():
            if key in fields:
                continue
            if top and key in SYSTEM_KEYS:
                continue
            if key == "_metadata" and not top and isinstance(value, dict):
                out["_metadata"] = value
                continue
            if top and key == "title":  # a schema without a title field still takes one
                out["title"] = values.text({}, value, "title", self.errors)
                continue
            add(self.errors, prefix + key, "is not a field of this content type.")
        for uid, f in fields.items():
            at = prefix + uid
            value = data.get(uid)
            if value is None and self.create and uid not in data:
                value = _default(f)
            if value is None or (f.get("mandatory") is True and _empty(value)):
                if f.get("mandatory") is True:
                    add(self.errors, at, "is required.")
                continue
            checked = self.field(f, value, at, depth)
            if checked is not None:
                out[uid] = checked
        return out

    def field(self, f: dict[str, Any], value: Any, at: str, depth: int) -> Any:
        if not is_multiple(f):
            if isinstance(value, list):
                add(self.errors, at, "must be a single value, not a list.")
                return None
            return self.single(f, value, at, depth)
        if not isinstance(value, list):
            add(self.errors, at, "must be a list.")
            return None
        low, high = f.get("min_instance"), _cap(f, self.max_items)
        if isinstance(low, int) and len(value) < low:
            add(self.errors, at, f"must have at least {low} items.")
        if len(value) > high:
            add(self.errors, at, f"must have at most {high} items.")
            return None  # checking (and answering a fault for) each of millions of items helps nobody
        dt = f.get("data_type")
        if dt == "reference":
            meta = f.get("field_metadata") if isinstance(f.get("field_metadata"), dict) else {}
            if isinstance(meta, dict) and meta.get("ref_multiple") is False and len(value) > 1:
                add(self.errors, at, "takes only one entry.")
        if dt == "taxonomy":
            self._max_terms(f, value, at)
        out = [self.single(f, v, f"{at}.{i}", depth) for i, v in enumerate(value)]
        return None if any(v is None for v in out) else out

    def single(self, f: dict[str, Any], value: Any, at: str, depth: int) -> Any:
        dt = f.get("data_type")
        if dt in ("group", "global_field"):
            if not isinstance(value, dict):
                add(self.errors, at, "must be an object.")
                return None
            return self.object(f.get("schema"), value, at + ".", depth + 1)
        if dt == "blocks":
            return self.block(f, value, at, depth)
        if dt == "reference":
            return self.reference(f, value, at)
        allowed = values.choices(f)
        if allowed is not None:
            return values.select(f, value, at, self.errors, allowed)
        check = values.SCALARS.get(str(dt))
        if check is None:
            add(self.errors, at, "has a data type entries cannot hold.")
            return None
        out = check(f, value, at, self.errors)
        if dt == "file" and out is not None and self.asset_exists is not None and not self.asset_exists(out):
            add(self.errors, at, "refers to an asset that does not exist.")
            return None
        return out

    def block(self, f: dict[str, Any], value: Any, at: str, depth: int) -> Any:
        blocks = {b.get("uid"): b for b in f.get("blocks") or [] if isinstance(b, dict)}
        if not isinstance(value, dict) or len(value) != 1:
            add(self.errors, at, 'must be an object with one block, such as {"block_uid": {...}}.')
            return None
        ((uid, inner),) = value.items()
        if uid not in blocks:
            add(self.errors, f"{at}.{uid}", "is not a block of this field.")
            return None
        if not isinstance(inner, dict):
            add(self.errors, f"{at}.{uid}", "must be an object.")
            return None
        return {uid: self.object(blocks[uid].get("schema"), inner, f"{at}.{uid}.", depth + 1)}

    def reference(self, f: dict[str, Any], value: Any, at: str) -> Any:
        targets = f.get("reference_to")
        accepted = [targets] if isinstance(targets, str) else list(targets or [])
        if isinstance(value, str):
            value = {"uid": value}
        if (
            not isinstance(value, dict)
            or not isinstance(value.get("uid"), str)
            or not value["uid"]
            or set(value) - {"uid", "_content_type_uid"}
        ):
            add(self.errors, at, "must be an object {uid, _content_type_uid}.")
            return None
        given = value.get("_content_type_uid")
        actual = self.lookup(value["uid"])
        if actual is None or (given is not None and given != actual):
            add(self.errors, at, "refers to an entry that does not exist.")
            return None
        if actual not in accepted:
            add(self.errors, at, "refers to an entry of a content type this field does not accept.")
            return None
        self.refs.append((value["uid"], actual))
        return {"uid": value["uid"], "_content_type_uid": actual}

    def _max_terms(self, f: dict[str, Any], value: list[Any], at: str) -> None:
        limits = {
            t.get("taxonomy_uid"): t.get("max_terms")
            for t in f.get("taxonomies") or []
            if isinstance(t, dict)
        }
        counts: dict[Any, int] = {}
        for v in value:
            if isinstance(v, dict):
                counts[v.get("taxonomy_uid")] = counts.get(v.get("taxonomy_uid"), 0) + 1
        for tax, n in counts.items():
            limit = limits.get(tax)
            if isinstance(limit, int) and n > limit:
                add(self.errors, at, f"takes at most {limit} terms of '{tax}'.")


def _storable(value: Any, depth: int = 0) -> bool:
    """Text both engines can store (no NUL, no unpaired surrogate), in keys and values alike."""
    if depth > MAX_DEPTH * 3:
        return False
    if isinstance(value, str):
        return storable(value)
    if isinstance(value, dict):
        return all(storable(str(k)) and _storable(v, depth + 1) for k, v in value.items())
    if isinstance(value, list):
        return all(_storable(v, depth + 1) for v in value)
    return not isinstance(value, float) or math.isfinite(value)


def _cap(f: dict[str, Any], max_items: int) -> int:
    """How many values the multiple field `f` takes at most."""
    high = f.get("max_instance")
    return min(high, max_items) if isinstance(high, int) else max_items


def _over_cap(schema: list[dict[str, Any]], data: dict[str, Any], max_items: int) -> dict[str, list[str]]:
    """The top-level multiple fields of `data` holding more values than they take."""
    over = {}
    for f in schema:
        if isinstance(f, dict) and is_multiple(f) and isinstance(value := data.get(f.get("uid", "")), list):
            cap = _cap(f, max_items)
            if len(value) > cap:
                over[f["uid"]] = [f"must have at most {cap} items."]
    return over


def _whole_numbers(value: Any) -> Any:
    """Whole floats as ints: PostgreSQL's JSONB prints 2.5e16 back as 25000000000000000 while SQLite
    keeps the float, so both engines store (and answer) the integer."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {k: _whole_numbers(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_whole_numbers(v) for v in value]
    return value


def _default(f: dict[str, Any]) -> Any:
    meta = f.get("field_metadata")
    if not isinstance(meta, dict) or meta.get("default_value") in (None, ""):
        return None
    default = meta["default_value"]
    if is_multiple(f) and not isinstance(default, list):
        return [default]
    return default


def check(
    schema: list[dict[str, Any]],
    data: Any,
    *,
    create: bool,
    lookup: Lookup,
    max_items: int = MAX_FIELD_ITEMS,
    asset_exists: Callable[[str], bool] | None = None,
) -> Checked:
    """Check an entry body (field values) against `schema`; a multiple field takes `max_items` at most.
    File fields must name assets of the stack when `asset_exists(uid)` is given."""
    walk = _Walk(lookup, create, max_items, asset_exists)
    if not isinstance(data, dict):
        return Checked({}, errors={"entry": ["must be an object of field values."]})
    over = _over_cap(schema, data, max_items)
    if over:  # refused before the walks below, which would look at each of (maybe millions of) items
        return Checked({}, errors=over)
    if not _storable(data):
        return Checked(
            {},
            errors={
                "entry": ["holds a NUL character, an unpaired surrogate or a number that is not finite."]
            },
        )
    data = _whole_numbers(data)
    clean = walk.object(schema, data, "", 0, top=True)
    unique = [
        (f["uid"], clean[f["uid"]])
        for f in schema
        if isinstance(f, dict)
        and f.get("unique") is True
        and not is_multiple(f)
        and isinstance(clean.get(f.get("uid", "")), str | int | float)
    ]
    return Checked(clean, walk.refs, unique, walk.errors)
