"""What a data-plane node knows of the CDN sites: a snapshot read from the database, by domain."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from stackyard.store.engine import Database, jload


@dataclass(frozen=True)
class Origin:
    hostname: str
    port: int
    secure_port: int
    path: str


@dataclass(frozen=True)
class Scope:
    path: str
    config: dict[str, Any]
    origins: tuple[Origin, ...]


@dataclass
class Site:
    id: str
    stack_id: str
    label: str
    enabled: bool
    scopes: list[Scope]  # longest path first; the root scope last
    certificate: tuple[str, str, str] | None = None  # (certificate PEM, key PEM, CA bundle)
    version: str = ""
    _by_path: dict[str, tuple[Scope, Origin | None, dict[str, Any]]] = field(default_factory=dict)

    def route(self, path: str) -> tuple[Scope, Origin | None, dict[str, Any]]:
        """The scope serving `path`, its origin (else the root scope's), and its configuration
        laid over the root scope's."""
        found = self._by_path.get(path)
        if found is not None:
            return found
        root = self.scopes[-1]
        scope = next((s for s in self.scopes if _under(path, s.path)), root)
        origin = (scope.origins or root.origins or (None,))[0]
        config = {**root.config, **scope.config} if scope is not root else root.config
        found = (scope, origin, config)
        if len(self._by_path) < 10000:
            self._by_path[path] = found
        return found


def _under(path: str, prefix: str) -> bool:
    return prefix == "/" or path == prefix or path.startswith(prefix.rstrip("/") + "/")


def load(db: Database) -> dict[str, Site]:
    """Every site with a root scope, by its domain (lowercase)."""
    with db.read() as tx:
        sites = tx.all("SELECT * FROM edge_sites")
        scopes = tx.all("SELECT * FROM edge_scopes")
        origins = tx.all("SELECT * FROM edge_origins ORDER BY priority, created_at")
        certs = {
            str(r["id"]): (str(r["certificate_pem"]), str(r["key_pem"]), str(r["ca_bundle"] or ""))
            for r in tx.all(
                "SELECT c.id, c.certificate_pem, c.key_pem, c.ca_bundle FROM edge_certificates c "
                "JOIN edge_sites s ON s.certificate_id = c.id"
            )
        }
    by_scope: dict[str, list[Origin]] = {}
    for o in origins:
        by_scope.setdefault(str(o["scope_id"]), []).append(
            Origin(str(o["hostname"]), int(o["port"]), int(o["secure_port"]), str(o["path"]))
        )
    by_site: dict[str, list[Scope]] = {}
    raw: dict[str, list[Any]] = {}
    for s in scopes:
        config = jload(s["configuration"]) or {}
        scope = Scope(str(s["path"]), config, tuple(by_scope.get(str(s["id"]), ())))
        by_site.setdefault(str(s["site_id"]), []).append(scope)
        raw.setdefault(str(s["site_id"]), []).append(
            [scope.path, config, [o.__dict__ for o in scope.origins]]
        )
    out: dict[str, Site] = {}
    for r in sites:
        site_scopes = sorted(by_site.get(str(r["id"]), []), key=lambda s: len(s.path), reverse=True)
        if not site_scopes or site_scopes[-1].path != "/":
            continue
        cert = certs.get(str(r["certificate_id"])) if r["certificate_id"] else None
        version = json.dumps(sorted(raw.get(str(r["id"]), [])), sort_keys=True, default=str)
        out[str(r["label"]).lower()] = Site(
            id=str(r["id"]),
            stack_id=str(r["stack_id"]),
            label=str(r["label"]).lower(),
            enabled=bool(r["enabled"]),
            scopes=site_scopes,
            certificate=cert,
            version=version,
        )
    return out
