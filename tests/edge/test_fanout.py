"""Two data-plane nodes and Redis (at 127.0.0.1:6379): a purge reaches both before its status is
1.0; a node that dies stops counting; a node restarted or back from being away serves nothing stale."""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Iterator

import httpx
import pytest

from stackyard.edge import fanout, purges
from stackyard.edge.proxy.plane import DataPlane
from stackyard.settings import Settings
from stackyard.store.engine import Database
from tests.conftest import wait_for
from tests.edge.conftest import DOMAIN, account, make_site
from tests.edge.origin import Origin, Seen

pytestmark = pytest.mark.timeout(60)
REDIS = "redis://127.0.0.1:6379/0"


@pytest.fixture
def hub() -> Iterator[fanout.RedisHub]:
    try:
        import redis

        redis.Redis.from_url(REDIS, socket_connect_timeout=1).ping()
    except Exception as e:
        pytest.skip(f"no Redis at {REDIS}: {e}")
    h = fanout.RedisHub(REDIS, node_ttl=1.5, prefix="stackyard-test:" + secrets.token_hex(4))
    old = fanout.use(h)
    yield h
    fanout.use(old)
    h.close()


class Nodes:
    def __init__(self, db: Database, settings: Settings, origin: Origin, hub: fanout.RedisHub) -> None:
        self.db, self.settings, self.origin, self.hub = db, settings, origin, hub
        self.caller = account(db)
        self.stack_id, self.site_id = make_site(db, self.caller, origin.port)
        self.version = {"n": 1}
        self.origin.routes["/page"] = lambda seen: (
            200,
            {"Cache-Control": "max-age=600", "X-Tag": "t1"},
            f"v{self.version['n']}".encode(),
        )
        self.planes: list[DataPlane] = []

    def start(self) -> DataPlane:
        plane = DataPlane(self.db, self.settings, hub=self.hub)
        plane.start("127.0.0.1", 0)
        wait_for(lambda: plane.trusted and plane.node_id in self.hub.live_nodes(), what="the node to join")
        self.planes.append(plane)
        return plane

    def get(self, plane: DataPlane, path: str = "/page") -> httpx.Response:
        with httpx.Client(base_url=f"http://127.0.0.1:{plane.port}", headers={"host": DOMAIN}) as c:
            return c.get(path)

    def purge(self) -> str:
        with self.db.write() as tx:
            return purges.request(tx, self.caller, self.stack_id, {"items": [{"url": "/page"}]})

    def progress(self, purge_id: str) -> float:
        with self.db.read() as tx:
            return purges.progress(tx, self.caller, self.stack_id, purge_id)


@pytest.fixture
def nodes(db: Database, edge_settings: Settings, origin: Origin, hub: fanout.RedisHub) -> Iterator[Nodes]:
    origin.reset()
    n = Nodes(db, edge_settings, origin, hub)
    yield n
    for plane in n.planes:
        plane.stop()


def test_a_purge_reaches_every_node_before_its_status_is_one(nodes: Nodes) -> None:
    a, b = nodes.start(), nodes.start()
    for plane in (a, b):
        nodes.get(plane)
        assert nodes.get(plane).headers["x-cache"] == "HIT"
    # Node b is busy (its loop blocked) when the purge arrives: the purge is not done until it applied it.
    release = threading.Event()
    assert b.loop is not None
    b.loop.call_soon_threadsafe(release.wait)
    nodes.version["n"] = 2
    purge_id = nodes.purge()
    wait_for(lambda: nodes.progress(purge_id) == 0.5, what="node a to confirm")
    release.set()
    wait_for(lambda: nodes.progress(purge_id) == 1.0, what="node b to confirm")
    assert nodes.get(a).text == "v2" and nodes.get(b).text == "v2"


def test_a_dead_node_stops_counting_and_a_restarted_one_serves_nothing_stale(nodes: Nodes) -> None:
    a, b = nodes.start(), nodes.start()
    nodes.get(a), nodes.get(b)
    b.stop(crashed=True)
    nodes.planes.remove(b)
    nodes.version["n"] = 2
    purge_id = nodes.purge()
    wait_for(lambda: nodes.progress(purge_id) == 1.0, what="the dead node's key to lapse")
    again = nodes.start()
    assert nodes.get(again).text == "v2" and nodes.get(a).text == "v2"


def test_a_node_that_was_away_drops_what_it_cached(nodes: Nodes) -> None:
    a = nodes.start()
    nodes.get(a)
    assert nodes.get(a).headers["x-cache"] == "HIT"
    a.set_trusted(False)  # what the hub does when the node's subscription or key lapses
    wait_for(lambda: not a.trusted, what="the node to stop trusting its cache")
    nodes.version["n"] = 2
    assert nodes.get(a).headers["x-cache"] == "MISS" and nodes.get(a).text == "v2"
    a.set_trusted(True)
    wait_for(lambda: a.trusted and len(a.cache) == 0, what="the node to drop its cache")
    nodes.version["n"] = 3
    assert nodes.get(a).text == "v3"


def test_configuration_changes_reach_every_node(nodes: Nodes) -> None:
    from stackyard.edge import sites

    a, b = nodes.start(), nodes.start()
    with nodes.db.write() as tx:
        sites.set_enabled(tx, nodes.caller, nodes.stack_id, nodes.site_id, False)
    wait_for(
        lambda: nodes.get(a).status_code == 403 and nodes.get(b).status_code == 403,
        what="both nodes to reload",
    )


def test_origin_seen_is_per_node(nodes: Nodes) -> None:
    a, b = nodes.start(), nodes.start()
    nodes.get(a), nodes.get(a), nodes.get(b)
    assert nodes.origin.count("/page") == 2
    seen: list[Seen] = nodes.origin.seen
    assert all(s.headers.get("x-forwarded-host") == DOMAIN for s in seen)


def test_a_node_away_longer_than_its_ttl_rejoins_empty(nodes: Nodes) -> None:
    a, b = nodes.start(), nodes.start()
    nodes.get(a), nodes.get(b)
    release = threading.Event()
    assert b.loop is not None
    b.loop.call_soon_threadsafe(release.wait)  # b stops answering anything, heartbeats included
    nodes.version["n"] = 2
    purge_id = nodes.purge()
    wait_for(lambda: b.node_id not in nodes.hub.live_nodes(), what="b's heartbeat to lapse")
    assert nodes.progress(purge_id) == 1.0  # every live node applied it
    release.set()
    wait_for(lambda: b.node_id in nodes.hub.live_nodes() and b.trusted, what="b to rejoin")
    assert nodes.progress(purge_id) == 1.0
    assert nodes.get(b).text == "v2"


def block(plane: DataPlane, release: threading.Event) -> None:
    """Block the node's loop until `release` is set; answers once it is blocked."""
    blocked = threading.Event()

    def hold() -> None:
        blocked.set()
        release.wait()

    assert plane.loop is not None
    plane.loop.call_soon_threadsafe(hold)
    assert blocked.wait(10)


def test_a_sender_that_waits_is_answered_when_the_last_node_confirms(nodes: Nodes) -> None:
    a, b = nodes.start(), nodes.start()
    nodes.get(a), nodes.get(b)
    # Given node b busy when the purge arrives
    release = threading.Event()
    block(b, release)
    nodes.version["n"] = 2
    message = purges.tag_purge([nodes.site_id], ["t1"])
    # When the sender waits a little: it is answered what is confirmed by then
    t = time.monotonic()
    assert nodes.hub.publish_purge(message, wait=0.3) == 0.5
    assert time.monotonic() - t >= 0.3
    # When it waits longer, b being released meanwhile: answered once b confirmed, not at the timeout
    threading.Timer(0.2, release.set).start()
    t = time.monotonic()
    assert nodes.hub.wait_purge(message["id"], 20.0) == 1.0
    assert time.monotonic() - t < 5.0
    assert nodes.get(a).text == "v2" and nodes.get(b).text == "v2"
    # And a purge every node applies at once is answered 1.0, as is a wait on it afterwards
    again = purges.tag_purge([nodes.site_id], ["t1"])
    assert nodes.hub.publish_purge(again, wait=5.0) == 1.0
    assert nodes.hub.wait_purge(again["id"], 5.0) == 1.0 and nodes.hub.progress(again["id"]) == 1.0


def test_a_wait_on_a_node_that_dies_ends_once_its_heartbeat_lapses(nodes: Nodes) -> None:
    nodes.start()
    b = nodes.start()
    release = threading.Event()
    block(b, release)  # b answers nothing, heartbeats included: as if dead
    try:
        t = time.monotonic()
        assert nodes.hub.publish_purge(purges.tag_purge([nodes.site_id], ["t1"]), wait=20.0) == 1.0
        assert time.monotonic() - t < 10.0  # the heartbeat (1.5 s) lapsed: only a counts
    finally:
        release.set()
