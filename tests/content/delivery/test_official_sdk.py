"""The official `contentstack` delivery SDK against the server over HTTPS (a local CA), on both
engines: the seed's examples, queries with its operators, references, locale fallback and sync."""

from __future__ import annotations

from typing import Any

import contentstack
from contentstack.basequery import QueryOperation

from tests.content.delivery.conftest import Site


def stack(site: Site, host: str) -> Any:
    return contentstack.Stack(site.api_key, site.token, "production", host=host)


def test_seed_examples(site: Site, books: dict[str, Any], https: str) -> None:
    s = stack(site, https)
    uid = books["articles"][0]["uid"]
    # To retrieve a single entry from a content type
    content_type = s.content_type("article")
    entry = content_type.entry(uid)
    result = entry.fetch()
    assert result["entry"]["uid"] == uid and result["entry"]["title"] == "Article 0"
    # Get Multiple Entries
    query = s.content_type("article").query()
    result = query.find()
    assert sorted(e["title"] for e in result["entries"]) == ["Article 0", "Article 1", "Article 2"]
    # content types
    assert s.content_type("article").fetch()["content_type"]["uid"] == "article"
    found = s.content_type().find({"include_count": "true", "include_global_field_schema": "true"})
    assert found["count"] == 3
    # not found comes back as a body with error_code (the SDK never shows statuses)
    assert s.content_type("article").entry("blt404").fetch()["error_code"] == 141


def test_queries_references_and_fallback(site: Site, books: dict[str, Any], https: str) -> None:
    s = stack(site, https)
    q = s.content_type("article").query()
    q.where("rating", QueryOperation.IS_GREATER_THAN, fields=2)
    q.order_by_ascending("rating")
    assert [e["title"] for e in q.find()["entries"]] == ["Article 2", "Article 1"]
    q = s.content_type("article").query().query("rating", 5)  # sent as a string
    assert [e["title"] for e in q.find()["entries"]] == ["Article 1"]
    q = s.content_type("article").query()
    q.where("title", QueryOperation.MATCHES, fields="^Article [12]$")
    q.include_count().order_by_descending("rating")
    found = q.find()
    assert found["count"] == 2 and [e["title"] for e in found["entries"]] == ["Article 1", "Article 2"]
    q = s.content_type("article").query().where("info.name", QueryOperation.INCLUDES, fields=["n0", "n2"])
    assert len(q.find()["entries"]) == 2
    q = s.content_type("article").query().tags("y").limit(1).skip(0)
    assert len(q.find()["entries"]) == 1
    one = s.content_type("article").query().where("rating", QueryOperation.EQUALS, fields=1).find_one()
    assert [e["title"] for e in one["entries"]] == ["Article 0"]
    # references, with content type uids
    uid = books["articles"][1]["uid"]
    e = s.content_type("article").entry(uid)
    e.include_reference(
        ["author", "author.books"]
    ).include_reference_content_type_uid().include_content_type()
    result = e.fetch()
    author = result["entry"]["author"][0]
    assert author["title"] == "Ann" and author["_content_type_uid"] == "author"
    assert [b["title"] for b in author["books"]] == ["B1", "B2"]
    assert result["content_type"]["uid"] == "article"
    e = s.content_type("article").entry(uid).only("title")
    assert set(e.fetch()["entry"]) == {"uid", "title"}
    # locale fallback
    e = s.content_type("article").entry(uid).locale("fr-fr")
    assert e.fetch()["error_code"] == 141
    e = s.content_type("article").entry(uid).locale("fr-fr").include_fallback()
    assert e.fetch()["entry"]["publish_details"]["locale"] == "en-us"
    q = s.content_type("article").query().locale("fr-ca").include_fallback()
    assert len(q.find()["entries"]) == 3
