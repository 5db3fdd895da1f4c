"""The job store: the pure backoff and lease decisions, then enqueue, claim, heartbeat, complete, fail,
release, fence and cancel on both engines, with the SQL claim checked against `claim_decision`."""

from __future__ import annotations

import threading
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stackyard.core import jobs
from stackyard.core.jobs import Job, LeaseLost, Outcome
from stackyard.store.engine import Database

T0 = 1_700_000_000.0
LEASE = 30.0


# -- pure decisions ----------------------------------------------------------------------------------


def test_backoff_doubles_within_its_jitter_band_and_stops_at_the_cap() -> None:
    low = [jobs.backoff(n, base=2.0, cap=100.0, rand=lambda: 0.0) for n in range(1, 8)]
    high = [jobs.backoff(n, base=2.0, cap=100.0, rand=lambda: 1.0) for n in range(1, 8)]
    assert high == [2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 100.0]
    assert low == [d / 2 for d in high]
    assert jobs.backoff(5, base=2.0, cap=100.0, rand=lambda: 0.5) == 24.0
    # a job that failed ten thousand times still gets a finite, capped delay
    assert jobs.backoff(10_000, cap=60.0, rand=lambda: 1.0) == 60.0
    assert jobs.backoff(0, base=3.0, rand=lambda: 1.0) == 3.0


@given(attempt=st.integers(1, 200), r=st.floats(0, 1))
def test_backoff_is_never_less_than_half_nor_more_than_the_full_delay(attempt: int, r: float) -> None:
    full = min(600.0, 0.5 * 2 ** min(attempt - 1, 64))
    assert full / 2 <= jobs.backoff(attempt, base=0.5, cap=600.0, rand=lambda: r) <= full


def test_after_failure_retries_while_attempts_remain_then_gives_up() -> None:
    fixed = {"base": 1.0, "rand": lambda: 1.0}
    assert jobs.after_failure(1, 3, T0, **fixed) == Outcome("queued", T0 + 1.0)
    assert jobs.after_failure(2, 3, T0, **fixed) == Outcome("queued", T0 + 2.0)
    assert jobs.after_failure(3, 3, T0, **fixed) == Outcome("failed")
    assert jobs.after_failure(7, 3, T0, **fixed) == Outcome("failed")
    # a handler's RetryLater overrides the backoff, PermanentFailure skips the remaining attempts
    assert jobs.after_failure(1, 3, T0, retry_in=42.0, **fixed) == Outcome("queued", T0 + 42.0)
    assert jobs.after_failure(3, 3, T0, retry_in=42.0, **fixed) == Outcome("failed")
    assert jobs.after_failure(1, 3, T0, permanent=True, **fixed) == Outcome("failed")


def test_claim_decision() -> None:
    d = jobs.claim_decision
    assert d("queued", T0, None, 0, 5, T0) == "run"  # due exactly now
    assert d("queued", T0 + 1, None, 0, 5, T0) is None  # not yet due
    assert d("running", T0 - 60, T0 + 1, 1, 5, T0) is None  # lease still held
    assert d("running", T0 - 60, T0, 1, 5, T0) == "run"  # lease expired: takeover
    assert d("running", T0 - 60, T0 - 1, 5, 5, T0) == "give_up"  # expired on the last attempt
    for finished in jobs.FINISHED:
        assert d(finished, T0 - 60, None, 1, 5, T0) is None


def test_heartbeats_come_three_times_per_lease() -> None:
    assert jobs.heartbeat_interval(30.0) == 10.0
    assert jobs.heartbeat_interval(1.0) * 3 == pytest.approx(1.0)


# -- the store, on both engines ----------------------------------------------------------------------


def claim(db: Database, owner: str = "a", *, limit: int = 10, now: float = T0, **kw: object) -> list[Job]:
    with db.write() as tx:
        return jobs.claim(tx, owner, limit=limit, lease_seconds=LEASE, now=now, **kw)  # type: ignore[arg-type]


def row(db: Database, job_id: int) -> dict:
    with db.read() as tx:
        r = jobs.get(tx, job_id)
    assert r is not None
    return r


def test_enqueue_claim_complete(db: Database) -> None:
    # given a job with a JSON payload
    payload = {"uid": "blt1", "locales": ["en-us", "fr-fr"], "note": "é ✓", "n": 3}
    with db.write() as tx:
        job_id = jobs.enqueue(tx, "entry.publish", payload, api_key="key1", org_uid="org1", now=T0)
    r = row(db, job_id)
    assert (r["status"], r["attempts"], r["lease_owner"], r["payload"]) == ("queued", 0, None, payload)
    assert r["created_at"].endswith("Z") and r["finished_at"] is None

    # when an owner claims it
    [job] = claim(db, "owner-a", now=T0 + 1)

    # then it holds a lease for attempt 1 and nobody else gets the job
    assert (job.id, job.kind, job.payload, job.attempts) == (job_id, "entry.publish", payload, 1)
    assert (job.lease_owner, job.lease_expires_at, job.api_key, job.org_uid) == (
        "owner-a",
        T0 + 1 + LEASE,
        "key1",
        "org1",
    )
    r = row(db, job_id)
    assert (r["status"], r["lease_owner"], r["heartbeat_at"]) == ("running", "owner-a", T0 + 1)
    assert claim(db, "owner-b", now=T0 + 2) == []

    # when it completes, it is succeeded for good
    with db.write() as tx:
        assert jobs.complete(tx, job) is True
    r = row(db, job_id)
    assert (r["status"], r["lease_expires_at"]) == ("succeeded", None)
    assert r["finished_at"] is not None
    assert claim(db, "owner-b", now=T0 + 10 * LEASE) == []
    with db.write() as tx:
        assert jobs.complete(tx, job) is False  # a second completion changes nothing
        assert jobs.counts(tx) == {"succeeded": 1}


def test_enqueue_belongs_to_the_callers_transaction(db: Database) -> None:
    class Abort(Exception):
        pass

    # given a transaction that enqueues a job and then fails
    with pytest.raises(Abort), db.write() as tx:
        jobs.enqueue(tx, "entry.publish", {"uid": "x"})
        raise Abort
    # then there is no job; one that commits is there
    with db.write() as tx:
        jobs.enqueue(tx, "entry.publish", {"uid": "y"})
    with db.read() as tx:
        assert jobs.counts(tx) == {"queued": 1}
    assert [j.payload for j in claim(db, now=time.time())] == [{"uid": "y"}]


def test_an_idempotency_key_makes_enqueue_answer_the_existing_job(db: Database) -> None:
    with db.write() as tx:
        first = jobs.enqueue(tx, "webhook.deliver", {"n": 1}, idempotency_key="evt-1")
    with db.write() as tx:
        again = jobs.enqueue(tx, "webhook.deliver", {"n": 2}, idempotency_key="evt-1")
        other_kind = jobs.enqueue(tx, "purge", {"n": 3}, idempotency_key="evt-1")
        unkeyed = [jobs.enqueue(tx, "webhook.deliver", {"n": 4}) for _ in range(2)]
    assert again == first
    assert len({first, other_kind, *unkeyed}) == 4
    assert row(db, first)["payload"] == {"n": 1}  # the first enqueue's payload stays
    # also once the job has finished: the key is the job's identity, not a lock
    [job] = [j for j in claim(db, now=time.time()) if j.id == first]
    with db.write() as tx:
        jobs.complete(tx, job)
        assert jobs.enqueue(tx, "webhook.deliver", {"n": 5}, idempotency_key="evt-1") == first


def test_a_job_is_claimed_once_due_and_in_run_at_order_in_batches(db: Database) -> None:
    with db.write() as tx:
        later = jobs.enqueue(tx, "k", None, run_at=T0 + 100, now=T0)
        ids = [jobs.enqueue(tx, "k", {"i": i}, run_at=T0 - i, now=T0) for i in range(7)]
    # the earliest due jobs first, at most `limit` per claim
    batches = [claim(db, limit=3, now=T0) for _ in range(3)]
    assert [[j.id for j in b] for b in batches] == [ids[::-1][:3], ids[::-1][3:6], [ids[0]]]
    with db.write() as tx:
        for job in (j for b in batches for j in b):
            jobs.complete(tx, job)
    assert claim(db, limit=3, now=T0 + 99) == []
    assert [j.id for j in claim(db, limit=3, now=T0 + 100)] == [later]


def test_an_expired_lease_is_taken_over_and_the_old_owner_is_fenced_out(db: Database) -> None:
    # given a job claimed by a process that then stopped heartbeating
    with db.write() as tx:
        job_id = jobs.enqueue(tx, "k", {}, now=T0)
    [old] = claim(db, "dead-process", now=T0)
    assert claim(db, "b", now=T0 + LEASE - 0.001) == []  # not before the lease runs out

    # when another owner claims after the lease expired
    [new] = claim(db, "b", now=T0 + LEASE)

    # then it takes the job over as attempt 2, and the old owner can change nothing any more
    assert (new.id, new.attempts, new.lease_owner) == (job_id, 2, "b")
    assert new.last_error is not None and "dead-process" in new.last_error
    with db.write() as tx:
        assert jobs.complete(tx, old) is False
        assert jobs.fail(tx, old, "late failure") is None
        assert jobs.heartbeat(tx, [old], lease_seconds=LEASE, now=T0 + LEASE + 1) == set()
        with pytest.raises(LeaseLost):
            jobs.fence(tx, old)
        jobs.fence(tx, new)  # the new owner still holds it
        assert jobs.complete(tx, new) is True
    r = row(db, job_id)
    assert (r["status"], r["attempts"], r["lease_owner"]) == ("succeeded", 2, "b")


def test_the_same_owner_reclaiming_its_expired_job_fences_its_earlier_attempt(db: Database) -> None:
    with db.write() as tx:
        jobs.enqueue(tx, "k", {}, now=T0)
    [first] = claim(db, "a", now=T0)
    [second] = claim(db, "a", now=T0 + LEASE + 1)
    with db.write() as tx:
        assert jobs.complete(tx, first) is False  # same owner, older attempt
        assert jobs.complete(tx, second) is True


def test_a_heartbeat_extends_the_lease_and_reports_what_is_no_longer_held(db: Database) -> None:
    with db.write() as tx:
        a_id = jobs.enqueue(tx, "k", {}, now=T0)
        b_id = jobs.enqueue(tx, "k", {}, now=T0)
    a, b = claim(db, "owner", now=T0)
    with db.write() as tx:
        assert jobs.cancel(tx, b_id) is True
        kept = jobs.heartbeat(tx, [a, b], lease_seconds=LEASE, now=T0 + LEASE - 1)
    assert kept == {a_id}
    assert row(db, a_id)["lease_expires_at"] == T0 + 2 * LEASE - 1
    assert row(db, a_id)["heartbeat_at"] == T0 + LEASE - 1
    # past the original lease, nobody may take it: it was extended
    assert claim(db, "other", now=T0 + LEASE + 1) == []
    assert [j.id for j in claim(db, "other", now=T0 + 2 * LEASE)] == [a_id]


def test_failures_retry_with_backoff_until_the_attempts_are_used_up(db: Database) -> None:
    with db.write() as tx:
        job_id = jobs.enqueue(tx, "k", {}, max_attempts=3, now=T0)
    now = T0
    for attempt in (1, 2):
        [job] = claim(db, now=now)
        assert job.attempts == attempt
        with db.write() as tx:
            status = jobs.fail(tx, job, f"boom {attempt}", backoff_base=10.0, now=now, rand=lambda: 1.0)
        assert status == "queued"
        r = row(db, job_id)
        delay = 10.0 * 2 ** (attempt - 1)
        assert (r["run_at"], r["last_error"], r["lease_expires_at"]) == (now + delay, f"boom {attempt}", None)
        assert claim(db, now=now + delay - 0.5) == []  # not before the backoff
        now += delay
    [job] = claim(db, now=now)
    with db.write() as tx:
        assert jobs.fail(tx, job, "boom 3", now=now) == "failed"
    r = row(db, job_id)
    assert (r["status"], r["attempts"], r["last_error"]) == ("failed", 3, "boom 3")
    assert r["finished_at"] is not None
    assert claim(db, now=now + 1e6) == []


def test_the_default_max_attempts_applies_to_jobs_without_their_own(db: Database) -> None:
    with db.write() as tx:
        job_id = jobs.enqueue(tx, "k", {}, now=T0)
    [job] = claim(db, now=T0)
    with db.write() as tx:
        assert jobs.fail(tx, job, "boom", max_attempts=1, now=T0) == "failed"
    assert row(db, job_id)["max_attempts"] is None


def test_retry_in_and_permanent_failures(db: Database) -> None:
    with db.write() as tx:
        later_id = jobs.enqueue(tx, "k", {}, now=T0)
        never_id = jobs.enqueue(tx, "k", {}, now=T0)
    later, never = claim(db, now=T0)
    with db.write() as tx:
        assert jobs.fail(tx, later, "rate limited", retry_in=120.0, now=T0) == "queued"
        assert jobs.fail(tx, never, "bad payload", permanent=True, now=T0) == "failed"
    assert row(db, later_id)["run_at"] == T0 + 120.0
    assert (row(db, never_id)["status"], row(db, never_id)["attempts"]) == ("failed", 1)


def test_a_job_whose_lease_expires_on_its_last_attempt_is_given_up(db: Database) -> None:
    # given a job that takes its process down on every attempt
    with db.write() as tx:
        job_id = jobs.enqueue(tx, "k", {}, max_attempts=2, now=T0)
    claim(db, "p1", now=T0)
    [second] = claim(db, "p2", now=T0 + LEASE)
    assert second.attempts == 2
    # when its last lease expires too, then the next claim fails it instead of running it again
    assert claim(db, "p3", now=T0 + 2 * LEASE) == []
    r = row(db, job_id)
    assert (r["status"], r["attempts"]) == ("failed", 2)
    assert "p2" in r["last_error"] and "last attempt" in r["last_error"]


def test_release_hands_unstarted_jobs_back_without_counting_the_attempt(db: Database) -> None:
    with db.write() as tx:
        ids = [jobs.enqueue(tx, "k", {}, now=T0) for _ in range(3)]
    held = claim(db, "stopping", now=T0)
    with db.write() as tx:
        jobs.complete(tx, held[0])
        assert jobs.release(tx, held) == 2  # the completed one is no longer held
    for job_id in ids[1:]:
        r = row(db, job_id)
        assert (r["status"], r["attempts"], r["lease_owner"]) == ("queued", 0, None)
    assert sorted(j.id for j in claim(db, "next", now=T0)) == ids[1:]


def test_cancel(db: Database) -> None:
    with db.write() as tx:
        queued_id = jobs.enqueue(tx, "k", {}, run_at=T0 + 60, now=T0)
        running_id = jobs.enqueue(tx, "k", {}, now=T0)
    [running] = claim(db, now=T0)
    with db.write() as tx:
        assert jobs.cancel(tx, queued_id) is True
        assert jobs.cancel(tx, running_id) is True
        assert jobs.cancel(tx, running_id) is False
        assert jobs.complete(tx, running) is False  # the running attempt's outcome is discarded
    assert row(db, running_id)["status"] == "cancelled"
    assert claim(db, now=T0 + 1e6) == []


STATUSES = st.sampled_from(["queued", "running", "succeeded", "failed", "cancelled"])
ROWS = st.lists(
    st.tuples(
        STATUSES, st.integers(-3, 3), st.integers(-3, 3), st.integers(0, 4), st.none() | st.integers(1, 4)
    ),
    max_size=25,
)


@settings(max_examples=30)
@given(rows=ROWS)
def test_claim_does_what_claim_decision_says(db: Database, rows: list[tuple]) -> None:
    # given jobs in every state (run_at and lease expiry a few seconds either side of now)
    default_max = 3
    with db.write() as tx:
        tx.run("DELETE FROM jobs")
        for status, due, lease, attempts, max_attempts in rows:
            lease_at = T0 + lease if status == "running" else None
            tx.run(
                "INSERT INTO jobs (kind, payload, status, run_at, attempts, max_attempts, lease_owner, "
                "lease_expires_at, created_at, updated_at) VALUES ('k', '{}', ?, ?, ?, ?, ?, ?, 'x', 'x')",
                status,
                T0 + due,
                attempts,
                max_attempts,
                "old" if status == "running" else None,
                lease_at,
            )
        before = tx.all("SELECT id, status, run_at, lease_expires_at, attempts, max_attempts FROM jobs")

    # when one claim runs at T0
    got = claim(db, "ref", limit=1000, now=T0, max_attempts=default_max)

    # then it ran exactly the jobs the reference says, gave up the ones it says, left the rest alone
    decide = {
        r["id"]: jobs.claim_decision(
            r["status"],
            r["run_at"],
            r["lease_expires_at"],
            r["attempts"],
            r["max_attempts"] or default_max,
            T0,
        )
        for r in before
    }
    assert sorted(j.id for j in got) == sorted(i for i, d in decide.items() if d == "run")
    with db.read() as tx:
        after = {r["id"]: r for r in tx.all("SELECT id, status, attempts FROM jobs")}
    for r in before:
        expect = {"run": ("running", r["attempts"] + 1), "give_up": ("failed", r["attempts"])}.get(
            decide[r["id"]], (r["status"], r["attempts"])
        )
        assert (after[r["id"]]["status"], after[r["id"]]["attempts"]) == expect, r


def test_concurrent_claimers_never_get_the_same_job(db: Database) -> None:
    # given 600 due jobs and eight threads claiming small batches as fast as they can
    with db.write() as tx:
        ids = {jobs.enqueue(tx, "k", {"i": i}) for i in range(600)}
    got: list[list[int]] = [[] for _ in range(8)]

    def claimer(n: int) -> None:
        while batch := claim(db, f"owner-{n}", limit=7, now=time.time()):
            got[n] += [j.id for j in batch]

    threads = [threading.Thread(target=claimer, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # then every job was claimed once, by one of them
    claimed = [i for g in got for i in g]
    assert sorted(claimed) == sorted(ids)
    assert sum(1 for g in got if g) > 1
