"""The demo's edge: a stack and a CDN site (`cdn.demo.localhost`) in front of this server's delivery
API, in the demo stack's organization; `serve --demo` serves it on port 8081."""

from __future__ import annotations

from typing import Any

from stackyard.edge import sites, stacks
from stackyard.edge.access import EdgeCaller
from stackyard.settings import Settings
from stackyard.store.engine import Database

DOMAIN = "cdn.demo.localhost"


def ensure(db: Database, settings: Settings, info: dict[str, Any]) -> dict[str, Any]:
    """Create the demo site once; answers what the demo text shows of it."""
    with db.write() as tx:
        org = tx.scalar("SELECT org_uid FROM stacks WHERE api_key = ?", info.get("api_key"))
        if org is not None and not tx.scalar("SELECT 1 FROM edge_sites WHERE label = ?", DOMAIN):
            caller = EdgeCaller(str(org), "demo")
            stack_id = stacks.create(tx, caller, {"name": "Demo edge"})["id"]
            origin = {"hostname": settings.host, "port": settings.port}
            sites.create(tx, caller, stack_id, {"domain": DOMAIN, "origin": origin})
    return {"edge_domain": DOMAIN}


def text(info: dict[str, Any], settings: Settings) -> list[str]:
    """Lines of the demo banner: a curl that shows MISS, then HIT, then a fresh read after a publish."""
    host = settings.edge_host or settings.host
    url = f"http://{host}:{settings.edge_port}/v3/content_types/article/entries?environment={info.get('environment')}"
    curl = (
        f"curl -s -o /dev/null -D - '{url}' -H 'Host: {DOMAIN}' -H 'api_key: {info.get('api_key')}' "
        f"-H 'access_token: {info.get('delivery_token', '<delivery token>')}' | grep -i -E '^(x-cache|age):'"
    )
    return [
        f"  edge:          the data plane serves {DOMAIN} on {host}:{settings.edge_port}, in front of the delivery API",
        f"  try:           {curl}",
        "                 (run it twice: MISS, then HIT; publish an entry and the next one is fresh, a MISS again)",
    ]
