"""A scope's CDN configuration (StackPath `custconfConfiguration`), and the blocks the data plane honours.

    PATCH {"configuration": {"cacheControl": [{"maxAge": 300}]}}   # replaces the blocks it names

Honoured (checked here, applied by `edge.proxy.policy`); entries of a list may carry `enabled`
(default true) and `pathFilter` (a glob such as `/static/*`; default every path), and get an `id`:

- `cacheControl[]`      `maxAge` seconds: the TTL of responses that carry no freshness of their own
                        (with `override: true`, of every response).
- `originPullPolicy[]`  `expirePolicy`: INCOMING_TTL (default: the origin's Cache-Control/Expires),
                        SPECIFY_CDN_TTL (`expireSeconds`), NEVER_EXPIRE, DO_NOT_CACHE; and
                        `honorNoStore`, `honorPrivate`, `honorNoCache` (default true).
- `staticHeader[]`      `http`: header lines added to responses; `originPull`: header lines added to
                        origin requests ("Name: value", one per line).
- `bypassCache[]`       `bypassCache: true`: matching paths are fetched from the origin every time.
- `gzipOriginPull`      `{"enabled": true}`: ask the origin for gzip (the edge compresses for
                        clients either way).
- `originPullProtocol`  `{"protocol": "HTTP" | "HTTPS" | "MATCH"}`: reach the origin over HTTP (its
                        `port`), HTTPS (its `securePort`) or the protocol the client used; without
                        it (or `UNKNOWN`), HTTPS only for an origin on port 443. `enableSNI` is kept
                        (the edge always sends SNI for a name, never for an address).

Any other block is kept as given and returned, but has no effect.
"""

from __future__ import annotations

import uuid
from typing import Any

from stackyard.core import spine
from stackyard.edge import fanout
from stackyard.edge.access import EdgeCaller
from stackyard.edge.sites import scope_row
from stackyard.errors import invalid
from stackyard.store.engine import Tx, jdump, jload

HONOURED = (
    "cacheControl",
    "originPullPolicy",
    "staticHeader",
    "bypassCache",
    "gzipOriginPull",
    "originPullProtocol",
)
PULL_PROTOCOLS = ("UNKNOWN", "HTTP", "HTTPS", "MATCH")
EXPIRE_POLICIES = ("INCOMING_TTL", "SPECIFY_CDN_TTL", "NEVER_EXPIRE", "DO_NOT_CACHE")
MAX_BLOCK_ENTRIES = 100
_BOOLS = ("enabled", "override", "honorNoStore", "honorPrivate", "honorNoCache", "bypassCache")
_INTS = ("maxAge", "expireSeconds")
_TEXTS = ("pathFilter", "http", "originPull")


def _entry(block: str, i: int, value: object) -> dict[str, Any]:
    where = f"configuration.{block}[{i}]"
    if not isinstance(value, dict):
        raise invalid({where: ["must be an object."]})
    out = dict(value)
    for key in _BOOLS:
        if key in out and not isinstance(out[key], bool):
            raise invalid({f"{where}.{key}": ["must be true or false."]})
    for key in _INTS:
        if key in out:
            v = out[key]
            if isinstance(v, str) and v.isdigit():
                v = out[key] = int(v)
            if not isinstance(v, int) or isinstance(v, bool) or not 0 <= v <= 10 * 365 * 86400:
                raise invalid({f"{where}.{key}": ["must be a number of seconds."]})
    for key in _TEXTS:
        if key in out and not isinstance(out[key], str):
            raise invalid({f"{where}.{key}": ["must be a string."]})
    if block == "originPullPolicy" and out.get("expirePolicy", "INCOMING_TTL") not in EXPIRE_POLICIES:
        raise invalid({f"{where}.expirePolicy": [f"must be one of {', '.join(EXPIRE_POLICIES)}."]})
    if block == "cacheControl" and "maxAge" not in out:
        raise invalid({f"{where}.maxAge": ["is required."]})
    for key in ("http", "originPull"):
        for line in str(out.get(key) or "").splitlines():
            if line.strip() and ":" not in line:
                raise invalid({f"{where}.{key}": ["must be 'Name: value' lines."]})
    out.setdefault("id", str(uuid.uuid4()))
    return out


def _pull_protocol(value: object) -> dict[str, Any]:
    where = "configuration.originPullProtocol"
    if not isinstance(value, dict):
        raise invalid({where: ['must be {"protocol": "HTTP" | "HTTPS" | "MATCH"}.']})
    out = dict(value)
    if out.get("protocol", "UNKNOWN") not in PULL_PROTOCOLS:
        raise invalid({f"{where}.protocol": [f"must be one of {', '.join(PULL_PROTOCOLS)}."]})
    if not isinstance(out.get("enableSNI", False), bool):
        raise invalid({f"{where}.enableSNI": ["must be true or false."]})
    out.setdefault("id", str(uuid.uuid4()))
    return out


def checked(data: dict[str, Any]) -> dict[str, Any]:
    """The blocks of an update, the honoured ones validated."""
    out: dict[str, Any] = {}
    for block, value in data.items():
        if block == "gzipOriginPull":
            if not isinstance(value, dict) or not isinstance(value.get("enabled", True), bool):
                raise invalid({"configuration.gzipOriginPull": ['must be {"enabled": true|false}.']})
            out[block] = value
        elif block == "originPullProtocol":
            out[block] = _pull_protocol(value)
        elif block in HONOURED:
            if not isinstance(value, list) or len(value) > MAX_BLOCK_ENTRIES:
                raise invalid(
                    {f"configuration.{block}": [f"must be a list of at most {MAX_BLOCK_ENTRIES} objects."]}
                )
            out[block] = [_entry(block, i, v) for i, v in enumerate(value)]
        else:
            out[block] = value
    return out


def get(tx: Tx, caller: EdgeCaller, stack: str, site_id: str, scope_id: str) -> dict[str, Any]:
    row = scope_row(tx, caller, stack, site_id, scope_id)
    return dict(jload(row["configuration"]) or {})


def update(
    tx: Tx, caller: EdgeCaller, stack: str, site_id: str, scope_id: str, body: dict[str, Any]
) -> dict[str, Any]:
    row = scope_row(tx, caller, stack, site_id, scope_id)
    inner = body.get("configuration")
    data: dict[str, Any] = inner if isinstance(inner, dict) else body
    changes = checked(data)
    merged = {**(jload(row["configuration"]) or {}), **changes}
    tx.run("UPDATE edge_scopes SET configuration = ? WHERE id = ?", jdump(merged), scope_id)
    spine.record_org(
        tx, caller, "edge_scope.configure", caller.org_uid, {"id": scope_id, "blocks": sorted(changes)}
    )
    tx.after_commit("edge.sites.changed", fanout.hub().config_changed)
    return merged
