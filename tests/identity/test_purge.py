"""The periodic purge (`identity.purge`): expired sessions, expired tokens and expired outbox text go;
everything still live stays; the job re-enqueues itself once per period however many processes start."""

from __future__ import annotations

import time

import anyio

from stackyard.core import jobs
from stackyard.core.job_runner import JobRunner, handlers
from stackyard.identity import mail, purge, users
from stackyard.server.background import Background
from stackyard.settings import Settings
from stackyard.store.engine import Database
from tests.conftest import Live, User

PAST = "2000-01-01T00:00:00.000Z"
FUTURE = "2999-01-01T00:00:00.000Z"


def _seed(db: Database, owner: User, api_key: str) -> None:
    """One expired and one live row of every kind the purge looks at."""
    with db.write() as tx:
        for name, expires in (("old", PAST), ("new", FUTURE)):
            tx.run(
                "INSERT INTO sessions (token_hash, user_uid, created_at, expires_at) VALUES (?, ?, ?, ?)",
                f"{name}-session",
                owner.uid,
                PAST,
                expires,
            )
            uid, _ = users.create(tx, f"{name}-invitee@example.com", active=False)
            tx.run("UPDATE users SET activation_expires_at = ? WHERE uid = ?", expires, uid)
            tx.run(
                "UPDATE users SET reset_token_hash = ?, reset_expires_at = ? WHERE uid = ?",
                f"{name}-reset",
                expires,
                uid,
            )
            tx.run(
                "INSERT INTO ownership_transfers (token_hash, api_key, from_uid, to_uid, created_at, expires_at) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                f"{name}-ownership",
                api_key,
                owner.uid,
                uid,
                PAST,
                expires,
            )
            mail.queue(tx, "x@example.com", name, f"token of {name}", expires_at=expires)


def _check_purged(db: Database, owner: User) -> None:
    with db.read() as tx:
        sessions = {
            r["token_hash"] for r in tx.all("SELECT token_hash FROM sessions WHERE user_uid = ?", owner.uid)
        }
        assert "old-session" not in sessions and "new-session" in sessions
        invitees = {
            r["email"]: r
            for r in tx.all(
                "SELECT email, activation_token_hash, reset_token_hash FROM users WHERE email LIKE '%-invitee@example.com'"
            )
        }
        old, new = invitees["old-invitee@example.com"], invitees["new-invitee@example.com"]
        assert old["activation_token_hash"] is None and old["reset_token_hash"] is None
        assert new["activation_token_hash"] and new["reset_token_hash"] == "new-reset"
        transfers = {r["token_hash"] for r in tx.all("SELECT token_hash FROM ownership_transfers")}
        assert transfers == {"new-ownership"}
        texts = {r["subject"]: r["body"] for r in mail.outbox(tx, "x@example.com")}
        assert texts == {"old": mail.EXPIRED, "new": "token of new"}


def test_purge_removes_what_expired_and_keeps_the_rest(live: Live, owner: User, api_key: str) -> None:
    _seed(live.db, owner, api_key)
    with live.db.write() as tx:
        counts = purge.purge(tx)
    assert counts == {
        "sessions": 1,
        "activation_tokens": 1,
        "reset_tokens": 1,
        "ownership_tokens": 1,
        "outbox_bodies": 1,
    }
    _check_purged(live.db, owner)
    # the owner's real session still works
    with live.client(authtoken=owner.authtoken) as c:
        assert c.get("/v3/user").status_code == 200


def _purge_jobs(db: Database) -> list[dict[str, object]]:
    with db.read() as tx:
        return [dict(r) for r in tx.all("SELECT * FROM jobs WHERE kind = ? ORDER BY id", purge.KIND)]


def test_the_job_runs_the_purge_and_enqueues_the_next_period_once(
    live: Live, owner: User, api_key: str
) -> None:
    _seed(live.db, owner, api_key)
    interval = 3600.0
    with live.db.write() as tx:
        first = purge.schedule(tx, interval)
        assert purge.schedule(tx, interval) == first  # a second process starting finds the same job
    runner = JobRunner(live.db, registry=handlers, listen=False, poll_seconds=0.05, lease_seconds=5)
    with runner:
        deadline = time.monotonic() + 30
        while _purge_jobs(live.db)[0]["status"] != jobs.SUCCEEDED:
            assert time.monotonic() < deadline, _purge_jobs(live.db)
            time.sleep(0.05)
    _check_purged(live.db, owner)
    done, following = _purge_jobs(live.db)
    assert following["status"] == jobs.QUEUED
    assert float(str(following["run_at"])) == (purge.period(time.time(), interval) + 1) * interval
    # a handler run again (jobs run at least once) does not start a second chain
    claimed = jobs.Job(
        id=int(str(done["id"])),
        kind=purge.KIND,
        payload={"interval": interval, "period": purge.period(time.time(), interval)},
        attempts=1,
        max_attempts=None,
        run_at=0,
        lease_owner="test",
        lease_expires_at=0,
    )
    purge.run(live.db, claimed)
    assert len(_purge_jobs(live.db)) == 2


def test_server_start_enqueues_the_purge(db: Database, settings: Settings) -> None:
    quiet = settings.replace(jobs_enabled=False)
    for _ in range(2):  # two processes, or two starts in one period
        background = Background(db, quiet)
        anyio.run(background.start)
        anyio.run(background.stop)
    [job] = _purge_jobs(db)
    assert job["status"] == jobs.QUEUED and float(str(job["run_at"])) <= time.time()
