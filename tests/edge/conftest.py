"""Edge fixtures: an organization owner's API credential, and the official pystackpath client
pointed at the live server (`pystackpath.BASE_URL` patched, as reference/stackpath_api.md §1 says)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from tests.conftest import Live, User


@dataclass
class Credential:
    client_id: str
    client_secret: str
    account_id: str


def create_credential(live: Live, user: User, name: str = "ci", org_uid: str | None = None) -> Credential:
    org = org_uid or user.org_uid
    with live.client(authtoken=user.authtoken) as c:
        r = c.post(f"/identity/v1/accounts/{org}/credentials", json={"name": name})
        assert r.status_code == 200, r.text
        body = r.json()["credential"]
    return Credential(body["client_id"], body["client_secret"], body["account_id"])


@pytest.fixture
def credential(live: Live, owner: User) -> Credential:
    return create_credential(live, owner)


@pytest.fixture
def sp(live: Live, credential: Credential, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    import pystackpath

    monkeypatch.setattr(pystackpath, "BASE_URL", live.url)
    yield pystackpath.Stackpath(credential.client_id, credential.client_secret)
