"""The demo step for assets: generated images stored, used by the demo authors and first article,
and published to every environment."""

from __future__ import annotations

from typing import Any

import httpx
import pyvips

from stackyard.access.caller import Caller
from stackyard.access.resolve import stack_access
from stackyard.content.assets import storage
from stackyard.content.demo_assets import demo_assets, demo_publish_assets
from stackyard.content.demo_entries import demo_entries
from stackyard.content.demo_model import demo_content_model
from tests.conftest import Live


def test_demo_images_are_stored_used_and_published(
    live: Live, cma: httpx.Client, owner: Any, api_key: str
) -> None:
    for env in ("development", "production"):
        assert cma.post("/v3/environments", json={"environment": {"name": env}}).status_code == 201
    storage.configure(live.db, live.settings)
    caller = Caller(kind="user", user_uid=owner.uid, request_id="test")
    for _ in range(2):  # a second run changes nothing
        with live.db.write() as tx:
            access = stack_access(tx, caller, api_key)
            demo_content_model(tx, access)
            demo_entries(tx, access)
            demo_assets(tx, access)
            demo_publish_assets(tx, access)
    images = cma.get("/v3/assets/images").json()["assets"]
    assert sorted(a["filename"] for a in images) == ["ada.png", "banner.jpg", "grace.png"]
    banner = next(a for a in images if a["filename"] == "banner.jpg")
    assert banner["dimension"] == {"width": 1600, "height": 900}
    assert len(banner["publish_details"]) == 2
    thumb = httpx.get(banner["url"], params={"width": 320, "format": "webp"})
    assert thumb.status_code == 200 and pyvips.Image.new_from_buffer(thumb.content, "").width == 320
    authors = cma.get("/v3/content_types/author/entries").json()["entries"]
    assert {a["photo"] for a in authors} == {a["uid"] for a in images if a["filename"] != "banner.jpg"}
    refs = cma.get(f"/v3/assets/{banner['uid']}/references").json()["references"]
    assert [r["content_type_uid"] for r in refs] == ["article"]
