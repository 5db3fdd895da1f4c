"""What the cache tests share: a second handle on the test database, another process's view of it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from stackyard.store.engine import Database, Tx


@pytest.fixture
def other(db: Database) -> Iterator[Database]:
    """A second handle on the test database, with its own cache: another process's view of it."""
    handle = Database(db.url, pool_size=2)
    yield handle
    handle.close()


def through(handle: Database, fn: Callable[[Tx], Any]) -> Any:
    """`fn` in a read transaction of `handle`."""
    with handle.read() as tx:
        return fn(tx)
