"""The periodic purge of secrets nobody can use any more: expired sessions, expired activation,
reset and ownership tokens, and the text of outbox messages whose token expired.

It runs as the durable job `identity.purge`, once per period of `purge_interval_seconds`. The
job of period n (due when it starts, at n·interval) first enqueues the one of the next period and
then purges. Jobs are keyed by interval and period, so every process that starts
(`server.background` enqueues the current period's job) and every repeated run of a handler (jobs
run at least once) finds the same job instead of starting another chain; the next period is
enqueued before the purge, so a purge that fails does not end the chain; after a long downtime the
next period is the one after now, not a string of missed ones. A chain that finds a newer queued
purge (a restart with another interval) ends, leaving the newest.

Used tokens are removed where they are used (`users.activate`, `users.reset_password`,
`stacks.members.accept_ownership`); this catches the rest.
"""

from __future__ import annotations

import time

from stackyard.core import jobs
from stackyard.core.job_runner import handler
from stackyard.core.jobs import Job
from stackyard.identity import mail
from stackyard.ids import now
from stackyard.store.engine import Database, Tx

KIND = "identity.purge"


def period(at: float, interval: float) -> int:
    """The number of the period `at` (epoch seconds) falls in."""
    return int(at // interval)


def schedule(tx: Tx, interval: float, n: int | None = None, *, at: float | None = None) -> int:
    """Enqueue the purge of period `n` (default: the one `at`, or now, falls in), due when it
    starts; answers the job id (the existing job's when that period already has one)."""
    if interval <= 0:
        raise ValueError("the purge interval must be positive")
    n = period(time.time() if at is None else at, interval) if n is None else n
    payload = {"interval": interval, "period": n}
    return jobs.enqueue(tx, KIND, payload, run_at=n * interval, idempotency_key=f"{interval:g}:{n}")


def purge(tx: Tx) -> dict[str, int]:
    """Delete or clear what has expired; answers how many rows of each kind."""
    t = now()
    return {
        "sessions": tx.run("DELETE FROM sessions WHERE expires_at <= ?", t),
        "activation_tokens": tx.run(
            "UPDATE users SET activation_token_hash = NULL, activation_expires_at = NULL "
            "WHERE activation_token_hash IS NOT NULL AND (activation_expires_at IS NULL OR activation_expires_at <= ?)",
            t,
        ),
        "reset_tokens": tx.run(
            "UPDATE users SET reset_token_hash = NULL, reset_expires_at = NULL "
            "WHERE reset_token_hash IS NOT NULL AND (reset_expires_at IS NULL OR reset_expires_at <= ?)",
            t,
        ),
        "ownership_tokens": tx.run("DELETE FROM ownership_transfers WHERE expires_at <= ?", t),
        "outbox_bodies": mail.purge_expired(tx),
    }


@handler(KIND)
def run(db: Database, job: Job) -> None:
    interval = float(job.payload["interval"])
    following = max(int(job.payload["period"]), period(time.time(), interval)) + 1
    with db.write() as tx:
        if not tx.scalar("SELECT 1 FROM jobs WHERE kind = ? AND status = 'queued' AND id > ?", KIND, job.id):
            schedule(tx, interval, following)
    with db.write() as tx:
        purge(tx)
