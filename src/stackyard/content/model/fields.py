"""The properties of one schema field, checked by data type (the structure is `schema.py`'s job).

Each check adds messages to `errors` under the field's path (e.g. `schema.2.format`), so a client
learns every fault at once, as Contentstack reports them: `{"schema.2.format": ["is not valid."]}`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from stackyard.store.query_regex import linear

Errors = dict[str, list[str]]

DATA_TYPES = frozenset(
    {
        "text",
        "number",
        "isodate",
        "boolean",
        "file",
        "link",
        "reference",
        "group",
        "blocks",
        "global_field",
        "json",
        "taxonomy",
    }
)
BOOL_PROPS = ("mandatory", "unique", "multiple", "non_localizable")
# Properties a field of each type may be unique on (Contentstack offers "Unique" on these).
UNIQUE_TYPES = frozenset({"text", "number", "isodate", "link"})
DISPLAY_TYPES = frozenset({"dropdown", "radio", "checkbox"})
RICH_TEXT_TYPES = frozenset({"basic", "advanced", "custom"})
BOOL_METADATA = (
    "multiline",
    "markdown",
    "allow_rich_text",
    "allow_json_rte",
    "ref_multiple",
    "ref_multiple_content_types",
    "image",
    "_default",
    "hide_time",
    "extension",
    "embed_entry",
)
STRING_METADATA = ("description", "instruction", "placeholder", "rich_text_type")
MAX_TAXONOMIES = 25
MAX_TERMS = 25


def add(errors: Errors, key: str, message: str) -> None:
    errors.setdefault(key, []).append(message)


def one_of(value: Any, options: frozenset[str]) -> bool:
    """Membership that cannot raise: JSON input may put a list or object where a name belongs."""
    return isinstance(value, str) and value in options


def _is_number(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _is_date(v: Any) -> bool:
    if not isinstance(v, str) or not v:
        return False
    try:
        datetime.fromisoformat(v.replace("Z", "+00:00"))
    except ValueError:
        return False
    return True


def check_common(f: dict[str, Any], path: str, errors: Errors) -> None:
    """Properties every field has: display_name, the boolean flags, instances, field_metadata."""
    name = f.get("display_name")
    if not isinstance(name, str) or not name.strip():
        add(errors, f"{path}.display_name", "is required: a non-empty string.")
    for prop in BOOL_PROPS:
        if prop in f and not isinstance(f[prop], bool):
            add(errors, f"{path}.{prop}", "must be true or false.")
    if f.get("unique") is True and not one_of(f.get("data_type"), UNIQUE_TYPES):
        add(errors, f"{path}.unique", "is not supported for this data type.")
    _check_instances(f, path, errors)
    meta = f.get("field_metadata")
    if meta is None:
        return
    if not isinstance(meta, dict):
        add(errors, f"{path}.field_metadata", "must be an object.")
        return
    for key in BOOL_METADATA:
        if key in meta and not isinstance(meta[key], bool):
            add(errors, f"{path}.field_metadata.{key}", "must be true or false.")
    for key in STRING_METADATA:
        if key in meta and not isinstance(meta[key], str):
            add(errors, f"{path}.field_metadata.{key}", "must be a string.")
    if "rich_text_type" in meta and not one_of(meta["rich_text_type"], RICH_TEXT_TYPES):
        add(errors, f"{path}.field_metadata.rich_text_type", "must be basic, advanced or custom.")


def _check_instances(f: dict[str, Any], path: str, errors: Errors) -> None:
    low: Any = f.get("min_instance")
    high: Any = f.get("max_instance")
    for key, value in (("min_instance", low), ("max_instance", high)):
        if value is not None and (not _is_int(value) or value < 0):
            add(errors, f"{path}.{key}", "must be a whole number of 0 or more.")
    if _is_int(low) and _is_int(high) and low > high:
        add(errors, f"{path}.min_instance", "must not be greater than max_instance.")
    if (low is not None or high is not None) and f.get("multiple") is not True:
        add(errors, f"{path}.multiple", "must be true when min_instance or max_instance is set.")


def _check_bounds(f: dict[str, Any], path: str, errors: Errors, *, lengths: bool) -> None:
    """`min`/`max` (top level or in field_metadata): lengths for text, values for numbers."""
    meta = f.get("field_metadata") if isinstance(f.get("field_metadata"), dict) else {}
    assert isinstance(meta, dict)
    for where, holder in ((path, f), (f"{path}.field_metadata", meta)):
        low: Any = holder.get("min")
        high: Any = holder.get("max")
        for key, value in (("min", low), ("max", high)):
            if value is None:
                continue
            ok = (_is_int(value) and value >= 0) if lengths else _is_number(value)
            if not ok:
                add(
                    errors,
                    f"{where}.{key}",
                    "must be a length of 0 or more." if lengths else "must be a number.",
                )
        if (_is_number(low) and _is_number(high)) and low > high:
            add(errors, f"{where}.min", "must not be greater than max.")


def _check_format(f: dict[str, Any], path: str, errors: Errors) -> None:
    fmt = f.get("format")
    if fmt is not None and fmt != "":
        if not isinstance(fmt, str):
            add(errors, f"{path}.format", "must be a regular expression string.")
        else:
            try:
                linear(fmt)
            except ValueError as e:
                # Entries are checked against it on every save: only patterns that run in linear
                # time (no lookaround, no backreferences) can be trusted not to stall the server.
                add(
                    errors, f"{path}.format", f"is not a regular expression this server can run safely ({e})."
                )
    messages = f.get("error_messages")
    if messages is not None and (
        not isinstance(messages, dict) or not all(isinstance(v, str) for v in messages.values())
    ):
        add(errors, f"{path}.error_messages", 'must be an object of messages, e.g. {"format": "..."}.')


def _choices(f: dict[str, Any], path: str, errors: Errors) -> list[Any] | None:
    """The values a select field offers, or None when its enum is broken."""
    enum = f.get("enum")
    if not isinstance(enum, dict):
        add(errors, f"{path}.enum", "is required for a select field: {advanced, choices: [{value}]}.")
        return None
    advanced = enum.get("advanced", False)
    if not isinstance(advanced, bool):
        add(errors, f"{path}.enum.advanced", "must be true or false.")
    choices = enum.get("choices")
    if not isinstance(choices, list) or not choices:
        add(errors, f"{path}.enum.choices", "must be a non-empty list of {value, key?}.")
        return None
    values: list[Any] = []
    keys: set[str] = set()
    for i, choice in enumerate(choices):
        at = f"{path}.enum.choices.{i}"
        if not isinstance(choice, dict) or "value" not in choice:
            add(errors, at, "must be an object with a value.")
            continue
        value = choice["value"]
        wanted_number = f.get("data_type") == "number"
        if (wanted_number and not _is_number(value)) or (not wanted_number and not isinstance(value, str)):
            add(errors, f"{at}.value", "must be a number." if wanted_number else "must be a string.")
        elif value in values:
            add(errors, f"{at}.value", "is not unique.")
        values.append(value)
        key = choice.get("key")
        if advanced is True:
            if not isinstance(key, str) or not key:
                add(errors, f"{at}.key", "is required when enum.advanced is true.")
            elif key in keys:
                add(errors, f"{at}.key", "is not unique.")
            else:
                keys.add(key)
    return values


def _check_default(f: dict[str, Any], path: str, errors: Errors, choices: list[Any] | None) -> None:
    meta = f.get("field_metadata")
    if not isinstance(meta, dict) or "default_value" not in meta or meta["default_value"] in (None, ""):
        return
    value = meta["default_value"]
    at = f"{path}.field_metadata.default_value"
    values = value if isinstance(value, list) and f.get("multiple") else [value]
    data_type = f.get("data_type")
    for v in values:
        if choices is not None:
            if v not in choices:
                add(errors, at, "must be one of the field's choices.")
                return
            continue
        ok = {
            "text": lambda x: isinstance(x, str),
            "number": _is_number,
            "boolean": lambda x: isinstance(x, bool),
            "isodate": _is_date,
            "link": lambda x: (
                isinstance(x, dict) and all(isinstance(x.get(k, ""), str) for k in ("title", "url"))
            ),
        }.get(str(data_type), lambda x: True)(v)
        if not ok:
            add(errors, at, f"is not a valid {data_type} value.")
            return


def check_leaf(f: dict[str, Any], path: str, errors: Errors) -> None:
    """Type-specific properties of fields without a nested schema."""
    data_type = f.get("data_type")
    meta = f.get("field_metadata") if isinstance(f.get("field_metadata"), dict) else {}
    assert isinstance(meta, dict)
    choices: list[Any] | None = None
    if "enum" in f and "display_type" not in f:
        add(errors, f"{path}.display_type", "is required with enum: dropdown, radio or checkbox.")
    if "display_type" in f:
        if data_type not in ("text", "number"):
            add(errors, f"{path}.display_type", "is only for text and number select fields.")
        elif not one_of(f["display_type"], DISPLAY_TYPES):
            add(errors, f"{path}.display_type", "must be dropdown, radio or checkbox.")
        else:
            choices = _choices(f, path, errors)
            if f["display_type"] == "checkbox" and f.get("multiple") is not True:
                add(errors, f"{path}.multiple", "must be true for a checkbox field.")
    if data_type == "text":
        if meta.get("markdown") is True and meta.get("allow_rich_text") is True:
            add(errors, f"{path}.field_metadata", "a text field is either markdown or rich text, not both.")
        if meta.get("allow_rich_text") is True and "rich_text_type" not in meta:
            add(errors, f"{path}.field_metadata.rich_text_type", "is required for a rich text field.")
        _check_bounds(f, path, errors, lengths=True)
        _check_format(f, path, errors)
    elif data_type == "number":
        _check_bounds(f, path, errors, lengths=False)
    elif data_type == "file":
        exts = f.get("extensions")
        if exts is not None and (not isinstance(exts, list) or not all(isinstance(x, str) for x in exts)):
            add(errors, f"{path}.extensions", "must be a list of file extensions.")
    elif data_type == "taxonomy":
        _check_taxonomies(f, path, errors)
    _check_default(f, path, errors, choices)


def _check_taxonomies(f: dict[str, Any], path: str, errors: Errors) -> None:
    taxonomies = f.get("taxonomies")
    if not isinstance(taxonomies, list) or not taxonomies:
        add(errors, f"{path}.taxonomies", "must be a non-empty list of {taxonomy_uid, max_terms}.")
        return
    if len(taxonomies) > MAX_TAXONOMIES:
        add(errors, f"{path}.taxonomies", f"may list at most {MAX_TAXONOMIES} taxonomies.")
    seen: set[str] = set()
    for i, t in enumerate(taxonomies):
        at = f"{path}.taxonomies.{i}"
        if not isinstance(t, dict) or not isinstance(t.get("taxonomy_uid"), str) or not t["taxonomy_uid"]:
            add(errors, f"{at}.taxonomy_uid", "is required.")
            continue
        if t["taxonomy_uid"] in seen:
            add(errors, f"{at}.taxonomy_uid", "is not unique.")
        seen.add(t["taxonomy_uid"])
        terms = t.get("max_terms")
        if terms is not None and (not _is_int(terms) or not 1 <= terms <= MAX_TERMS):
            add(errors, f"{at}.max_terms", f"must be a whole number from 1 to {MAX_TERMS}.")
        for prop in ("mandatory", "multiple", "non_localizable"):
            if prop in t and not isinstance(t[prop], bool):
                add(errors, f"{at}.{prop}", "must be true or false.")
