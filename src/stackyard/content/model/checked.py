"""Content types and global fields validated before their write transaction, not inside it.

Checking a schema is CPU work plus lookups of the stack's content model. Inside the write it would
hold SQLite's one writer lock (every write of the process waits) or a PostgreSQL connection all the
while. So routes check in a read transaction, then hand the result to the write:

    with db.read() as tx:
        ahead = content_types.check(tx, access, data)
    with db.write() as tx:
        content_types.create(tx, access, data, ahead)

The write uses the result only if nothing in the stack changed since the check began: the stack's
event position (`stacks.event_seq`) is what it was. Every write to a stack's content types, global
fields and extensions records an event (`core.spine`; a test holds every write site to it), and
the position moves when such a write commits, so an unchanged position means the lookups would
answer the same. Otherwise the write checks again, inside itself, as it always did. The position
is read before the lookups, so a change committed between them also counts as a change.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from stackyard.access.caller import StackAccess
from stackyard.content.model.schema import Refs
from stackyard.store.engine import Tx

Prepared = tuple[dict[str, Any], Refs]


@dataclass(frozen=True)
class Checked:
    """The object to store and what it refers to, as checked at the stack's event `position`."""

    data: dict[str, Any]
    prepared: Prepared
    position: int


def position(tx: Tx, api_key: str) -> int:
    """The stack's event position: it moves with every committed write that records an event."""
    return int(tx.scalar("SELECT event_seq FROM stacks WHERE api_key = ?", api_key) or 0)


def reuse(tx: Tx, access: StackAccess, ahead: Checked | None, data: dict[str, Any]) -> Prepared | None:
    """The result of the check made ahead for this very body, if the stack has not changed since."""
    if ahead is None or ahead.data is not data or position(tx, access.api_key) != ahead.position:
        return None
    return ahead.prepared
