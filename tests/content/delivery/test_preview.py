"""Live preview (catalogue §3.6) on both engines: with a delivery token's preview token or a
management token, an entry fetch carrying `live_preview` serves the latest draft; the official SDK
(over HTTPS) and ours see the draft through `live_preview_query`; previews never enter the response
cache; a wrong or missing credential is a clear error."""

from __future__ import annotations

import asyncio
from typing import Any

import contentstack

import stackyard.client.delivery as ours
from stackyard.errors import Unauthorized
from tests.content.delivery.conftest import E, Site

LP = {"live_preview": "hash-from-the-preview-panel"}


def preview_token(site: Site) -> str:
    uid = site.cma.get("/v3/stacks/delivery_tokens").json()["tokens"][0]["uid"]
    r = site.cma.post(f"/v3/stacks/delivery_tokens/{uid}/preview_token")
    assert r.status_code == 201, r.text
    assert r.json()["notice"] == "Preview token generated successfully."
    return str(r.json()["token"]["preview_token"])


def management_token(site: Site) -> str:
    body = {"token": {"name": "Preview", "scope": [{"module": "entry", "acl": {"read": True}}]}}
    r = site.cma.post("/v3/stacks/management_tokens", json=body)
    assert r.status_code == 201, r.text
    return str(r.json()["token"]["token"])


def drafted(site: Site, books: dict[str, Any]) -> str:
    """Article 0, published as 'Article 0', with a newer unpublished draft 'Draft title'."""
    uid = str(books["articles"][0]["uid"])
    site.update("article", uid, {"title": "Draft title", "rating": 9})
    return uid


def test_preview_token_serves_the_draft_uncached(site: Site, books: dict[str, Any]) -> None:
    uid = drafted(site, books)
    token = preview_token(site)
    path = E.format("article") + "/" + uid
    with site.cda() as cda:
        # the published copy, cached as usual
        for _ in range(2):
            r = cda.get(path, params={"environment": "production"})
            assert r.json()["entry"]["title"] == "Article 0"
        assert r.headers["x-cache"] == "HIT" and "max-age" in r.headers["cache-control"]
        # the draft, each time built afresh, never stored, no public caching
        for _ in range(2):
            r = cda.get(path, params=LP, headers={"preview_token": token})
            assert r.status_code == 200, r.text
            entry = r.json()["entry"]
            assert entry["title"] == "Draft title" and entry["rating"] == 9 and entry["_version"] == 2
            assert r.headers["cache-control"] == "no-store" and r.headers["x-cache"] == "MISS"
            assert "x-tag" not in r.headers
        assert entry["publish_details"]["environment"] == site.environments["production"]
        # a new draft shows at once; the published answer is still the published one
        site.update("article", uid, {"title": "Second draft"})
        r = cda.get(path, params=LP, headers={"preview_token": token})
        assert r.json()["entry"]["title"] == "Second draft"
        assert cda.get(path, params={"environment": "production"}).json()["entry"]["title"] == "Article 0"
        # references included are drafts too
        author = books["author"]["uid"]
        site.update("author", author, {"title": "Ann (draft)"})
        r = cda.get(path, params={**LP, "include[]": "author"}, headers={"preview_token": token})
        assert r.json()["entry"]["author"][0]["title"] == "Ann (draft)"
        # an entry never published has a draft to preview too
        fresh = site.create("article", {"title": "Unpublished"})
        r = cda.get(E.format("article") + "/" + fresh["uid"], params=LP, headers={"preview_token": token})
        assert r.json()["entry"]["title"] == "Unpublished" and "publish_details" not in r.json()["entry"]


def test_wrong_missing_or_replaced_preview_credentials_are_refused(site: Site, books: dict[str, Any]) -> None:
    uid = drafted(site, books)
    path = E.format("article") + "/" + uid
    old = preview_token(site)
    new = preview_token(site)  # regenerated: the old one stops working
    with site.cda() as cda:
        r = cda.get(path, params=LP)
        assert r.status_code == 401 and r.json()["errors"] == {"preview_token": ["is required."]}
        r = cda.get(path, params=LP, headers={"preview_token": old})
        assert r.status_code == 401 and r.json()["error_message"] == "The preview token is not valid."
        assert cda.get(path, params=LP, headers={"preview_token": new}).status_code == 200
        r = cda.get(path, params=LP, headers={"preview_token": new, "environment": "staging"})
        assert r.status_code == 422 and r.json()["errors"] == {"environment": ["is not valid."]}
        r = cda.get(path, params=LP, headers={"preview_token": new, "api_key": "blt_nope"})
        assert r.status_code == 412 and r.json()["error_code"] == 109
        r = cda.get(path, params=LP, headers={"authorization": "cs_not_a_token"})
        assert r.status_code == 401
    token_uid = site.cma.get("/v3/stacks/delivery_tokens").json()["tokens"][0]["uid"]
    r = site.cma.delete(f"/v3/stacks/delivery_tokens/{token_uid}/preview_token")
    assert r.status_code == 200 and r.json()["notice"] == "Preview token deleted successfully."
    assert site.cma.delete(f"/v3/stacks/delivery_tokens/{token_uid}/preview_token").status_code == 422
    with site.cda() as cda:
        assert cda.get(path, params=LP, headers={"preview_token": new}).status_code == 401


def test_management_token_release_and_timestamp(site: Site, books: dict[str, Any]) -> None:
    uid = drafted(site, books)
    path = E.format("article") + "/" + uid
    manager = management_token(site)
    with site.cda() as cda:
        r = cda.get(path, params=LP, headers={"authorization": manager})
        assert r.status_code == 200 and r.json()["entry"]["title"] == "Draft title"
        # the official SDK keeps `authorization` on its ordinary calls: the access token decides
        r = cda.get(path, headers={"authorization": manager})
        assert r.status_code == 200 and r.json()["entry"]["title"] == "Article 0"
        # preview_timestamp: the last version saved by then (version 1, before the draft)
        v1_at = site.cma.get(E.format("article") + f"/{uid}/versions").json()["versions"]
        first = min(v1_at, key=lambda v: v["_version"])["updated_at"]
        r = cda.get(path, params=LP, headers={"authorization": manager, "preview_timestamp": first})
        assert r.json()["entry"]["title"] == "Article 0" and r.json()["entry"]["_version"] == 1
        r = cda.get(path, params=LP, headers={"authorization": manager, "preview_timestamp": "yesterday"})
        assert r.status_code == 422 and "preview_timestamp" in r.json()["errors"]
        # release_id: the version the release deploys
        rel = site.cma.post("/v3/releases", json={"release": {"name": "Launch"}}).json()["release"]["uid"]
        item = {
            "uid": uid,
            "version": 1,
            "content_type_uid": "article",
            "locale": "en-us",
            "action": "publish",
        }
        assert site.cma.post(f"/v3/releases/{rel}/item", json={"item": item}).status_code in (200, 201)
        r = cda.get(path, params=LP, headers={"authorization": manager, "release_id": rel})
        assert r.json()["entry"]["_version"] == 1
        r = cda.get(path, params=LP, headers={"authorization": manager, "release_id": "blt_none"})
        assert r.status_code == 422 and r.json()["errors"] == {"release_id": ["is not valid."]}


def test_official_sdk_live_preview(site: Site, books: dict[str, Any], https: str) -> None:
    uid = drafted(site, books)
    token = preview_token(site)
    for credential in ({"preview_token": token}, {"management_token": management_token(site)}):
        s = contentstack.Stack(
            site.api_key,
            site.token,
            "production",
            host=https,
            live_preview={"enable": True, "host": https, **credential},
        )
        s.live_preview_query(live_preview_query={**LP, "content_type_uid": "article", "entry_uid": uid})
        entry = s.content_type("article").entry(uid).fetch()
        assert entry[0]["title"] == "Draft title" and entry[0]["rating"] == 9
    plain = contentstack.Stack(site.api_key, site.token, "production", host=https)
    assert plain.content_type("article").entry(uid).fetch()["entry"]["title"] == "Article 0"


def test_our_sdk_live_preview(site: Site, books: dict[str, Any]) -> None:
    uid = drafted(site, books)
    token = preview_token(site)
    lp = {"enable": True, "preview_token": token}
    s = ours.Stack(site.api_key, site.token, "production", host=site.live.url, live_preview=lp)
    assert s.content_type("article").entry(uid).fetch()["entry"]["title"] == "Article 0"  # no hash yet
    s.live_preview_query(live_preview_query={**LP, "content_type_uid": "article", "entry_uid": uid})
    assert s.content_type("article").entry(uid).fetch()["entry"]["title"] == "Draft title"
    found = s.content_type("article").query().order_by_ascending("title").find()["entries"]
    assert [e["title"] for e in found] == ["Draft title", "Article 1", "Article 2"]  # in its published place
    other = books["articles"][1]["uid"]
    assert s.content_type("article").entry(other).fetch()["entry"]["title"] == "Article 1"  # published
    bad = ours.Stack(
        site.api_key,
        site.token,
        "production",
        host=site.live.url,
        live_preview={"enable": True, "preview_token": "x"},
    )
    bad.live_preview_query(live_preview_query={**LP, "content_type_uid": "article", "entry_uid": uid})
    try:
        bad.content_type("article").entry(uid).fetch()
    except Unauthorized as e:
        assert e.error_code == 105
    else:
        raise AssertionError("a wrong preview token must raise")

    async def run() -> tuple[str, str]:
        async with ours.AsyncStack(
            site.api_key, site.token, "production", host=site.live.url, live_preview=dict(lp)
        ) as a:
            before = (await a.content_type("article").entry(uid).fetch())["entry"]["title"]
            a.live_preview_query(live_preview_query={**LP, "content_type_uid": "article", "entry_uid": uid})
            return before, (await a.content_type("article").entry(uid).fetch())["entry"]["title"]

    assert asyncio.run(run()) == ("Article 0", "Draft title")


def test_preview_token_at_create(site: Site, books: dict[str, Any]) -> None:
    body = {
        "token": {
            "name": "With preview",
            "preview_token": True,
            "scope": [{"module": "environment", "environments": ["production"], "acl": {"read": True}}],
        }
    }
    r = site.cma.post("/v3/stacks/delivery_tokens", json=body)
    assert r.status_code == 201, r.text
    made = r.json()["token"]
    assert made["preview_token"].startswith("cs") and made["preview_token"] != made["token"]
    assert "preview_token" not in site.cma.get(f"/v3/stacks/delivery_tokens/{made['uid']}").json()["token"]
    uid = drafted(site, books)
    with site.cda() as cda:
        r = cda.get(
            E.format("article") + "/" + uid, params=LP, headers={"preview_token": made["preview_token"]}
        )
        assert r.status_code == 200 and r.json()["entry"]["title"] == "Draft title"
