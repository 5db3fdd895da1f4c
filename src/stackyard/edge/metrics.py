"""Traffic metrics counted by the data plane (StackPath `GET /cdn/v1/stacks/{stack}/metrics`).

Nodes count per site, platform and five-minute bucket: requests, cache hits and misses and bytes.
CDE is what the edge sent to users, CDO what it fetched from origins. A read sums the buckets into
the asked granularity (PT5M, PT1H, P1D, P1M; AUTO picks by the span) and answers StackPath's shape:

    {"series": [{"type": "AGGREGATE"|"SITE"|"PLATFORM", "key": ..., "metrics": [...],
                 "samples": [{"values": [usageTime, xferUsedTotalMB, requestsCountTotal, ...]}]}]}
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from stackyard.edge import fanout
from stackyard.edge.access import EdgeCaller, stack_row
from stackyard.errors import BadRequest
from stackyard.store.engine import Database, Tx

BUCKET = 300
METRICS = [
    "usageTime",
    "xferUsedTotalMB",
    "requestsCountTotal",
    "cacheHitsCountTotal",
    "cacheMissesCountTotal",
]
GRANULARITY = {"PT5M": 300, "PT1H": 3600, "P1D": 86400}
GROUPS = ("NONE", "ACCOUNT", "SITE", "PLATFORM", "POP", "REGION")
_UPSERT = (
    "INSERT INTO edge_metrics (site_id, platform, bucket, requests, hits, misses, bytes) VALUES (?, ?, ?, ?, ?, ?, ?) "
    "ON CONFLICT (site_id, platform, bucket) DO UPDATE SET requests = edge_metrics.requests + excluded.requests, "
    "hits = edge_metrics.hits + excluded.hits, misses = edge_metrics.misses + excluded.misses, "
    "bytes = edge_metrics.bytes + excluded.bytes"
)


def record(db: Database, counts: Mapping[tuple[str, str, int], list[int]]) -> None:
    """Add a node's counters ({(site, platform, bucket): [requests, hits, misses, bytes]})."""
    if not counts:
        return
    rows = [(s, p, b, *v) for (s, p, b), v in sorted(counts.items())]
    with db.write() as tx:
        tx.run_many(_UPSERT, rows)


def _time(value: str | None, name: str) -> int:
    if not value:
        raise BadRequest(f"{name} is required.", errors={name: ["is required (YYYY-MM-DDTHH:MM:SSZ)."]})
    try:
        t = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise BadRequest(
            f"{name} is not a date-time.", errors={name: ["must be YYYY-MM-DDTHH:MM:SSZ."]}
        ) from None
    if t.tzinfo is None:
        t = t.replace(tzinfo=UTC)
    return int(t.timestamp())


def _step(granularity: str, span: int) -> int | None:
    if granularity in ("", "AUTO"):
        return 300 if span <= 86400 else 3600 if span <= 31 * 86400 else 86400
    if granularity == "P1M":
        return None
    if granularity not in GRANULARITY:
        raise BadRequest(
            "granularity must be AUTO, PT5M, PT1H, P1D or P1M.", errors={"granularity": ["is not known."]}
        )
    return GRANULARITY[granularity]


def _slot(t: int, step: int | None) -> int:
    if step is not None:
        return t - t % step
    d = datetime.fromtimestamp(t, UTC)
    return int(datetime(d.year, d.month, 1, tzinfo=UTC).timestamp())


def _csv(value: str | None) -> list[str]:
    return [v for v in (value or "").split(",") if v.strip()]


def get(tx: Tx, caller: EdgeCaller, stack: str, query: Mapping[str, Any]) -> dict[str, Any]:
    stack_id = stack_row(tx, caller, stack)["id"]
    end = _time(query.get("end_date"), "end_date")
    start = _time(query.get("start_date"), "start_date")
    if start > end:
        raise BadRequest(
            "start_date is after end_date.", errors={"start_date": ["must not be after end_date."]}
        )
    step = _step(query.get("granularity") or "AUTO", end - start)
    platforms = _csv(query.get("platforms")) or ["CDE"]
    if any(p not in ("CDE", "CDO") for p in platforms):
        raise BadRequest("platforms may be CDE and CDO.", errors={"platforms": ["must be CDE or CDO."]})
    group_by = query.get("group_by") or "NONE"
    if group_by not in GROUPS:
        raise BadRequest(
            f"group_by must be one of {', '.join(GROUPS)}.", errors={"group_by": ["is not known."]}
        )
    sites = _csv(query.get("sites"))
    own = {str(r["id"]) for r in tx.all("SELECT id FROM edge_sites WHERE stack_id = ?", stack_id)}
    chosen = [s for s in sites if s in own] if sites else sorted(own)
    if not chosen:
        return {"series": []}
    marks = ", ".join("?" * len(chosen))
    pmarks = ", ".join("?" * len(platforms))
    rows = tx.all(
        f"SELECT site_id, platform, bucket, requests, hits, misses, bytes FROM edge_metrics WHERE site_id IN ({marks}) "
        f"AND platform IN ({pmarks}) AND bucket >= ? AND bucket <= ? ORDER BY bucket",
        *chosen,
        *platforms,
        start - start % BUCKET,
        end,
    )
    series: dict[tuple[str, str], dict[int, list[float]]] = {}
    for r in rows:
        if group_by == "SITE":
            key = ("SITE", str(r["site_id"]))
        elif group_by == "PLATFORM":
            key = ("PLATFORM", str(r["platform"]))
        else:
            key = ("AGGREGATE", "AGGREGATE" if group_by != "ACCOUNT" else caller.org_uid)
        slot = _slot(int(r["bucket"]), step)
        acc = series.setdefault(key, {}).setdefault(slot, [0.0, 0.0, 0.0, 0.0])
        acc[0] += int(r["bytes"])
        acc[1] += int(r["requests"])
        acc[2] += int(r["hits"])
        acc[3] += int(r["misses"])
    out = []
    for (kind, name), slots in sorted(series.items()):
        samples = [
            {"values": [float(t), round(v[0] / 1e6, 6), v[1], v[2], v[3]]} for t, v in sorted(slots.items())
        ]
        out.append({"type": kind, "key": name, "metrics": METRICS, "samples": samples})
    return {"series": out}


def flush() -> None:
    """Counters of this process's nodes go to the database before a read."""
    fanout.hub().flush_metrics()
