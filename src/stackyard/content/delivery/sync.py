"""The Sync API (catalogue §3.5): everything published to an environment, then every change since,
read from the event spine.

    init(db, scope, Filters(content_type_uid="article"))   # pages of the published state
    resume(db, scope, token)                                # a pagination_token or a sync_token

**Init** reads the stack's event position P first, then pages through the published snapshots (100
a page, in a fixed key order, the next page after the last key). An item whose publish state
changed after P (a publish or unpublish event of it in that environment and locale) is left out:
the delta after P delivers it. So however the content changes between pages, every item ends up
delivered once, by the init or by the delta.

**Delta** (a sync token at position A) reads the matching events after A, oldest first, up to the
stack's position H read before them. Per item, the last event counts: an unpublish or delete is
delivered as such; a publish is delivered with the published document when that version is still
what is published (otherwise a later event, after H, will bring the item). A page that fills up
ends in a pagination token at its last event; otherwise the answer carries the sync token at H.

Filters chosen at init (content type, locale, start_from, types) live in the tokens, signed
(`sync_tokens`), so they persist across pages and syncs and cannot be changed or forged.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from stackyard.content.delivery import sync_tokens
from stackyard.content.delivery.scope import Scope
from stackyard.errors import UnprocessableEntity
from stackyard.store.engine import Database, Tx, jload

PAGE = 100
TYPES = (
    "entry_published",
    "entry_unpublished",
    "entry_deleted",
    "asset_published",
    "asset_unpublished",
    "asset_deleted",
    "content_type_deleted",
)
_EVENT_TYPES = {
    "entry.publish": "entry_published",
    "entry.unpublish": "entry_unpublished",
    "entry.delete": "entry_deleted",
    "asset.publish": "asset_published",
    "asset.unpublish": "asset_unpublished",
    "asset.delete": "asset_deleted",
    "content_type.delete": "content_type_deleted",
}
_PUBLISH_EVENTS = ("entry.publish", "entry.unpublish", "asset.publish", "asset.unpublish")


@dataclass
class Filters:
    content_type_uid: str | None = None
    locale: str | None = None
    start_from: str | None = None
    types: list[str] = field(default_factory=list)

    def wants(self, kind: str) -> bool:
        return not self.types or kind in self.types


def bad_token(name: str) -> UnprocessableEntity:
    return UnprocessableEntity(
        f"The {name.replace('_', ' ')} is not valid.", error_code=141, errors={name: ["is not valid."]}
    )


def parse_types(raw: str | None) -> list[str]:
    if not raw:
        return []
    out = [t.strip() for t in raw.split(",") if t.strip()]
    unknown = [t for t in out if t not in TYPES]
    if unknown:
        raise UnprocessableEntity(
            f"'{unknown[0]}' is not a sync type; use {', '.join(TYPES)}.", errors={"type": ["is not valid."]}
        )
    return out


def _position(tx: Tx, scope: Scope) -> int:
    return int(tx.scalar("SELECT event_seq FROM stacks WHERE api_key = ?", scope.api_key) or 0)


def _data(doc: Any) -> dict[str, Any]:
    d = dict(jload(doc))
    d.pop("ACL", None)
    d.pop("_in_progress", None)
    return d


def _item(kind: str, type_: str, ct: str, at: str, data: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": type_,
        "event_at": at,
        "content_type_uid": "sys_assets" if kind == "asset" else ct,
        "data": data,
    }


# -- init ---------------------------------------------------------------------------------------
def _state_where(scope: Scope, f: Filters, upto: int) -> tuple[str, list[Any]]:
    kinds = [k for k in ("entry", "asset") if f.wants(f"{k}_published")]
    if not kinds:
        return "1 = 0", []
    sql = [
        "p.api_key = ? AND p.branch = ? AND p.environment = ?",
        f"p.kind IN ({', '.join('?' * len(kinds))})",
        # changed after the init's position: the delta delivers it
        "NOT EXISTS (SELECT 1 FROM events e WHERE e.api_key = p.api_key AND e.object_uid = p.uid "
        "AND e.seq > ? AND e.environment = p.environment AND e.locale = p.locale "
        f"AND e.type IN ({', '.join('?' * len(_PUBLISH_EVENTS))}))",
    ]
    params: list[Any] = [scope.api_key, scope.branch, scope.environment, *kinds, upto, *_PUBLISH_EVENTS]
    if f.content_type_uid:
        sql.append("p.content_type_uid = ?")
        params.append(f.content_type_uid)
    if f.locale:
        sql.append("p.locale = ?")
        params.append(f.locale)
    if f.start_from:
        sql.append("p.published_at >= ?")
        params.append(f.start_from)
    return " AND ".join(sql), params


def _init_page(db: Database, scope: Scope, state: dict[str, Any]) -> dict[str, Any]:
    f = Filters(**state["f"])
    upto, skip = int(state["p"]), int(state.get("s", 0))
    last = state.get("l")
    with db.read() as tx:
        where, params = _state_where(scope, f, upto)
        total = state.get("n")
        if total is None:
            total = int(tx.scalar(f"SELECT COUNT(*) FROM published p WHERE {where}", *params) or 0)
        after, after_params = "", []
        if last:
            after = " AND (p.kind > ? OR (p.kind = ? AND (p.uid > ? OR (p.uid = ? AND p.locale > ?))))"
            after_params = [last[0], last[0], last[1], last[1], last[2]]
        rows = tx.all(
            "SELECT p.kind, p.uid, p.locale, p.content_type_uid, p.document, p.published_at FROM published p "
            f"WHERE {where}{after} ORDER BY p.kind, p.uid, p.locale LIMIT ?",
            *params,
            *after_params,
            PAGE + 1,
        )
    more = len(rows) > PAGE
    rows = rows[:PAGE]
    items = [
        _item(
            r["kind"],
            f"{r['kind']}_published",
            r["content_type_uid"],
            r["published_at"],
            _data(r["document"]),
        )
        for r in rows
    ]
    out: dict[str, Any] = {"items": items, "skip": skip, "limit": PAGE, "total_count": total}
    base = {"k": scope.api_key, "e": scope.environment, "b": scope.branch, "f": state["f"]}
    if more:
        r = rows[-1]
        page = {
            **base,
            "t": "init",
            "p": upto,
            "s": skip + PAGE,
            "n": total,
            "l": [r["kind"], r["uid"], r["locale"]],
        }
        out["pagination_token"] = sync_tokens.sign(db, page)
    else:
        out["sync_token"] = sync_tokens.sign(db, {**base, "t": "delta", "p": upto})
    return out


def init(db: Database, scope: Scope, f: Filters) -> dict[str, Any]:
    with db.read() as tx:
        upto = _position(tx, scope)
    return _init_page(db, scope, {"p": upto, "s": 0, "f": asdict(f)})


# -- delta --------------------------------------------------------------------------------------
def _delta(db: Database, scope: Scope, state: dict[str, Any], token: str) -> dict[str, Any]:
    f = Filters(**state["f"])
    after = int(state["p"])
    types = [e for e, t in _EVENT_TYPES.items() if f.wants(t)]
    with db.read() as tx:
        head = _position(tx, scope)
        sql = [
            "api_key = ? AND branch = ? AND seq > ? AND seq <= ?",
            f"type IN ({', '.join('?' * len(types))})" if types else "1 = 0",
            "(environment = ? OR environment IS NULL)",
        ]
        params: list[Any] = [scope.api_key, scope.branch, after, head, *types, scope.environment]
        if f.content_type_uid:
            sql.append("(content_type_uid = ? OR (type = 'content_type.delete' AND object_uid = ?))")
            params += [f.content_type_uid, f.content_type_uid]
        if f.locale:
            sql.append("(locale = ? OR locale IS NULL)")
            params.append(f.locale)
        if f.start_from:
            sql.append("created_at >= ?")
            params.append(f.start_from)
        where = " AND ".join(sql)
        found = tx.all(
            "SELECT seq, type, module, object_uid, locale, content_type_uid, version, created_at FROM events "
            f"WHERE {where} ORDER BY seq LIMIT ?",
            *params,
            PAGE,
        )
        full = len(found) == PAGE
        total = len(found)
        if full:
            total = int(tx.scalar(f"SELECT COUNT(*) FROM events WHERE {where}", *params) or 0)
        last: dict[tuple[str, str, str], dict[str, Any]] = {}
        for e in found:
            last.pop((e["module"], e["object_uid"], e["locale"] or ""), None)
            last[(e["module"], e["object_uid"], e["locale"] or "")] = e
        wanted = [e for e in last.values() if e["type"].endswith(".publish")]
        current: dict[tuple[str, str, str], Any] = {}
        for e in wanted:
            row = tx.one(
                "SELECT version, document FROM published WHERE api_key = ? AND branch = ? AND environment = ? "
                "AND kind = ? AND uid = ? AND locale = ?",
                scope.api_key,
                scope.branch,
                scope.environment,
                e["module"],
                e["object_uid"],
                e["locale"],
            )
            if row is not None and int(row["version"]) == int(e["version"] or 0):
                current[(e["module"], e["object_uid"], e["locale"] or "")] = row["document"]
    items: list[dict[str, Any]] = []
    for key, e in last.items():
        kind, uid, locale = key
        type_ = _EVENT_TYPES[e["type"]]
        ct = e["content_type_uid"] or ""
        if e["type"].endswith(".publish"):
            if key not in current:
                continue  # what is published now came later: a later event delivers it
            items.append(_item(kind, type_, ct, e["created_at"], _data(current[key])))
        elif e["type"] == "content_type.delete":
            items.append({"type": type_, "event_at": e["created_at"], "content_type_uid": uid, "data": {}})
        else:
            items.append(_item(kind, type_, ct, e["created_at"], {"uid": uid, "locale": locale}))
    base = {"k": scope.api_key, "e": scope.environment, "b": scope.branch, "f": state["f"], "t": "delta"}
    if full:
        return {
            "items": items,
            "skip": 0,
            "limit": PAGE,
            "total_count": total,
            "pagination_token": sync_tokens.sign(db, {**base, "p": int(found[-1]["seq"])}),
        }
    if not found and head == after:
        return {"items": [], "sync_token": token}
    out: dict[str, Any] = {"items": items}
    if items:
        out.update({"skip": 0, "limit": PAGE, "total_count": total})
    out["sync_token"] = sync_tokens.sign(db, {**base, "p": head})
    return out


def resume(db: Database, scope: Scope, token: str, name: str) -> dict[str, Any]:
    """Continue from a `pagination_token` or `sync_token` (`name` says which was sent)."""
    state = sync_tokens.verify(db, token, scope)
    if state is None or not isinstance(state.get("f"), dict) or not isinstance(state.get("p"), int):
        raise bad_token(name)
    try:
        Filters(**state["f"])
    except TypeError:
        raise bad_token(name) from None
    if state.get("t") == "init":
        return _init_page(db, scope, state)
    return _delta(db, scope, state, token)
