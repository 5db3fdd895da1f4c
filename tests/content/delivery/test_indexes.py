"""Expression indexes for delivery filters and sorts: made by their consumer when a content type has
number or date fields, and used by the delivery's sorted queries on both engines."""

from __future__ import annotations

from typing import Any

from stackyard.content.delivery import indexes
from stackyard.store.query import leaf_sql
from tests.content.delivery.conftest import ARTICLE, Site


def _plan(site: Site, sql: str, *args: Any) -> str:
    db = site.live.db
    with db.write() as tx:
        if tx.dialect == "postgresql":
            tx.run("SET LOCAL enable_seqscan = off")
            rows = tx.all("EXPLAIN " + sql, *args)
            return "\n".join(str(next(iter(r.values()))) for r in rows)
        return "\n".join(str(r["detail"]) for r in tx.all("EXPLAIN QUERY PLAN " + sql, *args))


def test_the_consumer_indexes_number_fields_and_sorts_use_them(site: Site) -> None:
    assert indexes.fields_of(ARTICLE["content_type"]["schema"]) == ["rating"]
    consumer = indexes.consumer(site.live.db, site.live.settings, None)
    consumer.drain()
    with site.live.db.read() as tx:
        assert {"rating", "age", "pages"} <= indexes.existing(tx)
    # again: nothing new, nothing fails
    with site.live.db.write() as tx:
        assert indexes.ensure(tx, ARTICLE["content_type"]["schema"], 32) == []
        assert indexes.ensure(tx, [{"uid": "other", "data_type": "number"}], 0) == []
    with site.live.db.read() as tx:
        leaf = leaf_sql(tx.dialect, ARTICLE["content_type"]["schema"], "rating", table="p")
    assert leaf is not None
    sql = (
        "SELECT p.document FROM published p WHERE p.api_key = ? AND p.branch = 'main' AND p.environment = ? "
        f"AND p.kind = 'entry' AND p.content_type_uid = 'article' AND p.locale = 'en-us' AND {leaf.sql} >= 3 "
        f"AND {leaf.sql} IS NOT NULL ORDER BY {leaf.sql} DESC, p.uid LIMIT 25"
    )
    assert "published_v_rating" in _plan(site, sql, site.api_key, site.environments["production"])
