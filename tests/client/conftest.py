"""Fixtures for SDK tests: a management `Client` pointed at the live server (both engines)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from stackyard.client.management import Client
from tests.conftest import Live, User


@pytest.fixture
def sdk(live: Live, owner: User) -> Iterator[Client]:
    """A client signed in as the stack owner (no retries, so faults surface at once)."""
    with Client(base_url=live.url, authtoken=owner.authtoken, max_retries=0) as client:
        yield client
