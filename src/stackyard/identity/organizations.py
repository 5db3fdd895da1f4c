"""Organizations: membership, org roles, invitations (sharing) and ownership transfer.

Org roles are fixed: `owner` (one per organization), `admin` and `member`. Owners and admins act
as stack admins in every stack of their organization; members see only stacks shared with them.
An existing account from outside the organization joins only by accepting (`invitations`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from stackyard.access.caller import Caller
from stackyard.core import audit, spine
from stackyard.errors import Forbidden, UnprocessableEntity, invalid, not_found
from stackyard.identity import invitations, mail, users
from stackyard.ids import now, uid
from stackyard.store.engine import Row, Tx, jdump, jload

ORG_ROLES = {
    "admin": ("Admin", "Manages the organization's users and sees all of its stacks."),
    "member": ("Member", "Sees the stacks shared with them."),
}


def create(tx: Tx, owner_uid: str, name: str) -> str:
    org_uid = uid()
    t = now()
    tx.run(
        "INSERT INTO organizations (uid, name, owner_uid, settings, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)",
        org_uid,
        name,
        owner_uid,
        jdump({}),
        t,
        t,
    )
    tx.run(
        "INSERT INTO org_members (org_uid, user_uid, role, created_at) VALUES (?, ?, 'owner', ?)",
        org_uid,
        owner_uid,
        t,
    )
    return org_uid


def role_of(tx: Tx, org_uid: str, user_uid: str) -> str | None:
    role = tx.scalar("SELECT role FROM org_members WHERE org_uid = ? AND user_uid = ?", org_uid, user_uid)
    return None if role is None else str(role)


def _visible_row(tx: Tx, user_uid: str, org_uid: str) -> tuple[Row, str]:
    """The organization and the caller's role in it; an organization they are not in is not found."""
    row = tx.one(
        "SELECT o.*, m.role FROM organizations o JOIN org_members m ON m.org_uid = o.uid WHERE o.uid = ? AND m.user_uid = ?",
        org_uid,
        user_uid,
    )
    if row is None:
        raise not_found("organization")
    return row, str(row["role"])


def render(row: Row) -> dict[str, Any]:
    return {
        "uid": row["uid"],
        "name": row["name"],
        "plan_id": row["plan_id"],
        "owner_uid": row["owner_uid"],
        "expires_on": None,
        "enabled": bool(row["enabled"]),
        "is_over_usage_allowed": False,
        "created_at": row["created_at"],
        "updated_at": row["updated_at"],
        "settings": jload(row["settings"]),
    }


def find(tx: Tx, user_uid: str) -> list[dict[str, Any]]:
    rows = tx.all(
        "SELECT o.* FROM organizations o JOIN org_members m ON m.org_uid = o.uid WHERE m.user_uid = ? ORDER BY o.created_at",
        user_uid,
    )
    return [render(r) for r in rows]


def fetch(tx: Tx, user_uid: str, org_uid: str) -> dict[str, Any]:
    row, _ = _visible_row(tx, user_uid, org_uid)
    return render(row)


def roles(tx: Tx, user_uid: str, org_uid: str) -> list[dict[str, Any]]:
    _visible_row(tx, user_uid, org_uid)
    return [
        {
            "uid": key,
            "name": name,
            "description": description,
            "org_uid": org_uid,
            "admin": key == "admin",
            "default": key == "member",
            "users": [
                r["user_uid"]
                for r in tx.all(
                    "SELECT user_uid FROM org_members WHERE org_uid = ? AND role = ?", org_uid, key
                )
            ],
        }
        for key, (name, description) in ORG_ROLES.items()
    ]


def stacks(tx: Tx, user_uid: str, org_uid: str) -> list[Row]:
    """Stack rows of the organization that the caller can open."""
    _, role = _visible_row(tx, user_uid, org_uid)
    if role in ("owner", "admin"):
        return tx.all("SELECT * FROM stacks WHERE org_uid = ? ORDER BY created_at", org_uid)
    return tx.all(
        "SELECT s.* FROM stacks s WHERE s.org_uid = ? AND (s.owner_uid = ? OR EXISTS "
        "(SELECT 1 FROM stack_members m WHERE m.api_key = s.api_key AND m.user_uid = ?)) ORDER BY s.created_at",
        org_uid,
        user_uid,
        user_uid,
    )


MAX_INVITES = 100
# (tx, caller, org_uid, api_key, member_uid, role_uids): give an invited member roles in a stack;
# with member_uid None, only check that the caller may (the invitation waits for consent).
GrantStack = Callable[[Tx, Caller, str, str, str | None, Any], None]
# (tx, invitee, org_uid, api_key, user_uid, role_uids, invited_by): give an accepting invitee the
# stack roles that still exist; answers whether they joined the stack.
JoinStack = Callable[[Tx, Caller, str, str, str, Any, str], bool]
MAX_MESSAGE = 2000


def share(
    tx: Tx,
    caller: Caller,
    org_uid: str,
    data: dict[str, Any],
    grant: GrantStack,
    *,
    public_url: str = "",
    ttl_seconds: int = 7 * 24 * 3600,
) -> list[dict[str, Any]]:
    """Invite users by email with org roles and, per stack, stack roles (`organizations(uid).add_users`).

    New addresses get an inactive account and an activation mail (activating is accepting); an
    existing account from elsewhere gets a pending invitation it must accept (`invitations`);
    members of the organization get the new role and stack roles at once. The answer shows no
    account data: the address, what was offered and whether it is "pending" or "accepted".
    Nobody grants beyond their own standing: only org owners and admins invite, nobody is made
    owner this way, and stack roles need the right to manage that stack's users. The body's shape
    is checked before anything is written, and a grant refused halfway rolls the whole request back.
    `grant` gives the stack roles (stack administration sits above identity, so it is passed in).
    """
    user_uid = str(caller.user_uid)
    org, role = _visible_row(tx, user_uid, org_uid)
    if role not in ("owner", "admin"):
        raise Forbidden("Only organization owners and admins can add users.")
    org_roles, stack_grants, message = _share_request(data)
    out = []
    for email in sorted(org_roles.keys() | stack_grants.keys()):
        org_role = "admin" if "admin" in org_roles.get(email, []) else "member"
        grants = stack_grants.get(email, {})
        known = tx.one("SELECT uid, active FROM users WHERE email = ?", email)
        if known is not None and known["active"] and role_of(tx, org_uid, str(known["uid"])) is None:
            for api_key, role_uids in grants.items():
                grant(tx, caller, org_uid, api_key, None, role_uids)
            invitation = invitations.invite(
                tx,
                org_uid=org_uid,
                email=email,
                org_role=org_role,
                stacks=grants,
                user_uid=str(known["uid"]),
                message=message,
                invited_by=user_uid,
                place=f"the organization '{org['name']}'",
                ttl_seconds=ttl_seconds,
                public_url=public_url,
            )
            status = "pending"
        else:
            member_uid, joined = _member_for(tx, email, str(org["name"]), message)
            _join(tx, org_uid, member_uid, org_role)
            for api_key, role_uids in grants.items():
                grant(tx, caller, org_uid, api_key, member_uid, role_uids)
            invitation = invitations.record(
                tx,
                org_uid=org_uid,
                email=email,
                org_role=org_role,
                stacks=grants,
                message=message,
                invited_by=user_uid,
                user_uid=member_uid,
                accepted=joined,
            )
            status = "accepted" if joined else "pending"
        out.append(
            {
                "uid": invitation,
                "email": email,
                "org_uid": org_uid,
                "org_roles": [org_role],
                "stacks": grants,
                "invited_by": user_uid,
                "status": status,
            }
        )
        shared = {"email": email, "org_role": org_role, "stacks": sorted(grants)}
        spine.record_org(tx, caller, "organization.share", org_uid, shared)
    return out


def accept(tx: Tx, caller: Caller, token: str, join_stack: JoinStack) -> dict[str, Any]:
    """The logged-in invitee accepts an invitation: they join the organization with its role and
    the stacks whose roles still exist. Answers what they joined."""
    user_uid = str(caller.user_uid)
    email = str(tx.scalar("SELECT email FROM users WHERE uid = ?", user_uid))
    row = invitations.take(tx, user_uid, email, token)
    org_uid = str(row["org_uid"])
    offered = jload(row["org_roles"])
    org_role = "admin" if "admin" in offered else "member"
    _join(tx, org_uid, user_uid, org_role)
    joined = [
        api_key
        for api_key, role_uids in dict(jload(row["stack_roles"])).items()
        if join_stack(tx, caller, org_uid, api_key, user_uid, role_uids, str(row["invited_by"]))
    ]
    accepted = {"user_uid": user_uid, "org_role": org_role, "stacks": joined}
    spine.record_org(tx, caller, "organization.accept_invitation", org_uid, accepted)
    return {"uid": row["uid"], "org_uid": org_uid, "org_roles": [org_role], "stacks": joined}


def _share_request(data: dict[str, Any]) -> tuple[dict[str, list[str]], dict[str, dict[str, Any]], str]:
    """The share body, checked and with normalized emails: (org roles, stack grants, message)."""
    body = data.get("share", data)
    if not isinstance(body, dict):
        raise invalid({"share": ["must be an object."]})
    users_in, stacks_in, message = (
        body.get("users") or {},
        body.get("stacks") or {},
        body.get("message") or "",
    )
    errors: dict[str, list[str]] = {}
    if not isinstance(users_in, dict):
        errors["share.users"] = ["must be an object of email: [org role uids]."]
    if not isinstance(stacks_in, dict):
        errors["share.stacks"] = ["must be an object of email: {api_key: [stack role uids]}."]
    if not isinstance(message, str) or len(message) > MAX_MESSAGE:
        errors["share.message"] = [f"must be a string of at most {MAX_MESSAGE} characters."]
    if errors:
        raise invalid(errors)
    org_roles: dict[str, list[str]] = {}
    for key, value in users_in.items():
        email = _email(key, errors)
        if value is None:
            value = []
        if not isinstance(value, list) or not all(isinstance(r, str) and r in ORG_ROLES for r in value):
            errors[f"share.users.{key}"] = [f"must be a list of org roles out of {sorted(ORG_ROLES)}."]
        elif email:
            org_roles[email] = [*org_roles.get(email, []), *value]
    stack_grants: dict[str, dict[str, Any]] = {}
    for key, value in stacks_in.items():
        email = _email(key, errors)
        if not isinstance(value, dict):
            errors[f"share.stacks.{key}"] = ["must be an object of api_key: [stack role uids]."]
        elif email:
            stack_grants[email] = {**stack_grants.get(email, {}), **value}
    if not errors and not (org_roles.keys() | stack_grants.keys()):
        errors["share.users"] = ["must name at least one email."]
    if len(org_roles.keys() | stack_grants.keys()) > MAX_INVITES:
        errors["share.users"] = [f"can name at most {MAX_INVITES} emails at once."]
    if errors:
        raise invalid(errors)
    return org_roles, stack_grants, message


def _email(value: str, errors: dict[str, list[str]]) -> str:
    try:
        return users.normalize_email(value)
    except UnprocessableEntity:
        errors[f"share.{value[:100]}"] = ["is not a valid email address."]
        return ""


def _member_for(tx: Tx, email: str, org_name: str, message: str) -> tuple[str, bool]:
    """The invited user's uid and whether they can use it now (an active account: callers invite
    active accounts from outside the organization through `invitations` instead).

    A new address gets an inactive account; an address still waiting for activation gets a fresh
    activation token (the old one stops working), so re-inviting is how a lost mail is resent.
    """
    note = f"{message}\n\n" if message else ""
    row = tx.one("SELECT uid, active FROM users WHERE email = ?", email)
    if row is not None and row["active"]:
        mail.queue(tx, email, f"You have been added to {org_name} on Stackyard", f"{note}Log in to see it.\n")
        return str(row["uid"]), True
    if row is None:
        member_uid, activation = users.create(tx, email, active=False)
    else:
        member_uid, activation = str(row["uid"]), users.new_activation(tx, str(row["uid"]))
    mail.queue(
        tx,
        email,
        f"You have been invited to {org_name} on Stackyard",
        f"{note}Activate your account with this token:\n\n    {activation}\n\n"
        "using `stackyard user activate` or POST /v3/user/activate/<token>.\n",
    )
    return member_uid, False


def _join(tx: Tx, org_uid: str, member_uid: str, org_role: str) -> None:
    """Add to the organization, or promote a member to admin; nobody is demoted by an invitation."""
    existing = role_of(tx, org_uid, member_uid)
    if existing is None:
        tx.run(
            "INSERT INTO org_members (org_uid, user_uid, role, created_at) VALUES (?, ?, ?, ?)",
            org_uid,
            member_uid,
            org_role,
            now(),
        )
    elif existing == "member" and org_role == "admin":
        tx.run(
            "UPDATE org_members SET role = 'admin' WHERE org_uid = ? AND user_uid = ?", org_uid, member_uid
        )


def transfer_ownership(tx: Tx, caller: Caller, org_uid: str, email: object) -> None:
    """Make another member the owner; the old owner stays as an admin."""
    user_uid = str(caller.user_uid)
    _, role = _visible_row(tx, user_uid, org_uid)
    if role != "owner":
        raise Forbidden("Only the organization owner can transfer ownership.")
    try:
        address = users.normalize_email(email)
    except UnprocessableEntity:
        raise invalid({"transfer_to": ["is not a valid email address."]}) from None
    target = tx.one("SELECT uid FROM users WHERE email = ? AND active = 1", address)
    if target is None or role_of(tx, org_uid, target["uid"]) is None:
        raise invalid({"transfer_to": ["must be an active member of this organization."]})
    if target["uid"] == user_uid:
        raise invalid({"transfer_to": ["is already the owner."]})
    tx.run("UPDATE org_members SET role = 'admin' WHERE org_uid = ? AND user_uid = ?", org_uid, user_uid)
    tx.run("UPDATE org_members SET role = 'owner' WHERE org_uid = ? AND user_uid = ?", org_uid, target["uid"])
    tx.run(
        "UPDATE organizations SET owner_uid = ?, updated_at = ? WHERE uid = ?", target["uid"], now(), org_uid
    )
    spine.record_org(tx, caller, "organization.transfer_ownership", org_uid, {"to": target["uid"]})


def logs(tx: Tx, user_uid: str, org_uid: str, skip: int, limit: int) -> tuple[list[dict[str, Any]], int]:
    _, role = _visible_row(tx, user_uid, org_uid)
    if role not in ("owner", "admin"):
        raise Forbidden("Only organization owners and admins can read its logs.")
    return audit.find(tx, org_uid=org_uid, skip=skip, limit=limit)
