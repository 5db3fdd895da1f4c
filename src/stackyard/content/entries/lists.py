"""Listing the entries of a content type: one locale, or a locale with its fallback chain.

The `query` filter and `asc`/`desc` sorting compile to SQL through `store/query.py`, against the
content type's schema, so only its fields (and the system fields) can be named.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from stackyard.access.caller import StackAccess
from stackyard.access.policy import content_locales
from stackyard.content.entries.entries import content_type, in_locale, render
from stackyard.stacks import locales
from stackyard.store.engine import Tx
from stackyard.store.query import compile_query, order_by
from stackyard.store.query_regex import prepare


@dataclass
class Listing:
    """What a list request asks for, parsed by the route."""

    query: dict[str, Any] = field(default_factory=dict)
    locale: str | None = None
    include_fallback: bool = False
    skip: int = 0
    limit: int = 100
    asc: str | None = None
    desc: str | None = None
    count: bool = False  # count every match too (`include_count`): it visits them all, however small the page


def find(tx: Tx, access: StackAccess, ct_uid: str, ask: Listing) -> tuple[list[dict[str, Any]], int | None]:
    """A page of the content type's entries in a locale (optionally with fallback), and, when `ask.count`,
    how many match in all."""
    ct = content_type(tx, access, ct_uid, "read")
    # A locale the caller may not work in is refused (403), not answered as an empty page.
    code = in_locale(tx, access, ct, ask.locale, "read")
    prepare(tx)
    where = compile_query(tx.dialect, ct.schema, ask.query)
    if ask.asc or ask.desc:
        name = str(ask.asc or ask.desc)
        sort = order_by(tx.dialect, ct.schema, name, ask.asc is None)
        order_sql, order_params = sort.sql + ", uid", sort.params
    else:
        order_sql, order_params = "updated_at DESC, uid", []
    base: list[Any] = [access.api_key, access.branch, ct.uid]
    if ask.include_fallback:
        readable = content_locales(access)
        chain = locales.chain(tx, access.api_key, code, access.branch) or [code]
        chain = [c for c in chain if readable.admits(c)] or [code]
        rank = " ".join("WHEN ? THEN " + str(i) for i in range(len(chain)))
        source = (
            f"(SELECT e.*, ROW_NUMBER() OVER (PARTITION BY e.uid ORDER BY CASE e.locale {rank} END) AS rn "
            "FROM entries e WHERE e.api_key = ? AND e.branch = ? AND e.content_type_uid = ? "
            f"AND e.locale IN ({', '.join('?' * len(chain))})) AS t"
        )
        params: list[Any] = [*chain, *base, *chain]
        cond = "t.rn = 1"
    else:
        source = "entries"
        params = [*base, code]
        cond = "api_key = ? AND branch = ? AND content_type_uid = ? AND locale = ?"
    total = None
    if ask.count:
        total = int(
            tx.scalar(
                f"SELECT COUNT(*) AS n FROM {source} WHERE {cond} AND {where.sql}", *params, *where.params
            )
            or 0
        )
    found = tx.all(
        f"SELECT * FROM {source} WHERE {cond} AND {where.sql} ORDER BY {order_sql} LIMIT ? OFFSET ?",
        *params,
        *where.params,
        *order_params,
        ask.limit,
        ask.skip,
    )
    return [render(r) for r in found], total
