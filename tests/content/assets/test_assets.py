"""Assets over the CMA: upload, fetch, find, update, replace, versions, references, delete, folders,
downloads with safe headers; on both databases (the `db` fixture)."""

from __future__ import annotations

import hashlib
import io
import json
from pathlib import Path
from typing import Any

import httpx
import pyvips

from stackyard.api import asset_first
from stackyard.content.assets.storage import open_storage
from tests.conftest import Live


def png(width: int, height: int, colour: tuple[int, int, int] = (200, 30, 30)) -> bytes:
    image = (pyvips.Image.black(width, height) + list(colour)).cast("uchar").copy(interpretation="srgb")
    return bytes(image.write_to_buffer(".png"))


def upload(
    cma: httpx.Client, name: str, data: bytes, mime: str = "application/octet-stream", **fields: str
) -> dict:
    form = {f"asset[{k}]": v for k, v in fields.items()}
    r = cma.post("/v3/assets", files={"asset[upload]": (name, data, mime)}, data=form)
    assert r.status_code == 201, r.text
    assert r.json()["notice"] == "Asset created successfully."
    return dict(r.json()["asset"])


def test_upload_sniffs_the_type_records_dimensions_and_serves_the_bytes(
    cma: httpx.Client, live: Live
) -> None:
    body = png(64, 48)
    # the client calls it a PDF named ../../etc/passwd: the bytes say PNG, the name stays text
    asset = upload(cma, "../../etc/passwd.pdf", body, "application/pdf", title="Red", tags="a, b")
    assert asset["content_type"] == "image/png"
    assert asset["file_size"] == str(len(body))
    assert asset["dimension"] == {"width": 64, "height": 48}
    assert asset["filename"] == "passwd.pdf" and asset["title"] == "Red" and asset["tags"] == ["a", "b"]
    assert asset["_version"] == 1 and asset["is_dir"] is False and asset["parent_uid"] is None
    # stored by content hash (under the data dir, or in the bucket), never by the client's name
    store = open_storage(live.settings)
    digest = hashlib.sha256(body).hexdigest()
    assert store.exists(digest)
    if not live.settings.asset_storage:
        stored = [p for p in (Path(live.settings.data_dir) / "assets").rglob("*") if p.is_file()]
        assert len(stored) == 1 and stored[0].read_bytes() == body and "passwd" not in str(stored[0])
    with live.client() as anonymous:
        r = anonymous.get(asset["url"].removeprefix(live.url))
    assert r.status_code == 200 and r.content == body
    assert r.headers["content-type"] == "image/png"
    assert r.headers["x-content-type-options"] == "nosniff"
    assert "immutable" in r.headers["cache-control"] and r.headers["etag"]
    assert asset["uid"] in r.headers["x-tag"]
    r = cma.get(f"/v3/assets/{cma.headers['api_key']}/{asset['uid']}")
    assert r.status_code == 200 and r.content == body
    assert cma.get(f"/v3/assets/{asset['uid']}").json()["asset"] == asset


def test_active_content_is_only_ever_a_download(cma: httpx.Client, live: Live) -> None:
    svg = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
    for name, data in (("x.png", svg), ("page.txt", b"<!DOCTYPE html><script>alert(1)</script>")):
        asset = upload(cma, name, data, "image/png")
        assert asset["content_type"] in ("image/svg+xml", "text/html")
        with live.client() as anonymous:
            r = anonymous.get(asset["url"].removeprefix(live.url))
        assert r.status_code == 200
        assert r.headers["content-disposition"].startswith("attachment")
        assert "default-src 'none'" in r.headers["content-security-policy"]
        assert "sandbox" in r.headers["content-security-policy"]
        assert r.headers["x-content-type-options"] == "nosniff"


def test_update_replace_versions_and_restore(cma: httpx.Client, live: Live) -> None:
    asset = upload(cma, "one.txt", b"first")
    uid = asset["uid"]
    r = cma.put(f"/v3/assets/{uid}", json={"asset": {"title": "Renamed", "description": "D", "tags": ["x"]}})
    assert r.status_code == 200, r.text
    assert r.json()["asset"]["title"] == "Renamed" and r.json()["asset"]["_version"] == 2
    r = cma.put(f"/v3/assets/{uid}", files={"asset": ("two.png", png(10, 20), "")})
    assert r.status_code == 200, r.text
    replaced = r.json()["asset"]
    assert replaced["_version"] == 3 and replaced["filename"] == "two.png"
    assert replaced["content_type"] == "image/png" and replaced["title"] == "Renamed"
    # the old URL still names the old file; the new URL the new one
    with live.client() as anonymous:
        assert anonymous.get(asset["url"].removeprefix(live.url)).content == b"first"
        assert anonymous.get(replaced["url"].removeprefix(live.url)).headers["content-type"] == "image/png"
    assert (
        cma.post(f"/v3/assets/{uid}/versions/1/name", json={"upload": {"_version_name": "orig"}}).status_code
        == 201
    )
    versions = cma.get(f"/v3/assets/{uid}/versions").json()["versions"]
    assert [v["_version"] for v in versions] == [3, 2, 1]
    assert versions[2]["_version_name"]["title"] == "orig"
    assert cma.delete(f"/v3/assets/{uid}/versions/1/name").status_code == 204
    assert "_version_name" not in cma.get(f"/v3/assets/{uid}/versions").json()["versions"][2]
    r = cma.put(f"/v3/assets/{uid}", json={"asset": {"title": "Back"}, "version": 1})
    assert r.status_code == 200, r.text
    back = r.json()["asset"]
    assert back["_version"] == 4 and back["filename"] == "one.txt" and back["title"] == "Back"
    r = cma.get(f"/v3/assets/{cma.headers['api_key']}/{uid}")
    assert r.content == b"first"
    assert cma.get(f"/v3/assets/{uid}", params={"version": 3}).json()["asset"]["filename"] == "two.png"


def test_find_filters_and_delete(cma: httpx.Client, live: Live) -> None:
    image = upload(cma, "a.png", png(8, 8))
    text = upload(cma, "b.txt", b"hello", title="Notes")
    folder = cma.post("/v3/assets/folders", json={"asset": {"name": "Docs"}}).json()["asset"]
    inside = upload(cma, "c.txt", b"inside", parent_uid=folder["uid"])
    uids = lambda r: {a["uid"] for a in r.json()["assets"]}  # noqa: E731
    assert uids(cma.get("/v3/assets")) == {image["uid"], text["uid"], inside["uid"]}
    assert uids(cma.get("/v3/assets/images")) == {image["uid"]}
    assert uids(cma.get("/v3/assets", params={"folder": folder["uid"]})) == {inside["uid"]}
    both = cma.get("/v3/assets", params={"include_folders": "True", "include_count": "true"}).json()
    assert folder["uid"] in {a["uid"] for a in both["assets"]} and both["count"] == 4
    assert uids(cma.get("/v3/assets", params={"query": json.dumps({"title": "Notes"})})) == {text["uid"]}
    assert cma.get("/v3/assets", params={"query": "{bad"}).status_code == 400
    assert cma.get("/v3/assets/rt").json()[0]["image"] == image["url"]
    assert cma.delete(f"/v3/assets/{text['uid']}").json()["notice"] == "Asset deleted successfully."
    assert cma.get(f"/v3/assets/{text['uid']}").status_code == 404
    with live.client() as anonymous:
        assert anonymous.get(text["url"].removeprefix(live.url)).status_code == 404


def test_folders_nest_rename_move_and_delete_with_contents(cma: httpx.Client, live: Live) -> None:
    top = cma.post("/v3/assets/folders", json={"asset": {"name": "Top"}}).json()["asset"]
    mid = cma.post("/v3/assets/folders", json={"asset": {"name": "Mid", "parent_uid": top["uid"]}}).json()[
        "asset"
    ]
    low = cma.post("/v3/assets/folders", json={"asset": {"name": "Low", "parent_uid": mid["uid"]}})
    assert low.status_code == 201
    low_f = low.json()["asset"]
    assert low_f["content_type"] == "application/vnd.contenstack.folder" and low_f["is_dir"] is True
    assert [p["name"] for p in low_f["path"]] == ["Top", "Mid", "Low"]
    same = cma.post("/v3/assets/folders", json={"asset": {"name": "Mid", "parent_uid": top["uid"]}})
    assert same.status_code == 422
    r = cma.put(f"/v3/assets/folders/{top['uid']}", json={"asset": {"parent_uid": low_f["uid"]}})
    assert r.status_code == 422  # into itself
    r = cma.put(f"/v3/assets/folders/{low_f['uid']}", json={"asset": {"name": "Moved", "parent_uid": None}})
    assert r.status_code == 200 and r.json()["asset"]["path"] == [{"uid": low_f["uid"], "name": "Moved"}]
    file_in_mid = upload(cma, "m.txt", b"m", parent_uid=mid["uid"])
    found = cma.get("/v3/assets", params={"query": json.dumps({"is_dir": True, "name": "Mid"})}).json()[
        "assets"
    ]
    assert [f["uid"] for f in found] == [mid["uid"]]
    r = cma.delete(f"/v3/assets/folders/{top['uid']}")
    assert r.status_code == 200
    assert cma.get(f"/v3/assets/folders/{mid['uid']}").status_code == 404
    assert cma.get(f"/v3/assets/{file_in_mid['uid']}").status_code == 404
    assert cma.get(f"/v3/assets/folders/{low_f['uid']}").status_code == 200
    # the SDK's form-encoded create_folder body: a clean 4xx in Contentstack's shape
    r = cma.post("/v3/assets/folders", content=b"asset=name", headers={"content-type": "application/json"})
    assert r.status_code == 400 and "error_message" in r.json()


def test_file_fields_must_name_stored_assets_and_references_list_them(cma: httpx.Client) -> None:
    schema = [
        {"uid": "title", "data_type": "text", "display_name": "Title", "mandatory": True, "unique": True},
        {"uid": "cover", "data_type": "file", "display_name": "Cover"},
    ]
    ct = {"content_type": {"uid": "post", "title": "Post", "schema": schema}}
    assert cma.post("/v3/content_types", json=ct).status_code == 201
    r = cma.post(
        "/v3/content_types/post/entries", json={"entry": {"title": "A", "cover": "blt0000000000000000"}}
    )
    assert r.status_code == 422 and "cover" in r.json()["errors"]
    asset = upload(cma, "c.png", png(4, 4))
    r = cma.post("/v3/content_types/post/entries", json={"entry": {"title": "B", "cover": asset["uid"]}})
    assert r.status_code == 201, r.text
    refs = cma.get(f"/v3/assets/{asset['uid']}/references").json()["references"]
    assert refs == [
        {
            "entry_uid": r.json()["entry"]["uid"],
            "content_type_uid": "post",
            "locale": "en-us",
            "content_type_title": "Post",
        }
    ]


def test_upload_limits_and_bad_bodies(live: Live, cma: httpx.Client) -> None:
    r = cma.post("/v3/assets", files={"asset[upload]": ("e.txt", b"", "text/plain")})
    assert r.status_code == 422
    r = cma.post("/v3/assets", content=b"not multipart at all", headers={"content-type": "text/plain"})
    assert r.status_code in (400, 415) and "error_message" in r.json()
    r = cma.post("/v3/assets", data={"asset[title]": "no file"}, files={"x": ("", io.BytesIO(b""), "")})
    assert r.status_code in (400, 422)
    other = cma.get("/v3/assets/bltnotthere0000000")
    assert other.status_code == 404 and other.json()["error_code"] == 145


def test_tenancy_and_permissions(live: Live, cma: httpx.Client, owner: Any) -> None:
    # given an asset in one stack, and a second stack of the same owner
    asset = upload(cma, "mine.png", png(10, 10))
    r = cma.post("/v3/stacks", json={"stack": {"name": "Other", "master_locale": "en-us"}})
    other = r.json()["stack"]["api_key"]
    with live.client(authtoken=owner.authtoken, api_key=other) as c:
        # then the other stack sees nothing of it, by uid or by download path
        assert c.get(f"/v3/assets/{asset['uid']}").status_code == 404
        assert c.get(f"/v3/assets/{other}/{asset['uid']}").status_code == 404
        assert c.get(f"/v3/assets/{cma.headers['api_key']}/{asset['uid']}").status_code == 404
        assert c.get("/v3/assets").json()["assets"] == []
        assert c.delete(f"/v3/assets/{asset['uid']}").status_code == 404
    # a management token that may only read assets cannot upload, and leaves nothing behind
    scope = [{"module": "asset", "acl": {"read": True}}]
    token = cma.post("/v3/stacks/management_tokens", json={"token": {"name": "ro", "scope": scope}}).json()[
        "token"
    ]
    with live.client(authorization=token["token"], api_key=cma.headers["api_key"]) as c:
        assert c.get(f"/v3/assets/{asset['uid']}").status_code == 200
        r = c.post("/v3/assets", files={"asset[upload]": ("new.bin", b"never stored", "")})
        assert r.status_code == 403
        assert c.delete(f"/v3/assets/{asset['uid']}").status_code == 403
    assert not open_storage(live.settings).exists(hashlib.sha256(b"never stored").hexdigest())
    # a transform of an image kept in either storage
    with live.client() as anonymous:
        r = anonymous.get(asset["url"].removeprefix(live.url), params={"width": 5, "format": "webp"})
    assert r.status_code == 200 and r.headers["content-type"] == "image/webp"
    assert pyvips.Image.new_from_buffer(r.content, "").width == 5
    # a source fetched from the object store for it is not kept
    assert not list((Path(live.settings.data_dir) / "tmp").glob("source-*"))


def test_made_images_are_answered_before_routing_until_the_asset_goes(live: Live, cma: httpx.Client) -> None:
    data = png(40, 20)
    asset = upload(cma, "fast.png", data)
    asset_key = hashlib.sha256(data).hexdigest()
    path = asset["url"].removeprefix(live.url)
    with live.client() as anonymous:
        first = anonymous.get(path, params={"width": 10, "format": "png"})
        assert first.status_code == 200
        memory = asset_first.memory(live.db)
        key = (path, "width=10&format=png", "")
        assert memory.get(key) is not None  # the route left its answer for the fast path
        again = anonymous.get(path, params={"width": 10, "format": "png"})
        assert again.content == first.content and again.headers["etag"] == first.headers["etag"]
        assert again.headers["cache-control"] == first.headers["cache-control"]
        assert again.headers["x-request-id"] and again.headers["x-content-type-options"] == "nosniff"
        not_modified = anonymous.get(
            path, params={"width": 10, "format": "png"}, headers={"if-none-match": first.headers["etag"]}
        )
        assert not_modified.status_code == 304
        # credentials take the normal path; a deleted asset stops at once
        derived = Path(live.settings.data_dir) / "derived" / asset_key[:2] / asset_key
        assert derived.is_dir()
        assert cma.delete(f"/v3/assets/{asset['uid']}").status_code == 200
        assert not derived.exists()  # the images made from the file went with it
        gone = anonymous.get(path, params={"width": 10, "format": "png"})
        assert gone.status_code == 404 and gone.json()["error_code"] == 145
        assert memory.get(key) is None


def test_uploads_over_the_size_limit_are_refused_and_leave_nothing(
    serve: Any, owner: Any, api_key: str
) -> None:
    small = serve(max_upload_bytes=4096)
    with small.client(authtoken=owner.authtoken, api_key=api_key) as c:
        r = c.post("/v3/assets", files={"asset[upload]": ("big.bin", b"x" * 10_000, "")})
        assert r.status_code == 413 and "error_message" in r.json()
        assert c.get("/v3/assets").json()["assets"] == []
        assert c.post("/v3/assets", files={"asset[upload]": ("ok.bin", b"x" * 100, "")}).status_code == 201
    assert not open_storage(small.settings).exists(hashlib.sha256(b"x" * 10_000).hexdigest())


def test_a_multipart_body_without_a_boundary_in_its_header_is_read(cma: httpx.Client) -> None:
    # the management SDK can leave "multipart/form-data" without a boundary on later calls (§1.4)
    body = (
        b'--xyz\r\nContent-Disposition: form-data; name="asset[upload]"; filename="n.txt"\r\n'
        b"Content-Type: text/plain\r\n\r\nno boundary in the header\r\n--xyz--\r\n"
    )
    r = cma.post("/v3/assets", content=body, headers={"content-type": "multipart/form-data"})
    assert r.status_code == 201, r.text
    assert r.json()["asset"]["file_size"] == str(len(b"no boundary in the header"))
    # and a JSON update arriving under that same header is still JSON
    uid = r.json()["asset"]["uid"]
    r = cma.put(
        f"/v3/assets/{uid}",
        content=b'{"asset": {"title": "T"}}',
        headers={"content-type": "multipart/form-data"},
    )
    assert r.status_code == 200 and r.json()["asset"]["title"] == "T"
