"""The official `contentstack_management` SDK against a live Stackyard: assets and folders, as the
seed's examples call them, on both databases and with local and S3 storage. The SDK returns raw
responses and raises on nothing, so every status is checked; its quirks (catalogue §2.5) are met
as its users meet them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import contentstack_management
import httpx
import pytest
import pyvips

from tests.conftest import Live, User

# The official SDK opens upload files without closing them (its upload()); that leak is the
# oracle's, not ours, so its ResourceWarning is not an error here.
pytestmark = pytest.mark.filterwarnings("ignore:unclosed file:ResourceWarning")

TIMEOUT = 10


def ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, (response.request.method, response.url, response.text)
    return response.json() if response.content else None


def test_assets_and_folders_through_the_official_sdk(
    live: Live, owner: User, api_key: str, cma: httpx.Client, tmp_path: Path
) -> None:
    client = contentstack_management.Client(
        host=live.url.removeprefix("http://"), scheme="http://", authtoken=owner.authtoken, timeout=TIMEOUT
    )
    stack = client.stack(api_key)
    image = tmp_path / "photo.jpg"
    photo = pyvips.Image.black(300, 200).linear([1, 1, 1], [10, 120, 200]).cast("uchar")
    photo.copy(interpretation="srgb").write_to_file(str(image))
    notes = tmp_path / "notes.txt"
    notes.write_text("first draft")

    # upload (the SDK drops Content-Type from its shared headers for good afterwards)
    created = ok(stack.assets().upload(str(image)), 201)
    assert created["notice"] == "Asset created successfully."
    asset = created["asset"]
    uid = asset["uid"]
    assert asset["content_type"] == "image/jpeg" and asset["dimension"] == {"width": 300, "height": 200}
    assert ok(stack.assets(uid).fetch())["asset"]["filename"] == "photo.jpg"
    assert uid in {a["uid"] for a in ok(stack.assets().find())["assets"]}
    assert [a["uid"] for a in ok(stack.assets().specific_asset_type("images"))["assets"]] == [uid]
    assert ok(stack.assets().specific_asset_type("videos"))["assets"] == []
    assert ok(stack.assets().rte())[0]["image"] == asset["url"]

    # update (JSON, whatever Content-Type the shared headers hold), replace, revisions
    updated = ok(stack.assets(uid).update({"asset": {"title": "Sea", "description": "Blue"}}))["asset"]
    assert updated["title"] == "Sea" and updated["_version"] == 2
    replaced = ok(stack.assets(uid).replace(str(notes)))["asset"]
    assert (
        replaced["_version"] == 3 and replaced["content_type"] == "text/plain" and "dimension" not in replaced
    )
    download = stack.assets(uid).download()
    assert download.status_code == 200 and download.content == b"first draft"
    ok(stack.assets(uid).version_naming(1, {"upload": {"_version_name": "original"}}), 201)
    versions = ok(stack.assets(uid).version())["versions"]
    assert [v["_version"] for v in versions] == [3, 2, 1] and versions[2]["_version_name"][
        "title"
    ] == "original"
    assert stack.assets(uid).version_delete(1).status_code == 204
    restored = ok(stack.assets(uid).update_asset_revision({"asset": {"title": "Sea again"}, "version": 1}))[
        "asset"
    ]
    assert (
        restored["_version"] == 4 and restored["filename"] == "photo.jpg" and restored["title"] == "Sea again"
    )
    ok(
        stack.assets(uid).generate(
            {"asset": {"permanent_url": f"https://x/v3/assets/{api_key}/{uid}/sea.jpg"}}
        )
    )
    assert ok(stack.assets(uid).references())["references"] == []

    # publish and unpublish (to an environment made over plain HTTP)
    env = {"environment": {"name": "production", "urls": [{"locale": "en-us", "url": "https://example.com"}]}}
    assert cma.post("/v3/environments", json=env).status_code == 201
    publish = {"asset": {"locales": ["en-us"], "environments": ["production"]}, "version": 4}
    assert ok(stack.assets(uid).publish(publish))["notice"] == "Asset sent for publishing."
    details = ok(stack.assets(uid).fetch())["asset"]["publish_details"]
    assert [(d["locale"], d["version"]) for d in details] == [("en-us", 4)]
    assert ok(stack.assets(uid).unpublish(publish))["notice"] == "Asset sent for unpublishing."
    assert ok(stack.assets(uid).fetch())["asset"]["publish_details"] == []

    # folders: the SDK's create_folder(dict) sends a form body by mistake; a JSON string works
    refused = stack.assets().create_folder({"asset": {"name": "Brand"}})
    assert 400 <= refused.status_code < 500 and "error_message" in refused.json()
    brand = ok(stack.assets().create_folder(json.dumps({"asset": {"name": "Brand"}})), 201)["asset"]
    logos = ok(
        stack.assets().create_folder(json.dumps({"asset": {"name": "Logos", "parent_uid": brand["uid"]}})),
        201,
    )["asset"]
    assert ok(stack.assets().folder(logos["uid"]))["asset"]["path"] == [
        {"uid": brand["uid"], "name": "Brand"},
        {"uid": logos["uid"], "name": "Logos"},
    ]
    renamed = ok(stack.assets().update_or_move(logos["uid"], {"asset": {"name": "Marks"}}))["asset"]
    assert renamed["name"] == "Marks"
    # moving an asset into a folder is an update of its parent_uid (§7)
    ok(stack.assets(uid).update({"asset": {"parent_uid": renamed["uid"]}}))
    assert [a["uid"] for a in ok(stack.assets().specific_folder(renamed["uid"]))["assets"]] == [uid]
    inside = ok(stack.assets().subfolders(brand["uid"]))["assets"]
    assert [a["uid"] for a in inside] == [renamed["uid"]]
    assert [a["uid"] for a in ok(stack.assets().get_subfolders(brand["uid"]))["assets"]] == [renamed["uid"]]
    # folder_by_name sends only the query's keys (`query=is_dir&query=name`): every folder matches
    assert {a["uid"] for a in ok(stack.assets().folder_by_name())["assets"]} == {brand["uid"], renamed["uid"]}
    assert ok(stack.assets().delete_folder(brand["uid"]))["notice"] == "Folder deleted successfully."
    assert stack.assets(uid).fetch().status_code == 404

    # a second asset, deleted on its own
    other = ok(stack.assets().upload(str(image)), 201)["asset"]
    assert ok(stack.assets(other["uid"]).delete())["notice"] == "Asset deleted successfully."
    assert stack.assets(other["uid"]).fetch().status_code == 404
    assert ok(stack.assets().find())["assets"] == []
