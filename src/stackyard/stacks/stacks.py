"""Stacks: creation with their master locale and built-in roles, fetch, list, update, delete, members."""

from __future__ import annotations

from typing import Any

from stackyard.access.caller import Caller, StackAccess
from stackyard.access.policy import require
from stackyard.access.resolve import stack_access
from stackyard.core import spine
from stackyard.errors import Forbidden, PreconditionFailed, invalid
from stackyard.identity import organizations
from stackyard.ids import now, secret, uid
from stackyard.stacks import locales
from stackyard.store.engine import Row, Tx, jdump, jload

BUILTIN_ROLES = (
    (
        "admin",
        "Admin",
        "Admin can perform all actions and manage all settings of the stack, except the ability to delete or transfer ownership of the stack.",
    ),
    (
        "developer",
        "Developer",
        "Developer can perform all Content Manager's actions, view audit logs, manage the content model, environments, languages, extensions and tokens.",
    ),
    (
        "content_manager",
        "Content Manager",
        "Content Managers can view all locales, create entries and assets, and publish them.",
    ),
)
DEFAULT_SETTINGS = {"webhook_enabled": True, "workflow_stages": True, "publishing_rules": True}
DEFAULT_STACK_SETTINGS: dict[str, Any] = {
    "stack_variables": {},
    "discrete_variables": {},
    "rte": {},
    "live_preview": {},
}


def _text(
    data: dict[str, Any], key: str, errors: dict[str, list[str]], *, required: bool, limit: int = 200
) -> str | None:
    value = data.get(key)
    if value is None:
        if required:
            errors[key] = ["is required."]
        return None
    if not isinstance(value, str) or (required and not value.strip()) or len(value) > limit:
        errors[key] = [f"must be a{' non-empty' if required else ''} string of at most {limit} characters."]
        return None
    return value.strip() if required else value


def create(tx: Tx, caller: Caller, data: dict[str, Any], org_uid: str | None) -> str:
    """A new stack in `org_uid` (default: the caller's own organization); answers its api_key."""
    user_uid = str(caller.user_uid)
    errors: dict[str, list[str]] = {}
    name = _text(data, "name", errors, required=True)
    description = _text(data, "description", errors, required=False, limit=2000) or ""
    master = data.get("master_locale") or "en-us"
    if not isinstance(master, str) or not locales.CODE.match(master.lower()):
        errors["master_locale"] = ["is not a valid locale code."]
    if errors:
        raise invalid(errors, "Stack creation failed. Please enter valid data.")
    if not org_uid:
        org_uid = tx.scalar(
            "SELECT org_uid FROM org_members WHERE user_uid = ? ORDER BY CASE role WHEN 'owner' THEN 0 WHEN 'admin' THEN 1 ELSE 2 END, created_at LIMIT 1",
            user_uid,
        )
        if not org_uid:
            raise invalid({"organization_uid": ["is required: you belong to no organization."]})
    role = organizations.role_of(tx, org_uid, user_uid)
    if role is None:
        raise invalid({"organization_uid": ["is not valid."]})
    if role not in ("owner", "admin"):
        raise Forbidden("Only organization owners and admins can create stacks.")
    api_key = secret("blt")[:19]
    stack_uid = uid()
    t = now()
    tx.run(
        "INSERT INTO stacks (api_key, uid, org_uid, name, description, master_locale, owner_uid, settings, stack_settings, "
        "created_by, updated_by, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        api_key,
        stack_uid,
        org_uid,
        name,
        description,
        master.lower(),
        user_uid,
        jdump(DEFAULT_SETTINGS),
        jdump(DEFAULT_STACK_SETTINGS),
        user_uid,
        user_uid,
        t,
        t,
    )
    for kind, role_name, role_description in BUILTIN_ROLES:
        tx.run(
            "INSERT INTO roles (api_key, uid, name, description, kind, rules, created_by, updated_by, created_at, updated_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            api_key,
            uid(),
            role_name,
            role_description,
            kind,
            jdump([]),
            user_uid,
            user_uid,
            t,
            t,
        )
    locales.insert(tx, api_key, master.lower(), None, None, user_uid)
    spine.record(tx, spine.StackScope(caller, api_key, org_uid), "stack.create", stack_uid, {"name": name})
    return api_key


def row(tx: Tx, api_key: str) -> Row:
    found = tx.one("SELECT * FROM stacks WHERE api_key = ?", api_key)
    if found is None:
        raise invalid({"api_key": ["is not valid."]})
    return found


def render(tx: Tx, r: Row) -> dict[str, Any]:
    members = [
        m["user_uid"]
        for m in tx.all(
            "SELECT user_uid FROM stack_members WHERE api_key = ? ORDER BY created_at", r["api_key"]
        )
    ]
    return {
        "uid": r["uid"],
        "name": r["name"],
        "description": r["description"],
        "org_uid": r["org_uid"],
        "api_key": r["api_key"],
        "master_locale": r["master_locale"],
        "is_asset_download_public": True,
        "owner_uid": r["owner_uid"],
        "user_uids": [r["owner_uid"], *[m for m in members if m != r["owner_uid"]]],
        "settings": jload(r["settings"]),
        "SYS_ACL": {},
        "created_by": r["created_by"],
        "updated_by": r["updated_by"],
        "created_at": r["created_at"],
        "updated_at": r["updated_at"],
    }


def fetch(tx: Tx, access: StackAccess) -> dict[str, Any]:
    require(access, "stack", "read")
    return render(tx, row(tx, access.api_key))


def find(tx: Tx, user_uid: str) -> list[dict[str, Any]]:
    """Every stack the user can open: owned, shared with them, or in an organization they administer."""
    rows = tx.all(
        "SELECT s.* FROM stacks s WHERE s.owner_uid = ? "
        "OR EXISTS (SELECT 1 FROM stack_members m WHERE m.api_key = s.api_key AND m.user_uid = ?) "
        "OR EXISTS (SELECT 1 FROM org_members o WHERE o.org_uid = s.org_uid AND o.user_uid = ? AND o.role IN ('owner', 'admin')) "
        "ORDER BY s.created_at",
        user_uid,
        user_uid,
        user_uid,
    )
    return [render(tx, r) for r in rows]


def update(tx: Tx, access: StackAccess, data: dict[str, Any]) -> None:
    require(access, "stack", "update")
    errors: dict[str, list[str]] = {}
    name = _text(data, "name", errors, required=False)
    description = _text(data, "description", errors, required=False, limit=2000)
    if name is not None and not name.strip():
        errors["name"] = ["must not be empty."]
    if errors:
        raise invalid(errors)
    user = access.caller.actor
    if name is not None:
        tx.run("UPDATE stacks SET name = ? WHERE api_key = ?", name.strip(), access.api_key)
    if description is not None:
        tx.run("UPDATE stacks SET description = ? WHERE api_key = ?", description, access.api_key)
    tx.run("UPDATE stacks SET updated_at = ?, updated_by = ? WHERE api_key = ?", now(), user, access.api_key)
    new_name = name.strip() if name is not None else str(access.stack["name"])
    spine.record(tx, access, "stack.update", str(access.stack["uid"]), {"name": new_name})


def delete(tx: Tx, access: StackAccess) -> None:
    require(access, "stack_owner", "delete")
    spine.record(tx, access, "stack.delete", str(access.stack["uid"]), {"name": str(access.stack["name"])})
    # The stack's events stay: consumers (caches, purges, automation) still have to see its end.
    tx.run("DELETE FROM stacks WHERE api_key = ?", access.api_key)


def check_grant(tx: Tx, access: StackAccess, role_uids: Any) -> None:
    """May the caller give these roles of the stack? They must manage users; the roles must exist."""
    require(access, "stack_user", "manage")
    if not isinstance(role_uids, list) or not role_uids or not all(isinstance(r, str) for r in role_uids):
        raise invalid({"roles": ["must be a non-empty list of role uids."]})
    found = tx.all(
        f"SELECT uid, kind FROM roles WHERE api_key = ? AND uid IN ({', '.join('?' * len(role_uids))})",
        access.api_key,
        *role_uids,
    )
    if len(found) != len(set(role_uids)):
        raise invalid({"roles": ["contains a role uid that does not exist in this stack."]})


def add_member(tx: Tx, access: StackAccess, user_uid: str, role_uids: Any) -> None:
    """Give a user roles in the stack. The granter must manage users, and only owners/admins grant Admin."""
    check_grant(tx, access, role_uids)
    _write_member(tx, access, str(access.stack["uid"]), user_uid, role_uids, access.caller.actor)


def _write_member(
    tx: Tx, scope: spine.Scope, stack_uid: str, user_uid: str, role_uids: list[str], invited_by: str
) -> None:
    if (
        tx.one("SELECT 1 AS x FROM stack_members WHERE api_key = ? AND user_uid = ?", scope.api_key, user_uid)
        is None
    ):
        tx.run(
            "INSERT INTO stack_members (api_key, user_uid, invited_by, created_at) VALUES (?, ?, ?, ?)",
            scope.api_key,
            user_uid,
            invited_by,
            now(),
        )
    tx.run("DELETE FROM member_roles WHERE api_key = ? AND user_uid = ?", scope.api_key, user_uid)
    for r in set(role_uids):
        tx.run(
            "INSERT INTO member_roles (api_key, user_uid, role_uid) VALUES (?, ?, ?)",
            scope.api_key,
            user_uid,
            r,
        )
    spine.record(tx, scope, "stack.share", stack_uid, {"user_uid": user_uid, "roles": sorted(set(role_uids))})


def join_invited(
    tx: Tx, invitee: Caller, org_uid: str, api_key: str, user_uid: str, role_uids: Any, invited_by: str
) -> bool:
    """An accepted invitation's stack roles: those that still exist, in a stack still of the
    invitation's organization (checked when it was made). Answers whether the invitee joined."""
    stack = tx.one("SELECT uid, org_uid FROM stacks WHERE api_key = ?", api_key)
    if stack is None or stack["org_uid"] != org_uid or not isinstance(role_uids, list) or not role_uids:
        return False
    wanted = [str(r) for r in role_uids]
    existing = [
        r["uid"]
        for r in tx.all(
            f"SELECT uid FROM roles WHERE api_key = ? AND uid IN ({', '.join('?' * len(wanted))})",
            api_key,
            *wanted,
        )
    ]
    if not existing:
        return False
    scope = spine.StackScope(invitee, api_key, org_uid)
    _write_member(tx, scope, str(stack["uid"]), user_uid, existing, invited_by)
    return True


def grant_in_organization(
    tx: Tx, caller: Caller, org_uid: str, api_key: str, member_uid: str | None, role_uids: Any
) -> None:
    """Stack roles for the new member, in a stack of this organization the caller may share; with
    `member_uid` None only the check (an invitation that waits for consent)."""
    try:
        access = stack_access(tx, caller, api_key)
    except PreconditionFailed:
        access = None
    if access is None or access.org_uid != org_uid:
        raise invalid({"share.stacks": [f"{api_key[:100]} is not a stack of this organization."]})
    if member_uid is None:
        check_grant(tx, access, role_uids)
    else:
        add_member(tx, access, member_uid, role_uids)
