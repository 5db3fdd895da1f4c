"""Stackyard's own management SDK and the `stackyard asset` / `folder` commands, end to end."""

from __future__ import annotations

import hashlib
from pathlib import Path

import httpx
import pytest

from stackyard.client.management import Client
from stackyard.client.management._files import STREAM_BYTES
from tests.cli.conftest import Run
from tests.conftest import Live, User


def test_sdk_uploads_large_files_streamed_and_manages_folders(
    live: Live, owner: User, api_key: str, tmp_path: Path
) -> None:
    big = tmp_path / "big.bin"
    big.write_bytes(b"\x00\x01" * (STREAM_BYTES // 2 + 10_000))  # past the streaming threshold
    with Client(base_url=live.url, authtoken=owner.authtoken, max_retries=0) as client:
        stack = client.stack(api_key)
        folder = stack.assets().create_folder({"asset": {"name": "Data"}}).json()["asset"]
        asset = (
            stack.assets().upload(str(big), title="Big", parent_uid=folder["uid"], tags=["x"]).json()["asset"]
        )
        assert asset["file_size"] == str(big.stat().st_size) and asset["parent_uid"] == folder["uid"]
        assert asset["title"] == "Big" and asset["tags"] == ["x"]
        assert (
            hashlib.sha256(stack.assets(asset["uid"]).download().content).digest()
            == hashlib.sha256(big.read_bytes()).digest()
        )
        listed = stack.assets().specific_folder(folder["uid"]).json()["assets"]
        assert [a["uid"] for a in listed] == [asset["uid"]]
        assert stack.assets().folder(folder["uid"]).json()["asset"]["name"] == "Data"
        moved = stack.assets().update_or_move(folder["uid"], {"asset": {"name": "Moved"}}).json()["asset"]
        assert moved["name"] == "Moved"
        small = tmp_path / "s.txt"
        small.write_text("v2")
        assert stack.assets(asset["uid"]).replace(str(small)).json()["asset"]["_version"] == 2
        assert [v["_version"] for v in stack.assets(asset["uid"]).version().json()["versions"]] == [2, 1]
        stack.assets().delete_folder(folder["uid"])
        assert stack.assets().find().json()["assets"] == []


@pytest.fixture
def logged_in(cli: Run, live: Live, owner: User, api_key: str, monkeypatch: pytest.MonkeyPatch) -> Run:
    assert cli("login", "--url", live.url, "--email", owner.email, "--password", owner.password).code == 0
    monkeypatch.setenv("STACKYARD_API_KEY", api_key)
    return cli


def test_cli_uploads_a_directory_mirroring_its_folders(
    logged_in: Run, cma: httpx.Client, tmp_path: Path
) -> None:
    run = logged_in
    site = tmp_path / "site"
    (site / "img" / "icons").mkdir(parents=True)
    (site / "index.txt").write_text("home")
    (site / "img" / "a.txt").write_text("a")
    (site / "img" / "icons" / "b.txt").write_text("b")
    r = run("asset", "upload", str(site), "-j")
    assert r.code == 0, r.err
    uploaded = {a["filename"]: a for a in r.json()}
    assert set(uploaded) == {"index.txt", "a.txt", "b.txt"}
    folders = {f["name"]: f for f in run("folder", "list", "-j").json()}
    assert set(folders) == {"site", "img", "icons"}
    assert folders["img"]["parent_uid"] == folders["site"]["uid"]
    assert folders["icons"]["parent_uid"] == folders["img"]["uid"]
    assert uploaded["b.txt"]["parent_uid"] == folders["icons"]["uid"]
    # a second upload reuses the folders
    assert run("asset", "upload", str(site / "img"), "--folder", folders["site"]["uid"], "-j").code == 0
    assert len(run("folder", "list", "-j").json()) == 3
    assert len(run("asset", "list", "--folder", folders["icons"]["uid"], "-j").json()) == 2
    # download, rename, versions, delete
    out = tmp_path / "got.txt"
    r = run("asset", "download", uploaded["index.txt"]["uid"], "-o", str(out))
    assert r.code == 0, r.err
    assert out.read_text() == "home"
    assert (
        run("asset", "update", uploaded["index.txt"]["uid"], "--title", "Home", "-j").json()["title"]
        == "Home"
    )
    assert len(run("asset", "versions", uploaded["index.txt"]["uid"], "-j").json()) == 2
    assert run("folder", "update", folders["img"]["uid"], "--name", "images", "-j").json()["name"] == "images"
    assert run("folder", "delete", folders["site"]["uid"]).code == 0
    assert run("asset", "list", "-j").json() == []
    assert run("asset", "upload", str(tmp_path / "missing")).code != 0
