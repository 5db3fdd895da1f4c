"""Publishing assets (now, scheduled, in bulk) and delivering them over the CDA with a delivery
token: only published versions are served, in the environments the token may read."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

import httpx

from stackyard.content.assets.storage import open_storage
from stackyard.core.job_runner import JobRunner
from tests.conftest import Live, wait_for


def _setup(cma: httpx.Client) -> str:
    for env in ("production", "staging"):
        assert cma.post("/v3/environments", json={"environment": {"name": env}}).status_code == 201
    token = {
        "token": {
            "name": "Site",
            "scope": [{"module": "environment", "environments": ["production"], "acl": {"read": True}}],
        }
    }
    r = cma.post("/v3/stacks/delivery_tokens", json=token)
    assert r.status_code == 201, r.text
    return str(r.json()["token"]["token"])


def _upload(cma: httpx.Client, name: str, data: bytes) -> dict:
    r = cma.post("/v3/assets", files={"asset[upload]": (name, data, "text/plain")})
    assert r.status_code == 201, r.text
    return dict(r.json()["asset"])


def test_published_versions_are_delivered_to_the_token_environments(
    live: Live, cma: httpx.Client, api_key: str
) -> None:
    token = _setup(cma)
    asset = _upload(cma, "a.txt", b"version one")
    uid = asset["uid"]
    cda = live.client(api_key=api_key, access_token=token)
    listed = cda.get("/v3/assets", params={"environment": "production"})
    assert listed.status_code == 200 and listed.json()["assets"] == []
    assert cda.get(f"/v3/assets/{uid}", params={"environment": "production"}).status_code == 404

    body = {"asset": {"environments": ["production", "staging"], "locales": ["en-us"]}}
    r = cma.post(f"/v3/assets/{uid}/publish", json=body)
    assert r.status_code == 200 and r.json()["notice"] == "Asset sent for publishing.", r.text
    cma.put(f"/v3/assets/{uid}", json={"asset": {"title": "Draft title"}})  # version 2, not published

    got = cda.get(f"/v3/assets/{uid}", params={"environment": "production"})
    assert got.status_code == 200, got.text
    doc = got.json()["asset"]
    assert doc["_version"] == 1 and doc["title"] == "a.txt" and doc["file_size"] == "11"
    assert doc["publish_details"]["locale"] == "en-us" and isinstance(doc["publish_details"], dict)
    assert doc["url"].startswith(live.url + f"/v3/assets/{api_key}/{uid}/")
    assert httpx.get(doc["url"]).content == b"version one"
    listed = cda.get("/v3/assets", params={"environment": "production", "include_count": "true"}).json()
    assert listed["count"] == 1 and listed["assets"][0]["uid"] == uid
    # the token does not cover staging, and names no other stack
    assert cda.get("/v3/assets", params={"environment": "staging"}).status_code == 422
    other = live.client(api_key="blt0000000000000000", access_token=token)
    assert other.get("/v3/assets", params={"environment": "production"}).status_code == 412
    # the CMA shows where it is published
    details = cma.get(f"/v3/assets/{uid}").json()["asset"]["publish_details"]
    assert sorted(d["version"] for d in details) == [1, 1]

    # publishing version 2 replaces the snapshot; unpublishing withdraws it
    cma.post(f"/v3/assets/{uid}/publish", json={**body, "version": 2})
    assert (
        cda.get(f"/v3/assets/{uid}", params={"environment": "production"}).json()["asset"]["title"]
        == "Draft title"
    )
    cma.post(f"/v3/assets/{uid}/unpublish", json=body)
    assert cda.get(f"/v3/assets/{uid}", params={"environment": "production"}).status_code == 404
    with live.db.read() as tx:
        types = [r["type"] for r in tx.all("SELECT type FROM events WHERE object_uid = ? ORDER BY seq", uid)]
    assert types.count("asset.publish") == 4 and types.count("asset.unpublish") == 2

    # deleting a published asset unpublishes it
    cma.post(f"/v3/assets/{uid}/publish", json=body)
    cma.delete(f"/v3/assets/{uid}")
    with live.db.read() as tx:
        assert tx.scalar("SELECT COUNT(*) FROM published WHERE uid = ?", uid) == 0
    cda.close()
    other.close()


def test_scheduled_and_bulk_asset_publishing(live: Live, cma: httpx.Client, api_key: str) -> None:
    _setup(cma)
    first = _upload(cma, "a.txt", b"a")
    second = _upload(cma, "b.txt", b"b")
    soon = (datetime.now(UTC) + timedelta(seconds=1)).isoformat().replace("+00:00", "Z")
    body = {"asset": {"environments": ["production"], "locales": ["en-us"]}, "scheduled_at": soon}
    assert cma.post(f"/v3/assets/{first['uid']}/publish", json=body).status_code == 200
    queue = cma.get("/v3/publish-queue").json()["queue"]
    assert queue[0]["type"] == "asset" and queue[0]["asset"]["uid"] == first["uid"]
    assert queue[0]["publish_details"]["status"] != "success" and queue[0]["scheduled_at"]

    def published() -> int:
        with live.db.read() as tx:
            return int(
                tx.scalar("SELECT COUNT(*) FROM published WHERE api_key = ? AND kind = 'asset'", api_key)
            )

    assert published() == 0
    bulk = {"assets": [{"uid": second["uid"]}], "environments": ["production"], "locales": ["en-us"]}
    r = cma.post("/v3/bulk/publish", json=bulk)
    assert r.status_code in (200, 201), r.text
    with JobRunner.from_settings(live.db, live.settings):
        wait_for(lambda: published() == 2, what="the scheduled and the bulk publish")
        # a bulk delete removes the asset, its snapshots and (once nothing names it) its file
        assert cma.post("/v3/bulk/delete", json={"assets": [{"uid": second["uid"]}]}).status_code in (
            200,
            201,
        )
        wait_for(lambda: cma.get(f"/v3/assets/{second['uid']}").status_code == 404, what="the bulk delete")
    assert published() == 1
    assert not open_storage(live.settings).exists(hashlib.sha256(b"b").hexdigest())


def test_a_release_deploys_its_assets(live: Live, cma: httpx.Client, api_key: str) -> None:
    _setup(cma)
    asset = _upload(cma, "r.txt", b"released")
    rel = cma.post("/v3/releases", json={"release": {"name": "Launch"}}).json()["release"]["uid"]
    item = {
        "uid": asset["uid"],
        "version": 1,
        "content_type_uid": "built_io_upload",
        "action": "publish",
        "locale": "en-us",
    }
    assert cma.post(f"/v3/releases/{rel}/item", json={"item": item}).status_code in (200, 201)

    def published() -> int:
        with live.db.read() as tx:
            return int(
                tx.scalar("SELECT COUNT(*) FROM published WHERE api_key = ? AND kind = 'asset'", api_key)
            )

    with JobRunner.from_settings(live.db, live.settings):
        r = cma.post(f"/v3/releases/{rel}/deploy", json={"release": {"environments": ["production"]}})
        assert r.status_code == 200, r.text
        wait_for(lambda: published() == 1, what="the release deployment")


def test_sync_carries_published_assets_as_sys_assets(live: Live, cma: httpx.Client, api_key: str) -> None:
    token = _setup(cma)
    asset = _upload(cma, "s.txt", b"synced")
    body = {"asset": {"environments": ["production"], "locales": ["en-us"]}}
    assert cma.post(f"/v3/assets/{asset['uid']}/publish", json=body).status_code == 200
    with live.client(api_key=api_key, access_token=token) as cda:
        r = cda.get("/v3/stacks/sync", params={"init": "true", "environment": "production"})
    assert r.status_code == 200, r.text
    items = [i for i in r.json()["items"] if i["content_type_uid"] == "sys_assets"]
    assert [(i["type"], i["data"]["uid"]) for i in items] == [("asset_published", asset["uid"])]
    assert items[0]["data"]["file_size"] == "6"
