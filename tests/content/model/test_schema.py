"""The field schema language, table-driven: every data type and property, valid and invalid,
with the exact errors a client gets back. Pure functions: the stack is a small Lookup."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stackyard.content.model.fields import DATA_TYPES
from stackyard.content.model.schema import (
    Lookup,
    Owner,
    check_content_type_fields,
    check_field_rules,
    check_options,
    check_schema,
)

CONTENT_TYPES = {"author", "post"}
GLOBAL_FIELDS = {"seo": set(), "outer": {"inner"}, "inner": set()}
EXTENSIONS = {"bltext"}
LOOKUP = Lookup(
    content_type_exists=lambda uid: uid in CONTENT_TYPES,
    global_field_exists=lambda uid: uid in GLOBAL_FIELDS,
    global_field_embeds=lambda uid: GLOBAL_FIELDS.get(uid, set()),
    extension_exists=lambda uid: uid in EXTENSIONS,
)
CT = Owner("content_type", "page")


def f(uid: str = "x", data_type: str = "text", **extra: Any) -> dict[str, Any]:
    return {"display_name": uid.title(), "uid": uid, "data_type": data_type, **extra}


def select(display_type: str = "dropdown", choices: Any = None, **extra: Any) -> dict[str, Any]:
    enum = {"advanced": False, "choices": [{"value": "a"}, {"value": "b"}] if choices is None else choices}
    return f("pick", "text", display_type=display_type, enum=enum, **extra)


VALID: list[tuple[str, list[Any]]] = [
    ("single line text", [f()]),
    ("multi line text", [f(field_metadata={"multiline": True})]),
    ("markdown", [f(field_metadata={"markdown": True})]),
    ("html rich text", [f(field_metadata={"allow_rich_text": True, "rich_text_type": "advanced"})]),
    (
        "json rich text",
        [f("body", "json", field_metadata={"allow_json_rte": True, "rich_text_type": "advanced"})],
    ),
    ("json rte embedding entries and assets", [f("body", "json", reference_to=["post", "sys_assets"])]),
    ("dropdown", [select()]),
    (
        "radio with keys",
        [f("pick", display_type="radio", enum={"advanced": True, "choices": [{"value": "a", "key": "A"}]})],
    ),
    ("checkbox", [select("checkbox", multiple=True)]),
    (
        "number select",
        [f("n", "number", display_type="dropdown", enum={"choices": [{"value": 1}, {"value": 2}]})],
    ),
    ("number with bounds", [f("n", "number", min=1, max=10.5)]),
    ("text length in field_metadata", [f(field_metadata={"min": 1, "max": 5})]),
    ("format with message", [f(format="^[a-z]+$", error_messages={"format": "lowercase only"})]),
    ("text default", [f(field_metadata={"default_value": "hello"})]),
    ("number default", [f("n", "number", field_metadata={"default_value": 3})]),
    ("boolean default", [f("b", "boolean", field_metadata={"default_value": True})]),
    ("date default", [f("d", "isodate", field_metadata={"default_value": "2024-01-01T00:00:00.000Z"})]),
    ("select default", [select(field_metadata={"default_value": "a"})]),
    ("file with extensions", [f("img", "file", extensions=["jpg"], field_metadata={"image": True})]),
    ("link", [f("l", "link", field_metadata={"default_value": {"title": "t", "url": "/u"}})]),
    (
        "reference list",
        [f("r", "reference", reference_to=["author", "post"], field_metadata={"ref_multiple": True})],
    ),
    ("reference string", [f("r", "reference", reference_to="author")]),
    ("self reference", [f("r", "reference", reference_to=["page"])]),
    ("group", [f("g", "group", schema=[f("a"), f("b")], multiple=True, max_instance=3)]),
    (
        "blocks",
        [f("bl", "blocks", multiple=True, blocks=[{"uid": "q", "title": "Quote", "schema": [f("text")]}])],
    ),
    (
        "blocks from a global field",
        [f("bl", "blocks", blocks=[{"uid": "s", "title": "SEO", "reference_to": "seo"}])],
    ),
    ("global field", [f("seo", "global_field", reference_to="seo")]),
    ("taxonomy", [f("taxonomies", "taxonomy", taxonomies=[{"taxonomy_uid": "colors", "max_terms": 5}])]),
    ("instances", [f(multiple=True, min_instance=1, max_instance=2)]),
    ("custom field", [f(extension_uid="bltext", field_metadata={"extension": True})]),
    ("same uid at different levels", [f("a"), f("g", "group", schema=[f("a")])]),
    ("system names inside a group", [f("g", "group", schema=[f("tags"), f("uid")])]),
]


@pytest.mark.parametrize(("schema",), [pytest.param(s, id=name) for name, s in VALID])
def test_valid_schemas(schema: list[Any]) -> None:
    clean, _, errors = check_schema(schema, CT, LOOKUP)
    assert errors == {}
    assert len(clean) == len(schema)


INVALID: list[tuple[str, Any, dict[str, list[str]]]] = [
    ("not a list", {"uid": "x"}, {"schema": ["is required: a list of fields."]}),
    ("not an object", ["x"], {"schema.0": ["must be a field object."]}),
    (
        "bad uid",
        [f("Title")],
        {
            "schema.0.uid": [
                "is not valid: lowercase letters, digits and _, starting with a letter, at most 64."
            ]
        },
    ),
    ("duplicate uid", [f("a"), f("a")], {"schema.1.uid": ["is not unique."]}),
    (
        "reserved uid",
        [f("tags"), f("locale")],
        {
            "schema.0.uid": ["is reserved for a system field of entries."],
            "schema.1.uid": ["is reserved for a system field of entries."],
        },
    ),
    (
        "duplicate nested uid",
        [f("g", "group", schema=[f("a"), f("a")])],
        {"schema.0.schema.1.uid": ["is not unique."]},
    ),
    (
        "unknown data type",
        [f(data_type="color")],
        {
            "schema.0.data_type": [
                "is not valid: use one of blocks, boolean, file, global_field, group, isodate, json, link, "
                "number, reference, taxonomy, text."
            ]
        },
    ),
    (
        "no display name",
        [{"uid": "x", "data_type": "text"}],
        {"schema.0.display_name": ["is required: a non-empty string."]},
    ),
    ("mandatory not boolean", [f(mandatory="yes")], {"schema.0.mandatory": ["must be true or false."]}),
    (
        "unique boolean",
        [f("b", "boolean", unique=True)],
        {"schema.0.unique": ["is not supported for this data type."]},
    ),
    (
        "bad regex",
        [f(format="([a-z")],
        {"schema.0.format": ["is not a regular expression this server can run safely (missing ]: [a-z)."]},
    ),
    (
        "regex needing backtracking",
        [f(format="^(?=.*[0-9]).+$")],
        {
            "schema.0.format": [
                "is not a regular expression this server can run safely (invalid perl operator: (?=)."
            ]
        },
    ),
    (
        "regex with a backreference",
        [f(format="(a)\\1")],
        {
            "schema.0.format": [
                "is not a regular expression this server can run safely (invalid escape sequence: \\1)."
            ]
        },
    ),
    (
        "error messages not an object",
        [f(format="^a$", error_messages="bad")],
        {"schema.0.error_messages": ['must be an object of messages, e.g. {"format": "..."}.']},
    ),
    ("text min above max", [f(min=5, max=2)], {"schema.0.min": ["must not be greater than max."]}),
    (
        "negative length",
        [f(field_metadata={"max": -1})],
        {"schema.0.field_metadata.max": ["must be a length of 0 or more."]},
    ),
    ("number bound not a number", [f("n", "number", min="1")], {"schema.0.min": ["must be a number."]}),
    (
        "select without enum",
        [f(display_type="dropdown")],
        {"schema.0.enum": ["is required for a select field: {advanced, choices: [{value}]}."]},
    ),
    (
        "select without choices",
        [select(choices=[])],
        {"schema.0.enum.choices": ["must be a non-empty list of {value, key?}."]},
    ),
    (
        "select duplicate value",
        [select(choices=[{"value": "a"}, {"value": "a"}])],
        {"schema.0.enum.choices.1.value": ["is not unique."]},
    ),
    (
        "advanced select without key",
        [f("pick", display_type="radio", enum={"advanced": True, "choices": [{"value": "a"}]})],
        {"schema.0.enum.choices.0.key": ["is required when enum.advanced is true."]},
    ),
    (
        "bad display type",
        [f(display_type="slider")],
        {"schema.0.display_type": ["must be dropdown, radio or checkbox."]},
    ),
    ("checkbox single", [select("checkbox")], {"schema.0.multiple": ["must be true for a checkbox field."]}),
    (
        "default not a choice",
        [select(field_metadata={"default_value": "z"})],
        {"schema.0.field_metadata.default_value": ["must be one of the field's choices."]},
    ),
    (
        "number default text",
        [f("n", "number", field_metadata={"default_value": "three"})],
        {"schema.0.field_metadata.default_value": ["is not a valid number value."]},
    ),
    (
        "bad date default",
        [f("d", "isodate", field_metadata={"default_value": "yesterday"})],
        {"schema.0.field_metadata.default_value": ["is not a valid isodate value."]},
    ),
    (
        "rich text without type",
        [f(field_metadata={"allow_rich_text": True})],
        {"schema.0.field_metadata.rich_text_type": ["is required for a rich text field."]},
    ),
    (
        "markdown and rich text",
        [f(field_metadata={"markdown": True, "allow_rich_text": True, "rich_text_type": "basic"})],
        {"schema.0.field_metadata": ["a text field is either markdown or rich text, not both."]},
    ),
    (
        "bad rich text type",
        [f("j", "json", field_metadata={"allow_json_rte": True, "rich_text_type": "fancy"})],
        {"schema.0.field_metadata.rich_text_type": ["must be basic, advanced or custom."]},
    ),
    (
        "field metadata not object",
        [f(field_metadata=[])],
        {"schema.0.field_metadata": ["must be an object."]},
    ),
    (
        "empty group",
        [f("g", "group", schema=[])],
        {"schema.0.schema": ["is required: a group holds a non-empty list of fields."]},
    ),
    (
        "no blocks",
        [f("bl", "blocks", blocks=[])],
        {"schema.0.blocks": ["is required: a non-empty list of blocks {uid, title, schema}."]},
    ),
    (
        "block without title or schema",
        [f("bl", "blocks", blocks=[{"uid": "q"}])],
        {
            "schema.0.blocks.0.title": ["is required: a non-empty string."],
            "schema.0.blocks.0.schema": ["is required: a block holds fields, or refers to a global field."],
        },
    ),
    (
        "duplicate block uid",
        [f("bl", "blocks", blocks=[{"uid": "q", "title": "Q", "schema": [f()]}] * 2)],
        {"schema.0.blocks.1.uid": ["is not unique."]},
    ),
    (
        "field error inside a block",
        [f("bl", "blocks", blocks=[{"uid": "q", "title": "Q", "schema": [f("A")]}])],
        {
            "schema.0.blocks.0.schema.0.uid": [
                "is not valid: lowercase letters, digits and _, starting with a letter, at most 64."
            ]
        },
    ),
    (
        "reference without targets",
        [f("r", "reference", reference_to=[])],
        {"schema.0.reference_to": ["must be a non-empty list of content type uids."]},
    ),
    (
        "reference to a missing type",
        [f("r", "reference", reference_to=["ghost"])],
        {"schema.0.reference_to": ["'ghost' is not a content type of this stack."]},
    ),
    (
        "missing global field",
        [f("g", "global_field", reference_to="ghost")],
        {"schema.0.reference_to": ["'ghost' is not a global field of this stack."]},
    ),
    (
        "global field without reference",
        [f("g", "global_field")],
        {"schema.0.reference_to": ["is required: the uid of a global field."]},
    ),
    (
        "taxonomy without taxonomies",
        [f("taxonomies", "taxonomy")],
        {"schema.0.taxonomies": ["must be a non-empty list of {taxonomy_uid, max_terms}."]},
    ),
    (
        "taxonomy terms out of range",
        [f("taxonomies", "taxonomy", taxonomies=[{"taxonomy_uid": "c", "max_terms": 0}])],
        {"schema.0.taxonomies.0.max_terms": ["must be a whole number from 1 to 25."]},
    ),
    (
        "instances without multiple",
        [f(max_instance=2)],
        {"schema.0.multiple": ["must be true when min_instance or max_instance is set."]},
    ),
    (
        "min instances above max",
        [f(multiple=True, min_instance=3, max_instance=2)],
        {"schema.0.min_instance": ["must not be greater than max_instance."]},
    ),
    (
        "enum without display type",
        [f(enum={"choices": [{"value": "a"}]})],
        {"schema.0.display_type": ["is required with enum: dropdown, radio or checkbox."]},
    ),
    (
        "names given as objects",
        [f(display_type={"x": 1}, enum={"choices": [{"value": "a"}]}, field_metadata={"rich_text_type": []})],
        {
            "schema.0.field_metadata.rich_text_type": [
                "must be a string.",
                "must be basic, advanced or custom.",
            ],
            "schema.0.display_type": ["must be dropdown, radio or checkbox."],
        },
    ),
    (
        "unknown extension",
        [f(extension_uid="bltnope")],
        {"schema.0.extension_uid": ["is not an extension of this stack."]},
    ),
]


@pytest.mark.parametrize(("schema", "errors"), [pytest.param(s, e, id=name) for name, s, e in INVALID])
def test_invalid_schemas(schema: Any, errors: dict[str, list[str]]) -> None:
    assert check_schema(schema, CT, LOOKUP)[2] == errors


def test_global_field_schema_is_stored_by_reference() -> None:
    clean, refs, errors = check_schema(
        [
            f("seo", "global_field", reference_to="seo", schema=[f("copied")]),
            f("r", "reference", reference_to="post"),
        ],
        CT,
        LOOKUP,
    )
    assert errors == {}
    assert "schema" not in clean[0] and clean[1]["reference_to"] == ["post"]
    assert (refs.global_fields, refs.content_types) == ({"seo"}, {"post"})
    assert clean[0]["mandatory"] is False and clean[0]["multiple"] is False


def test_global_fields_cannot_nest_themselves() -> None:
    inner = Owner("global_field", "inner")
    assert check_schema([f("o", "global_field", reference_to="outer")], inner, LOOKUP)[2] == {
        "schema.0.reference_to": ["'outer' includes 'inner', so including it here would be a cycle."]
    }
    assert check_schema([f("i", "global_field", reference_to="inner")], inner, LOOKUP)[2] == {
        "schema.0.reference_to": ["a global field cannot include itself."]
    }
    # a global field may not refer to "itself" as a content type either: only content types may
    gf_ref = check_schema([f("r", "reference", reference_to=["inner"])], inner, LOOKUP)[2]
    assert gf_ref == {"schema.0.reference_to": ["'inner' is not a content type of this stack."]}


def test_too_deep_nesting_is_refused() -> None:
    field = f("leaf")
    for i in range(10):
        field = f(f"g{i}", "group", schema=[field])
    errors = check_schema([field], CT, LOOKUP)[2]
    assert list(errors.values()) == [["nests more than 8 levels deep."]]


TITLE = f("title", mandatory=True, unique=True)


@pytest.mark.parametrize(
    ("schema", "options", "errors"),
    [
        ([TITLE], {}, {}),
        ([f("name")], {}, {"schema": ["must have a field with uid 'title' (text, mandatory)."]}),
        ([f("title")], {}, {"schema.0.mandatory": ["must be true for the title field."]}),
        (
            [f("title", "number", mandatory=True)],
            {},
            {"schema.0.data_type": ["must be text for the title field."]},
        ),
        (
            [TITLE],
            {"is_page": True},
            {"schema": ["must have a text field with uid 'url' when options.is_page is true."]},
        ),
        ([TITLE, f("url")], {"is_page": True}, {}),
    ],
)
def test_required_content_type_fields(schema: list[Any], options: dict[str, Any], errors: Any) -> None:
    assert check_content_type_fields(schema, options) == errors


@pytest.mark.parametrize(
    ("options", "errors"),
    [
        (None, {}),
        ({"is_page": True, "url_pattern": "/:title", "url_prefix": "/blog/"}, {}),
        ({"singleton": "yes"}, {"options.singleton": ["must be true or false."]}),
        ({"title": "nope"}, {"options.title": ["must name a field of the content type."]}),
        ({"sub_title": ["ghost"]}, {"options.sub_title": ["must list fields of the content type."]}),
        ({"url_prefix": "blog"}, {"options.url_prefix": ["must be a path starting with '/'."]}),
        ([], {"options": ["must be an object."]}),
    ],
)
def test_options(options: Any, errors: Any) -> None:
    assert check_options(options, [TITLE])[1] == errors


def test_options_defaults() -> None:
    clean, _ = check_options({"is_page": True}, [TITLE])
    assert clean == {
        "is_page": True,
        "singleton": False,
        "title": "title",
        "sub_title": [],
        "url_prefix": "/",
        "url_pattern": "/:title",
    }


RULE_SCHEMA = [
    TITLE,
    f("kind"),
    f("count", "number"),
    f("body", field_metadata={"allow_rich_text": True, "rich_text_type": "basic"}),
    f("g", "group", schema=[f("inner")]),
]


def rule(
    operand: str = "kind", operator: str = "equals", target: str = "count", **extra: Any
) -> dict[str, Any]:
    return {
        "conditions": [{"operand_field": operand, "operator": operator, "value": "x"}],
        "match_type": "all",
        "actions": [{"action": "show", "target_field": target}],
        **extra,
    }


@pytest.mark.parametrize(
    ("rules", "errors"),
    [
        (None, {}),
        ([rule()], {}),
        ([rule("count", "isGreaterThan"), rule("g.inner", "startsWith", "body", match_type="any")], {}),
        ("x", {"field_rules": ["must be a list of rules."]}),
        (
            [rule("ghost")],
            {"field_rules.0.conditions.0.operand_field": ["is not a field of this content type."]},
        ),
        (
            [rule("body")],
            {
                "field_rules.0.conditions.0.operand_field": [
                    "cannot be used in a condition (rich text, files, groups...)."
                ]
            },
        ),
        (
            [rule("count", "startsWith")],
            {
                "field_rules.0.conditions.0.operator": [
                    "must be one of equals, isGreaterThan, isGreaterThanOrEqualTo, isLessThan, "
                    "isLessThanOrEqualTo, notEquals."
                ]
            },
        ),
        (
            [rule(target="ghost")],
            {"field_rules.0.actions.0.target_field": ["is not a field of this content type."]},
        ),
        ([rule(match_type="most")], {"field_rules.0.match_type": ["must be all or any."]}),
        (
            [
                {
                    "conditions": [{"operand_field": ["kind"], "operator": {}}],
                    "match_type": [],
                    "actions": [{"action": []}],
                }
            ],
            {
                "field_rules.0.match_type": ["must be all or any."],
                "field_rules.0.conditions.0.operand_field": ["is not a field of this content type."],
                "field_rules.0.actions.0.action": ["must be show or hide."],
                "field_rules.0.actions.0.target_field": ["is not a field of this content type."],
            },
        ),
        (
            [{"match_type": "all"}],
            {
                "field_rules.0.conditions": ["must be a non-empty list of {operand_field, operator, value}."],
                "field_rules.0.actions": ["must be a non-empty list of {action, target_field}."],
            },
        ),
    ],
)
def test_field_rules(rules: Any, errors: Any) -> None:
    assert check_field_rules(rules, RULE_SCHEMA)[1] == errors


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=20,
)
_KEYS = st.sampled_from(
    [
        "uid",
        "display_name",
        "data_type",
        "mandatory",
        "unique",
        "multiple",
        "field_metadata",
        "schema",
        "blocks",
        "reference_to",
        "display_type",
        "enum",
        "format",
        "error_messages",
        "min",
        "max",
        "min_instance",
        "max_instance",
        "taxonomies",
        "extension_uid",
        "extensions",
    ]
)
_VALUES = _JSON | st.sampled_from(sorted(DATA_TYPES)) | st.sampled_from(["title", "seo", "post", "dropdown"])
_FLAT = st.dictionaries(_KEYS, _VALUES, max_size=8)
_FIELD = st.recursive(
    _FLAT,
    lambda inner: st.fixed_dictionaries(
        {
            "uid": st.sampled_from(["a", "b", "seo"]),
            "display_name": st.just("X"),
            "data_type": st.sampled_from(["group", "blocks", "global_field"]),
            "schema": st.lists(inner, max_size=3),
            "blocks": st.lists(
                st.dictionaries(
                    st.sampled_from(["uid", "title", "schema", "reference_to"]), _VALUES | st.lists(inner)
                ),
                max_size=3,
            ),
        },
        optional={"reference_to": _VALUES, "multiple": _VALUES},
    ),
    max_leaves=8,
)


@settings(max_examples=300)
@given(schema=st.lists(_FIELD | _JSON, max_size=5), options=_JSON, rules=_JSON)
def test_any_json_gets_errors_never_an_exception(schema: Any, options: Any, rules: Any) -> None:
    clean, _, errors = check_schema(schema, CT, LOOKUP)
    assert isinstance(errors, dict)
    check_options(options, clean)
    check_content_type_fields(clean, options if isinstance(options, dict) else {})
    check_field_rules(rules, clean)
