"""Publishing environments of a stack, addressed by name, with a URL per locale."""

from __future__ import annotations

from typing import Any

from stackyard.access.caller import StackAccess
from stackyard.access.policy import require, visible
from stackyard.core import spine
from stackyard.errors import UnprocessableEntity, invalid, not_found
from stackyard.ids import now, uid
from stackyard.stacks import locales
from stackyard.store.engine import Row, Tx, jdump, jload

NAME_LIMIT = 100


def _row(tx: Tx, api_key: str, name: str) -> Row:
    found = tx.one("SELECT * FROM environments WHERE api_key = ? AND name = ?", api_key, name)
    if found is None:
        raise not_found("Environment")
    return found


def render(r: Row) -> dict[str, Any]:
    return {
        "uid": r["uid"],
        "name": r["name"],
        "urls": jload(r["urls"]),
        "ACL": [],
        "_version": r["version"],
        "created_by": r["created_by"],
        "updated_by": r["updated_by"],
        "created_at": r["created_at"],
        "updated_at": r["updated_at"],
    }


def _validate(
    tx: Tx, access: StackAccess, data: dict[str, Any], *, partial: bool
) -> tuple[str | None, list[dict[str, str]] | None]:
    errors: dict[str, list[str]] = {}
    name = data.get("name")
    if name is None and partial:
        pass
    elif not isinstance(name, str) or not name.strip() or len(name) > NAME_LIMIT or "/" in name:
        errors["name"] = [f"is required: a string of 1 to {NAME_LIMIT} characters without '/'."]
    urls = data.get("urls")
    clean: list[dict[str, str]] | None = None
    if urls is None:
        clean = None if partial else []
    elif not isinstance(urls, list):
        errors["urls"] = ["must be a list of {locale, url}."]
    else:
        clean = []
        for i, item in enumerate(urls):
            if (
                not isinstance(item, dict)
                or not isinstance(item.get("locale"), str)
                or not isinstance(item.get("url", ""), str)
            ):
                errors[f"urls.{i}"] = ["must be an object with a locale code and a url string."]
                continue
            code = item["locale"].lower()
            if not locales.exists(tx, access.api_key, code, access.branch):
                errors[f"urls.{i}.locale"] = [f"'{code}' is not a locale of this stack."]
                continue
            clean.append({"locale": code, "url": item.get("url", "")})
    if errors:
        raise invalid(errors, "Environment could not be saved. Please check the data.")
    return (name.strip() if isinstance(name, str) else None), clean


def find(
    tx: Tx, access: StackAccess, skip: int = 0, limit: int = 100, *, count: bool = True
) -> tuple[list[dict[str, Any]], int | None]:
    """A page of environments, and how many there are in all (None unless `count`)."""
    cond, params = visible(access, "environment", "uid").sql()
    rows, total = tx.page(
        "environments",
        f"api_key = ? AND {cond}",
        (access.api_key, *params),
        "created_at, name",
        skip,
        limit,
        count=count,
    )
    return [render(r) for r in rows], total


def fetch(tx: Tx, access: StackAccess, name: str) -> dict[str, Any]:
    r = _row(tx, access.api_key, name)
    require(access, "environment", "read", r["uid"])
    return render(r)


def create(tx: Tx, access: StackAccess, data: dict[str, Any]) -> dict[str, Any]:
    require(access, "environment", "create")
    name, urls = _validate(tx, access, data, partial=False)
    assert name is not None
    if tx.one("SELECT 1 AS x FROM environments WHERE api_key = ? AND name = ?", access.api_key, name):
        raise UnprocessableEntity(
            f"The environment '{name}' already exists.", error_code=163, errors={"name": ["is not unique."]}
        )
    env_uid = uid()
    t = now()
    actor = access.caller.actor
    tx.run(
        "INSERT INTO environments (api_key, uid, name, urls, created_by, updated_by, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        access.api_key,
        env_uid,
        name,
        jdump(urls or []),
        actor,
        actor,
        t,
        t,
    )
    spine.record(tx, access, "environment.create", env_uid, {"name": name})
    return render(_row(tx, access.api_key, name))


def update(tx: Tx, access: StackAccess, current: str, data: dict[str, Any]) -> dict[str, Any]:
    r = _row(tx, access.api_key, current)
    require(access, "environment", "update", r["uid"])
    name, urls = _validate(tx, access, data, partial=True)
    name = name or r["name"]
    if name != r["name"] and tx.one(
        "SELECT 1 AS x FROM environments WHERE api_key = ? AND name = ?", access.api_key, name
    ):
        raise UnprocessableEntity(
            f"The environment '{name}' already exists.", error_code=163, errors={"name": ["is not unique."]}
        )
    tx.run(
        "UPDATE environments SET name = ?, urls = ?, version = version + 1, updated_by = ?, updated_at = ? WHERE api_key = ? AND uid = ?",
        name,
        jdump(urls if urls is not None else jload(r["urls"])),
        access.caller.actor,
        now(),
        access.api_key,
        r["uid"],
    )
    spine.record(tx, access, "environment.update", r["uid"], {"name": name})
    return render(_row(tx, access.api_key, name))


def delete(tx: Tx, access: StackAccess, name: str) -> str:
    """Delete an environment; answers its uid."""
    r = _row(tx, access.api_key, name)
    require(access, "environment", "delete", r["uid"])
    tx.run("DELETE FROM environments WHERE api_key = ? AND uid = ?", access.api_key, r["uid"])
    spine.record(tx, access, "environment.delete", r["uid"], {"name": name})
    return str(r["uid"])
