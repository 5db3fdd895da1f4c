"""The event log (DESIGN §4): an append-only sequence of domain events, the spine's storage.

Each event has two positions: `seq`, dense per stack, and `gseq`, dense across all stacks; both
follow commit order, so a reader that has seen position N has seen every event before it. Events
are buffered in the writing transaction and appended at its very end (`Tx.before_commit`): the
stack rows' `event_seq` and the one `event_clock` row are taken there, in a fixed order (stacks by
api_key, then the clock), and held only until the commit that follows, however long the
transaction ran before. A transaction that appends 10,000 events takes each counter once and
inserts them with one `executemany`.

Only `core.spine.record` appends; consumers read with `after` (see `core.consumers`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from stackyard.ids import now
from stackyard.store.engine import Row, Tx, jdump, jload

# PostgreSQL channel the commit of new events is announced on (payload: the last gseq).
CHANNEL = "stackyard_events"
# The `api_key` of events that belong to no stack (`user.*`, `organization.*`): their own scope.
NO_STACK = ""
_PENDING = "events.pending"
_COLUMNS = (
    "api_key, seq, gseq, branch, type, module, object_uid, locale, content_type_uid, environment, "
    "version, org_uid, actor_uid, actor_kind, request_id, data, created_at"
)
_SELECT = (
    "SELECT gseq, seq, api_key, branch, type, module, object_uid, locale, content_type_uid, environment, "
    "version, org_uid, actor_uid, actor_kind, request_id, data, created_at FROM events"
)
# Called with the last global position after each commit that appended events (core.wakeup).
committed_listeners: list[Callable[[int], None]] = []


@dataclass(frozen=True)
class Pending:
    api_key: str
    branch: str
    type: str
    module: str
    object_uid: str
    org_uid: str | None
    actor_uid: str | None
    actor_kind: str | None
    request_id: str | None
    data: dict[str, Any]
    locale: str | None = None
    content_type_uid: str | None = None
    environment: str | None = None
    version: int | None = None


def buffer(tx: Tx, event: Pending) -> None:
    """Queue `event` for the end of `tx` (see the module docstring)."""
    pending: list[Pending] | None = tx.state.get(_PENDING)
    if pending is None:
        pending = tx.state[_PENDING] = []
        tx.before_commit(_PENDING, _flush)
    pending.append(event)


def _flush(tx: Tx) -> None:
    pending: list[Pending] = tx.state.pop(_PENDING, [])
    if not pending:
        return
    counts: dict[str, int] = {}
    for e in pending:
        counts[e.api_key] = counts.get(e.api_key, 0) + 1
    next_seq: dict[str, int] = {}
    rowless: list[str] = []
    for api_key in sorted(counts):
        last = None
        if api_key != NO_STACK:
            last = tx.scalar(
                "UPDATE stacks SET event_seq = event_seq + ? WHERE api_key = ? RETURNING event_seq",
                counts[api_key],
                api_key,
            )
        if last is None:
            rowless.append(api_key)
        else:
            next_seq[api_key] = int(last) - counts[api_key] + 1
    last_g = int(
        tx.scalar(
            "INSERT INTO event_clock (id, gseq) VALUES (1, ?) "
            "ON CONFLICT (id) DO UPDATE SET gseq = event_clock.gseq + excluded.gseq RETURNING gseq",
            len(pending),
        )
    )
    # Events without a stack row (`NO_STACK`, or a stack deleted in this transaction) continue
    # after the newest of their scope. Read once the clock is held: every appender takes the
    # clock, so no other transaction can be taking the same positions meanwhile.
    for api_key in rowless:
        next_seq[api_key] = (
            int(tx.scalar("SELECT COALESCE(MAX(seq), 0) FROM events WHERE api_key = ?", api_key)) + 1
        )
    g = last_g - len(pending) + 1
    t = now()
    rows = []
    for e in pending:
        seq = next_seq[e.api_key]
        next_seq[e.api_key] = seq + 1
        rows.append(
            (e.api_key, seq, g, e.branch, e.type, e.module, e.object_uid, e.locale, e.content_type_uid,
             e.environment, e.version, e.org_uid, e.actor_uid, e.actor_kind, e.request_id,
             jdump(e.data), t)
        )  # fmt: skip
        g += 1
    tx.run_many(f"INSERT INTO events ({_COLUMNS}) VALUES ({', '.join('?' * 17)})", rows)
    if tx.dialect == "postgresql":
        tx.run("SELECT pg_notify(?, ?)", CHANNEL, str(last_g))
    tx.after_commit(CHANNEL, lambda: _announce(last_g))


def _announce(last_gseq: int) -> None:
    for listener in list(committed_listeners):
        listener(last_gseq)


def render(row: Row) -> dict[str, Any]:
    row["data"] = jload(row["data"])
    return row


def after(tx: Tx, position: int = 0, *, api_key: str | None = None, limit: int = 100) -> list[Row]:
    """Events after `position`, oldest first: global positions (`gseq`) for all stacks, or, with
    `api_key`, that stack's own positions (`seq`)."""
    if api_key is None:
        rows = tx.all(f"{_SELECT} WHERE gseq > ? ORDER BY gseq LIMIT ?", position, limit)
    else:
        rows = tx.all(
            f"{_SELECT} WHERE api_key = ? AND seq > ? ORDER BY seq LIMIT ?", api_key, position, limit
        )
    return [render(r) for r in rows]


def last_position(tx: Tx) -> int:
    """The global position of the newest committed event (0 when there is none)."""
    return int(tx.scalar("SELECT gseq FROM event_clock WHERE id = 1") or 0)
