"""The per-stack event log (DESIGN §4): an append-only sequence of domain events.

Events are appended in the same transaction as the change they record. The stack row's
`event_seq` is bumped with an UPDATE, which locks the row on PostgreSQL and runs under the single
writer on SQLite, so positions are dense and commit in order: a reader that has seen position N has
seen every event before it.
"""

from __future__ import annotations

from typing import Any

from stackyard.ids import now
from stackyard.store.engine import Row, Tx, jdump, jload


def append(
    tx: Tx,
    api_key: str,
    type: str,
    module: str,
    object_uid: str,
    data: dict[str, Any] | None = None,
    *,
    branch: str = "main",
    locale: str | None = None,
) -> int:
    """Record `type` (e.g. "environment.create") for an object; answers its position."""
    seq = tx.scalar(
        "UPDATE stacks SET event_seq = event_seq + 1 WHERE api_key = ? RETURNING event_seq", api_key
    )
    if seq is None:
        raise LookupError(f"no stack {api_key}")
    tx.run(
        "INSERT INTO events (api_key, seq, branch, type, module, object_uid, locale, data, created_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        api_key,
        seq,
        branch,
        type,
        module,
        object_uid,
        locale,
        jdump(data or {}),
        now(),
    )
    return int(seq)


def since(tx: Tx, api_key: str, after: int = 0, limit: int = 100) -> list[Row]:
    """Events of a stack after position `after`, oldest first."""
    rows = tx.all(
        "SELECT seq, branch, type, module, object_uid, locale, data, created_at FROM events "
        "WHERE api_key = ? AND seq > ? ORDER BY seq LIMIT ?",
        api_key,
        after,
        limit,
    )
    for r in rows:
        r["data"] = jload(r["data"])
    return rows
