"""Delivery reads over HTTP: scope, not-found shapes, queries, references, locales, projections,
and the response cache's headers (ETag and 304, Vary, tags, freshness after a publish)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.content.delivery.conftest import Site


def titles(site: Site, **params: Any) -> list[str]:
    with site.cda() as c:
        r = c.get("/v3/content_types/article/entries", params=params)
    assert r.status_code == 200, r.text
    return [e["title"] for e in r.json()["entries"]]


def test_credentials_and_scope(site: Site, books: dict[str, Any]) -> None:
    uid = books["articles"][0]["uid"]
    path = f"/v3/content_types/article/entries/{uid}"
    with site.cda() as c:
        assert c.get(path).status_code == 200
    # staging is not in the token's scope; an unknown environment neither
    for env in ("staging", "nowhere"):
        with site.cda(environment=env) as c:
            r = c.get(path)
            assert r.status_code == 422 and r.json()["errors"] == {"environment": ["is not valid."]}
    with site.cda(access_token="not-a-token") as c:
        r = c.get(path)
        assert r.status_code == 401 and "error_code" in r.json()
    with site.cda(api_key="blt0000000000000000") as c:
        assert c.get(path).status_code == 412
    # nothing is published to staging: a token for it sees nothing
    r = site.cma.post(
        "/v3/stacks/delivery_tokens",
        json={"token": {"name": "Stage", "scope": [{"module": "environment", "environments": ["staging"]}]}},
    )
    with site.cda(environment="staging", access_token=r.json()["token"]["token"]) as c:
        r = c.get(path)
        assert r.status_code == 422 and r.json()["error_code"] == 141
        assert c.get("/v3/content_types/article/entries").json() == {"entries": []}


def test_not_found_shapes(site: Site, books: dict[str, Any]) -> None:
    with site.cda() as c:
        r = c.get("/v3/content_types/ghost")
        assert r.status_code == 422
        assert r.json() == {
            "error_message": "The Content Type 'ghost' was not found. Please try again.",
            "error_code": 118,
            "errors": {"uid": ["is not valid."]},
        }
        r = c.get("/v3/content_types/article/entries/blt404")
        assert r.status_code == 422
        assert r.json() == {
            "error_message": "The requested object doesn't exist.",
            "error_code": 141,
            "errors": {"uid": ["is not valid."]},
        }
        # a draft that was never published is not delivered
        draft = site.create("article", {"title": "Draft"})
        assert c.get(f"/v3/content_types/article/entries/{draft['uid']}").status_code == 422


def test_content_types_and_global_fields(site: Site) -> None:
    with site.cda() as c:
        r = c.get("/v3/content_types", params={"include_count": "true"})
        assert r.status_code == 200
        body = r.json()
        assert body["count"] == 3 and {t["uid"] for t in body["content_types"]} == {
            "article",
            "author",
            "book",
        }
        assert "count" not in c.get("/v3/content_types").json()
        one = c.get("/v3/content_types/article", params={"include_global_field_schema": "true"}).json()
        assert one["content_type"]["uid"] == "article"
        assert c.get("/v3/global_fields").json() == {"global_fields": []}
        assert c.get("/v3/global_fields/nope").status_code == 422


def test_queries(site: Site, books: dict[str, Any]) -> None:
    q = json.dumps
    assert titles(site, asc="rating") == ["Article 0", "Article 2", "Article 1"]
    assert titles(site, desc="rating", limit=2) == ["Article 1", "Article 2"]
    assert titles(site, asc="rating", skip=1, limit=1) == ["Article 2"]
    assert titles(site, query=q({"rating": {"$gt": 2}}), asc="rating") == ["Article 2", "Article 1"]
    # the SDK's query() sends numbers as strings, with spaces after separators
    assert titles(site, query='{"rating": "5"}') == ["Article 1"]
    assert titles(site, query=q({"$or": [{"rating": 1}, {"info.n": 2}]}), asc="rating") == [
        "Article 0",
        "Article 2",
    ]
    assert titles(site, query=q({"sections.hero.heading": "h1"})) == ["Article 1"]
    assert titles(site, query=q({"title": {"$regex": "^article [01]$", "$options": "i"}}), asc="rating") == [
        "Article 0",
        "Article 1",
    ]
    assert titles(site, query=q({"info.name": {"$in": ["n0", "n2"]}}), asc="rating") == [
        "Article 0",
        "Article 2",
    ]
    assert titles(site, query=q({"body": {"$exists": False}})) == []
    assert titles(site, tags="y", asc="rating") == ["Article 2", "Article 1"]
    # reference queries: by a field of the referenced entry, and through a dot path
    assert len(titles(site, query=q({"author": {"$in_query": {"title": "Ann"}}}))) == 3
    assert titles(site, query=q({"author": {"$nin_query": {"age": 40}}})) == []
    assert len(titles(site, query=q({"author.age": {"$gte": 40}}))) == 3
    with site.cda() as c:
        r = c.get("/v3/content_types/article/entries", params={"include_count": "true", "limit": 1})
        assert r.json()["count"] == 3 and len(r.json()["entries"]) == 1


@pytest.mark.parametrize(
    "params",
    [
        {"query": "brand"},  # the official SDK's where_in bug
        {"query": '{"nope": 1}'},
        {"query": '{"rating": {"$foo": 1}}'},
        {"query": '{"rating": {"$regex": "("}}'},
        {
            "query": json.dumps(
                {
                    "$and": [
                        {
                            "$and": [
                                {
                                    "$and": [
                                        {
                                            "$and": [
                                                {
                                                    "$and": [
                                                        {
                                                            "$and": [
                                                                {
                                                                    "$and": [
                                                                        {"$and": [{"$and": [{"title": "x"}]}]}
                                                                    ]
                                                                }
                                                            ]
                                                        }
                                                    ]
                                                }
                                            ]
                                        }
                                    ]
                                }
                            ]
                        }
                    ]
                }
            )
        },
        {"query": json.dumps({"title": {"$in": ["x"] * 1001}})},
        {"query": '{"author": {"$in_query": {"nope": 1}}}'},
        {"asc": "author"},
        {"limit": "0"},
        {"limit": "100000"},
        {"skip": "-1"},
        {"include_count": "maybe"},
        {"include[]": "a..b"},
    ],
)
def test_bad_queries_are_4xx_json(site: Site, books: dict[str, Any], params: dict[str, str]) -> None:
    with site.cda() as c:
        r = c.get("/v3/content_types/article/entries", params=params)
    assert 400 <= r.status_code < 500, r.text
    assert "error_message" in r.json()


def test_references_and_projections(site: Site, books: dict[str, Any]) -> None:
    uid = books["articles"][1]["uid"]
    with site.cda() as c:
        plain = c.get(f"/v3/content_types/article/entries/{uid}").json()["entry"]
        assert plain["author"] == [{"uid": books["author"]["uid"], "_content_type_uid": "author"}]
        assert plain["publish_details"]["locale"] == "en-us"
        e = c.get(
            f"/v3/content_types/article/entries/{uid}",
            params=[("include[]", "author"), ("include[]", "author.books"), ("only[author][]", "books")],
        ).json()["entry"]
        author = e["author"][0]
        assert author["_content_type_uid"] == "author" and author["uid"] == books["author"]["uid"]
        assert set(author) == {"uid", "books", "_content_type_uid"}
        assert [b["title"] for b in author["books"]] == ["B1", "B2"]
        only = c.get(
            f"/v3/content_types/article/entries/{uid}",
            params={"only[BASE][]": "title", "include_branch": "true"},
        ).json()["entry"]
        assert set(only) == {"uid", "title", "_branch"}
        ex = c.get(f"/v3/content_types/article/entries/{uid}", params={"except[BASE][]": "body"}).json()[
            "entry"
        ]
        assert "body" not in ex and ex["title"] == "Article 1"
        withct = c.get(
            f"/v3/content_types/article/entries/{uid}",
            params={
                "include_content_type": "true",
                "include_global_field_schema": "true",
                "include_branch": "true",
            },
        ).json()
        assert withct["content_type"]["uid"] == "article" and withct["entry"]["_branch"] == "main"
        # an unpublished reference is left out
        site.unpublish("book", books["books"][0]["uid"])
        e = c.get(
            f"/v3/content_types/article/entries/{uid}",
            params=[("include[]", "author"), ("include[]", "author.books")],
        ).json()["entry"]
        assert [b["title"] for b in e["author"][0]["books"]] == ["B2"]


def test_locales_and_fallback(site: Site, books: dict[str, Any]) -> None:
    a0, a1 = books["articles"][0], books["articles"][1]
    # a0 is localized in fr-fr and published there; a1 published to fr-fr without localizing
    site.update("article", a0["uid"], {"title": "Article zéro"}, locale="fr-fr")
    site.publish("article", a0["uid"], locale="fr-fr")
    site.publish("article", a1["uid"], locale="fr-fr")
    with site.cda() as c:
        r = c.get(f"/v3/content_types/article/entries/{a0['uid']}", params={"locale": "fr-fr"})
        assert r.json()["entry"]["title"] == "Article zéro"
        e = c.get(f"/v3/content_types/article/entries/{a1['uid']}", params={"locale": "fr-fr"}).json()[
            "entry"
        ]
        assert e["locale"] == "en-us" and e["publish_details"]["locale"] == "fr-fr"
        a2 = books["articles"][2]["uid"]
        assert c.get(f"/v3/content_types/article/entries/{a2}", params={"locale": "fr-fr"}).status_code == 422
        e = c.get(
            f"/v3/content_types/article/entries/{a2}", params={"locale": "fr-ca", "include_fallback": "true"}
        ).json()["entry"]
        assert e["publish_details"]["locale"] == "en-us"
    assert sorted(titles(site, locale="fr-fr")) == ["Article 1", "Article zéro"]
    assert sorted(titles(site, locale="fr-ca", include_fallback="true")) == [
        "Article 1",
        "Article 2",
        "Article zéro",
    ]
    assert titles(site, locale="fr-ca") == []


def test_cache_headers_etag_and_freshness(site: Site, books: dict[str, Any]) -> None:
    uid = books["articles"][0]["uid"]
    other = books["author"]["uid"]
    path = f"/v3/content_types/article/entries/{uid}"
    with site.cda() as c:
        first = c.get(path)
        assert first.headers["x-cache"] == "MISS"
        etag = first.headers["etag"]
        assert etag.startswith('"') and first.headers["vary"] == "api_key, access_token, environment, branch"
        tags = first.headers["x-tag"].split(",")
        assert (
            site.api_key in tags
            and f"{site.api_key}.entry.{uid}" in tags
            and f"{site.api_key}.ct.article" in tags
        )
        again = c.get(path)
        assert again.headers["x-cache"] == "HIT" and again.content == first.content
        assert c.get(path, headers={"if-none-match": etag}).status_code == 304
        c.get(f"/v3/content_types/author/entries/{other}")
        assert c.get(f"/v3/content_types/author/entries/{other}").headers["x-cache"] == "HIT"
        # a publish of the article: its answers change at once, the author's stay cached
        site.update("article", uid, {"title": "Fresh"})
        site.publish("article", uid)
        fresh = c.get(path)
        assert fresh.json()["entry"]["title"] == "Fresh" and fresh.headers["etag"] != etag
        assert c.get(f"/v3/content_types/author/entries/{other}").headers["x-cache"] == "HIT"
        # a revoked token stops answering
        tokens = site.cma.get("/v3/stacks/delivery_tokens").json()["tokens"]
        site.cma.delete(f"/v3/stacks/delivery_tokens/{tokens[0]['uid']}")
        assert c.get(path).status_code == 401
    stats = site.cda().get("/healthz").json()["delivery_cache"]
    assert stats["hits"] >= 3 and stats["purges"] >= 1


def test_sorting_pages_through_entries_without_the_value(site: Site) -> None:
    """Sorted pages list entries with the value (by it, then uid), then those without (by uid)."""
    made = []
    for i, rating in enumerate([3, None, 1, None, 2, 3]):
        body: dict[str, Any] = {"title": f"S{i}"}
        if rating is not None:
            body["rating"] = rating
        e = site.create("article", body)
        site.publish("article", e["uid"])
        made.append((rating, e["uid"], e["title"]))
    valued = sorted((m for m in made if m[0] is not None), key=lambda m: (m[0], m[1]))
    missing = sorted((m for m in made if m[0] is None), key=lambda m: m[1])
    asc = [m[2] for m in valued + missing]
    desc_valued = sorted(valued, key=lambda m: m[1])
    desc_valued.sort(key=lambda m: m[0], reverse=True)
    desc = [m[2] for m in desc_valued + missing]
    for size in (1, 2, 3, 4, 6, 10):
        got_asc: list[str] = []
        got_desc: list[str] = []
        for skip in range(0, 7, size):
            got_asc += titles(site, asc="rating", skip=skip, limit=size)
            got_desc += titles(site, desc="rating", skip=skip, limit=size)
        assert got_asc == asc, size
        assert got_desc == desc, size


def test_included_references_with_base_projections(site: Site, books: dict[str, Any]) -> None:
    uid = books["articles"][1]["uid"]
    params = [("include[]", "author"), ("except[BASE][]", "body"), ("include_branch", "true")]
    with site.cda() as c:
        e = c.get(f"/v3/content_types/article/entries/{uid}", params=params).json()["entry"]
        assert "body" not in e and e["_branch"] == "main"
        assert e["author"][0]["title"] == "Ann" and e["author"][0]["_content_type_uid"] == "author"
        listed = c.get(
            "/v3/content_types/article/entries", params=[("include[]", "author"), ("only[BASE][]", "author")]
        )
        assert all(
            set(x) == {"uid", "author"} and x["author"][0]["age"] == 40 for x in listed.json()["entries"]
        )
