"""Live preview (catalogue §3.6): an entry's latest draft, in the delivery shape, in place of the
published copy.

    creds = Credentials(preview_token="cs...", management_token=None)
    scope = preview.scope(tx, creds, api_key, "production", None, lookup(tx, api_key, "production"))
    body, tags = preview.entry(tx, scope, "article", "blt1", ask, Draft(release_id=None, at=None))

A request is a preview when it carries `live_preview` (the hash the official SDK sends as a query
parameter; a header works too). It is authorized by the `preview_token` of a delivery token of the
stack (whose scope must hold the environment) or by a management token in `authorization` that may
read the content type's entries. Anything else is refused: no credential 401 (105), an unknown
preview token 401 (105), another stack's token 412 (109), an environment outside the token's scope
422 (141). The draft is the entry's current version in the CMA, or with `release_id` the version
that release deploys, or with `preview_timestamp` the last version saved by then. References
included with `include[]` and embedded entries are drafts too; embedded assets are the published
ones. `publish_details` is the published copy's in that environment and locale, when there is one.
Preview answers are never cached (`api.cda.cache_first` passes them by; `common.read`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from stackyard.access.caller import Caller
from stackyard.access.policy import require
from stackyard.access.resolve import authenticate, stack_access
from stackyard.content.delivery.ask import Ask
from stackyard.content.delivery.reader import Body, Read, not_found_entry
from stackyard.content.delivery.scope import Scope, resolve
from stackyard.content.entries.entries import render
from stackyard.errors import NotFound, Unauthorized, invalid
from stackyard.ids import digest
from stackyard.store.engine import Row, Tx, jload


@dataclass(frozen=True)
class Credentials:
    preview_token: str | None
    management_token: str | None


@dataclass(frozen=True)
class Draft:
    """Which draft: the current one, the one a release deploys, or the last saved by a time."""

    release_id: str | None = None
    at: str | None = None  # `preview_timestamp`, in the stored format (compares as text)


def timestamp(value: str | None) -> str | None:
    """`preview_timestamp` as stored times are written (`ids.now()`); 422 when it is no ISO time."""
    if not value:
        return None
    try:
        t = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise invalid(
            {"preview_timestamp": ["must be an ISO date-time."]}, "The preview timestamp is not valid."
        ) from None
    t = t.replace(tzinfo=UTC) if t.tzinfo is None else t.astimezone(UTC)
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"


def scope(
    tx: Tx,
    creds: Credentials,
    api_key: str | None,
    environment: str | None,
    branch: str | None,
    found: Row,
    content_type_uid: str,
) -> Scope:
    """The scope a preview reads as, after checking its credential (see the module text)."""
    if creds.preview_token:
        row = tx.one(
            "SELECT uid, api_key, scope FROM delivery_tokens WHERE preview_token_hash = ?",
            digest(creds.preview_token),
        )
        if row is None:
            raise Unauthorized("The preview token is not valid.", error_code=105)
        caller = Caller(
            kind="delivery_token",
            token_uid=row["uid"],
            token_api_key=row["api_key"],
            token_scope=tuple(jload(row["scope"])),
        )
        return resolve(tx, caller, api_key, environment, branch, found)
    if creds.management_token:
        manager = authenticate(tx, {"authorization": creds.management_token})
        access = stack_access(tx, manager, api_key, branch)
        require(access, "entry", "read", content_type_uid)
        name = (environment or "").strip()
        if found["env_uid"] is None:
            raise NotFound(
                f"The environment '{name}' was not found.",
                error_code=141,
                errors={"environment": ["is not valid."]},
            )
        return Scope(
            api_key=access.api_key,
            org_uid=access.org_uid,
            branch=access.branch,
            environment=str(found["env_uid"]),
            environment_name=str(found["env_name"]),
            master_locale=str(found["master_locale"]),
            token_uid=str(manager.token_uid),
            clock=int(found["clock"]),
        )
    raise Unauthorized(
        "Live preview needs a preview token (the preview_token header) or a management token "
        "(the authorization header).",
        error_code=105,
        errors={"preview_token": ["is required."]},
    )


class _DraftRead(Read):
    """A read whose entries (the one asked for and those it includes) are the latest drafts."""

    def fetch(self, wanted: set[tuple[str, str]]) -> dict[tuple[str, str], Any]:
        out: dict[tuple[str, str], Any] = {}
        uids = sorted({u for _, u in wanted})
        rank = {code: i for i, code in enumerate(self.chain)}
        s = self.scope
        for i in range(0, len(uids), 500):
            part = uids[i : i + 500]
            best: dict[tuple[str, str], Row] = {}
            for r in self.tx.all(
                f"SELECT * FROM entries WHERE api_key = ? AND branch = ? AND uid IN ({', '.join('?' * len(part))}) "
                f"AND locale IN ({', '.join('?' * len(self.chain))})",
                s.api_key,
                s.branch,
                *part,
                *self.chain,
            ):
                key = (r["content_type_uid"], r["uid"])
                if key in wanted and (key not in best or rank[r["locale"]] < rank[best[key]["locale"]]):
                    best[key] = r
            for key, r in best.items():
                doc = render(r)
                doc.pop("publish_details", None)
                out[key] = doc
        return out


def _saved(tx: Tx, s: Scope, row: Row, draft: Draft) -> Row | None:
    """The saved version the draft names (None: the current one); 422/141 when there is none."""
    if draft.release_id:
        release = tx.one(
            "SELECT uid FROM releases WHERE api_key = ? AND branch = ? AND uid = ?",
            s.api_key,
            s.branch,
            draft.release_id,
        )
        if release is None:
            raise NotFound(
                "The release was not found.", error_code=141, errors={"release_id": ["is not valid."]}
            )
        item = tx.one(
            "SELECT action, version FROM release_items WHERE api_key = ? AND release_uid = ? AND uid = ? "
            "AND locale = ? AND kind = 'entry'",
            s.api_key,
            draft.release_id,
            row["uid"],
            row["locale"],
        )
        if item is not None and item["action"] != "publish":
            raise not_found_entry()  # the release takes the entry down
        if item is None or item["version"] is None or item["version"] == row["version"]:
            return None
        version = int(item["version"])
    elif draft.at:
        version = tx.scalar(
            "SELECT MAX(version) FROM entry_versions WHERE api_key = ? AND branch = ? AND uid = ? AND locale = ? "
            "AND created_at <= ?",
            s.api_key,
            s.branch,
            row["uid"],
            row["locale"],
            draft.at,
        )
        if version is None:
            raise not_found_entry()  # it did not exist yet
        if int(version) == row["version"]:
            return None
    else:
        return None
    found = tx.one(
        "SELECT * FROM entry_versions WHERE api_key = ? AND branch = ? AND uid = ? AND locale = ? AND version = ?",
        s.api_key,
        s.branch,
        row["uid"],
        row["locale"],
        int(version),
    )
    if found is None:
        raise not_found_entry()
    return found


def entry(tx: Tx, s: Scope, ct_uid: str, uid: str, ask: Ask, draft: Draft) -> tuple[Body, list[str]]:
    """The entry's draft in the asked locale (or, with include_fallback, its fallback's)."""
    read = _DraftRead(tx, s, ct_uid, ask)
    rows = tx.all(
        "SELECT * FROM entries WHERE api_key = ? AND branch = ? AND uid = ? AND content_type_uid = ? "
        f"AND locale IN ({', '.join('?' * len(read.chain))})",
        s.api_key,
        s.branch,
        uid,
        ct_uid,
        *read.chain,
    )
    if not rows:
        raise not_found_entry()
    rank = {code: i for i, code in enumerate(read.chain)}
    row = min(rows, key=lambda r: rank[r["locale"]])
    doc = render(row, version=_saved(tx, s, row, draft))
    published = tx.one(
        "SELECT document FROM published WHERE api_key = ? AND branch = ? AND environment = ? AND kind = 'entry' "
        "AND uid = ? AND locale = ?",
        s.api_key,
        s.branch,
        s.environment,
        uid,
        read.locale,
    )
    doc.pop("publish_details", None)
    if published is not None:
        doc["publish_details"] = jload(published["document"]).get("publish_details")
    shaped = [doc]
    read.shape(shaped)
    body: Body = {"entry": shaped[0]}
    read.add_content_type(body)
    return body, read.tags
