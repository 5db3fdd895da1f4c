"""CDN sites and their scopes and origins (StackPath §4.3, §4.4).

A site is created with a `domain` (its label: the Host the data plane answers for) and an `origin`
(`hostname`, `port`, `securePort`, `path`), with `type` or `features`. Creating it also creates
its root scope (`/`, platform CDS) with that origin at priority 1: every site has one. More scopes
take a path prefix; the data plane uses the longest scope path that prefixes a request's path, and
that scope's origins (lowest `priority` first, falling back to the root scope's).

After any change the data-plane nodes reload their sites (`fanout.hub().config_changed`).
"""

from __future__ import annotations

import re
import uuid
from typing import Any

from stackyard.core import spine
from stackyard.edge import fanout
from stackyard.edge.access import EdgeCaller, site_row, stack_row
from stackyard.errors import Conflict, NotFound, invalid
from stackyard.ids import now
from stackyard.store.engine import Row, Tx, jdump, jload

FIELDS = ("id", "stackId", "label", "status", "enabled", "type", "createdAt", "updatedAt")
TYPES = ("CDN", "WAF", "API")
FEATURES = ("CDN", "WAF")
_DOMAIN = re.compile(
    r"(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*"
)
_HOST = re.compile(r"[A-Za-z0-9.-]{1,253}|\[[0-9A-Fa-f:.]+\]|[0-9A-Fa-f:]+")


def render(row: Row) -> dict[str, Any]:
    return {
        "id": row["id"],
        "stackId": row["stack_id"],
        "label": row["label"],
        "status": row["status"],
        "enabled": bool(row["enabled"]),
        "type": row["type"],
        "features": jload(row["features"]),
        "createdAt": row["created_at"],
        "updatedAt": row["updated_at"],
    }


def _changed(tx: Tx) -> None:
    tx.after_commit("edge.sites.changed", fanout.hub().config_changed)


def find(tx: Tx, caller: EdgeCaller, stack: str) -> list[dict[str, Any]]:
    stack_id = stack_row(tx, caller, stack)["id"]
    return [
        render(r)
        for r in tx.all("SELECT * FROM edge_sites WHERE stack_id = ? ORDER BY created_at, id", stack_id)
    ]


def fetch(tx: Tx, caller: EdgeCaller, stack: str, site_id: str) -> dict[str, Any]:
    return render(site_row(tx, caller, stack, site_id))


def origin_of(data: object, field: str = "origin") -> dict[str, Any]:
    """An origin object checked: hostname required, ports 1..65535, path starting with /."""
    if not isinstance(data, dict):
        raise invalid({field: ["must be an object with at least a hostname."]})
    hostname = data.get("hostname")
    if not isinstance(hostname, str) or not _HOST.fullmatch(hostname.strip()):
        raise invalid({f"{field}.hostname": ["must be a host name or an IP address."]})
    out: dict[str, Any] = {"hostname": hostname.strip().lower()}
    for key, default in (("port", 80), ("securePort", 443)):
        value = data.get(key, default)
        if value in (None, ""):
            value = default
        try:
            number = int(value)
        except (TypeError, ValueError):
            raise invalid({f"{field}.{key}": ["must be a port number."]}) from None
        if not 0 < number < 65536:
            raise invalid({f"{field}.{key}": ["must be between 1 and 65535."]})
        out[key] = number
    path = data.get("path") or "/"
    if not isinstance(path, str) or not path.startswith("/") or any(c in path for c in "?#\r\n "):
        raise invalid({f"{field}.path": ["must be a path starting with /."]})
    out["path"] = path
    return out


def create(tx: Tx, caller: EdgeCaller, stack: str, data: dict[str, Any]) -> dict[str, Any]:
    stack_id = stack_row(tx, caller, stack)["id"]
    domain = data.get("domain") or data.get("label")
    if not isinstance(domain, str) or not _DOMAIN.fullmatch(domain.strip().lower().rstrip(".")):
        raise invalid({"domain": ["must be a fully qualified domain name."]})
    domain = domain.strip().lower().rstrip(".")
    origin = origin_of(data.get("origin"))
    features = data.get("features")
    kind = data.get("type")
    if features is None:
        features = ["WAF"] if kind == "WAF" else ["CDN"]
    if not isinstance(features, list) or not features or any(f not in FEATURES for f in features):
        raise invalid({"features": [f"must be a list out of {', '.join(FEATURES)}."]})
    if kind is None:
        kind = "WAF" if "WAF" in features else "CDN"
    if kind not in TYPES:
        raise invalid({"type": [f"must be one of {', '.join(TYPES)}."]})
    if tx.scalar("SELECT 1 FROM edge_sites WHERE label = ?", domain):
        raise Conflict(f"A site for {domain} already exists.")
    site_id, t = str(uuid.uuid4()), now()
    tx.run(
        "INSERT INTO edge_sites (id, stack_id, label, status, enabled, type, features, created_at, updated_at) "
        "VALUES (?, ?, ?, 'ACTIVE', 1, ?, ?, ?, ?)",
        site_id,
        stack_id,
        domain,
        kind,
        jdump(features),
        t,
        t,
    )
    configuration = data.get("configuration")
    scope_id = _insert_scope(
        tx, site_id, "/", "CDS", configuration if isinstance(configuration, dict) else {}
    )
    _insert_origin(tx, site_id, scope_id, origin, 1)
    spine.record_org(tx, caller, "edge_site.create", caller.org_uid, {"id": site_id, "label": domain})
    _changed(tx)
    return fetch(tx, caller, stack, site_id)


def delete(tx: Tx, caller: EdgeCaller, stack: str, site_id: str) -> None:
    row = site_row(tx, caller, stack, site_id)
    tx.run("DELETE FROM edge_origins WHERE site_id = ?", site_id)
    tx.run("DELETE FROM edge_scopes WHERE site_id = ?", site_id)
    tx.run("DELETE FROM edge_sites WHERE id = ?", site_id)
    spine.record_org(tx, caller, "edge_site.delete", caller.org_uid, {"id": site_id, "label": row["label"]})
    _changed(tx)


def set_enabled(tx: Tx, caller: EdgeCaller, stack: str, site_id: str, enabled: bool) -> None:
    row = site_row(tx, caller, stack, site_id)
    tx.run(
        "UPDATE edge_sites SET enabled = ?, status = ?, updated_at = ? WHERE id = ?",
        int(enabled),
        "ACTIVE" if enabled else "DISABLED",
        now(),
        site_id,
    )
    kind = "edge_site.enable" if enabled else "edge_site.disable"
    spine.record_org(tx, caller, kind, caller.org_uid, {"id": site_id, "label": row["label"]})
    _changed(tx)


def targets(tx: Tx, caller: EdgeCaller, stack: str, site_id: str, edge_host: str) -> dict[str, Any]:
    """Where to point the site's DNS: this edge's address."""
    site_row(tx, caller, stack, site_id)
    return {"addresses": [edge_host]}


# -- scopes ------------------------------------------------------------------------------------


def render_scope(row: Row) -> dict[str, Any]:
    return {"id": row["id"], "platform": row["platform"], "path": row["path"]}


def _insert_scope(tx: Tx, site_id: str, path: str, platform: str, configuration: dict[str, Any]) -> str:
    scope_id = str(uuid.uuid4())
    tx.run(
        "INSERT INTO edge_scopes (id, site_id, path, platform, configuration, created_at) VALUES (?, ?, ?, ?, ?, ?)",
        scope_id,
        site_id,
        path,
        platform,
        jdump(configuration),
        now(),
    )
    return scope_id


def scopes(tx: Tx, caller: EdgeCaller, stack: str, site_id: str) -> list[dict[str, Any]]:
    site_row(tx, caller, stack, site_id)
    rows = tx.all("SELECT * FROM edge_scopes WHERE site_id = ? ORDER BY path, created_at", site_id)
    return [render_scope(r) for r in rows]


def create_scope(
    tx: Tx, caller: EdgeCaller, stack: str, site_id: str, data: dict[str, Any]
) -> dict[str, Any]:
    site_row(tx, caller, stack, site_id)
    path = data.get("path", "/")
    platform = data.get("platform") or "CDS"
    if not isinstance(path, str) or not path.startswith("/") or any(c in path for c in "?#\r\n "):
        raise invalid({"path": ["must be a path starting with /."]})
    if not isinstance(platform, str) or not re.fullmatch(r"[A-Z0-9_]{1,20}", platform):
        raise invalid({"platform": ["must be a platform code such as CDS."]})
    if tx.scalar("SELECT 1 FROM edge_scopes WHERE site_id = ? AND path = ?", site_id, path):
        raise Conflict(f"The site already has a scope for {path}.")
    scope_id = _insert_scope(tx, site_id, path, platform, {})
    spine.record_org(
        tx, caller, "edge_scope.create", caller.org_uid, {"id": scope_id, "site_id": site_id, "path": path}
    )
    _changed(tx)
    row = tx.one("SELECT * FROM edge_scopes WHERE id = ?", scope_id)
    assert row is not None
    return render_scope(row)


def scope_row(tx: Tx, caller: EdgeCaller, stack: str, site_id: str, scope_id: str) -> Row:
    site_row(tx, caller, stack, site_id)
    row = tx.one("SELECT * FROM edge_scopes WHERE site_id = ? AND id = ?", site_id, scope_id)
    if row is None:
        raise NotFound(f"Scope {scope_id!r} was not found.", status=404)
    return row


def delete_scope(tx: Tx, caller: EdgeCaller, stack: str, site_id: str, scope_id: str) -> None:
    row = scope_row(tx, caller, stack, site_id, scope_id)
    if row["path"] == "/":
        raise invalid({"scope": ["the root scope cannot be deleted; every site has one."]})
    tx.run("DELETE FROM edge_origins WHERE scope_id = ?", scope_id)
    tx.run("DELETE FROM edge_scopes WHERE id = ?", scope_id)
    spine.record_org(
        tx,
        caller,
        "edge_scope.delete",
        caller.org_uid,
        {"id": scope_id, "site_id": site_id, "path": row["path"]},
    )
    _changed(tx)


# -- origins -----------------------------------------------------------------------------------


def render_origin(row: Row) -> dict[str, Any]:
    return {
        "id": row["id"],
        "path": row["path"],
        "hostname": row["hostname"],
        "port": row["port"],
        "securePort": row["secure_port"],
        "dedicated": bool(row["dedicated"]),
        "siteId": row["site_id"],
    }


def _insert_origin(tx: Tx, site_id: str, scope_id: str, origin: dict[str, Any], priority: int) -> str:
    origin_id = str(uuid.uuid4())
    tx.run(
        "INSERT INTO edge_origins (id, site_id, scope_id, hostname, port, secure_port, path, priority, dedicated, created_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, 1, ?)",
        origin_id,
        site_id,
        scope_id,
        origin["hostname"],
        origin["port"],
        origin["securePort"],
        origin["path"],
        priority,
        now(),
    )
    return origin_id


def origins(tx: Tx, caller: EdgeCaller, stack: str, site_id: str, scope_id: str) -> list[dict[str, Any]]:
    scope_row(tx, caller, stack, site_id, scope_id)
    rows = tx.all("SELECT * FROM edge_origins WHERE scope_id = ? ORDER BY priority, created_at", scope_id)
    return [{"priority": r["priority"], "origin": render_origin(r)} for r in rows]


def add_origin(
    tx: Tx, caller: EdgeCaller, stack: str, site_id: str, scope_id: str, data: dict[str, Any]
) -> dict[str, Any]:
    scope_row(tx, caller, stack, site_id, scope_id)
    existing = data.get("originId")
    if existing:
        found = tx.one("SELECT * FROM edge_origins WHERE site_id = ? AND id = ?", site_id, existing)
        if found is None:
            raise invalid({"originId": ["is not an origin of this site."]})
        origin = {
            "hostname": found["hostname"],
            "port": found["port"],
            "securePort": found["secure_port"],
            "path": found["path"],
        }
    else:
        origin = origin_of(data.get("origin"))
    priority = data.get("priority", 1)
    if not isinstance(priority, int) or isinstance(priority, bool) or not 0 <= priority <= 1000:
        raise invalid({"priority": ["must be an integer between 0 and 1000."]})
    origin_id = _insert_origin(tx, site_id, scope_id, origin, priority)
    spine.record_org(
        tx, caller, "edge_origin.create", caller.org_uid, {"id": origin_id, "scope_id": scope_id}
    )
    _changed(tx)
    row = tx.one("SELECT * FROM edge_origins WHERE id = ?", origin_id)
    assert row is not None
    return {"priority": priority, "origin": render_origin(row)}


def delete_origins(
    tx: Tx, caller: EdgeCaller, stack: str, site_id: str, scope_id: str, origin_id: str | None = None
) -> None:
    """Detach one origin, or (pystackpath's `origins().delete()`, which names none) all of the scope's."""
    scope_row(tx, caller, stack, site_id, scope_id)
    if origin_id is None:
        tx.run("DELETE FROM edge_origins WHERE scope_id = ?", scope_id)
    elif not tx.run("DELETE FROM edge_origins WHERE scope_id = ? AND id = ?", scope_id, origin_id):
        raise NotFound(f"Origin {origin_id!r} was not found.", status=404)
    spine.record_org(tx, caller, "edge_origin.delete", caller.org_uid, {"scope_id": scope_id})
    _changed(tx)
