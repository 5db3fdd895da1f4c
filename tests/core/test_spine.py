"""The event spine: one function records each change as an event and an audit entry, from one value,
with dense per-stack and global positions in commit order."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import stackyard
from stackyard.access.caller import Caller
from stackyard.core import events, spine
from stackyard.core.event_types import EVENT_TYPES
from stackyard.identity import organizations, users
from stackyard.stacks import stacks
from stackyard.store.engine import Database

SRC = Path(stackyard.__file__).parent
OWNERS = {"core/spine.py", "core/events.py", "core/audit.py"}


def _stack(db: Database, email: str = "spine@example.com") -> tuple[Caller, str]:
    with db.write() as tx:
        user_uid, _ = users.create(tx, email, password="correct horse battery")
        org_uid = organizations.create(tx, user_uid, "Spine org")
        caller = Caller(kind="user", user_uid=user_uid, request_id="req-1", remote_addr="127.0.0.1")
        api_key = stacks.create(tx, caller, {"name": "Spine"}, org_uid)
    return caller, api_key


def _in_threads(fn: Callable[[int], None], n: int) -> list[BaseException]:
    """`fn(0)` ... `fn(n - 1)` at once, each on its own thread; answers what they raised."""
    errors: list[BaseException] = []

    def run(i: int) -> None:
        try:
            fn(i)
        except BaseException as e:  # pragma: no cover - reported by the caller
            errors.append(e)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return errors


def _scope(db: Database, caller: Caller, api_key: str) -> spine.StackScope:
    with db.read() as tx:
        org = tx.scalar("SELECT org_uid FROM stacks WHERE api_key = ?", api_key)
    return spine.StackScope(caller, api_key, str(org))


def test_only_the_spine_writes_events_and_audit_entries() -> None:
    offenders = []
    pattern = re.compile(r"INSERT INTO (events|audit_logs)\b|\bevents\.buffer\(|\baudit\.write\(")
    for path in SRC.rglob("*.py"):
        rel = str(path.relative_to(SRC))
        if rel not in OWNERS and pattern.search(path.read_text(encoding="utf-8")):
            offenders.append(rel)
    assert offenders == []


def test_every_event_type_is_module_dot_action_with_a_payload_shape() -> None:
    for name, kind in EVENT_TYPES.items():
        assert re.fullmatch(r"[a-z_]+\.[a-z_]+", name), name
        assert kind.description.endswith("."), name
        for shape in kind.payload.values():
            assert set(shape.split("|")) <= {"str", "int", "bool", "list", "dict", "null"}, name


def test_record_refuses_unknown_types_and_drifting_payloads(db: Database) -> None:
    caller, api_key = _stack(db)
    scope = _scope(db, caller, api_key)
    with db.write() as tx:
        with pytest.raises(ValueError, match="unknown event type"):
            spine.record(tx, scope, "environment.rename", "u1", {"name": "x"})
        with pytest.raises(ValueError, match="payload keys"):
            spine.record(tx, scope, "environment.create", "u1", {"title": "x"})
        with pytest.raises(ValueError, match="must be str"):
            spine.record(tx, scope, "environment.create", "u1", {"name": 3})


def test_event_and_audit_entry_come_from_one_value(db: Database) -> None:
    caller, api_key = _stack(db)
    scope = _scope(db, caller, api_key)
    with db.write() as tx:
        spine.record(
            tx, scope, "entry.update", "blt1", {"title": "Hi"}, content_type="blog", locale="fr-fr", version=3
        )
    with db.read() as tx:
        event = events.after(tx, 0, api_key=api_key)[-1]
        audit = tx.one("SELECT * FROM audit_logs WHERE api_key = ? ORDER BY seq DESC LIMIT 1", api_key)
    assert audit is not None
    assert (event["type"], event["module"], event["object_uid"]) == ("entry.update", "entry", "blt1")
    assert (event["content_type_uid"], event["locale"], event["version"]) == ("blog", "fr-fr", 3)
    assert (event["actor_uid"], event["actor_kind"], event["request_id"]) == (
        caller.user_uid,
        "user",
        "req-1",
    )
    assert event["branch"] == "main" and event["data"] == {"title": "Hi"}
    assert (audit["module"], audit["event_type"], audit["actor_uid"]) == ("entry", "update", caller.user_uid)
    meta = events.render({"data": audit["metadata"]})["data"]
    assert meta == {"uid": "blt1", "title": "Hi", "content_type_uid": "blog", "locale": "fr-fr", "version": 3}


def test_a_rolled_back_write_leaves_no_event_and_no_gap(db: Database) -> None:
    caller, api_key = _stack(db)
    scope = _scope(db, caller, api_key)
    with db.read() as tx:
        before = events.last_position(tx)
    with pytest.raises(RuntimeError), db.write() as tx:
        spine.record(tx, scope, "environment.create", "e1", {"name": "gone"})
        raise RuntimeError("the write fails after recording")
    with db.write() as tx:
        spine.record(tx, scope, "environment.create", "e2", {"name": "kept"})
    with db.read() as tx:
        rows = events.after(tx, before)
    assert [(r["gseq"], r["object_uid"]) for r in rows] == [(before + 1, "e2")]


def test_positions_are_dense_per_stack_and_globally_under_concurrent_writers(db: Database) -> None:
    caller_a, key_a = _stack(db, "a@example.com")
    caller_b, key_b = _stack(db, "b@example.com")
    scopes = [_scope(db, caller_a, key_a), _scope(db, caller_b, key_b)]

    def writer(n: int) -> None:
        for i in range(25):
            with db.write() as tx:
                for scope in scopes[n % 2 :] + scopes[: n % 2]:  # both stacks, in either order
                    spine.record(tx, scope, "label.create", f"w{n}-{i}", {"name": "x"})

    assert _in_threads(writer, 4) == []
    with db.read() as tx:
        rows = events.after(tx, 0, limit=10_000)
    gseqs = [r["gseq"] for r in rows]
    assert gseqs == list(range(gseqs[0], gseqs[0] + len(gseqs)))
    for key in (key_a, key_b):
        seqs = [r["seq"] for r in rows if r["api_key"] == key]
        assert seqs == list(range(1, len(seqs) + 1))  # stack.create is 1, then 100 labels
        assert len(seqs) == 101
    # One transaction's events sit next to each other in the global order.
    by_tx: dict[str, list[int]] = {}
    for r in rows:
        if r["type"] == "label.create":
            by_tx.setdefault(r["object_uid"], []).append(r["gseq"])
    assert all(b - a == 1 for a, b in by_tx.values())


def test_many_events_in_one_transaction(db: Database) -> None:
    caller, api_key = _stack(db)
    scope = _scope(db, caller, api_key)
    with db.write() as tx:
        for i in range(10_000):
            spine.record(
                tx,
                scope,
                "entry.update",
                f"blt{i}",
                {"title": None},
                content_type="a",
                locale="en-us",
                version=1,
            )
    with db.read() as tx:
        rows = events.after(tx, 1, api_key=api_key, limit=20_000)
        assert tx.scalar("SELECT event_seq FROM stacks WHERE api_key = ?", api_key) == 10_001
    assert [r["seq"] for r in rows] == list(range(2, 10_002))


def test_the_stack_row_is_not_locked_while_a_writer_buffers_events(db: Database, pg_only: Any) -> None:
    """A long transaction that has recorded events does not block other writers of its stack until it
    commits: the counters are taken at its very end."""
    import psycopg

    caller, api_key = _stack(db)
    scope = _scope(db, caller, api_key)
    with db.write() as tx:
        for i in range(100):
            spine.record(tx, scope, "label.create", f"l{i}", {"name": "x"})
        with psycopg.connect(db.url, autocommit=True) as other:
            other.execute("SET lock_timeout = '2s'")
            other.execute("UPDATE stacks SET event_seq = event_seq WHERE api_key = %s", (api_key,))
            other.execute("UPDATE event_clock SET gseq = gseq WHERE id = 1")


@pytest.fixture
def pg_only(db: Database) -> None:
    if db.dialect != "postgresql":
        pytest.skip("row locks are a PostgreSQL matter; SQLite has one writer")


def test_a_deleted_stack_keeps_its_events_and_records_its_end(db: Database) -> None:
    caller, api_key = _stack(db)
    scope = _scope(db, caller, api_key)
    with db.write() as tx:
        spine.record(tx, scope, "stack.delete", "s1", {"name": "Spine"})
        tx.run("DELETE FROM stacks WHERE api_key = ?", api_key)
    with db.read() as tx:
        rows = events.after(tx, 0, api_key=api_key)
    assert [(r["seq"], r["type"]) for r in rows] == [(1, "stack.create"), (2, "stack.delete")]


def test_changes_without_a_stack_are_events_of_their_own_scope(db: Database) -> None:
    # given a user and their organization, and changes of each (no stack involved)
    caller, _ = _stack(db)
    org_uid = _scope(db, caller, _).org_uid
    with db.read() as tx:
        before = events.last_position(tx)
    with db.write() as tx:
        spine.record_user(tx, caller, "user.logout", str(caller.user_uid))
        spine.record_org(tx, caller, "organization.transfer_ownership", org_uid, {"to": "blt_new"})
        # edge and automation configuration is audited only
        spine.record_org(tx, caller, "edge_stack.create", org_uid, {"id": "s1", "name": "Edge"})
    with db.write() as tx:
        spine.record_user(tx, caller, "user.reset_password", str(caller.user_uid))
    with db.read() as tx:
        rows = events.after(tx, before)
        audited = [r["event_type"] for r in tx.all("SELECT event_type FROM audit_logs ORDER BY seq")]
    # then the logged ones are in the log, with dense positions in the stackless scope
    assert [(r["api_key"], r["seq"], r["type"], r["object_uid"]) for r in rows] == [
        (events.NO_STACK, 1, "user.logout", caller.user_uid),
        (events.NO_STACK, 2, "organization.transfer_ownership", org_uid),
        (events.NO_STACK, 3, "user.reset_password", caller.user_uid),
    ]
    assert rows[1]["org_uid"] == org_uid and rows[0]["org_uid"] is None
    assert [r["gseq"] for r in rows] == [before + 1, before + 2, before + 3]
    # and every one of them is audited
    assert audited[-4:] == ["logout", "transfer_ownership", "create", "reset_password"]
    assert not EVENT_TYPES["edge_stack.create"].logged and EVENT_TYPES["user.logout"].logged


def test_stackless_positions_stay_dense_under_concurrent_writers(db: Database) -> None:
    caller, api_key = _stack(db)
    scope = _scope(db, caller, api_key)

    def writer(n: int) -> None:
        for i in range(20):
            with db.write() as tx:
                spine.record_user(tx, caller, "user.logout", f"u{n}-{i}")
                if i % 2:
                    spine.record(tx, scope, "label.create", f"l{n}-{i}", {"name": "x"})

    assert _in_threads(writer, 4) == []
    with db.read() as tx:
        rows = events.after(tx, 0, api_key=events.NO_STACK, limit=1000)
    assert [r["seq"] for r in rows] == list(range(1, 81))
