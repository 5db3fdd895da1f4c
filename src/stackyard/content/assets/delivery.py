"""Published assets as the delivery API serves them (catalogue §3.1, §4.2): list and fetch.

    env = delivery.environment(tx, caller, api_key, "production")
    items, count = delivery.find(tx, api_key, env, locale="en-us", skip=0, limit=100, count=True)

A delivery token reads the environments of its scope in its own stack only; anything else is the
401/412/422 a delivery client expects, in Contentstack's shape. The documents are the snapshots
publishing wrote (`published`, kind 'asset'); `publish_details` is the object for the environment
and locale asked. A missing or unpublished asset is 404/145 (§5 item 10).
"""

from __future__ import annotations

from typing import Any

from stackyard.access.caller import Caller
from stackyard.content.assets.records import asset_missing
from stackyard.errors import PreconditionFailed, Unauthorized, invalid
from stackyard.store.engine import Tx, jload


def environment(tx: Tx, caller: Caller, api_key: str | None, name: str | None) -> str:
    """The uid of the environment a delivery request names, after checking the token's scope."""
    if caller.kind != "delivery_token":
        raise Unauthorized("The access token is not valid.", error_code=105)
    if not api_key or caller.token_api_key != api_key:
        raise PreconditionFailed(error_code=109, errors={"api_key": ["is not valid."]})
    if not name:
        raise invalid({"environment": ["is required."]}, "The environment is required.")
    env = tx.one(
        "SELECT uid FROM environments WHERE api_key = ? AND (name = ? OR uid = ?)", api_key, name, name
    )
    allowed: set[str] = set()
    for rule in caller.token_scope:
        if rule.get("module") == "environment":
            allowed.update(str(e) for e in rule.get("environments") or [])
    if env is None or env["uid"] not in allowed:
        raise invalid(
            {"environment": [f"'{name}' is not an environment of this token."]},
            "The environment was not found.",
        )
    return str(env["uid"])


def _locale(tx: Tx, api_key: str, locale: str | None) -> str:
    if locale:
        return locale.lower()
    return str(tx.scalar("SELECT master_locale FROM stacks WHERE api_key = ?", api_key))


def shown(document: Any, base: str, dimension: bool) -> dict[str, Any]:
    """A published asset document as delivery shows it: its URL absolute under `base`."""
    doc = dict(jload(document))
    url = doc.get("url")
    if isinstance(url, str) and url.startswith("/"):
        doc["url"] = base + url
    for key in ("app_user_object_uid",):
        doc.pop(key, None)
    if not dimension:
        doc.pop("dimension", None)
    return doc


def find(
    tx: Tx,
    api_key: str,
    env: str,
    *,
    base: str = "",
    branch: str = "main",
    locale: str | None = None,
    skip: int = 0,
    limit: int = 100,
    count: bool = False,
    dimension: bool = False,
) -> tuple[list[dict[str, Any]], int | None]:
    where = "api_key = ? AND branch = ? AND environment = ? AND kind = 'asset' AND locale = ?"
    params = (api_key, branch, env, _locale(tx, api_key, locale))
    rows, total = tx.page("published", where, params, "published_at DESC, uid", skip, limit, count=count)
    return [shown(r["document"], base, dimension) for r in rows], total


def fetch(
    tx: Tx,
    api_key: str,
    env: str,
    asset_uid: str,
    *,
    base: str = "",
    branch: str = "main",
    locale: str | None = None,
    dimension: bool = False,
) -> dict[str, Any]:
    r = tx.one(
        "SELECT document FROM published WHERE api_key = ? AND branch = ? AND environment = ? AND kind = 'asset' "
        "AND uid = ? AND locale = ?",
        api_key,
        branch,
        env,
        asset_uid,
        _locale(tx, api_key, locale),
    )
    if r is None:
        raise asset_missing()
    return shown(r["document"], base, dimension)
