"""Checks of single (non-container) entry values against their schema field.

Each check answers the cleaned value, or adds messages under the value's dotted path and answers
None. Containers (groups, blocks, global fields) and the walk itself are in `validation.py`.
"""

from __future__ import annotations

import math
from datetime import date, datetime
from typing import Any

from stackyard.store.query_regex import linear

Errors = dict[str, list[str]]
MAX_TEXT = 1_000_000


def add(errors: Errors, path: str, message: str) -> None:
    errors.setdefault(path, []).append(message)


def is_number(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)


def is_isodate(v: Any) -> bool:
    """An ISO 8601 date (2024-01-31) or date-time (2024-01-31T10:00:00.000Z)."""
    if not isinstance(v, str) or not 8 <= len(v) <= 40:
        return False
    try:
        if "T" in v or " " in v:
            datetime.fromisoformat(v.replace("Z", "+00:00"))
        else:
            date.fromisoformat(v)
    except ValueError:
        return False
    return True


def _bounds(field: dict[str, Any]) -> tuple[Any, Any]:
    meta = field.get("field_metadata") if isinstance(field.get("field_metadata"), dict) else {}
    assert isinstance(meta, dict)
    low = field.get("min", meta.get("min"))
    high = field.get("max", meta.get("max"))
    return (low if is_number(low) else None), (high if is_number(high) else None)


def choices(field: dict[str, Any]) -> list[Any] | None:
    """The allowed values of a select field (None when the field is not a select)."""
    if "display_type" not in field:
        return None
    enum = field.get("enum") if isinstance(field.get("enum"), dict) else {}
    assert isinstance(enum, dict)
    return [c.get("value") for c in enum.get("choices") or [] if isinstance(c, dict)]


def text(field: dict[str, Any], value: Any, path: str, errors: Errors) -> Any:
    if not isinstance(value, str):
        add(errors, path, "must be a string.")
        return None
    if len(value) > MAX_TEXT:
        add(errors, path, f"must be at most {MAX_TEXT} characters long.")
        return None
    low, high = _bounds(field)
    if low is not None and len(value) < low:
        add(errors, path, f"must be at least {int(low)} characters long.")
    if high is not None and len(value) > high:
        add(errors, path, f"must be at most {int(high)} characters long.")
    fmt = field.get("format")
    if isinstance(fmt, str) and fmt:
        try:
            ok = linear(fmt).search(value) is not None
        except ValueError:
            ok = True  # the content type check refuses such patterns; never fail an entry for one
        if not ok:
            messages = field.get("error_messages") if isinstance(field.get("error_messages"), dict) else {}
            assert isinstance(messages, dict)
            message = messages.get("format")
            add(errors, path, message if isinstance(message, str) and message else "is not valid.")
    return value


# Number values stay inside the 64-bit integers: the body parser refuses integers beyond them, and a
# whole float past them would be stored (and exported) as such an integer, which no import takes.
NUMBER_LIMIT = 2**63


def number(field: dict[str, Any], value: Any, path: str, errors: Errors) -> Any:
    if not is_number(value):
        add(errors, path, "must be a number.")
        return None
    if not -NUMBER_LIMIT < value < NUMBER_LIMIT:
        add(errors, path, "must be between -2^63 and 2^63 (exclusive).")
        return None
    low, high = _bounds(field)
    if low is not None and value < low:
        add(errors, path, f"must be at least {low}.")
    if high is not None and value > high:
        add(errors, path, f"must be at most {high}.")
    return value


def boolean(field: dict[str, Any], value: Any, path: str, errors: Errors) -> Any:
    if not isinstance(value, bool):
        add(errors, path, "must be true or false.")
        return None
    return value


def isodate(field: dict[str, Any], value: Any, path: str, errors: Errors) -> Any:
    if not is_isodate(value):
        add(errors, path, "must be an ISO 8601 date, such as 2024-01-31 or 2024-01-31T10:00:00.000Z.")
        return None
    return value


def file(field: dict[str, Any], value: Any, path: str, errors: Errors) -> Any:
    if not isinstance(value, str) or not value or len(value) > 100:
        add(errors, path, "must be the uid of an asset.")
        return None
    return value


def link(field: dict[str, Any], value: Any, path: str, errors: Errors) -> Any:
    if not isinstance(value, dict) or set(value) - {"title", "href"}:
        add(errors, path, "must be an object {title, href}.")
        return None
    for key in ("title", "href"):
        if not isinstance(value.get(key, ""), str):
            add(errors, f"{path}.{key}", "must be a string.")
            return None
    return dict(value)


def json_value(field: dict[str, Any], value: Any, path: str, errors: Errors) -> Any:
    meta = field.get("field_metadata") if isinstance(field.get("field_metadata"), dict) else {}
    assert isinstance(meta, dict)
    if meta.get("allow_json_rte") is True:
        if (
            not isinstance(value, dict)
            or not isinstance(value.get("type"), str)
            or not isinstance(value.get("children"), list)
        ):
            add(errors, path, "must be a JSON rich text document {type, children}.")
            return None
        return value
    if not isinstance(value, dict | list):
        add(errors, path, "must be a JSON object.")
        return None
    return value


def select(field: dict[str, Any], value: Any, path: str, errors: Errors, allowed: list[Any]) -> Any:
    wanted_number = field.get("data_type") == "number"
    if (wanted_number and not is_number(value)) or (not wanted_number and not isinstance(value, str)):
        add(errors, path, "must be a number." if wanted_number else "must be a string.")
        return None
    if value not in allowed:
        add(errors, path, "is not one of the field's choices.")
        return None
    return value


def taxonomy(field: dict[str, Any], value: Any, path: str, errors: Errors) -> Any:
    allowed = {t.get("taxonomy_uid"): t for t in field.get("taxonomies") or [] if isinstance(t, dict)}
    if (
        not isinstance(value, dict)
        or not isinstance(value.get("taxonomy_uid"), str)
        or not isinstance(value.get("term_uid"), str)
        or not value["term_uid"]
        or set(value) - {"taxonomy_uid", "term_uid"}
    ):
        add(errors, path, "must be an object {taxonomy_uid, term_uid}.")
        return None
    if value["taxonomy_uid"] not in allowed:
        add(errors, f"{path}.taxonomy_uid", "is not a taxonomy of this field.")
        return None
    return dict(value)


SCALARS = {
    "text": text,
    "number": number,
    "boolean": boolean,
    "isodate": isodate,
    "file": file,
    "link": link,
    "json": json_value,
    "taxonomy": taxonomy,
}
