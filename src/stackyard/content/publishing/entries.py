"""Publishing entries: an `Action` applied now, in the caller's transaction.

Publishing (entry, environment, locale) writes the snapshot delivery serves: the copy of the entry
in that locale, or, when it is not localized there, the copy its fallback chain leads to (served
with `locale` = the source locale and `publish_details.locale` = the locale published to, §5 item
11). A version given applies to the copy in the action's `locale`; other copies publish their
latest. `with_references` publishes the entries it references too (transitively, each once), and
`all_localized` adds every locale the entry has its own copy in.
"""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any

from stackyard.access.caller import StackAccess
from stackyard.access.policy import require
from stackyard.content.entries import entries
from stackyard.content.publishing import actions, queue, snapshots
from stackyard.content.publishing.actions import PUBLISH, Action
from stackyard.errors import APIError, NotFound, not_found
from stackyard.ids import now
from stackyard.store.engine import Row, Tx, jload

MAX_REFERENCE_DEPTH = 5


def request(
    tx: Tx, access: StackAccess, act: Action, when: datetime | None, *, bulk_job: str | None = None
) -> str:
    """Publish or unpublish now (when `when` is None or past), or schedule it; either way a queue
    item records it. Answers the queue item's uid."""
    ct = entries.content_type(tx, access, act.content_type_uid, "publish")
    existing = entries.rows(tx, access, ct, act.uid)
    for code in act.locales:
        require(access, "entry", "publish", ct.uid, locale=code)
    due = when if when is not None and when.timestamp() > time.time() else None
    if due is None:
        perform(tx, access, act, loaded=(ct, existing))
    return _queue(tx, access, act, existing, due, bulk_job)


def _queue(
    tx: Tx, access: StackAccess, act: Action, existing: list[Row], due: datetime | None, bulk_job: str | None
) -> str:
    title = next((r["title"] for r in existing if r["locale"] == act.locale), existing[0]["title"])
    return queue.add(
        tx,
        access,
        type=act.kind,
        action=act.action,
        item_uid=act.uid,
        payload=act.payload(),
        title=title,
        content_type_uid=act.content_type_uid,
        locale=act.locale,
        version=act.version,
        environments=act.environments,
        locales=act.locales,
        when=due,
        bulk_job=bulk_job,
    )


def _run_queued(tx: Tx, access: StackAccess, row: Row) -> dict[str, Any]:
    act = Action.from_payload(jload(row["details"])["request"])
    # What was checked when it was scheduled may be gone by now: an environment, a language.
    actions.environments(tx, access, list(act.environments))
    actions.locales(tx, access, list(act.locales))
    done = perform(tx, access, act)
    return {"applied": [{"uid": u, "locale": c} for u, c in done]}


queue.runners[snapshots.ENTRY] = _run_queued


def perform(
    tx: Tx, access: StackAccess, act: Action, *, loaded: tuple[entries.Target, list[Row]] | None = None
) -> list[tuple[str, str]]:
    """Apply the action; answers the (entry uid, locale) copies it published or unpublished.
    `loaded`: the content type and the entry's rows, when the caller read them already.

    Everything that can refuse the action (no such entry, locale or version, no permission) is
    checked before the first write, so an action that fails has written nothing (without
    references: publishing those may meet a referenced entry's content type gone)."""
    if loaded is None:
        ct = entries.content_type(tx, access, act.content_type_uid, "publish")
        existing = entries.rows(tx, access, ct, act.uid)
    else:
        ct, existing = loaded
    codes = list(act.locales)
    if act.all_localized:
        codes += [r["locale"] for r in existing if r["locale"] not in codes]
    for code in codes:
        require(access, "entry", "publish", ct.uid, locale=code)
    if act.action != PUBLISH:
        return _unpublish(tx, access, act, codes)
    done = _publish(tx, access, act, ct, existing, codes)
    if act.with_references:
        done += _references(tx, access, act, codes, {act.uid})
    return done


def _unpublish(tx: Tx, access: StackAccess, act: Action, codes: list[str]) -> list[tuple[str, str]]:
    removed: list[tuple[str, str]] = []
    for env in act.environments:
        rows = snapshots.withdraw(
            tx, access, kind=snapshots.ENTRY, uid=act.uid, environment=env, locales=codes
        )
        removed += [(r["uid"], r["locale"]) for r in rows]
    return removed


def _publish(
    tx: Tx, access: StackAccess, act: Action, ct: entries.Target, existing: list[Row], codes: list[str]
) -> list[tuple[str, str]]:
    snaps = plan(tx, access, act, ct, existing, codes)
    snapshots.put_many(tx, access, snaps)
    return list(dict.fromkeys((s.uid, s.locale) for s in snaps))


def plan(
    tx: Tx, access: StackAccess, act: Action, ct: entries.Target, existing: list[Row], codes: list[str]
) -> list[snapshots.Snapshot]:
    """The snapshots publishing `act` writes, after every check (it writes nothing itself)."""
    stamp = now()
    user = access.caller.actor
    out: list[snapshots.Snapshot] = []
    for code in codes:
        source = next((r for r in existing if r["locale"] == code), None) or entries.fallback(
            tx, access, existing, code
        )
        if source is None:
            raise not_found()
        version = _version(tx, access, source, act) if source["locale"] == act.locale else None
        doc = entries.render(source, version=version)
        title = doc.get("title") if isinstance(doc.get("title"), str) else None
        for env in act.environments:
            document: dict[str, Any] = {
                **doc,
                "publish_details": {"environment": env, "locale": code, "time": stamp, "user": user},
            }
            out.append(
                snapshots.Snapshot(
                    kind=snapshots.ENTRY,
                    uid=act.uid,
                    content_type_uid=ct.uid,
                    environment=env,
                    locale=code,
                    source_locale=str(source["locale"]),
                    version=int(doc["_version"]),
                    title=title,
                    document=document,
                    published_at=stamp,
                    published_by=user,
                )
            )
    return out


def publish_chunk(tx: Tx, access: StackAccess, acts: list[Action], *, bulk_job: str) -> list[APIError | None]:
    """Publish many entries now (a bulk job's chunk: no references, no scheduling), reading their
    rows in one query and writing their snapshots in one round; answers, per action, the error
    that refused it (it wrote nothing) or None."""
    uids = list(dict.fromkeys(a.uid for a in acts))
    marks = ", ".join("?" * len(uids))
    by_uid: dict[str, list[Row]] = {}
    for r in tx.all(
        f"SELECT * FROM entries WHERE api_key = ? AND branch = ? AND uid IN ({marks}) "
        "ORDER BY uid, localized, created_at, locale",
        access.api_key,
        access.branch,
        *uids,
    ):
        by_uid.setdefault(r["uid"], []).append(r)
    outcomes: list[APIError | None] = []
    snaps: list[snapshots.Snapshot] = []
    for act in acts:
        try:
            ct = entries.content_type(tx, access, act.content_type_uid, "publish")
            existing = [r for r in by_uid.get(act.uid, []) if r["content_type_uid"] == ct.uid]
            if not existing:
                raise not_found()
            for code in act.locales:
                require(access, "entry", "publish", ct.uid, locale=code)
            snaps += plan(tx, access, act, ct, existing, list(act.locales))
        except APIError as e:
            outcomes.append(e)
            continue
        outcomes.append(None)
        _queue(tx, access, act, existing, None, bulk_job)
    snapshots.put_many(tx, access, snaps)
    return outcomes


def _version(tx: Tx, access: StackAccess, source: Row, act: Action) -> Row | None:
    """The saved version the action names (None: publish the current copy); 422 when there is none."""
    if act.version is None or act.version == source["version"]:
        return None
    found = tx.one(
        "SELECT * FROM entry_versions WHERE api_key = ? AND branch = ? AND uid = ? AND locale = ? AND version = ?",
        access.api_key,
        access.branch,
        source["uid"],
        source["locale"],
        act.version,
    )
    if found is None:
        raise not_found()
    return found


def _references(
    tx: Tx, access: StackAccess, act: Action, codes: list[str], seen: set[str], depth: int = 1
) -> list[tuple[str, str]]:
    """Publish what the entry references (latest versions, same targets), breadth first, each once."""
    if depth > MAX_REFERENCE_DEPTH:
        return []
    marks = ", ".join("?" * len(codes))
    refs = tx.all(
        "SELECT DISTINCT to_uid, to_content_type_uid FROM entry_references "
        f"WHERE api_key = ? AND branch = ? AND from_uid = ? AND from_locale IN ({marks}) ORDER BY to_uid",
        access.api_key,
        access.branch,
        act.uid,
        *codes,
    )
    done: list[tuple[str, str]] = []
    for ref in refs:
        if ref["to_uid"] in seen:
            continue
        seen.add(ref["to_uid"])
        child = Action(
            action=PUBLISH,
            kind=snapshots.ENTRY,
            uid=ref["to_uid"],
            content_type_uid=ref["to_content_type_uid"],
            environments=act.environments,
            locales=act.locales,
            locale=act.locale,
        )
        ct = entries.content_type(tx, access, child.content_type_uid, "publish")
        try:
            existing = entries.rows(tx, access, ct, child.uid)
        except NotFound:
            continue  # a reference to an entry deleted since: nothing to publish
        done += _publish(tx, access, child, ct, existing, codes)
        done += _references(tx, access, child, codes, seen, depth + 1)
    return done
