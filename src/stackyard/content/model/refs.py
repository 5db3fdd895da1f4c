"""Which content model objects use which (table content_model_refs).

Rewritten whenever a content type or global field is saved, so "is this global field or extension
in use?" and "which content types refer to this one?" are indexed queries, not scans of every schema.
"""

from __future__ import annotations

from stackyard.content.model.schema import Lookup, Refs
from stackyard.store.engine import Tx

CONTENT_TYPE, GLOBAL_FIELD, EXTENSION = "content_type", "global_field", "extension"


def save(tx: Tx, api_key: str, branch: str, user_kind: str, user_uid: str, refs: Refs) -> None:
    forget(tx, api_key, branch, user_kind, user_uid)
    targets = (
        [(CONTENT_TYPE, u) for u in sorted(refs.content_types)]
        + [(GLOBAL_FIELD, u) for u in sorted(refs.global_fields)]
        + [(EXTENSION, u) for u in sorted(refs.extensions)]
    )
    for kind, uid in targets:
        tx.run(
            "INSERT INTO content_model_refs (api_key, branch, user_kind, user_uid, target_kind, target_uid) "
            "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
            api_key,
            branch,
            user_kind,
            user_uid,
            kind,
            uid,
        )


def forget(tx: Tx, api_key: str, branch: str, user_kind: str, user_uid: str) -> None:
    tx.run(
        "DELETE FROM content_model_refs WHERE api_key = ? AND branch = ? AND user_kind = ? AND user_uid = ?",
        api_key,
        branch,
        user_kind,
        user_uid,
    )


def users(
    tx: Tx, api_key: str, branch: str | None, target_kind: str, target_uid: str
) -> list[tuple[str, str]]:
    """(kind, uid) of every object that refers directly to the target; any branch when branch is None."""
    where, params = ("", ()) if branch is None else (" AND branch = ?", (branch,))
    rows = tx.all(
        f"SELECT DISTINCT user_kind, user_uid FROM content_model_refs WHERE api_key = ?{where} "
        "AND target_kind = ? AND target_uid = ? ORDER BY user_kind, user_uid",
        api_key,
        *params,
        target_kind,
        target_uid,
    )
    return [(r["user_kind"], r["user_uid"]) for r in rows]


def content_types_referring_to(tx: Tx, api_key: str, branch: str, ct_uid: str) -> list[str]:
    """Content types with a reference to `ct_uid`, directly or inside a global field they embed."""
    found: set[str] = set()
    seen_gf: set[str] = set()
    todo = users(tx, api_key, branch, CONTENT_TYPE, ct_uid)
    while todo:
        kind, uid = todo.pop()
        if kind == CONTENT_TYPE:
            found.add(uid)
        elif kind == GLOBAL_FIELD and uid not in seen_gf:
            seen_gf.add(uid)
            todo.extend(users(tx, api_key, branch, GLOBAL_FIELD, uid))
    return sorted(found)


def lookup(tx: Tx, api_key: str, branch: str) -> Lookup:
    """What schema validation asks about the stack, answered from this transaction."""

    def exists(table: str, uid: str, *, branched: bool = True) -> bool:
        if branched:
            sql = f"SELECT 1 AS x FROM {table} WHERE api_key = ? AND branch = ? AND uid = ?"
            return tx.one(sql, api_key, branch, uid) is not None
        return tx.one(f"SELECT 1 AS x FROM {table} WHERE api_key = ? AND uid = ?", api_key, uid) is not None

    def embeds(gf: str) -> set[str]:
        rows = tx.all(
            "SELECT target_uid FROM content_model_refs WHERE api_key = ? AND branch = ? AND user_kind = ? "
            "AND user_uid = ? AND target_kind = ?",
            api_key,
            branch,
            GLOBAL_FIELD,
            gf,
            GLOBAL_FIELD,
        )
        return {r["target_uid"] for r in rows}

    return Lookup(
        content_type_exists=lambda uid: exists("content_types", uid),
        global_field_exists=lambda uid: exists("global_fields", uid),
        global_field_embeds=embeds,
        extension_exists=lambda uid: exists("extensions", uid, branched=False),
    )
