"""Durable jobs (DESIGN §4, §8): rows in `jobs` that any `stackyard serve` or `stackyard worker`
process may take, run and finish, so a process that dies loses nothing.

    queued ──claim──> running ──complete──> succeeded
      ^                 │  └──fail──> failed (permanent, or attempts used up)
      └──fail (retry)───┘  running with an expired lease ──claim──> running again (takeover)
    cancel(): queued or running ──> cancelled

The contract:

- `enqueue(tx, ...)` writes the job in the caller's transaction: it exists if and only if the change
  that needs it commits. Given an idempotency key, (kind, key) is unique and a second enqueue answers
  the first job's id.
- A claim leases a job to one owner: status running, `lease_owner`, `lease_expires_at` = now + the
  lease, `attempts` + 1. No other claim takes it before the lease expires, and the owner keeps
  extending it with `heartbeat` while the handler runs. A claim takes due queued jobs and running
  jobs whose lease expired (their process died or stalled): the takeover. A job whose lease expired
  on its last allowed attempt is given up (failed) instead, so a job that kills its process cannot
  take every process down in turn.
- (lease_owner, attempts) is the lease's fencing token. `complete`, `fail`, `heartbeat` and `release`
  change a row only while it is running under that exact token, and answer whether they did. A
  process that stalled past its lease and wakes up after a takeover therefore cannot overwrite the
  new owner's outcome: its writes match no row. A handler whose own writes must not land once the
  lease is lost calls `fence(tx, job)` in the transaction that makes them.
- Execution is at least once: after a crash or a lost lease a handler runs again (its `job.attempts`
  says which attempt this is), so handlers are idempotent or fence their effects. While its owner
  heartbeats, no second owner runs a job.
- Times for due dates and leases are epoch seconds from the calling process's clock (`time.time()`,
  or the `now` passed in); processes on several machines need clocks synchronized to much less than a
  lease. `created_at`, `updated_at` and `finished_at` are ISO strings (`ids.now()`) as elsewhere.

Claims on PostgreSQL lock their candidate rows with FOR UPDATE SKIP LOCKED, so concurrent claimers
skip each other's rows instead of waiting for them or taking them twice; on SQLite every claim runs
under the single writer (`db.write()`). The decisions themselves (`claim_decision`, `after_failure`,
`backoff`) are pure functions, tested apart and used as the reference for the SQL.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from stackyard.errors import StackyardError
from stackyard.ids import now as iso_now
from stackyard.store.engine import Row, Tx, jdump, jload

QUEUED, RUNNING, SUCCEEDED, FAILED, CANCELLED = "queued", "running", "succeeded", "failed", "cancelled"
FINISHED = (SUCCEEDED, FAILED, CANCELLED)
DEFAULT_MAX_ATTEMPTS = 5
# PostgreSQL channel an enqueue notifies when its transaction commits, so idle runners anywhere claim at once.
CHANNEL = "stackyard_jobs"
MAX_ERROR_CHARS = 4000


class LeaseLost(StackyardError):
    """The job is no longer running under this lease (it expired and was taken over, or was cancelled)."""


# -- pure decisions ----------------------------------------------------------------------------------


def backoff(
    attempt: int, *, base: float = 1.0, cap: float = 3600.0, rand: Callable[[], float] = random.random
) -> float:
    """Seconds to wait after failed attempt `attempt` (1, 2, ...): base·2^(attempt-1), capped at `cap`,
    with equal jitter (a uniform pick in [d/2, d]) so jobs that failed together do not retry together."""
    d = min(cap, base * 2.0 ** min(max(attempt - 1, 0), 64))
    return d / 2 + rand() * d / 2


@dataclass(frozen=True)
class Outcome:
    """What becomes of a job after a failed attempt: `queued` again at `run_at`, or `failed`."""

    status: str
    run_at: float | None = None


def after_failure(
    attempts: int,
    max_attempts: int,
    now: float,
    *,
    retry_in: float | None = None,
    permanent: bool = False,
    base: float = 1.0,
    cap: float = 3600.0,
    rand: Callable[[], float] = random.random,
) -> Outcome:
    """The job failed its attempt number `attempts`: retry (after `retry_in`, or the backoff) while
    attempts remain, else give up. `permanent` gives up at once."""
    if permanent or attempts >= max_attempts:
        return Outcome(FAILED)
    delay = retry_in if retry_in is not None else backoff(attempts, base=base, cap=cap, rand=rand)
    return Outcome(QUEUED, now + delay)


def claim_decision(
    status: str,
    run_at: float,
    lease_expires_at: float | None,
    attempts: int,
    max_attempts: int,
    now: float,
) -> str | None:
    """What a claim at `now` does with a job: "run" it (due, or its lease expired with attempts left),
    "give_up" (its lease expired on the last attempt), or nothing (None). `claim` is this, in SQL."""
    if status == QUEUED and run_at <= now:
        return "run"
    if status == RUNNING and lease_expires_at is not None and lease_expires_at <= now:
        return "run" if attempts < max_attempts else "give_up"
    return None


def heartbeat_interval(lease_seconds: float) -> float:
    """How often an owner extends its leases: three beats per lease, so two may fail before it lapses."""
    return lease_seconds / 3


# -- the store ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Job:
    """A job as its owner holds it. `attempts` is this attempt's number and, with `lease_owner`, the
    fencing token; `last_error` is what the previous attempt left (a failure or a lapsed lease)."""

    id: int
    kind: str
    payload: Any
    attempts: int
    max_attempts: int | None
    run_at: float
    lease_owner: str
    lease_expires_at: float
    idempotency_key: str | None = None
    api_key: str | None = None
    org_uid: str | None = None
    last_error: str | None = None


_JOB_COLUMNS = (
    "id, kind, payload, attempts, max_attempts, run_at, lease_owner, lease_expires_at, "
    "idempotency_key, api_key, org_uid, last_error"
)

# In-process runners to wake when a job becomes due now (`JobRunner.wake`).
_wakers: list[Callable[[], None]] = []


def add_waker(fn: Callable[[], None]) -> None:
    _wakers.append(fn)


def remove_waker(fn: Callable[[], None]) -> None:
    if fn in _wakers:
        _wakers.remove(fn)


def enqueue(
    tx: Tx,
    kind: str,
    payload: Any = None,
    *,
    run_at: float | datetime | None = None,
    idempotency_key: str | None = None,
    max_attempts: int | None = None,
    api_key: str | None = None,
    org_uid: str | None = None,
    now: float | None = None,
) -> int:
    """Add a job in the caller's transaction; answers its id (the existing job's, for a known key).

        with db.write() as tx:
            tx.run("UPDATE entries SET ...")
            jobs.enqueue(tx, "entry.publish", {"uid": uid}, run_at=when, idempotency_key=f"publish:{uid}")

    `run_at`: epoch seconds or an aware datetime (default now). `max_attempts`: default the running
    process's `job_max_attempts` setting. `api_key`/`org_uid`: the stack or organization it is for.
    """
    if not kind:
        raise ValueError("a job needs a kind")
    if max_attempts is not None and max_attempts < 1:
        raise ValueError("max_attempts must be at least 1")
    t = time.time() if now is None else now
    due = t if run_at is None else run_at.timestamp() if isinstance(run_at, datetime) else float(run_at)
    stamp = iso_now()
    scope = (idempotency_key, api_key, org_uid, stamp, stamp)
    values = (kind, jdump(payload), QUEUED, due, max_attempts, *scope)
    insert = (
        "INSERT INTO jobs (kind, payload, status, run_at, attempts, max_attempts, idempotency_key, "
        "api_key, org_uid, created_at, updated_at) VALUES (?, ?, ?, ?, 0, ?, ?, ?, ?, ?, ?)"
    )
    if idempotency_key is None:
        job_id = tx.scalar(insert + " RETURNING id", *values)
    else:
        job_id = tx.scalar(insert + " ON CONFLICT (kind, idempotency_key) DO NOTHING RETURNING id", *values)
        if job_id is None:
            return int(
                tx.scalar("SELECT id FROM jobs WHERE kind = ? AND idempotency_key = ?", kind, idempotency_key)
            )
    if due <= t:
        _announce(tx)
    return int(job_id)


def _announce(tx: Tx) -> None:
    """Tell runners a job is due, once this transaction has committed: PostgreSQL's NOTIFY (sent
    once per transaction) reaches every process at commit; in-process runners are woken after it."""
    if tx.dialect == "postgresql":
        tx.before_commit(f"{CHANNEL}.notify", lambda t: t.run(f"NOTIFY {CHANNEL}"))
    tx.after_commit(f"{CHANNEL}.wake", _wake_runners)


def _wake_runners() -> None:
    for fn in list(_wakers):
        fn()


def _to_job(row: Row) -> Job:
    return Job(**{**row, "payload": jload(row["payload"])})


def claim(
    tx: Tx,
    owner: str,
    *,
    limit: int,
    lease_seconds: float,
    max_attempts: int = DEFAULT_MAX_ATTEMPTS,
    now: float | None = None,
) -> list[Job]:
    """Lease up to `limit` jobs to `owner` (jobs whose lease expired first, then due queued jobs in
    `run_at` order), giving up on expired ones that used their last attempt. Run it in its own
    `db.write()`: on PostgreSQL the row locks that keep other claimers off last until it commits.
    `max_attempts` applies to jobs enqueued without their own."""
    t = time.time() if now is None else now
    lock = " FOR UPDATE SKIP LOCKED" if tx.dialect == "postgresql" else ""
    stamp = iso_now()
    expired = "status = 'running' AND lease_expires_at <= ?"
    tx.run(
        "UPDATE jobs SET status = 'failed', lease_expires_at = NULL, updated_at = ?, finished_at = ?, "
        "last_error = 'the lease of ' || lease_owner || ' expired on the last attempt (' || attempts "
        "|| '); the process running it probably died' "
        f"WHERE id IN (SELECT id FROM jobs WHERE {expired} AND attempts >= COALESCE(max_attempts, ?) "
        f"LIMIT ?{lock})",
        stamp,
        stamp,
        t,
        max_attempts,
        limit,
    )
    take = (
        "UPDATE jobs SET status = 'running', attempts = attempts + 1, lease_owner = ?, "
        "lease_expires_at = ?, heartbeat_at = ?, updated_at = ?{error} "
        "WHERE id IN (SELECT id FROM jobs WHERE {where} LIMIT ?" + lock + f") RETURNING {_JOB_COLUMNS}"
    )
    lease = (owner, t + lease_seconds, t, stamp)
    taken = tx.all(
        take.format(
            error=", last_error = 'the lease of ' || lease_owner || ' expired (attempt ' || attempts || ')'",
            where=f"{expired} AND attempts < COALESCE(max_attempts, ?)",
        ),
        *lease,
        t,
        max_attempts,
        limit,
    )
    if len(taken) < limit:
        taken += tx.all(
            take.format(error="", where="status = 'queued' AND run_at <= ? ORDER BY run_at"),
            *lease,
            t,
            limit - len(taken),
        )
    jobs = [_to_job(r) for r in taken]
    jobs.sort(key=lambda j: (j.run_at, j.id))
    return jobs


def _held(jobs: Sequence[Job]) -> tuple[str, list[Any]]:
    """A WHERE clause matching exactly these leases: (id, owner, attempt) each, still running."""
    clause = " OR ".join("(id = ? AND lease_owner = ? AND attempts = ?)" for _ in jobs)
    params: list[Any] = [p for j in jobs for p in (j.id, j.lease_owner, j.attempts)]
    return f"status = 'running' AND ({clause})", params


def heartbeat(tx: Tx, jobs: Iterable[Job], *, lease_seconds: float, now: float | None = None) -> set[int]:
    """Extend the leases of these held jobs to now + `lease_seconds`; answers the ids still held
    (the others were taken over, cancelled or finished)."""
    t = time.time() if now is None else now
    kept: set[int] = set()
    held = list(jobs)
    for i in range(0, len(held), 200):
        where, params = _held(held[i : i + 200])
        rows = tx.all(
            f"UPDATE jobs SET lease_expires_at = ?, heartbeat_at = ? WHERE {where} RETURNING id",
            t + lease_seconds,
            t,
            *params,
        )
        kept.update(int(r["id"]) for r in rows)
    return kept


def _record(tx: Tx, job: Job, status: str, run_at: float | None = None, error: str | None = None) -> bool:
    """End this lease's attempt with `status` if the lease still holds the job; answers whether it did."""
    stamp = iso_now()
    where, params = _held([job])
    sql = (
        "UPDATE jobs SET status = ?, run_at = COALESCE(?, run_at), lease_expires_at = NULL, "
        f"last_error = COALESCE(?, last_error), updated_at = ?, finished_at = ? WHERE {where}"
    )
    finished = stamp if status in FINISHED else None
    return tx.run(sql, status, run_at, error, stamp, finished, *params) == 1


def complete(tx: Tx, job: Job) -> bool:
    """Mark the job succeeded if this lease still holds it; answers whether it did."""
    return _record(tx, job, SUCCEEDED)


def fail(
    tx: Tx,
    job: Job,
    error: str,
    *,
    retry_in: float | None = None,
    permanent: bool = False,
    max_attempts: int = DEFAULT_MAX_ATTEMPTS,
    backoff_base: float = 1.0,
    backoff_cap: float = 3600.0,
    now: float | None = None,
    rand: Callable[[], float] = random.random,
) -> str | None:
    """Record a failed attempt if this lease still holds the job: queued again for a retry (see
    `after_failure`) or failed. Answers the new status, or None when the lease was lost.
    `max_attempts` applies when the job has none of its own."""
    t = time.time() if now is None else now
    outcome = after_failure(
        job.attempts,
        job.max_attempts or max_attempts,
        t,
        retry_in=retry_in,
        permanent=permanent,
        base=backoff_base,
        cap=backoff_cap,
        rand=rand,
    )
    recorded = _record(tx, job, outcome.status, outcome.run_at, error[:MAX_ERROR_CHARS])
    return outcome.status if recorded else None


def release(tx: Tx, jobs: Sequence[Job]) -> int:
    """Hand held jobs that were never started back to the queue, the attempt not counted (a
    graceful stop); answers how many were still held."""
    n = 0
    for i in range(0, len(jobs), 200):
        where, params = _held(jobs[i : i + 200])
        n += tx.run(
            "UPDATE jobs SET status = 'queued', attempts = attempts - 1, lease_owner = NULL, "
            f"lease_expires_at = NULL, heartbeat_at = NULL, updated_at = ? WHERE {where}",
            iso_now(),
            *params,
        )
    return n


def fence(tx: Tx, job: Job) -> None:
    """Raise `LeaseLost` unless this lease still holds the job, for the rest of `tx`: on PostgreSQL
    the row stays locked until `tx` ends (a takeover's claim skips it); SQLite has one writer."""
    where, params = _held([job])
    if tx.one(f"SELECT id FROM jobs WHERE {where}{tx.for_update}", *params) is None:
        raise LeaseLost(f"job {job.id} is no longer held by {job.lease_owner} (attempt {job.attempts})")


def cancel(tx: Tx, job_id: int) -> bool:
    """Cancel a job that has not finished; a running attempt's outcome is then discarded (fenced).
    Answers whether it was cancelled."""
    stamp = iso_now()
    n = tx.run(
        "UPDATE jobs SET status = 'cancelled', lease_expires_at = NULL, updated_at = ?, finished_at = ? "
        "WHERE id = ? AND status IN ('queued', 'running')",
        stamp,
        stamp,
        job_id,
    )
    return n == 1


def next_due(tx: Tx) -> float | None:
    """When the earliest queued job is due (epoch seconds), or None when none is queued."""
    due = tx.scalar("SELECT MIN(run_at) FROM jobs WHERE status = 'queued'")
    return None if due is None else float(due)


def get(tx: Tx, job_id: int) -> Row | None:
    """The job's row (payload decoded), or None."""
    row = tx.one("SELECT * FROM jobs WHERE id = ?", job_id)
    if row is not None:
        row["payload"] = jload(row["payload"])
    return row


def counts(tx: Tx, kind: str | None = None) -> dict[str, int]:
    """How many jobs are in each status (of one kind, if given)."""
    where, params = ("WHERE kind = ?", (kind,)) if kind is not None else ("", ())
    rows = tx.all(f"SELECT status, COUNT(*) AS n FROM jobs {where} GROUP BY status", *params)
    return {r["status"]: int(r["n"]) for r in rows}
