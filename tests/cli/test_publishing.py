"""`stackyard entry publish/unpublish`, `bulk`, `release` and `publish-queue` against a live server,
with the server's job runner doing the bulk jobs and deployments that `--wait` follows."""

from __future__ import annotations

import pytest

from stackyard.core.job_runner import JobRunner
from tests.cli.conftest import Run
from tests.cli.test_entries import TITLE
from tests.conftest import Live, User


def published(live: Live, api_key: str) -> set[tuple[str, str]]:
    with live.db.read() as tx:
        rows = tx.all("SELECT uid, locale FROM published WHERE api_key = ?", api_key)
    return {(r["uid"], r["locale"]) for r in rows}


@pytest.fixture
def site(cli: Run, live: Live, owner: User, api_key: str, cma, monkeypatch: pytest.MonkeyPatch) -> Run:
    assert cma.post("/v3/environments", json={"environment": {"name": "production"}}).status_code == 201
    assert (
        cma.post("/v3/locales", json={"locale": {"code": "fr-fr", "fallback_locale": "en-us"}}).status_code
        == 201
    )
    body = {"content_type": {"title": "Blog", "uid": "blog", "schema": [TITLE]}}
    assert cma.post("/v3/content_types", json=body).status_code == 201
    assert cli("login", "--url", live.url, "--email", owner.email, "--password", owner.password).code == 0
    monkeypatch.setenv("STACKYARD_API_KEY", api_key)
    return cli


def test_publishing_from_the_cli(site: Run, live: Live, api_key: str) -> None:
    cli = site
    uids = [cli("entry", "create", "blog", "--title", f"Post {i}", "-j").json()["uid"] for i in range(3)]

    r = cli(
        "entry",
        "publish",
        "blog",
        uids[0],
        "--environment",
        "production",
        "--locale",
        "en-us",
        "--locale",
        "fr-fr",
    )
    assert r.code == 0, r.err
    assert "performed" in r.out
    assert published(live, api_key) == {(uids[0], "en-us"), (uids[0], "fr-fr")}
    r = cli("entry", "unpublish", "blog", uids[0], "--environment", "production", "--locale", "fr-fr")
    assert r.code == 0 and published(live, api_key) == {(uids[0], "en-us")}
    queue = cli("publish-queue", "list", "-j").json()
    assert [q["action"] for q in queue] == ["unpublish", "publish"]
    assert cli("publish-queue", "get", queue[0]["uid"], "-j").json()["uid"] == queue[0]["uid"]

    with JobRunner.from_settings(live.db, live.settings):
        entries = [a for u in uids[1:] for a in ("--entry", f"blog/{u}@en-us")]
        r = cli("bulk", "publish", *entries, "--environment", "production", "--wait", "-j")
        assert r.code == 0, r.err
        job = r.json()
        assert (job["status"], job["succeeded"]) == ("completed", 2)
        assert published(live, api_key) == {(u, "en-us") for u in uids}
        assert cli("bulk", "status", job["job_id"], "-j").json()["items"][0]["status"] == "success"

        rel = cli("release", "create", "Launch", "-j").json()["uid"]
        r = cli("release", "add", rel, f"blog/{uids[0]}", f"blog/{uids[1]}", "--action", "unpublish")
        assert r.code == 0, r.err
        assert len(cli("release", "items", rel, "-j").json()) == 2
        r = cli("release", "deploy", rel, "--environment", "production", "--wait", "-j")
        assert r.code == 0, r.err
        assert r.json()["publish_details"]["status"] == "success"
    assert published(live, api_key) == {(uids[2], "en-us")}

    # a mistake is a clear message and exit code, not a traceback
    r = cli("bulk", "publish", "--entry", "no-slash", "--environment", "production")
    assert r.code != 0 and "CONTENT_TYPE/UID" in r.err
    r = cli("entry", "publish", "blog", uids[0], "--environment", "nowhere")
    assert r.code != 0 and "nowhere" in r.err
