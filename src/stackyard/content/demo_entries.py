"""Demo step: a few authors and articles of the demo content model, in en-us and localized in fr-fr.

Runs after the content model step (`demo_model`); written through the entries service, so the demo
content is validated, versioned and in the event log like any other. Safe to run again: when the
demo articles exist it does nothing.
"""

from __future__ import annotations

from typing import Any

from stackyard.access.caller import StackAccess
from stackyard.content.entries import entries
from stackyard.content.model import content_types
from stackyard.stacks import locales
from stackyard.store.engine import Tx

AUTHORS = [
    {"title": "Ada Lovelace", "bio": "Wrote the first published program."},
    {"title": "Grace Hopper", "bio": "Made computers speak something close to English."},
]
AUTHORS_FR = {"Ada Lovelace": {"bio": "A écrit le premier programme publié."}}


def _articles(ada: str, grace: str) -> list[dict[str, Any]]:
    return [
        {
            "title": "Hello Stackyard",
            "url": "/hello-stackyard",
            "body": "<p>Stackyard is a self-hosted content platform.</p>",
            "author": [{"uid": ada, "_content_type_uid": "author"}],
            "category": "news",
            "keywords": ["cms", "self-hosted"],
            "sections": [
                {
                    "quote": {
                        "text": "The Analytical Engine weaves algebraic patterns.",
                        "cite": "Ada Lovelace",
                    }
                },
                {"callout": {"heading": "Try it", "body": "Query this entry through the delivery API."}},
            ],
            "seo": {"meta_title": "Hello Stackyard", "meta_description": "A first article."},
            "tags": ["welcome"],
        },
        {
            "title": "Modular blocks",
            "url": "/modular-blocks",
            "body": "<p>Pages built from blocks you choose.</p>",
            "author": [{"uid": grace, "_content_type_uid": "author"}],
            "category": "guide",
            "keywords": ["blocks"],
            "sections": [{"callout": {"heading": "Tip", "body": "Blocks can repeat.", "tone": "warning"}}],
            "seo": {"meta_title": "Modular blocks"},
        },
    ]


ARTICLES_FR = {
    "Hello Stackyard": {
        "title": "Bonjour Stackyard",
        "url": "/bonjour-stackyard",
        "body": "<p>Stackyard est une plateforme de contenu auto-hébergée.</p>",
        "seo": {"meta_title": "Bonjour Stackyard", "meta_description": "Un premier article."},
    },
}


def demo_entries(tx: Tx, access: StackAccess) -> dict[str, Any]:
    """Demo step: authors and articles with references and modular blocks, some localized in fr-fr."""
    key, branch = access.api_key, access.branch
    if not (
        content_types.exists(tx, key, branch, "author") and content_types.exists(tx, key, branch, "article")
    ):
        return {}
    if tx.one(
        "SELECT 1 AS x FROM entries WHERE api_key = ? AND branch = ? AND content_type_uid = 'article'",
        key,
        branch,
    ):
        return {}
    french = locales.exists(tx, key, "fr-fr", branch)
    master = str(access.stack["master_locale"])
    made: dict[str, str] = {}
    for author in AUTHORS:
        made[author["title"]] = entries.create(tx, access, "author", dict(author), master)["uid"]
        if french and author["title"] in AUTHORS_FR:
            entries.update(tx, access, "author", made[author["title"]], AUTHORS_FR[author["title"]], "fr-fr")
    article_uids = []
    for article in _articles(made["Ada Lovelace"], made["Grace Hopper"]):
        uid = entries.create(tx, access, "article", article, master)["uid"]
        article_uids.append(uid)
        if french and article["title"] in ARTICLES_FR:
            entries.update(tx, access, "article", uid, ARTICLES_FR[str(article["title"])], "fr-fr")
    return {"entries": {"author": list(made.values()), "article": article_uids}}
