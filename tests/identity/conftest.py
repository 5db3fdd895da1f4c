"""Identity test helpers: servers with changed settings, and tokens read from the mail outbox."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from stackyard.identity import mail
from stackyard.settings import Settings
from stackyard.store.engine import Database
from tests.conftest import Live, start_server

ServeFactory = Callable[..., Live]


@pytest.fixture
def serve(db: Database, settings: Settings) -> Iterator[ServeFactory]:
    """Start a live server on the test database with some settings changed: `serve(lockout_seconds=1)`."""
    running: list[tuple[Any, Any]] = []

    def start(**overrides: Any) -> Live:
        changed = settings.replace(**overrides)
        server, thread, url = start_server(changed, db)
        running.append((server, thread))
        return Live(url=url, db=db, settings=changed)

    yield start
    for server, thread in running:
        server.should_exit = True
        thread.join(timeout=10)


def mailed_token(db: Database, email: str, prefix: str) -> str:
    """The newest token starting with `prefix` ('act' activation, 'rst' reset) mailed to `email`."""
    with db.read() as tx:
        messages = mail.outbox(tx, email)
    for message in messages:
        found = re.search(rf"\b({prefix}[0-9a-f]{{32}})\b", message["body"])
        if found:
            return found.group(1)
    raise AssertionError(f"no {prefix} token mailed to {email}: {[m['subject'] for m in messages]}")
