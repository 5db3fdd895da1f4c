"""Expression indexes on the published documents, so filters and sorts on number and date fields
stay fast at 100,000 entries: one index per top-level field name (`rating`, `published_on`...),
over the same typed expression the query compiler writes for it (`store.query.leaf_sql`).

    CREATE INDEX "published_v_rating" ON published (api_key, branch, environment, kind,
        content_type_uid, locale, (<typed value of $.rating>))

A consumer of the event spine (`consumer`, started by the server's background work) creates them
when a content type with such fields is created or changed, once across all processes (it
acknowledges in the transaction that creates the index). At most `delivery_indexes_max` such
indexes exist; every one costs each publish a little, so fields beyond that are left unindexed.
"""

from __future__ import annotations

import logging
from typing import Any

from stackyard.core.consumers import Consumer
from stackyard.settings import Settings
from stackyard.store.engine import Database, Row, Tx, jload
from stackyard.store.query import leaf_sql
from stackyard.store.query_paths import KEY

log = logging.getLogger("stackyard.delivery")
INDEXED_TYPES = ("number", "isodate")
PREFIX = "published_v_"
CONSUMER = "delivery-indexes"


def fields_of(schema: Any) -> list[str]:
    """Top-level single-valued number and date fields of a schema."""
    return [
        f["uid"]
        for f in schema or []
        if isinstance(f, dict)
        and f.get("data_type") in INDEXED_TYPES
        and not f.get("multiple")
        and isinstance(f.get("uid"), str)
        and KEY.match(f["uid"])
        and "-" not in f["uid"]
    ]


def existing(tx: Tx) -> set[str]:
    if tx.dialect == "sqlite":
        rows = tx.all("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'published'")
        names = [r["name"] for r in rows]
    else:
        names = [
            r["indexname"] for r in tx.all("SELECT indexname FROM pg_indexes WHERE tablename = 'published'")
        ]
    return {n[len(PREFIX) :] for n in names if n.startswith(PREFIX)}


def ensure(tx: Tx, schema: Any, most: int) -> list[str]:
    """Create the missing indexes for the fields of `schema` (up to `most` in all); answers the new ones."""
    have = existing(tx)
    made: list[str] = []
    for name in fields_of(schema):
        if name in have:
            continue
        if len(have) >= most:
            log.info("delivery: not indexing '%s': delivery_indexes_max (%d) reached", name, most)
            break
        leaf = leaf_sql(tx.dialect, schema, name, table="")
        if leaf is None or leaf.params:
            continue
        tx.run(
            f'CREATE INDEX IF NOT EXISTS "{PREFIX}{name}" ON published '
            f"(api_key, branch, environment, kind, content_type_uid, locale, ({leaf.sql}))"
        )
        have.add(name)
        made.append(name)
    return made


def _handle(most: int) -> Any:
    def handle(tx: Tx, events: list[Row]) -> None:
        for e in events:
            if e["type"] not in ("content_type.create", "content_type.update"):
                continue
            schema = tx.scalar(
                "SELECT schema FROM content_types WHERE api_key = ? AND branch = ? AND uid = ?",
                e["api_key"],
                e["branch"],
                e["object_uid"],
            )
            if schema is not None:
                ensure(tx, jload(schema), most)

    return handle


def consumer(db: Database, settings: Settings, wakeup: Any) -> Consumer:
    return Consumer.from_settings(
        db,
        settings,
        CONSUMER,
        handle_in_tx=_handle(settings.delivery_indexes_max),
        wakeup=wakeup,
        start="earliest",
    )
