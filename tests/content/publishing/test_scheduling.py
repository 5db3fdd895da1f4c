"""Scheduled publishing: durable jobs that run on time, after downtime, and exactly once across
processes; unscheduling cancels one; a scheduled publish of version N publishes version N."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from stackyard.core.job_runner import JobRunner
from stackyard.store.engine import Database
from tests.conftest import Live, ServeFactory, make_user, wait_for
from tests.content.model.test_content_types import ct, text

BASE = "/v3/content_types/blog/entries"


def at(seconds: float) -> str:
    return (
        (datetime.now(UTC) + timedelta(seconds=seconds))
        .isoformat(timespec="milliseconds")
        .replace("+00:00", "Z")
    )


def setup(cma: httpx.Client) -> str:
    assert cma.post("/v3/environments", json={"environment": {"name": "production"}}).status_code == 201
    assert cma.post("/v3/content_types", json=ct("blog", text("body"))).status_code == 201
    uid = str(cma.post(BASE, json={"entry": {"title": "Post", "body": "v1"}}).json()["entry"]["uid"])
    assert cma.put(f"{BASE}/{uid}", json={"entry": {"body": "v2"}}).status_code == 200
    return uid


def queue(cma: httpx.Client) -> dict[str, dict]:
    return {q["uid"]: q for q in cma.get("/v3/publish-queue", params={"limit": 100}).json()["queue"]}


def published_versions(db: Database, uid: str) -> list[int]:
    with db.read() as tx:
        return [int(r["version"]) for r in tx.all("SELECT version FROM published WHERE uid = ?", uid)]


def test_scheduled_actions_run_on_time_after_downtime_and_can_be_unscheduled(
    live: Live, cma: httpx.Client
) -> None:
    uid = setup(cma)
    target = {"entry": {"environments": ["production"], "locales": ["en-us"]}, "locale": "en-us"}
    # given, while no process runs jobs, one publish of version 1 due in 0.2 s and one to unschedule
    r = cma.post(f"{BASE}/{uid}/publish", json={**target, "version": 1, "scheduled_at": at(0.2)})
    assert r.status_code == 200, r.text
    r = cma.post(f"{BASE}/{uid}/unpublish", json={**target, "scheduled_at": at(2.5)})
    assert r.status_code == 200
    items = queue(cma)
    assert {q["publish_details"]["status"] for q in items.values()} == {"pending"}
    assert published_versions(live.db, uid) == []
    doomed = next(q for q in items.values() if q["action"] == "unpublish")
    assert cma.get(f"/v3/publish-queue/{doomed['uid']}/unschedule").json()["notice"] == (
        "Release unscheduled successfully."
    )
    time.sleep(0.4)  # the first is due now, and nothing ran it

    with JobRunner.from_settings(live.db, live.settings):
        # the action due while no process ran jobs runs as soon as one starts, publishing version 1
        wait_for(lambda: published_versions(live.db, uid) == [1], timeout=5, what="the overdue publish")
        # one scheduled 1.5 s ahead runs within a second of its time
        when = at(1.5)
        r = cma.post(f"{BASE}/{uid}/publish", json={**target, "scheduled_at": when})
        wait_for(lambda: published_versions(live.db, uid) == [2], timeout=5, what="the scheduled publish")
        ran = datetime.now(UTC)
        due = datetime.fromisoformat(when.replace("Z", "+00:00"))
        assert timedelta(0) <= ran - due < timedelta(seconds=1)
        time.sleep(1.2)  # past the unscheduled unpublish's time

    assert published_versions(live.db, uid) == [2]
    statuses = sorted(q["publish_details"]["status"] for q in queue(cma).values())
    assert statuses == ["canceled", "success", "success"]
    again = cma.get(f"/v3/publish-queue/{doomed['uid']}/unschedule")
    assert again.status_code == 422 and "canceled" in again.json()["error_message"]


def test_a_scheduled_publish_of_a_deleted_entry_fails_visibly(live: Live, cma: httpx.Client) -> None:
    uid = setup(cma)
    body = {"entry": {"environments": ["production"]}, "scheduled_at": at(0.3)}
    assert cma.post(f"{BASE}/{uid}/publish", json=body).status_code == 200
    assert cma.delete(f"{BASE}/{uid}").status_code == 200
    with JobRunner.from_settings(live.db, live.settings):
        item = wait_for(
            lambda: next(
                (q for q in queue(cma).values() if q["publish_details"]["status"] != "pending"), None
            ),
            timeout=5,
            what="the scheduled publish to run",
        )
    assert item["publish_details"]["status"] == "failed"
    assert item["publish_details"]["error"]["error_code"] == 141
    assert published_versions(live.db, uid) == []


def test_two_processes_fire_each_of_100_scheduled_publishes_once(
    db: Database, serve: ServeFactory, tmp_path: Path
) -> None:
    if db.dialect != "postgresql":
        pytest.skip("several processes sharing one database is the PostgreSQL deployment")
    live = serve(rate_limit_enabled=False)
    owner = make_user(live, "scheduler@example.com")
    with live.client(authtoken=owner.authtoken) as c:
        api_key = c.post("/v3/stacks", json={"stack": {"name": "S", "master_locale": "en-us"}}).json()[
            "stack"
        ]["api_key"]
    cma = live.client(authtoken=owner.authtoken, api_key=api_key)
    cma.__enter__()
    setup(cma)
    uids = [cma.post(BASE, json={"entry": {"title": f"P{i}"}}).json()["entry"]["uid"] for i in range(100)]
    when = at(3)
    for uid in uids:
        r = cma.post(
            f"{BASE}/{uid}/publish", json={"entry": {"environments": ["production"]}, "scheduled_at": when}
        )
        assert r.status_code == 200
    env = {**os.environ, "STACKYARD_DATABASE_URL": live.db.url, "STACKYARD_DATA_DIR": str(tmp_path)}
    workers = [
        subprocess.Popen([sys.executable, "-m", "stackyard", "worker"], env=env, stderr=subprocess.DEVNULL)
        for _ in range(2)
    ]
    try:

        def done() -> bool:
            with live.db.read() as tx:
                return int(tx.scalar("SELECT COUNT(*) FROM publish_queue WHERE status = 'success'")) == 100

        wait_for(done, timeout=30, what="100 scheduled publishes")
        time.sleep(0.5)  # any duplicate run would land now
    finally:
        for w in workers:
            w.terminate()
        for w in workers:
            w.wait(timeout=30)
        cma.close()
    with live.db.read() as tx:
        events = tx.all("SELECT object_uid FROM events WHERE type = 'entry.publish'")
        owners = tx.all("SELECT DISTINCT lease_owner FROM jobs WHERE kind = 'publishing.run'")
    assert sorted(e["object_uid"] for e in events) == sorted(uids)
    assert len(owners) == 2, "both processes took a share"
