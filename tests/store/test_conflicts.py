"""A lost race on a database constraint is a 409, on both engines; other errors stay errors."""

from __future__ import annotations

import pytest

from stackyard.errors import Conflict
from stackyard.store.conflicts import as_conflict
from stackyard.store.engine import Database


def test_duplicate_key_is_a_conflict(db: Database) -> None:
    insert = (
        "INSERT INTO outbox (uid, to_addr, subject, body, created_at) VALUES ('m1', 'a@b.c', 's', 'b', 't')"
    )
    with db.write() as tx:
        tx.run(insert)
    with pytest.raises(Exception) as caught, db.write() as tx:
        tx.run(insert)
    conflict = as_conflict(caught.value)
    assert isinstance(conflict, Conflict) and conflict.status == 409 and conflict.error_code == 163
    with db.read() as tx:
        assert tx.scalar("SELECT COUNT(*) AS n FROM outbox") == 1


def test_other_database_errors_are_not_conflicts(db: Database) -> None:
    with pytest.raises(Exception) as caught, db.read() as tx:
        tx.all("SELECT no_such_column FROM outbox")
    assert as_conflict(caught.value) is None
