"""Bulk publish, unpublish and delete: the official SDK's calls, per-item results, idempotency, and a
job that survives its process being SIGKILLed mid-run (both engines)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx

from stackyard.access.caller import Caller
from stackyard.access.resolve import stack_access
from stackyard.content.entries import entries
from stackyard.core.job_runner import JobRunner
from stackyard.store.engine import Database
from tests.conftest import Live, ServeFactory, User, make_user, wait_for
from tests.content.model.test_content_types import ct, text
from tests.stacks.test_official_sdk_stack_admin import ok, sdk

BASE = "/v3/content_types/blog/entries"


def setup(cma: httpx.Client) -> None:
    for env in ("development", "production"):
        assert cma.post("/v3/environments", json={"environment": {"name": env}}).status_code == 201
    assert cma.post("/v3/content_types", json=ct("blog", text("body"))).status_code == 201


def make_entries(live: Live, owner: User, api_key: str, n: int) -> list[str]:
    with live.db.write() as tx:
        access = stack_access(tx, Caller(kind="user", user_uid=owner.uid), api_key)
        return [str(entries.create(tx, access, "blog", {"title": f"E{i}"}, None)["uid"]) for i in range(n)]


def counts(db: Database, api_key: str) -> dict[str, int]:
    with db.read() as tx:
        return {
            "published": int(tx.scalar("SELECT COUNT(*) FROM published WHERE api_key = ?", api_key)),
            "queue": int(tx.scalar("SELECT COUNT(*) FROM publish_queue WHERE api_key = ?", api_key)),
            "events": int(
                tx.scalar("SELECT COUNT(*) FROM events WHERE api_key = ? AND type = 'entry.publish'", api_key)
            ),
            "distinct": int(
                tx.scalar(
                    "SELECT COUNT(DISTINCT object_uid) FROM events WHERE api_key = ? AND type = 'entry.publish'",
                    api_key,
                )
            ),
        }


def test_bulk_calls_of_the_official_sdk(live: Live, owner: User, api_key: str, cma: httpx.Client) -> None:
    setup(cma)
    uids = make_entries(live, owner, api_key, 3)
    stack = sdk(live, owner.authtoken).stack(api_key)
    data: dict[str, Any] = {
        "entries": [{"uid": u, "content_type": "blog", "version": "1", "locale": "en-us"} for u in uids]
        + [{"uid": "bltmissing", "content_type": "blog", "locale": "en-us"}],
        "locales": ["en-us"],
        "environments": ["development"],
        "rules": {"approvals": "true/false"},
        "publish_with_reference": True,
    }
    body = ok(stack.bulk_operation().publish(data))
    assert body["notice"] == "Your publish request is in progress." and body["job_id"]
    status = ok(stack.bulk_operation().job_status(body["job_id"]))
    assert status["status"] == "pending" and status["total"] == 4

    with JobRunner.from_settings(live.db, live.settings):
        wait_for(
            lambda: ok(stack.bulk_operation().job_status(body["job_id"]))["status"] == "completed",
            what="the bulk publish",
        )
        done = ok(stack.bulk_operation().job_status(body["job_id"]))
        assert (done["succeeded"], done["failed"], done["progress"]) == (3, 1, 1.0)
        assert [i["status"] for i in done["items"]] == ["success", "success", "success", "failed"]
        assert done["items"][3]["error"]["error_message"]
        assert counts(live.db, api_key)["published"] == 3

        # unpublish two of them, then delete one
        gone = {"entries": [{"uid": u, "content_type": "blog", "locale": "en-us"} for u in uids[:2]]}
        job = ok(
            stack.bulk_operation().unpublish({**gone, "locales": ["en-us"], "environments": ["development"]})
        )
        wait_for(lambda: counts(live.db, api_key)["published"] == 1, what="the bulk unpublish")
        assert ok(stack.bulk_operation().job_status(job["job_id"]))["succeeded"] == 2
        job = ok(
            stack.bulk_operation().delete(
                {"entries": [{"content_type": "blog", "uid": uids[2], "locale": "en-us"}]}
            )
        )
        assert job["notice"] == "Your delete request is in progress."
        wait_for(lambda: counts(live.db, api_key)["published"] == 0, what="the bulk delete")
    assert cma.get(f"{BASE}/{uids[2]}").status_code == 422

    # workflows do not exist yet: a clear 4xx; a bad request is refused whole, nothing queued
    r = cma.post("/v3/bulk/workflow", json={"entries": [], "workflow": {}})
    assert r.status_code == 422 and "not supported" in r.json()["error_message"]
    r = cma.post("/v3/bulk/publish", json={"entries": [{"uid": uids[0]}], "environments": ["development"]})
    assert r.status_code == 422 and "entries[0]" in r.json()["errors"]
    r = cma.post(
        "/v3/bulk/publish",
        json={"entries": [{"uid": uids[0], "content_type": "blog"}], "environments": ["x"]},
    )
    assert r.status_code == 422 and "environments" in r.json()["errors"]
    assert cma.get("/v3/bulk/jobs/bltnope").status_code == 422


def test_a_repeated_request_with_its_idempotency_key_runs_once(
    live: Live, owner: User, api_key: str, cma: httpx.Client
) -> None:
    setup(cma)
    uids = make_entries(live, owner, api_key, 5)
    body = {"entries": [{"uid": u, "content_type": "blog"} for u in uids], "environments": ["production"]}
    first = cma.post("/v3/bulk/publish", json=body, headers={"Idempotency-Key": "k-1"}).json()["job_id"]
    again = cma.post("/v3/bulk/publish", json=body, headers={"Idempotency-Key": "k-1"}).json()["job_id"]
    other = cma.post("/v3/bulk/publish", json=body, headers={"Idempotency-Key": "k-2"}).json()["job_id"]
    assert first == again != other
    with JobRunner.from_settings(live.db, live.settings):
        wait_for(lambda: counts(live.db, api_key)["queue"] == 10, what="two jobs of five")
    assert counts(live.db, api_key)["events"] == 10 and counts(live.db, api_key)["published"] == 5


def test_a_bulk_publish_survives_sigkill_and_publishes_each_item_once(
    serve: ServeFactory, tmp_path: Path
) -> None:
    live = serve(bulk_chunk_items=10)
    owner = make_user(live, "bulk@example.com")
    with live.client(authtoken=owner.authtoken) as c:
        api_key = c.post("/v3/stacks", json={"stack": {"name": "S", "master_locale": "en-us"}}).json()[
            "stack"
        ]["api_key"]
    with live.client(authtoken=owner.authtoken, api_key=api_key) as cma:
        setup(cma)
        uids = make_entries(live, owner, api_key, 2000)
        body = {
            "entries": [{"uid": u, "content_type": "blog", "locale": "en-us"} for u in uids],
            "environments": ["production"],
        }
        job = cma.post("/v3/bulk/publish", json=body).json()["job_id"]
        env = {
            **os.environ,
            "STACKYARD_DATABASE_URL": live.db.url,
            "STACKYARD_DATA_DIR": str(tmp_path),
            "STACKYARD_JOB_LEASE_SECONDS": "1",
            "STACKYARD_JOB_POLL_SECONDS": "0.2",
        }

        def progress() -> int:
            with live.db.read() as tx:
                return int(tx.scalar("SELECT done FROM bulk_jobs WHERE uid = ?", job))

        worker = subprocess.Popen(
            [sys.executable, "-m", "stackyard", "worker"], env=env, stderr=subprocess.DEVNULL
        )
        try:
            wait_for(lambda: progress() > 0, timeout=60, what="the job to start")
            worker.send_signal(signal.SIGKILL)
            worker.wait(timeout=10)
            stopped_at = progress()
            assert 0 < stopped_at < 2000, "killed mid-job"
            worker = subprocess.Popen(
                [sys.executable, "-m", "stackyard", "worker"], env=env, stderr=subprocess.DEVNULL
            )
            wait_for(lambda: progress() == 2000, timeout=120, what="the job to finish after the restart")
        finally:
            worker.terminate()
            worker.wait(timeout=30)
        assert counts(live.db, api_key) == {
            "published": 2000,
            "queue": 2000,
            "events": 2000,
            "distinct": 2000,
        }
        status = cma.get(f"/v3/bulk/jobs/{job}", params={"limit": 1}).json()
        assert (status["status"], status["succeeded"], status["failed"]) == ("completed", 2000, 0)
