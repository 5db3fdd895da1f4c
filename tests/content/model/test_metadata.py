"""Metadata over HTTP: entry and asset metadata owned by an extension, validation, publish."""

from __future__ import annotations

from typing import Any

from tests.conftest import Live
from tests.content.model.test_content_types import ct
from tests.content.model.test_extensions import FIELD


def add_entry(cma, ct_uid: str, title: str = "Hello") -> str:
    """An entry made through the entries API; answers its uid."""
    r = cma.post(f"/v3/content_types/{ct_uid}/entries", json={"entry": {"title": title}})
    assert r.status_code == 201, r.text
    return str(r.json()["entry"]["uid"])


def setup(live: Live, cma, api_key: str) -> dict[str, Any]:
    assert cma.post("/v3/content_types", json=ct("blog")).status_code == 201
    entry_uid = add_entry(cma, "blog")
    ext = cma.post("/v3/extensions", json={"extension": FIELD}).json()["extension"]
    return {
        "entity_uid": entry_uid,
        "type": "entry",
        "_content_type_uid": "blog",
        "extension_uid": ext["uid"],
        "locale": "en-us",
        "presets": [{"uid": "p1", "name": "Preset", "options": {}}],
    }


def test_metadata_lifecycle(live: Live, cma, api_key) -> None:
    body = setup(live, cma, api_key)
    r = cma.post("/v3/metadata", json={"metadata": body})
    assert r.status_code == 201, r.text
    assert r.json()["notice"] == "Metadata created successfully."
    meta = r.json()["metadata"]
    assert meta["entity_uid"] == body["entity_uid"] and meta["_content_type_uid"] == "blog"
    assert (meta["scope"], meta["deleted_at"], meta["_version"], meta["api_key"]) == (
        "local",
        False,
        1,
        api_key,
    )
    assert meta["presets"] == body["presets"]
    # one metadata per entity, extension and locale
    r = cma.post("/v3/metadata", json={"metadata": body})
    assert r.status_code == 422 and "entity_uid" in r.json()["errors"]
    # update, fetch, list: the envelope is `metadata` both ways
    r = cma.put(f"/v3/metadata/{meta['uid']}", json={"metadata": {"presets": []}})
    assert r.json()["notice"] == "Metadata updated successfully." and r.json()["metadata"]["_version"] == 2
    assert cma.get(f"/v3/metadata/{meta['uid']}").json()["metadata"]["presets"] == []
    assert [m["uid"] for m in cma.get("/v3/metadata").json()["metadata"]] == [meta["uid"]]
    assert cma.delete(f"/v3/metadata/{meta['uid']}").json() == {"notice": "Metadata deleted successfully."}
    assert cma.get(f"/v3/metadata/{meta['uid']}").status_code == 422


def test_metadata_validation(live: Live, cma, api_key) -> None:
    body = setup(live, cma, api_key)
    bad = {**body, "entity_uid": "bltnope", "extension_uid": "bltnone", "locale": "xx-yy", "type": "entry"}
    r = cma.post("/v3/metadata", json={"metadata": bad})
    assert r.status_code == 422
    assert r.json()["errors"] == {
        "entity_uid": ["is not an entry of content type 'blog'."],
        "extension_uid": ["is not an extension of this stack."],
        "locale": ["is not a locale of this stack."],
    }
    r = cma.post("/v3/metadata", json={"metadata": {**body, "type": "page"}})
    assert r.status_code == 422 and r.json()["errors"] == {"type": ["must be entry or asset."]}
    # asset metadata needs no content type
    asset = {"entity_uid": "bltasset", "type": "asset", "extension_uid": body["extension_uid"]}
    r = cma.post("/v3/metadata", json={"metadata": asset})
    assert r.status_code == 201 and r.json()["metadata"]["_content_type_uid"] is None


def test_metadata_publish(live: Live, cma, api_key) -> None:
    meta = cma.post("/v3/metadata", json={"metadata": setup(live, cma, api_key)}).json()["metadata"]
    assert cma.post("/v3/environments", json={"environment": {"name": "production"}}).status_code == 201
    target = {"metadata": {"environments": ["production"], "locales": ["en-us"]}}
    r = cma.post(f"/v3/metadata/{meta['uid']}/publish", json=target)
    assert r.status_code == 200 and r.json() == {"notice": "Metadata sent for publishing."}
    r = cma.post(f"/v3/metadata/{meta['uid']}/unpublish", json=target)
    assert r.status_code == 200
    r = cma.post(
        f"/v3/metadata/{meta['uid']}/publish", json={"metadata": {"environments": ["nowhere"], "locales": []}}
    )
    assert r.status_code == 422 and set(r.json()["errors"]) == {"environments", "locales"}
    with live.db.read() as tx:
        types = [e["type"] for e in tx.all("SELECT type FROM events WHERE api_key = ? ORDER BY seq", api_key)]
    assert types[-2:] == ["metadata.publish", "metadata.unpublish"]


def test_wrong_types_are_client_errors(live: Live, cma, api_key) -> None:
    body = setup(live, cma, api_key)
    for key in ("entity_uid", "type", "_content_type_uid", "extension_uid", "locale", "presets"):
        for value in (1, [], {"a": 1}, [1]):
            if key == "presets" and value == []:
                continue  # no presets
            r = cma.post("/v3/metadata", json={"metadata": {**body, key: value}})
            assert r.status_code == 422, (key, value, r.text)
    assert cma.get("/v3/metadata").json()["metadata"] == []
