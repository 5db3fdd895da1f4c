"""Who works in a stack, and how it is set up: members and their roles, sharing, ownership
transfer, and the stack settings.

Rules: admins (and owners) manage users; only they can hand out the Admin role; the owner cannot be
unshared or have their roles changed; only the owner transfers the stack, by a mailed one-time token
the recipient presents to become owner (the previous owner stays as an Admin). Nobody with an
account becomes a member without accepting a mailed invitation (`identity.invitations`).
"""

from __future__ import annotations

import copy
import dataclasses
from datetime import timedelta
from typing import Any

from stackyard.access.caller import Caller, StackAccess
from stackyard.access.policy import require
from stackyard.core import spine
from stackyard.errors import Forbidden, Unauthorized, UnprocessableEntity, invalid
from stackyard.identity import invitations, mail, organizations, users
from stackyard.ids import digest, now, parse_time, same, secret
from stackyard.stacks import stacks
from stackyard.store.engine import Row, Tx, jdump, jload

# How long a mailed ownership-transfer token stays valid.
SHARE_LIMIT = 100
SETTINGS_SECTIONS = frozenset(stacks.DEFAULT_STACK_SETTINGS)
SETTINGS_BYTES = 64 * 1024


# -- settings --------------------------------------------------------------------------------------
def settings(tx: Tx, access: StackAccess) -> dict[str, Any]:
    require(access, "stack", "read")
    return dict(jload(stacks.row(tx, access.api_key)["stack_settings"]))


def _store_settings(tx: Tx, access: StackAccess, value: dict[str, Any], event: str) -> dict[str, Any]:
    if len(jdump(value)) > SETTINGS_BYTES:
        raise invalid({"stack_settings": [f"must be at most {SETTINGS_BYTES} bytes of JSON."]})
    tx.run(
        "UPDATE stacks SET stack_settings = ?, updated_by = ?, updated_at = ? WHERE api_key = ?",
        jdump(value),
        access.caller.actor,
        now(),
        access.api_key,
    )
    spine.record(tx, access, f"stack.{event}", str(access.stack["uid"]), {"sections": sorted(value)})
    return value


def update_settings(tx: Tx, access: StackAccess, data: dict[str, Any]) -> dict[str, Any]:
    """Merge each given section (stack_variables, rte, …) key by key into the stored settings."""
    require(access, "stack", "manage")
    unknown = sorted(k for k in data if k not in SETTINGS_SECTIONS)
    bad = sorted(k for k, v in data.items() if k in SETTINGS_SECTIONS and not isinstance(v, dict))
    if unknown or bad:
        errors = {k: [f"is not a settings section; use {sorted(SETTINGS_SECTIONS)}."] for k in unknown}
        errors.update({k: ["must be an object."] for k in bad})
        raise invalid(errors, "Stack settings could not be saved.")
    current = settings(tx, access)
    for section, values in data.items():
        current[section] = {**(current.get(section) or {}), **values}
    return _store_settings(tx, access, current, "settings")


def reset_settings(tx: Tx, access: StackAccess) -> dict[str, Any]:
    require(access, "stack", "manage")
    return _store_settings(tx, access, copy.deepcopy(stacks.DEFAULT_STACK_SETTINGS), "reset_settings")


# -- members ---------------------------------------------------------------------------------------
def _role_kinds(tx: Tx, api_key: str, role_uids: Any) -> dict[str, str]:
    if (
        not isinstance(role_uids, list)
        or not role_uids
        or not all(isinstance(r, str) and r for r in role_uids)
    ):
        raise invalid({"roles": ["must be a non-empty list of role uids."]})
    rows = tx.all(
        f"SELECT uid, kind FROM roles WHERE api_key = ? AND uid IN ({', '.join('?' * len(role_uids))})",
        api_key,
        *role_uids,
    )
    kinds = {r["uid"]: r["kind"] for r in rows}
    missing = sorted(set(role_uids) - set(kinds))
    if missing:
        raise invalid({"roles": [f"'{m}' is not a role of this stack." for m in missing]})
    return kinds


def _may_grant(tx: Tx, access: StackAccess, role_uids: Any) -> None:
    """The roles exist, and Admin is handed out only by owners and admins."""
    kinds = _role_kinds(tx, access.api_key, role_uids)
    if "admin" in kinds.values() and access.level not in ("owner", "admin"):
        raise Forbidden("Only the stack owner and admins can grant the Admin role.")
    stacks.check_grant(tx, access, role_uids)


def _grant(tx: Tx, access: StackAccess, user_uid: str, role_uids: Any) -> None:
    """Give a user exactly these roles."""
    _may_grant(tx, access, role_uids)
    stacks.add_member(tx, access, user_uid, role_uids)


def _render_user(u: Row, role_uids: list[str], owner_uid: str) -> dict[str, Any]:
    return {
        "uid": u["uid"],
        "email": u["email"],
        "username": u["username"],
        "first_name": u["first_name"],
        "last_name": u["last_name"],
        "active": bool(u["active"]),
        "is_owner": u["uid"] == owner_uid,
        "roles": role_uids,
    }


def members(tx: Tx, access: StackAccess) -> list[dict[str, Any]]:
    """The owner, then every user the stack is shared with, each with their role uids."""
    require(access, "stack_user", "read")
    owner_uid = str(stacks.row(tx, access.api_key)["owner_uid"])
    grants: dict[str, list[str]] = {}
    for g in tx.all(
        "SELECT user_uid, role_uid FROM member_roles WHERE api_key = ? ORDER BY role_uid", access.api_key
    ):
        grants.setdefault(g["user_uid"], []).append(g["role_uid"])
    rows = tx.all(
        "SELECT u.*, 0 AS rank, '' AS joined FROM users u WHERE u.uid = ? UNION ALL "
        "SELECT u.*, 1 AS rank, m.created_at AS joined FROM users u JOIN stack_members m ON m.user_uid = u.uid "
        "WHERE m.api_key = ? AND u.uid <> ? ORDER BY rank, joined, email",
        owner_uid,
        access.api_key,
        owner_uid,
    )
    return [_render_user(u, grants.get(u["uid"], []), owner_uid) for u in rows]


def _emails(value: Any) -> list[str]:
    if not isinstance(value, list) or not value or len(value) > SHARE_LIMIT:
        raise invalid({"emails": [f"must be a non-empty list of at most {SHARE_LIMIT} email addresses."]})
    try:
        return list(dict.fromkeys(users.normalize_email(e) for e in value))
    except UnprocessableEntity:
        raise invalid({"emails": ["contains an address that is not valid."]}) from None


def share(
    tx: Tx,
    access: StackAccess,
    data: dict[str, Any],
    *,
    public_url: str = "",
    ttl_seconds: int = 7 * 24 * 3600,
) -> list[dict[str, Any]]:
    """Share the stack: `{"emails": [...], "roles": {email: [role_uid]}}`.

    An existing account gets a mailed invitation and joins (the stack, and its organization as a
    member) only when it accepts; unknown addresses get an inactive account and an activation mail,
    as organization invitations do, and activating is accepting. Either way the answer is the
    address, the roles offered and "pending": nothing about an account is shown before it accepts.
    A user already in the stack gets the roles at once ("shared").
    """
    require(access, "stack_user", "manage")
    emails = _emails(data.get("emails"))
    roles = data.get("roles")
    if not isinstance(roles, dict):
        raise invalid({"roles": ["must be an object of email: [role uids]."]})
    by_email = {str(k).strip().lower(): v for k, v in roles.items()}
    owner_uid = str(stacks.row(tx, access.api_key)["owner_uid"])
    out = []
    for email in emails:
        if email not in by_email:
            raise invalid({"roles": [f"has no roles for {email}."]})
        role_uids = by_email[email]
        _may_grant(tx, access, role_uids)
        offered = sorted(set(role_uids))
        known = tx.one("SELECT uid, active FROM users WHERE email = ?", email)
        if known is not None and known["uid"] == owner_uid:
            raise invalid({"emails": [f"{email} owns this stack."]})
        place = f"the stack '{access.stack['name']}'"
        if known is not None and _is_member(tx, access, str(known["uid"])):
            _grant(tx, access, str(known["uid"]), role_uids)
            out.append({"email": email, "status": "shared", "roles": offered})
            continue
        if known is not None and known["active"]:
            invitations.invite(
                tx,
                org_uid=access.org_uid,
                user_uid=str(known["uid"]),
                email=email,
                org_role="member",
                stacks={access.api_key: offered},
                message="",
                invited_by=access.caller.actor,
                place=place,
                ttl_seconds=ttl_seconds,
                public_url=public_url,
            )
            spine.record(
                tx, access, "stack.invite", str(access.stack["uid"]), {"email": email, "roles": offered}
            )
        else:
            # A new address: an inactive account and an activation mail, as organization
            # invitations do; it can do nothing until activated, which is its consent.
            member_uid, _ = organizations._member_for(tx, email, place, "")
            organizations._join(tx, access.org_uid, member_uid, "member")
            _grant(tx, access, member_uid, role_uids)
        out.append({"email": email, "status": "pending", "roles": offered})
    return out


def _is_member(tx: Tx, access: StackAccess, user_uid: str) -> bool:
    return (
        tx.one(
            "SELECT 1 AS x FROM stack_members WHERE api_key = ? AND user_uid = ?", access.api_key, user_uid
        )
        is not None
    )


def accept_invitation(tx: Tx, caller: Caller, token: str) -> dict[str, Any]:
    """The logged-in invitee accepts a stack or organization invitation (`organizations.accept`)."""
    if caller.kind != "user" or not caller.user_uid:
        raise Forbidden("An invitation is accepted by the invited user, logged in.")
    return organizations.accept(tx, caller, token, stacks.join_invited)


def _member(tx: Tx, access: StackAccess, user_uid: str) -> None:
    if (
        tx.one(
            "SELECT 1 AS x FROM stack_members WHERE api_key = ? AND user_uid = ?", access.api_key, user_uid
        )
        is None
    ):
        raise invalid({"users": [f"'{user_uid}' is not a user of this stack."]})


def unshare(tx: Tx, access: StackAccess, email: Any) -> None:
    require(access, "stack_user", "manage")
    try:
        address = users.normalize_email(email)
    except UnprocessableEntity:
        raise invalid({"email": ["is not a valid email address."]}) from None
    target = tx.one("SELECT uid FROM users WHERE email = ?", address)
    if target is not None and target["uid"] == stacks.row(tx, access.api_key)["owner_uid"]:
        raise invalid({"email": ["belongs to the stack owner, who cannot be unshared."]})
    if target is None:
        raise invalid({"email": ["is not a user of this stack."]})
    _member(tx, access, target["uid"])
    tx.run("DELETE FROM stack_members WHERE api_key = ? AND user_uid = ?", access.api_key, target["uid"])
    spine.record(tx, access, "stack.unshare", str(access.stack["uid"]), {"user_uid": target["uid"]})


def update_user_roles(tx: Tx, access: StackAccess, data: dict[str, Any]) -> None:
    """`{"users": {user_uid: [role_uid]}}`: replace each named member's roles."""
    require(access, "stack_user", "manage")
    grants = data.get("users")
    if not isinstance(grants, dict) or not grants or len(grants) > SHARE_LIMIT:
        raise invalid({"users": ["must be an object of user_uid: [role uids]."]})
    owner_uid = stacks.row(tx, access.api_key)["owner_uid"]
    for user_uid, role_uids in grants.items():
        if user_uid == owner_uid:
            raise invalid({"users": ["the owner's roles cannot be changed."]})
        _member(tx, access, str(user_uid))
        _grant(tx, access, str(user_uid), role_uids)
    spine.record(tx, access, "stack.update_user_roles", str(access.stack["uid"]), {"users": sorted(grants)})


# -- ownership -------------------------------------------------------------------------------------
def transfer_ownership(
    tx: Tx, access: StackAccess, email: Any, public_url: str = "", ttl_seconds: int = 7 * 24 * 3600
) -> None:
    """Mail the recipient a one-time token; nothing changes until they accept it."""
    require(access, "stack_owner", "manage")
    try:
        address = users.normalize_email(email)
    except UnprocessableEntity:
        raise invalid({"transfer_to": ["is not a valid email address."]}) from None
    target = tx.one("SELECT uid, active FROM users WHERE email = ?", address)
    if target is None or not target["active"]:
        raise invalid({"transfer_to": ["must be the email of an active user."]})
    owner_uid = stacks.row(tx, access.api_key)["owner_uid"]
    if target["uid"] == owner_uid:
        raise invalid({"transfer_to": ["already owns this stack."]})
    token = secret("own")
    expires = parse_time(now()) + timedelta(seconds=ttl_seconds)
    tx.run("DELETE FROM ownership_transfers WHERE api_key = ?", access.api_key)
    tx.run(
        "INSERT INTO ownership_transfers (token_hash, api_key, from_uid, to_uid, created_at, expires_at) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        digest(token),
        access.api_key,
        owner_uid,
        target["uid"],
        now(),
        expires.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
    )
    mail.queue(
        tx,
        address,
        f"Accept ownership of the stack '{access.stack['name']}'",
        f"You were asked to become the owner of the stack '{access.stack['name']}'. To accept, call\n\n"
        f"    GET {public_url}/v3/stacks/accept_ownership/{token}?api_key={access.api_key}&uid={target['uid']}\n\n"
        "(client.stack(api_key).accept_ownership(uid, token) in the management SDK). "
        f"It expires at {expires:%Y-%m-%d %H:%M} UTC.\n",
        expires_at=expires.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
    )
    spine.record(tx, access, "stack.transfer_ownership", str(access.stack["uid"]), {"to": target["uid"]})


def accept_ownership(tx: Tx, caller: Caller, token: str, api_key: Any, user_uid: Any) -> None:
    """The recipient, holding the mailed token, becomes owner; the previous owner keeps Admin.

    The token is the credential. A logged-in caller must be the recipient; tokens cannot accept.
    """
    if caller.kind in ("management_token", "delivery_token"):
        raise Forbidden("Ownership is accepted by the recipient, not by a token.")
    row = tx.one("SELECT * FROM ownership_transfers WHERE token_hash = ?", digest(token))
    if (
        row is None
        or not isinstance(api_key, str)
        or not isinstance(user_uid, str)
        or not same(row["api_key"], api_key)
        or not same(row["to_uid"], user_uid)
        or row["expires_at"] <= now()
    ):
        raise UnprocessableEntity(error_code=111, errors={"ownership_token": ["is not valid."]})
    if caller.kind == "user" and caller.user_uid != user_uid:
        raise Unauthorized("Log in as the recipient of the transfer to accept it.")
    stack = stacks.row(tx, api_key)
    if stack["owner_uid"] != row["from_uid"]:
        raise UnprocessableEntity(error_code=111, errors={"ownership_token": ["is not valid."]})
    previous, t = str(stack["owner_uid"]), now()
    tx.run("DELETE FROM ownership_transfers WHERE api_key = ?", api_key)
    mail.spent(tx, str(tx.scalar("SELECT email FROM users WHERE uid = ?", user_uid)), token)
    tx.run(
        "UPDATE stacks SET owner_uid = ?, updated_by = ?, updated_at = ? WHERE api_key = ?",
        user_uid,
        user_uid,
        t,
        api_key,
    )
    admin_role = tx.scalar("SELECT uid FROM roles WHERE api_key = ? AND kind = 'admin'", api_key)
    for member in (previous, user_uid):
        tx.run(
            "INSERT INTO stack_members (api_key, user_uid, invited_by, created_at) VALUES (?, ?, ?, ?) "
            "ON CONFLICT DO NOTHING",
            api_key,
            member,
            previous,
            t,
        )
        tx.run(
            "INSERT INTO org_members (org_uid, user_uid, role, created_at) VALUES (?, ?, 'member', ?) "
            "ON CONFLICT DO NOTHING",
            stack["org_uid"],
            member,
            t,
        )
    tx.run("DELETE FROM member_roles WHERE api_key = ? AND user_uid = ?", api_key, previous)
    tx.run(
        "INSERT INTO member_roles (api_key, user_uid, role_uid) VALUES (?, ?, ?)",
        api_key,
        previous,
        admin_role,
    )
    recipient = dataclasses.replace(caller, kind="user", user_uid=user_uid)
    scope = spine.StackScope(recipient, api_key, str(stack["org_uid"]))
    spine.record(tx, scope, "stack.accept_ownership", str(stack["uid"]), {"from": previous, "to": user_uid})
