"""Locales (languages) of a stack, with fallback chains that always end at the master locale.

A locale's fallback must exist in the stack and may not lead back to itself; the master locale has
no fallback and cannot be deleted. Paths address a locale by its code.
"""

from __future__ import annotations

import re
from typing import Any

from stackyard.access.caller import StackAccess
from stackyard.access.policy import require, visible
from stackyard.core import cache, spine
from stackyard.errors import Conflict, UnprocessableEntity, invalid, not_found
from stackyard.ids import now, uid
from stackyard.store.engine import Row, Tx

CODE = re.compile(r"^[a-z]{2,3}(-[a-z0-9]{2,8}){0,2}$")
KNOWN_NAMES = {
    "en-us": "English - United States",
    "en-gb": "English - United Kingdom",
    "fr-fr": "French - France",
    "de-de": "German - Germany",
    "es-es": "Spanish - Spain",
    "it-it": "Italian - Italy",
    "ja-jp": "Japanese - Japan",
    "zh-cn": "Chinese - China",
    "pt-br": "Portuguese - Brazil",
    "nl-nl": "Dutch - Netherlands",
    "hi-in": "Hindi - India",
    "en": "English",
    "fr": "French",
    "de": "German",
    "es": "Spanish",
}


def insert(
    tx: Tx,
    api_key: str,
    code: str,
    name: str | None,
    fallback: str | None,
    user_uid: str,
    branch: str = "main",
) -> Row:
    t = now()
    tx.run(
        "INSERT INTO locales (api_key, branch, uid, code, name, fallback_locale, created_by, updated_by, created_at, updated_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        api_key,
        branch,
        uid(),
        code,
        name or KNOWN_NAMES.get(code, code),
        fallback,
        user_uid,
        user_uid,
        t,
        t,
    )
    return _row(tx, api_key, branch, code)


def _row(tx: Tx, api_key: str, branch: str, code: str) -> Row:
    found = tx.one(
        "SELECT * FROM locales WHERE api_key = ? AND branch = ? AND code = ?", api_key, branch, code.lower()
    )
    if found is None:
        raise not_found("Language")
    return found


def render(r: Row) -> dict[str, Any]:
    return {
        "uid": r["uid"],
        "code": r["code"],
        "name": r["name"],
        "fallback_locale": r["fallback_locale"],
        "ACL": [],
        "_version": r["version"],
        "created_by": r["created_by"],
        "updated_by": r["updated_by"],
        "created_at": r["created_at"],
        "updated_at": r["updated_at"],
    }


def chain(tx: Tx, api_key: str, code: str, branch: str = "main") -> list[str]:
    """The locale and its fallbacks in order, ending at the master locale: ['fr-ca', 'fr-fr', 'en-us']."""
    rows = {
        r["code"]: r["fallback_locale"]
        for r in tx.all(
            "SELECT code, fallback_locale FROM locales WHERE api_key = ? AND branch = ?", api_key, branch
        )
    }
    out: list[str] = []
    current: str | None = code
    while current and current in rows and current not in out:
        out.append(current)
        current = rows[current]
    return out


def exists(tx: Tx, api_key: str, code: str, branch: str = "main") -> bool:
    return code in codes(tx, api_key, branch)


def codes(tx: Tx, api_key: str, branch: str = "main") -> frozenset[str]:
    """The codes of the stack's locales in `branch`; read transactions share them (`core.cache`)."""

    def load() -> frozenset[str]:
        found = tx.all("SELECT code FROM locales WHERE api_key = ? AND branch = ?", api_key, branch)
        return frozenset(r["code"] for r in found)

    return cache.cached(tx, ("locales", api_key, branch), load, lambda _: cache.locale_tags(api_key, branch))


def find(tx: Tx, access: StackAccess) -> list[dict[str, Any]]:
    cond, params = visible(access, "locale", "code").sql()
    rows = tx.all(
        f"SELECT * FROM locales WHERE api_key = ? AND branch = ? AND {cond} ORDER BY created_at, code",
        access.api_key,
        access.branch,
        *params,
    )
    return [render(r) for r in rows]


def fetch(tx: Tx, access: StackAccess, code: str) -> dict[str, Any]:
    require(access, "locale", "read", code.lower())
    return render(_row(tx, access.api_key, access.branch, code))


def _check_fallback(tx: Tx, access: StackAccess, code: str, fallback: Any) -> str:
    master = str(access.stack["master_locale"])
    if fallback is None or fallback == "":
        return master
    if not isinstance(fallback, str) or not exists(tx, access.api_key, fallback.lower(), access.branch):
        raise invalid({"fallback_locale": ["must be the code of a locale of this stack."]})
    fallback = fallback.lower()
    if fallback == code:
        raise invalid({"fallback_locale": ["cannot be the locale itself."]})
    if code in chain(tx, access.api_key, fallback, access.branch):
        raise invalid({"fallback_locale": [f"would make a cycle: {fallback} already falls back to {code}."]})
    return fallback


def create(tx: Tx, access: StackAccess, data: dict[str, Any]) -> dict[str, Any]:
    require(access, "locale", "create")
    code = data.get("code")
    if not isinstance(code, str) or not CODE.match(code.lower()):
        raise invalid(
            {"code": ["is required and must be a locale code like 'fr-fr'."]}, "Language creation failed."
        )
    code = code.lower()
    name = data.get("name")
    if name is not None and (not isinstance(name, str) or not name.strip() or len(name) > 100):
        raise invalid({"name": ["must be a non-empty string of at most 100 characters."]})
    if exists(tx, access.api_key, code, access.branch):
        raise Conflict(
            f"The language '{code}' already exists in this stack.",
            errors={"code": ["is not unique."]},
            status=422,
        )
    fallback = _check_fallback(tx, access, code, data.get("fallback_locale"))
    r = insert(tx, access.api_key, code, name, fallback, access.caller.actor, access.branch)
    spine.record(tx, access, "locale.create", r["uid"], {"code": code, "name": r["name"]})
    return render(r)


def update(tx: Tx, access: StackAccess, code: str, data: dict[str, Any]) -> dict[str, Any]:
    require(access, "locale", "update", code.lower())
    r = _row(tx, access.api_key, access.branch, code)
    code = r["code"]
    name = data.get("name", r["name"])
    if not isinstance(name, str) or not name.strip() or len(name) > 100:
        raise invalid({"name": ["must be a non-empty string of at most 100 characters."]})
    if "code" in data and data["code"] != code:
        raise invalid({"code": ["cannot be changed."]})
    fallback = r["fallback_locale"]
    if "fallback_locale" in data:
        if code == access.stack["master_locale"]:
            if data["fallback_locale"] not in (None, ""):
                raise invalid({"fallback_locale": ["the master locale has no fallback."]})
        else:
            fallback = _check_fallback(tx, access, code, data["fallback_locale"])
    tx.run(
        "UPDATE locales SET name = ?, fallback_locale = ?, version = version + 1, updated_by = ?, updated_at = ? "
        "WHERE api_key = ? AND branch = ? AND code = ?",
        name.strip(),
        fallback,
        access.caller.actor,
        now(),
        access.api_key,
        access.branch,
        code,
    )
    spine.record(tx, access, "locale.update", r["uid"], {"code": code, "name": name})
    return render(_row(tx, access.api_key, access.branch, code))


def delete(tx: Tx, access: StackAccess, code: str) -> None:
    require(access, "locale", "delete", code.lower())
    r = _row(tx, access.api_key, access.branch, code)
    if r["code"] == access.stack["master_locale"]:
        raise UnprocessableEntity(
            "The master language cannot be deleted.", errors={"code": ["is the master locale."]}
        )
    # Locales that fell back to this one fall back to where it did.
    tx.run(
        "UPDATE locales SET fallback_locale = ? WHERE api_key = ? AND branch = ? AND fallback_locale = ?",
        r["fallback_locale"],
        access.api_key,
        access.branch,
        r["code"],
    )
    tx.run(
        "DELETE FROM locales WHERE api_key = ? AND branch = ? AND code = ?",
        access.api_key,
        access.branch,
        r["code"],
    )
    spine.record(tx, access, "locale.delete", r["uid"], {"code": r["code"], "name": r["name"]})
