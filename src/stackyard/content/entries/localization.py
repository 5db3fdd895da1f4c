"""Which languages an entry has its own copy in, and unlocalizing a copy.

A locale without its own copy reads through the fallback chain (`entries.fetch` with
`include_fallback`); localizing is an update in that locale (`entries.update`). Unlocalizing
drops the copy, its versions and references, so reads fall back again. The locale an entry was
created in cannot be unlocalized.
"""

from __future__ import annotations

from typing import Any

from stackyard.access.caller import StackAccess
from stackyard.access.policy import content_locales
from stackyard.content.entries import entries
from stackyard.errors import UnprocessableEntity, not_found
from stackyard.store.engine import Tx


def languages(tx: Tx, access: StackAccess, ct_uid: str, entry_uid: str) -> list[dict[str, Any]]:
    """Every language of the stack the caller may work in, `localized` when the entry has its own
    copy in it."""
    ct = entries.content_type(tx, access, ct_uid, "read")
    have = {r["locale"] for r in entries.rows(tx, access, ct, entry_uid)}
    shown, params = content_locales(access, "code").sql()
    stack_codes = [
        r["code"]
        for r in tx.all(
            f"SELECT code FROM locales WHERE api_key = ? AND branch = ? AND {shown} ORDER BY created_at, code",
            access.api_key,
            access.branch,
            *params,
        )
    ]
    return [{"code": code, "localized": code in have} for code in stack_codes]


def unlocalize(tx: Tx, access: StackAccess, ct_uid: str, entry_uid: str, locale: str | None) -> None:
    ct = entries.content_type(tx, access, ct_uid, "update")
    code = entries.in_locale(tx, access, ct, locale, "update")
    existing = entries.rows(tx, access, ct, entry_uid, lock=True)
    current = next((r for r in existing if r["locale"] == code), None)
    if current is None:
        raise not_found()
    if not current["localized"] or len(existing) == 1:
        raise UnprocessableEntity(
            f"The entry was created in '{code}'; only localized copies can be unlocalized.",
            errors={"locale": ["is the entry's own language, not a localized copy."]},
        )
    entries.drop_locale(tx, access, entry_uid, code)
    entries.record(tx, access, ct, "unlocalize", current)
