"""Edge fixtures: an organization owner's API credential, the official pystackpath client pointed at
the live server (`pystackpath.BASE_URL` patched, as reference/stackpath_api.md §1 says), and for the
data-plane tests an origin, an account with a stack and a site in front of it, and a node serving it."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from stackyard.edge import fanout, purges, sites, stacks
from stackyard.edge.access import EdgeCaller
from stackyard.edge.proxy.plane import DataPlane
from stackyard.identity import organizations, users
from stackyard.settings import Settings
from stackyard.store.engine import Database
from tests.conftest import Live, User
from tests.edge.origin import Origin

DOMAIN = "cdn.test"


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


@dataclass
class Edge:
    db: Database
    settings: Settings
    plane: DataPlane
    origin: Origin
    caller: EdgeCaller
    stack_id: str
    site_id: str

    def client(self, host: str = DOMAIN, **headers: str) -> httpx.Client:
        return httpx.Client(
            base_url=f"http://127.0.0.1:{self.plane.port}", headers={"host": host, **headers}, timeout=10
        )

    def get(self, path: str, **headers: str) -> httpx.Response:
        with self.client(**headers) as c:
            return c.get(path)

    def purge(self, *items: dict[str, Any]) -> str:
        with self.db.write() as tx:
            return purges.request(tx, self.caller, self.stack_id, {"items": list(items)})

    def configure(self, **blocks: Any) -> None:
        configure(self.db, self.caller, self.stack_id, self.site_id, self.plane, blocks)


def configure(
    db: Database, caller: EdgeCaller, stack_id: str, site_id: str, plane: DataPlane, blocks: dict[str, Any]
) -> None:
    """Set configuration blocks on the site's root scope; answers once `plane` uses them."""
    from stackyard.edge import configuration

    with db.write() as tx:
        root = sites.scopes(tx, caller, stack_id, site_id)[0]["id"]
        configuration.update(tx, caller, stack_id, site_id, root, {"configuration": blocks})
    plane.reload_now()


@pytest.fixture(scope="module")
def origin() -> Iterator[Origin]:
    o = Origin()
    yield o
    o.close()


def account(db: Database, email: str = "edge@example.com") -> EdgeCaller:
    with db.write() as tx:
        user_uid, _ = users.create(tx, email, password_hash="x")
        org = organizations.create(tx, user_uid, "Edge org")
    return EdgeCaller(org, "test-client")


def make_site(
    db: Database, caller: EdgeCaller, origin_port: int, domain: str = DOMAIN, stack_id: str | None = None
) -> tuple[str, str]:
    with db.write() as tx:
        if stack_id is None:
            stack_id = stacks.create(tx, caller, {"name": "edge"})["id"]
        site = sites.create(
            tx, caller, stack_id, {"domain": domain, "origin": {"hostname": "127.0.0.1", "port": origin_port}}
        )
    return stack_id, site["id"]


@pytest.fixture
def edge_settings(settings: Settings) -> Settings:
    return settings.replace(
        allow_private_outbound=True, edge_metrics_flush_seconds=3600, edge_config_refresh_seconds=3600
    )


@pytest.fixture
def edge(db: Database, edge_settings: Settings, origin: Origin) -> Iterator[Edge]:
    origin.reset()
    old = fanout.use(fanout.LocalHub())
    caller = account(db)
    stack_id, site_id = make_site(db, caller, origin.port)
    plane = DataPlane(db, edge_settings)
    plane.start("127.0.0.1", 0)
    try:
        yield Edge(db, edge_settings, plane, origin, caller, stack_id, site_id)
    finally:
        plane.stop()
        fanout.use(old)
