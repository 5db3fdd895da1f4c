"""A custom role's folder rules over the CMA: what they grant on the folders named, the folders
inside them, and the assets in those; nothing outside them."""

from __future__ import annotations

import hashlib

import httpx

from stackyard.content.assets.storage import open_storage
from tests.access.helpers import custom_role, member
from tests.conftest import Live
from tests.content.assets.test_assets import png, upload

PRESS_EDITOR = [
    {
        "module": "folder",
        "folders": ["FOLDER"],
        "acl": {"read": True, "create": True, "sub_acl": {"read": True, "create": True, "update": True}},
    },
    {"module": "locale", "locales": ["en-us"], "acl": {"read": True}},
]


def _folder(cma: httpx.Client, name: str, parent: str | None = None) -> str:
    body = {"asset": {"name": name, **({"parent_uid": parent} if parent else {})}}
    r = cma.post("/v3/assets/folders", json=body)
    assert r.status_code == 201, r.text
    return str(r.json()["asset"]["uid"])


def test_folder_rules_grant_within_the_folders_named_and_nothing_outside(
    live: Live, cma: httpx.Client
) -> None:
    # given a folder Press with 2026 inside it, a folder Private, and an asset in each and at the root
    press = _folder(cma, "Press")
    year = _folder(cma, "2026", press)
    private = _folder(cma, "Private")
    inside = upload(cma, "inside.png", png(8, 8), parent_uid=year)
    hidden = upload(cma, "hidden.png", png(9, 9), parent_uid=private)
    root = upload(cma, "root.png", png(10, 10))
    rules = [{**PRESS_EDITOR[0], "folders": [press]}, PRESS_EDITOR[1]]
    custom_role(cma, "Press editor", rules)
    editor = member(live, cma, "press@example.com", "Press editor")
    api_key = cma.headers["api_key"]
    with live.client(authtoken=editor.authtoken, api_key=api_key) as c:
        # lists show what the rule reaches: the asset at any depth below Press, and those folders
        assert [a["uid"] for a in c.get("/v3/assets").json()["assets"]] == [inside["uid"]]
        listed = {a["uid"] for a in c.get("/v3/assets", params={"include_folders": "true"}).json()["assets"]}
        assert listed == {inside["uid"], press, year}
        # reads: in the folder yes, elsewhere no
        assert c.get(f"/v3/assets/{inside['uid']}").status_code == 200
        assert c.get(f"/v3/assets/{api_key}/{inside['uid']}").status_code == 200
        assert c.get(f"/v3/assets/{hidden['uid']}").status_code == 403
        assert c.get(f"/v3/assets/{root['uid']}").status_code == 403
        assert c.get(f"/v3/assets/folders/{press}").status_code == 200
        assert c.get(f"/v3/assets/folders/{private}").status_code == 403
        # sub_acl: update and create inside; no delete; no moving out of the folder
        r = c.put(f"/v3/assets/{inside['uid']}", json={"asset": {"title": "Renamed"}})
        assert r.status_code == 200 and r.json()["asset"]["title"] == "Renamed"
        assert c.delete(f"/v3/assets/{inside['uid']}").status_code == 403
        assert (
            c.put(f"/v3/assets/{inside['uid']}", json={"asset": {"parent_uid": private}}).status_code == 403
        )
        assert c.put(f"/v3/assets/{hidden['uid']}", json={"asset": {"title": "x"}}).status_code == 403
        made = c.post(
            "/v3/assets",
            files={"asset[upload]": ("new.png", png(6, 6), "image/png")},
            data={"asset[parent_uid]": year},
        )
        assert made.status_code == 201, made.text
        for where in ({"asset[parent_uid]": private}, {}):
            refused = png(7, 7)
            r = c.post("/v3/assets", files={"asset[upload]": ("no.png", refused, "image/png")}, data=where)
            assert r.status_code == 403
            assert not open_storage(live.settings).exists(hashlib.sha256(refused).hexdigest())
        # acl on the folders themselves: create subfolders in them, but no rename
        sub = c.post("/v3/assets/folders", json={"asset": {"name": "Drafts", "parent_uid": press}})
        assert sub.status_code == 201
        assert c.post("/v3/assets/folders", json={"asset": {"name": "Top"}}).status_code == 403
        assert c.put(f"/v3/assets/folders/{press}", json={"asset": {"name": "P"}}).status_code == 403
        assert c.delete(f"/v3/assets/folders/{year}").status_code == 403
