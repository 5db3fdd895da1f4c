"""`stackyard delivery query` and `stackyard delivery sync DIR` against a live server."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.cli.conftest import Run
from tests.content.delivery.conftest import Site


def creds(site: Site) -> list[str]:
    return [
        "--url",
        site.live.url,
        "--api-key",
        site.api_key,
        "--token",
        site.token,
        "--environment",
        "production",
    ]


def test_query(site: Site, books: dict[str, Any], cli: Run) -> None:
    r = cli(
        "delivery",
        "query",
        "article",
        "--query",
        '{"rating": {"$gt": 2}}',
        "--desc",
        "rating",
        "-j",
        *creds(site),
    )
    assert r.code == 0, r.err
    assert [e["title"] for e in r.json()] == ["Article 1", "Article 2"]
    r = cli(
        "delivery",
        "query",
        "article",
        "--limit",
        "1",
        "--asc",
        "rating",
        "--include",
        "author",
        "-j",
        *creds(site),
    )
    assert [e["author"][0]["title"] for e in r.json()] == ["Ann"]
    r = cli("delivery", "query", "article", "--query", "{bad", *creds(site))
    assert r.code != 0
    r = cli("delivery", "query", "article", "--query", '{"nope": 1}', *creds(site))
    assert r.code == 1 and "400" in r.err
    assert cli("delivery", "query", "article", "--url", site.live.url).code != 0


def test_sync_into_a_directory_incrementally(
    site: Site, books: dict[str, Any], cli: Run, tmp_path: Path
) -> None:
    out = tmp_path / "mirror"
    r = cli("delivery", "sync", str(out), *creds(site))
    assert r.code == 0, r.err
    assert "6 written" in r.out
    files = sorted(p.relative_to(out).as_posix() for p in out.rglob("*.json"))
    assert len(files) == 6 and all(f.endswith(".en-us.json") for f in files)
    art = books["articles"][0]
    path = out / "article" / f"{art['uid']}.en-us.json"
    assert json.loads(path.read_text())["title"] == "Article 0"
    # later runs fetch only the changes
    site.update("article", art["uid"], {"title": "Renamed"})
    site.publish("article", art["uid"])
    site.unpublish("book", books["books"][0]["uid"])
    r = cli("delivery", "sync", str(out), *creds(site))
    assert r.code == 0 and "1 written, 1 deleted" in r.out, r.out
    assert json.loads(path.read_text())["title"] == "Renamed"
    assert not (out / "book" / f"{books['books'][0]['uid']}.en-us.json").exists()
    r = cli("delivery", "sync", str(out), *creds(site))
    assert "0 written, 0 deleted" in r.out
