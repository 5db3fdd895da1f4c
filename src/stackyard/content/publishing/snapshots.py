"""Published snapshots (`published`): what delivery serves, per environment, locale and item.

Generic over entries and assets (`kind`). `put` writes one and `withdraw` removes some, each with
its `<kind>.publish` / `<kind>.unpublish` event in the caller's transaction; nothing else writes the
table. Deletions of what a snapshot came from (an entry or a locale of it, its content type, an
environment, a locale of the stack) call `withdraw` in their own transaction, so delivery never
serves an orphan and every consumer of the spine sees the unpublish.

This module imports no domain service, so the services that delete things can call it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from stackyard.core import spine
from stackyard.store import json_spans
from stackyard.store.engine import Row, Tx, jdump, jload

ENTRY, ASSET = "entry", "asset"


@dataclass(frozen=True)
class Snapshot:
    """One item version, published to one environment in one locale."""

    kind: str
    uid: str
    content_type_uid: str
    environment: str
    locale: str
    source_locale: str
    version: int
    title: str | None
    document: dict[str, Any]
    published_at: str
    published_by: str


def put(tx: Tx, scope: spine.Scope, s: Snapshot) -> None:
    """Publish: insert or replace the snapshot, and record `<kind>.publish`."""
    put_many(tx, scope, [s])


def put_many(tx: Tx, scope: spine.Scope, snaps: list[Snapshot]) -> None:
    """`put` for many snapshots, in one round of the driver."""
    tx.run_many(
        "INSERT INTO published (api_key, branch, environment, locale, kind, uid, content_type_uid, "
        "source_locale, version, document, spans, published_at, published_by) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
        "ON CONFLICT (api_key, branch, environment, kind, uid, locale) DO UPDATE SET "
        "content_type_uid = excluded.content_type_uid, source_locale = excluded.source_locale, "
        "version = excluded.version, document = excluded.document, spans = excluded.spans, "
        "published_at = excluded.published_at, published_by = excluded.published_by",
        [
            (
                scope.api_key,
                scope.branch,
                s.environment,
                s.locale,
                s.kind,
                s.uid,
                s.content_type_uid,
                s.source_locale,
                s.version,
                *document_columns(tx.dialect, s.kind, s.document),
                s.published_at,
                s.published_by,
            )
            for s in snaps
        ],
    )
    for s in snaps:
        spine.record(
            tx,
            scope,
            f"{s.kind}.publish",
            s.uid,
            {"title": s.title, "source_locale": s.source_locale},
            content_type=s.content_type_uid or None,
            locale=s.locale,
            environment=s.environment,
            version=s.version,
        )


def document_columns(dialect: str, kind: str, document: dict[str, Any]) -> tuple[str, str | None]:
    """The `document` and `spans` columns of a snapshot: the document's text and, for an entry on
    SQLite (which hands the text back as written), where its top-level arrays lie in that text
    (`json_spans`), which delivery splices included references into."""
    if kind == ENTRY and dialect == "sqlite":
        return json_spans.dump(document)
    return jdump(document), None


def withdraw(
    tx: Tx,
    scope: spine.Scope,
    *,
    kind: str | None = None,
    uid: str | None = None,
    content_type_uid: str | None = None,
    environment: str | None = None,
    locales: Iterable[str] | None = None,
    source_locale: str | None = None,
) -> list[Row]:
    """Unpublish every snapshot of the stack's branch that matches all the given filters, with a
    `<kind>.unpublish` event each; answers the rows removed (in a stable order)."""
    where, params = _where(
        scope,
        kind=kind,
        uid=uid,
        content_type_uid=content_type_uid,
        environment=environment,
        locales=locales,
        source_locale=source_locale,
    )
    rows = tx.all(
        "SELECT kind, uid, content_type_uid, environment, locale, version, document FROM published "
        f"WHERE {where} ORDER BY kind, uid, environment, locale",
        *params,
    )
    if not rows:
        return []
    tx.run(f"DELETE FROM published WHERE {where}", *params)
    for r in rows:
        spine.record(
            tx,
            scope,
            f"{r['kind']}.unpublish",
            r["uid"],
            {"title": _title(r["document"])},
            content_type=r["content_type_uid"] or None,
            locale=r["locale"],
            environment=r["environment"],
            version=r["version"],
        )
    return rows


def _title(document: Any) -> str | None:
    doc = jload(document) if isinstance(document, str | bytes) else document
    title = doc.get("title") if isinstance(doc, dict) else None
    return title if isinstance(title, str) else None


def _where(scope: spine.Scope, **filters: Any) -> tuple[str, list[Any]]:
    clauses = ["api_key = ?", "branch = ?"]
    params: list[Any] = [scope.api_key, scope.branch]
    locales = filters.pop("locales")
    for column, value in filters.items():
        if value is not None:
            clauses.append(f"{column} = ?")
            params.append(value)
    if locales is not None:
        codes = list(locales)
        if not codes:
            return "1 = 0", []
        clauses.append(f"locale IN ({', '.join('?' * len(codes))})")
        params.extend(codes)
    return " AND ".join(clauses), params


def details(
    tx: Tx, api_key: str, branch: str, kind: str, uids: list[str]
) -> dict[tuple[str, str], list[dict[str, Any]]]:
    """(uid, source locale) -> the CMA's `publish_details` of that copy: every (environment, locale,
    version, time, user) it is published to, including locales it is published to by fallback."""
    out: dict[tuple[str, str], list[dict[str, Any]]] = {}
    if not uids:
        return out
    marks = ", ".join("?" * len(uids))
    for r in tx.all(
        "SELECT uid, source_locale, environment, locale, version, published_at, published_by FROM published "
        f"WHERE api_key = ? AND branch = ? AND kind = ? AND uid IN ({marks}) ORDER BY environment, locale",
        api_key,
        branch,
        kind,
        *uids,
    ):
        out.setdefault((r["uid"], r["source_locale"]), []).append(
            {
                "environment": r["environment"],
                "locale": r["locale"],
                "time": r["published_at"],
                "user": r["published_by"],
                "version": r["version"],
            }
        )
    return out


def attach(tx: Tx, api_key: str, branch: str, kind: str, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The CMA items (entries or assets, each with `uid` and `locale`) with their `publish_details`."""
    found = details(tx, api_key, branch, kind, list(dict.fromkeys(str(i["uid"]) for i in items)))
    for item in items:
        item["publish_details"] = found.get((str(item["uid"]), str(item.get("locale", ""))), [])
    return items
