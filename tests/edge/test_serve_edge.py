"""`serve --edge-port` runs a data-plane node and the purge-on-publish consumer beside the API; the
demo puts a site in front of this server's delivery API, fetched even without --allow-private-outbound."""

from __future__ import annotations

import httpx

from stackyard.edge import demo, fanout
from stackyard.server.edge import EdgeBackground
from stackyard.settings import Settings
from stackyard.store.engine import Database
from tests.conftest import free_port
from tests.core.consumer_proc import make_stack
from tests.edge.origin import Origin


def test_edge_port_serves_the_demo_site_in_front_of_this_server(
    db: Database, settings: Settings, origin: Origin
) -> None:
    origin.reset()
    origin.route("/v3/content_types/article/entries", body=b"[]", Cache_Control="max-age=60")
    stack = make_stack(db)
    # The test origin stands in for this server's API: the settings say it listens on its port.
    s = settings.replace(port=origin.port, edge_port=free_port())
    assert demo.ensure(db, s, {"api_key": stack.api_key}) == {"edge_domain": demo.DOMAIN}
    assert any(
        "x-cache" in line for line in demo.text({"api_key": stack.api_key, "environment": "production"}, s)
    )
    old = fanout.use(fanout.LocalHub())
    edge = EdgeBackground(db, s)
    edge.start()
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{s.edge_port}", headers={"host": demo.DOMAIN}) as c:
            first = c.get("/v3/content_types/article/entries?environment=production")
            second = c.get("/v3/content_types/article/entries?environment=production")
            assert (first.headers["x-cache"], second.headers["x-cache"]) == ("MISS", "HIT")
            assert c.get("/", headers={"host": "unknown.test"}).status_code == 404
    finally:
        edge.stop()
        fanout.use(old)
    assert origin.count("/v3/content_types/article/entries") == 1
