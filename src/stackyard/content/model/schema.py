"""The field schema language of content types and global fields (catalogue §4.3).

`check_schema` walks a schema (nested groups, modular blocks, global fields), checks every field and
answers the schema as it is stored, what it refers to, and every fault keyed by its path
(`{"schema.2.uid": ["is not unique."]}`). Global fields are stored by reference: an inline `schema`
sent with a `global_field` field (as a fetched content type carries it) is dropped, so the content
type keeps following the global field. `check_options` and `check_field_rules` cover the rest of a
content type. Nothing here touches the database; callers pass a `Lookup`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from stackyard.content.model.fields import DATA_TYPES, Errors, add, check_common, check_leaf, one_of

UID = re.compile(r"^[a-z][a-z0-9_]*$")
UID_MAX = 64
MAX_DEPTH = 8
MAX_FIELDS = 1000
ASSETS = "sys_assets"
# Entry keys the system owns: a top-level field may not take one of these names.
RESERVED = frozenset(
    {
        "uid",
        "id",
        "api_key",
        "locale",
        "tags",
        "created_at",
        "updated_at",
        "deleted_at",
        "created_by",
        "updated_by",
        "publish_details",
        "acl",
        "sys_acl",
        "default_acl",
        "inbuilt_class",
        "content_type_uid",
    }
)

# Field visibility rule operators by operand type (Contentstack's names).
_TEXT_OPS = frozenset(
    {"equals", "notEquals", "matches", "doesNotMatch", "startsWith", "endsWith", "contains"}
)
_ORDER_OPS = frozenset(
    {"equals", "notEquals", "isLessThan", "isLessThanOrEqualTo", "isGreaterThan", "isGreaterThanOrEqualTo"}
)
OPERATORS: dict[str, frozenset[str]] = {
    "text": _TEXT_OPS,
    "select": frozenset({"equals", "notEquals"}),
    "number": _ORDER_OPS,
    "isodate": _ORDER_OPS | {"before", "after"},
    "boolean": frozenset({"equals", "notEquals"}),
    "reference": frozenset({"equals", "notEquals"}),
}
MATCH_TYPES = frozenset({"all", "any"})
ACTIONS = frozenset({"show", "hide"})


@dataclass(frozen=True)
class Lookup:
    """What validation needs to know about the stack, as plain functions."""

    content_type_exists: Callable[[str], bool]
    global_field_exists: Callable[[str], bool]
    global_field_embeds: Callable[[str], set[str]]  # global fields one global field embeds directly
    extension_exists: Callable[[str], bool]


@dataclass
class Refs:
    """What a schema refers to: kept in content_model_refs for "in use" and "references"."""

    content_types: set[str] = field(default_factory=set)
    global_fields: set[str] = field(default_factory=set)
    extensions: set[str] = field(default_factory=set)


@dataclass(frozen=True)
class Owner:
    kind: Literal["content_type", "global_field"]
    uid: str


class _Walk:
    def __init__(self, owner: Owner, lookup: Lookup) -> None:
        self.owner = owner
        self.lookup = lookup
        self.errors: Errors = {}
        self.refs = Refs()
        self.count = 0
        self._closure: dict[str, set[str]] = {}

    def embeds(self, gf: str) -> set[str]:
        """Every global field `gf` embeds, directly or through others."""
        if gf not in self._closure:
            found: set[str] = set()
            todo = [gf]
            while todo:
                for nxt in self.lookup.global_field_embeds(todo.pop()):
                    if nxt not in found:
                        found.add(nxt)
                        todo.append(nxt)
            self._closure[gf] = found
        return self._closure[gf]

    def fields(self, fields: Any, path: str, depth: int) -> list[Any]:
        if not isinstance(fields, list):
            add(self.errors, path, "must be a list of fields.")
            return []
        if depth > MAX_DEPTH:
            add(self.errors, path, f"nests more than {MAX_DEPTH} levels deep.")
            return []
        seen: set[str] = set()
        out: list[Any] = []
        for i, f in enumerate(fields):
            at = f"{path}.{i}"
            self.count += 1
            if not isinstance(f, dict):
                add(self.errors, at, "must be a field object.")
                continue
            self._uid(f.get("uid"), f"{at}.uid", seen)
            if depth == 1 and one_of(f.get("uid"), RESERVED):
                add(self.errors, f"{at}.uid", "is reserved for a system field of entries.")
            if not one_of(f.get("data_type"), DATA_TYPES):
                add(
                    self.errors,
                    f"{at}.data_type",
                    "is not valid: use one of " + ", ".join(sorted(DATA_TYPES)) + ".",
                )
                out.append(f)
                continue
            out.append(self.field(f, at, depth))
        return out

    def _uid(self, uid: Any, at: str, seen: set[str]) -> None:
        if not isinstance(uid, str) or not UID.match(uid) or len(uid) > UID_MAX:
            add(
                self.errors,
                at,
                f"is not valid: lowercase letters, digits and _, starting with a letter, at most {UID_MAX}.",
            )
        elif uid in seen:
            add(self.errors, at, "is not unique.")
        else:
            seen.add(uid)

    def field(self, f: dict[str, Any], at: str, depth: int) -> dict[str, Any]:
        check_common(f, at, self.errors)
        clean: dict[str, Any] = {
            "mandatory": False,
            "unique": False,
            "multiple": False,
            "non_localizable": False,
        }
        clean.update(f)
        data_type = f["data_type"]
        if data_type == "group":
            if not isinstance(f.get("schema"), list) or not f["schema"]:
                add(self.errors, f"{at}.schema", "is required: a group holds a non-empty list of fields.")
            else:
                clean["schema"] = self.fields(f["schema"], f"{at}.schema", depth + 1)
        elif data_type == "blocks":
            clean["blocks"] = self.blocks(f.get("blocks"), f"{at}.blocks", depth)
        elif data_type == "global_field":
            clean.pop("schema", None)
            self.global_field(f.get("reference_to"), f"{at}.reference_to")
        elif data_type == "reference":
            clean["reference_to"] = self.references(
                f.get("reference_to"), f"{at}.reference_to", required=True
            )
        else:
            check_leaf(f, at, self.errors)
            if data_type == "json" and "reference_to" in f:
                clean["reference_to"] = self.references(
                    f["reference_to"], f"{at}.reference_to", required=False
                )
        ext = f.get("extension_uid")
        if ext is not None:
            if not isinstance(ext, str) or not self.lookup.extension_exists(ext):
                add(self.errors, f"{at}.extension_uid", "is not an extension of this stack.")
            else:
                self.refs.extensions.add(ext)
        return clean

    def references(self, value: Any, at: str, *, required: bool) -> list[Any]:
        targets = [value] if isinstance(value, str) else value
        if not isinstance(targets, list) or (required and not targets):
            add(self.errors, at, "must be a non-empty list of content type uids.")
            return []
        for uid in targets:
            if not isinstance(uid, str) or not uid:
                add(self.errors, at, "must list content type uids (strings).")
            elif uid == ASSETS and not required:
                continue
            elif self.owner.kind == "content_type" and uid == self.owner.uid:
                self.refs.content_types.add(uid)
            elif not self.lookup.content_type_exists(uid):
                add(self.errors, at, f"'{uid}' is not a content type of this stack.")
            else:
                self.refs.content_types.add(uid)
        return list(targets)

    def global_field(self, gf: Any, at: str) -> None:
        if not isinstance(gf, str) or not gf:
            add(self.errors, at, "is required: the uid of a global field.")
        elif self.owner.kind == "global_field" and gf == self.owner.uid:
            add(self.errors, at, "a global field cannot include itself.")
        elif not self.lookup.global_field_exists(gf):
            add(self.errors, at, f"'{gf}' is not a global field of this stack.")
        elif self.owner.kind == "global_field" and self.owner.uid in self.embeds(gf):
            add(
                self.errors, at, f"'{gf}' includes '{self.owner.uid}', so including it here would be a cycle."
            )
        else:
            self.refs.global_fields.add(gf)

    def blocks(self, blocks: Any, at: str, depth: int) -> list[Any]:
        if not isinstance(blocks, list) or not blocks:
            add(self.errors, at, "is required: a non-empty list of blocks {uid, title, schema}.")
            return []
        seen: set[str] = set()
        out: list[Any] = []
        for i, b in enumerate(blocks):
            bat = f"{at}.{i}"
            if not isinstance(b, dict):
                add(self.errors, bat, "must be a block object.")
                continue
            self._uid(b.get("uid"), f"{bat}.uid", seen)
            if not isinstance(b.get("title"), str) or not b["title"].strip():
                add(self.errors, f"{bat}.title", "is required: a non-empty string.")
            clean = dict(b)
            if "reference_to" in b:
                clean.pop("schema", None)
                self.global_field(b["reference_to"], f"{bat}.reference_to")
            elif not isinstance(b.get("schema"), list) or not b["schema"]:
                add(
                    self.errors,
                    f"{bat}.schema",
                    "is required: a block holds fields, or refers to a global field.",
                )
            else:
                clean["schema"] = self.fields(b["schema"], f"{bat}.schema", depth + 1)
            out.append(clean)
        return out


def check_schema(schema: Any, owner: Owner, lookup: Lookup) -> tuple[list[Any], Refs, Errors]:
    """(schema as stored, what it refers to, faults by path)."""
    walk = _Walk(owner, lookup)
    if not isinstance(schema, list):
        return [], walk.refs, {"schema": ["is required: a list of fields."]}
    clean = walk.fields(schema, "schema", 1)
    if walk.count > MAX_FIELDS:
        add(walk.errors, "schema", f"has more than {MAX_FIELDS} fields.")
    return clean, walk.refs, walk.errors


def _top(schema: list[Any], uid: str) -> dict[str, Any] | None:
    return next((f for f in schema if isinstance(f, dict) and f.get("uid") == uid), None)


def check_content_type_fields(schema: list[Any], options: dict[str, Any]) -> Errors:
    """The fields a content type must have: a mandatory text `title`, and `url` for pages."""
    errors: Errors = {}
    title = _top(schema, "title")
    if title is None:
        add(errors, "schema", "must have a field with uid 'title' (text, mandatory).")
    else:
        i = schema.index(title)
        if title.get("data_type") != "text":
            add(errors, f"schema.{i}.data_type", "must be text for the title field.")
        if title.get("mandatory") is not True:
            add(errors, f"schema.{i}.mandatory", "must be true for the title field.")
        if title.get("multiple") is True:
            add(errors, f"schema.{i}.multiple", "must be false for the title field.")
    if options.get("is_page") is True:
        url = _top(schema, "url")
        if url is None:
            add(errors, "schema", "must have a text field with uid 'url' when options.is_page is true.")
        elif url.get("data_type") != "text":
            add(errors, f"schema.{schema.index(url)}.data_type", "must be text for the url field.")
    return errors


def check_options(options: Any, schema: list[Any]) -> tuple[dict[str, Any], Errors]:
    """Content type options (title, sub_title, is_page, singleton, url_pattern, url_prefix), with defaults."""
    errors: Errors = {}
    if options is None:
        options = {}
    if not isinstance(options, dict):
        return {}, {"options": ["must be an object."]}
    clean: dict[str, Any] = {"is_page": False, "singleton": False, "title": "title", "sub_title": []}
    clean.update(options)
    for key in ("is_page", "singleton", "publishable"):
        if key in options and not isinstance(options[key], bool):
            add(errors, f"options.{key}", "must be true or false.")
    top = {f["uid"] for f in schema if isinstance(f, dict) and isinstance(f.get("uid"), str)}
    if not isinstance(clean["title"], str) or clean["title"] not in top:
        add(errors, "options.title", "must name a field of the content type.")
    sub = clean["sub_title"]
    if not isinstance(sub, list) or any(not isinstance(s, str) or s not in top for s in sub):
        add(errors, "options.sub_title", "must list fields of the content type.")
    if clean["is_page"] is True:
        clean.setdefault("url_prefix", "/")
        clean.setdefault("url_pattern", "/:title")
    for key in ("url_pattern", "url_prefix"):
        value = clean.get(key)
        if value is not None and (not isinstance(value, str) or not value.startswith("/")):
            add(errors, f"options.{key}", "must be a path starting with '/'.")
    return clean, errors


def _operands(schema: list[Any], prefix: str, out: dict[str, str | None]) -> None:
    """field path -> operator family (None when the field may be a target but not an operand)."""
    for f in schema:
        if not isinstance(f, dict) or not isinstance(f.get("uid"), str):
            continue
        path = prefix + f["uid"]
        data_type = f.get("data_type")
        meta = f.get("field_metadata") if isinstance(f.get("field_metadata"), dict) else {}
        assert isinstance(meta, dict)
        family: str | None = None
        if "display_type" in f:
            family = "select"
        elif data_type == "text":
            family = None if meta.get("allow_rich_text") or meta.get("markdown") else "text"
        elif data_type in ("number", "isodate", "boolean", "reference"):
            family = str(data_type)
        if f.get("extension_uid"):
            family = None
        out[path] = family
        if data_type in ("group", "global_field") and isinstance(f.get("schema"), list):
            _operands(f["schema"], path + ".", out)
        elif data_type == "blocks" and isinstance(f.get("blocks"), list):
            for b in f["blocks"]:
                if (
                    isinstance(b, dict)
                    and isinstance(b.get("schema"), list)
                    and isinstance(b.get("uid"), str)
                ):
                    out[f"{path}.{b['uid']}"] = None
                    _operands(b["schema"], f"{path}.{b['uid']}.", out)


def check_field_rules(rules: Any, inlined_schema: list[Any]) -> tuple[list[Any], Errors]:
    """Field visibility rules against the (global-field-inlined) schema they speak of."""
    errors: Errors = {}
    if rules is None:
        return [], errors
    if not isinstance(rules, list):
        return [], {"field_rules": ["must be a list of rules."]}
    fields: dict[str, str | None] = {}
    _operands(inlined_schema, "", fields)
    for i, rule in enumerate(rules):
        at = f"field_rules.{i}"
        if not isinstance(rule, dict):
            add(errors, at, "must be a rule {conditions, match_type, actions}.")
            continue
        if not one_of(rule.get("match_type"), MATCH_TYPES):
            add(errors, f"{at}.match_type", "must be all or any.")
        conditions = rule.get("conditions")
        if not isinstance(conditions, list) or not conditions:
            add(errors, f"{at}.conditions", "must be a non-empty list of {operand_field, operator, value}.")
            conditions = []
        for j, c in enumerate(conditions):
            cat = f"{at}.conditions.{j}"
            if not isinstance(c, dict):
                add(errors, cat, "must be a condition object.")
                continue
            operand = c.get("operand_field")
            if not isinstance(operand, str) or operand not in fields:
                add(errors, f"{cat}.operand_field", "is not a field of this content type.")
                continue
            family = fields[operand]
            if family is None:
                add(
                    errors,
                    f"{cat}.operand_field",
                    "cannot be used in a condition (rich text, files, groups...).",
                )
            elif not one_of(c.get("operator"), OPERATORS[family]):
                add(errors, f"{cat}.operator", f"must be one of {', '.join(sorted(OPERATORS[family]))}.")
            if "value" not in c:
                add(errors, f"{cat}.value", "is required.")
        actions = rule.get("actions")
        if not isinstance(actions, list) or not actions:
            add(errors, f"{at}.actions", "must be a non-empty list of {action, target_field}.")
            actions = []
        for j, a in enumerate(actions):
            aat = f"{at}.actions.{j}"
            if not isinstance(a, dict):
                add(errors, aat, "must be an action object.")
                continue
            if not one_of(a.get("action"), ACTIONS):
                add(errors, f"{aat}.action", "must be show or hide.")
            target = a.get("target_field")
            if not isinstance(target, str) or target not in fields:
                add(errors, f"{aat}.target_field", "is not a field of this content type.")
    return rules, errors
