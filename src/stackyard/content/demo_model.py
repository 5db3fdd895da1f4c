"""The demo content model: a `seo` global field and `author` and `article` content types.

`article` shows most of the schema language at once: a page URL, rich text, a reference, a select,
a multiple text field, modular blocks and an embedded global field. Existing objects are kept, so
the step is safe to run again.
"""

from __future__ import annotations

from typing import Any

from stackyard.access.caller import StackAccess
from stackyard.content.model import content_types, global_fields
from stackyard.store.engine import Tx


def _text(uid: str, name: str, **extra: Any) -> dict[str, Any]:
    return {"display_name": name, "uid": uid, "data_type": "text", **extra}


TITLE = _text("title", "Title", mandatory=True, unique=True, field_metadata={"_default": True})

SEO = {
    "uid": "seo",
    "title": "SEO",
    "description": "Search engine title and description, shared by every page type.",
    "schema": [
        _text("meta_title", "Meta title", field_metadata={"description": "Shown in search results"}, max=70),
        _text("meta_description", "Meta description", field_metadata={"multiline": True}, max=160),
    ],
}

AUTHOR = {
    "uid": "author",
    "title": "Author",
    "description": "Someone who writes articles.",
    "schema": [
        TITLE,
        _text("bio", "Bio", field_metadata={"multiline": True}),
        {"display_name": "Photo", "uid": "photo", "data_type": "file", "field_metadata": {"image": True}},
    ],
}

_QUOTE = {
    "uid": "quote",
    "title": "Quote",
    "schema": [
        _text("text", "Text", mandatory=True, field_metadata={"multiline": True}),
        _text("cite", "Cite"),
    ],
}
_CALLOUT = {
    "uid": "callout",
    "title": "Callout",
    "schema": [
        _text("heading", "Heading"),
        _text("body", "Body", field_metadata={"multiline": True}),
        _text(
            "tone",
            "Tone",
            display_type="dropdown",
            enum={"advanced": False, "choices": [{"value": "info"}, {"value": "warning"}]},
            field_metadata={"default_value": "info"},
        ),
    ],
}

ARTICLE = {
    "uid": "article",
    "title": "Article",
    "description": "A page of writing with an author, sections and SEO fields.",
    "options": {"is_page": True, "singleton": False, "url_prefix": "/articles/", "url_pattern": "/:title"},
    "schema": [
        TITLE,
        _text("url", "URL", field_metadata={"_default": True}),
        _text("body", "Body", field_metadata={"allow_rich_text": True, "rich_text_type": "advanced"}),
        {
            "display_name": "Author",
            "uid": "author",
            "data_type": "reference",
            "reference_to": ["author"],
            "field_metadata": {"ref_multiple": False},
        },
        _text(
            "category",
            "Category",
            display_type="dropdown",
            enum={
                "advanced": False,
                "choices": [{"value": "news"}, {"value": "guide"}, {"value": "opinion"}],
            },
        ),
        _text("keywords", "Keywords", multiple=True),
        {
            "display_name": "Sections",
            "uid": "sections",
            "data_type": "blocks",
            "multiple": True,
            "blocks": [_QUOTE, _CALLOUT],
        },
        {"display_name": "SEO", "uid": "seo", "data_type": "global_field", "reference_to": "seo"},
    ],
}


def demo_content_model(tx: Tx, access: StackAccess) -> dict[str, Any]:
    """Demo step: create what is missing of the demo content model."""
    key, branch = access.api_key, access.branch
    if not tx.one(
        "SELECT 1 AS x FROM global_fields WHERE api_key = ? AND branch = ? AND uid = 'seo'", key, branch
    ):
        global_fields.create(tx, access, SEO)
    for ct in (AUTHOR, ARTICLE):
        if not content_types.exists(tx, key, branch, str(ct["uid"])):
            content_types.create(tx, access, ct)
    return {"content_types": ["author", "article"], "global_fields": ["seo"]}
