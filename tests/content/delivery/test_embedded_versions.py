"""`include_embedded_items[]=BASE` and `version=N` on both engines, over HTTP, through our SDK and the
official one: rich text's embedded entries and assets come along when published where the request
reads (and appear once they are published, cache or no cache); published versions are delivered,
drafts never."""

from __future__ import annotations

import asyncio
from typing import Any

import contentstack

import stackyard.client.delivery as ours
from stackyard.errors import NotFound
from tests.content.delivery.conftest import E, Site
from tests.content.model.test_content_types import ct, text

RTE = {"rich_text_type": "advanced"}
PAGE = ct(
    "page",
    {
        "display_name": "Body",
        "uid": "body",
        "data_type": "json",
        "field_metadata": {**RTE, "allow_json_rte": True},
    },
    text("html", field_metadata={**RTE, "allow_rich_text": True}),
    {
        "display_name": "Extra",
        "uid": "extra",
        "data_type": "group",
        "schema": [text("note", field_metadata={**RTE, "allow_rich_text": True})],
    },
)
EMBED = {"include_embedded_items[]": "BASE", "environment": "production"}


def json_ref(kind: str, uid: str, ct_uid: str = "") -> dict[str, Any]:
    attrs = {"type": kind, "display-type": "block", "class-name": f"embedded-{kind}", "locale": "en-us"}
    attrs.update({"entry-uid": uid, "content-type-uid": ct_uid} if kind == "entry" else {"asset-uid": uid})
    return {"type": "reference", "uid": "n" + uid, "attrs": attrs, "children": [{"text": ""}]}


def html_entry(uid: str, ct_uid: str) -> str:
    return (
        f'<div class="embedded-entry block-entry" data-sys-entry-uid="{uid}" data-sys-entry-locale="en-us" '
        f'data-sys-content-type-uid="{ct_uid}" sys-style-type="block" type="entry"></div>'
    )


def asset(site: Site, name: str, publish: bool) -> str:
    r = site.cma.post("/v3/assets", files={"asset[upload]": (name, b"hello " + name.encode(), "text/plain")})
    assert r.status_code == 201, r.text
    uid = str(r.json()["asset"]["uid"])
    if publish:
        body = {"asset": {"environments": ["production"], "locales": ["en-us"]}}
        assert site.cma.post(f"/v3/assets/{uid}/publish", json=body).status_code == 200
    return uid


def test_embedded_items_of_rich_text(site: Site, books: dict[str, Any], https: str) -> None:
    r = site.cma.post("/v3/content_types", json=PAGE)
    assert r.status_code == 201, r.text
    a0, a1 = books["articles"][0]["uid"], books["articles"][1]["uid"]
    hidden = site.create("book", {"title": "Not yet", "pages": 1})  # never published (yet)
    shown_asset, hidden_asset = asset(site, "shown.txt", True), asset(site, "hidden.txt", False)
    page = site.create(
        "page",
        {
            "title": "Home",
            "body": {
                "type": "doc",
                "uid": "d1",
                "attrs": {},
                "children": [
                    {"type": "p", "uid": "p1", "attrs": {}, "children": [json_ref("entry", a0, "article")]},
                    json_ref("asset", shown_asset),
                    json_ref("entry", hidden["uid"], "book"),
                    json_ref("asset", hidden_asset),
                    json_ref("entry", a0, "article"),  # twice: listed once
                ],
            },
            "html": "<p>Read</p>" + html_entry(a1, "article"),
            "extra": {"note": html_entry(hidden["uid"], "book")},
        },
    )
    site.publish("page", page["uid"])
    path = E.format("page") + "/" + page["uid"]
    with site.cda() as cda:
        plain = cda.get(path, params={"environment": "production"}).json()["entry"]
        assert "_embedded_items" not in plain
        got = cda.get(path, params=EMBED).json()["entry"]["_embedded_items"]
        assert [(i["_content_type_uid"], i["uid"]) for i in got["body"]] == [
            ("article", a0),
            ("sys_assets", shown_asset),
        ]
        assert got["body"][0]["title"] == "Article 0" and got["body"][1]["url"].startswith("http")
        assert [i["title"] for i in got["html"]] == ["Article 1"]
        assert got["extra.note"] == []  # the book is not published
        # publishing the embedded book and asset shows them, though the answer above was cached
        assert cda.get(path, params=EMBED).headers["x-cache"] == "HIT"
        site.publish("book", hidden["uid"])
        body = {"asset": {"environments": ["production"], "locales": ["en-us"]}}
        assert site.cma.post(f"/v3/assets/{hidden_asset}/publish", json=body).status_code == 200
        got = cda.get(path, params=EMBED).json()["entry"]["_embedded_items"]
        assert [i["uid"] for i in got["body"]] == [a0, shown_asset, hidden["uid"], hidden_asset]
        assert [i["title"] for i in got["extra.note"]] == ["Not yet"]
        # and unpublishing one takes it out again
        site.unpublish("article", a1)
        assert cda.get(path, params=EMBED).json()["entry"]["_embedded_items"]["html"] == []
        # lists carry them too
        listed = cda.get(E.format("page"), params=EMBED).json()["entries"][0]
        assert [i["uid"] for i in listed["_embedded_items"]["extra.note"]] == [hidden["uid"]]
    # our SDK, sync and async, and the official one
    s = ours.Stack(site.api_key, site.token, "production", host=site.live.url)
    got = (
        s.content_type("page").entry(page["uid"]).include_embedded_items().fetch()["entry"]["_embedded_items"]
    )
    assert len(got["body"]) == 4

    async def run() -> Any:
        async with ours.AsyncStack(site.api_key, site.token, "production", host=site.live.url) as a:
            return await a.content_type("page").query().include_embedded_items().find()

    assert len(asyncio.run(run())["entries"][0]["_embedded_items"]["body"]) == 4
    official = contentstack.Stack(site.api_key, site.token, "production", host=https)
    got = official.content_type("page").entry(page["uid"]).include_embedded_items().fetch()
    assert [i["uid"] for i in got["entry"]["_embedded_items"]["extra.note"]] == [hidden["uid"]]


def test_version_serves_published_versions_only(site: Site, books: dict[str, Any], https: str) -> None:
    uid = books["articles"][0]["uid"]
    path = E.format("article") + "/" + uid
    site.update("article", uid, {"title": "Second"})  # version 2, published below
    site.publish("article", uid)
    site.update("article", uid, {"title": "Third draft"})  # version 3, never published
    with site.cda() as cda:
        assert cda.get(path, params={"environment": "production"}).json()["entry"]["title"] == "Second"
        r = cda.get(path, params={"environment": "production", "version": 1})
        assert r.status_code == 200, r.text
        entry = r.json()["entry"]
        assert entry["title"] == "Article 0" and entry["_version"] == 1
        assert entry["publish_details"]["environment"] == site.environments["production"]
        assert (
            cda.get(path, params={"environment": "production", "version": 2}).json()["entry"]["title"]
            == "Second"
        )
        for version in (3, 99):
            r = cda.get(path, params={"environment": "production", "version": version})
            assert r.status_code == 422 and r.json()["errors"] == {"version": ["is not valid."]}, r.text
        r = cda.get(path, params={"environment": "production", "version": "x"})
        assert r.status_code == 400
    s = ours.Stack(site.api_key, site.token, "production", host=site.live.url)
    assert s.content_type("article").entry(uid).version(1).fetch()["entry"]["title"] == "Article 0"
    try:
        s.content_type("article").entry(uid).version(3).fetch()
    except NotFound as e:
        assert e.errors == {"version": ["is not valid."]}
    else:
        raise AssertionError("a draft version must not be delivered")
    official = contentstack.Stack(site.api_key, site.token, "production", host=https)
    assert official.content_type("article").entry(uid).version(1).fetch()["entry"]["title"] == "Article 0"
    assert official.content_type("article").entry(uid).version(3).fetch()["error_code"] == 141
    # unpublished now: no version of it is delivered
    site.unpublish("article", uid)
    with site.cda() as cda:
        assert cda.get(path, params={"environment": "production", "version": 1}).status_code == 422
