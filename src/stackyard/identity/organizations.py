"""Organizations: membership, org roles, invitations (sharing) and ownership transfer.

Org roles are fixed: `owner` (one per organization), `admin` and `member`. Owners and admins act
as stack admins in every stack of their organization; members see only stacks shared with them.
"""

from __future__ import annotations

from typing import Any

from stackyard import audit
from stackyard.access.caller import Caller
from stackyard.access.policy import allowed
from stackyard.access.resolve import stack_access
from stackyard.errors import Forbidden, invalid, not_found
from stackyard.identity import mail, users
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


def share(tx: Tx, caller: Caller, org_uid: str, data: dict[str, Any]) -> list[dict[str, Any]]:
    """Invite users by email with org roles and, per stack, stack roles (`organizations(uid).add_users`).

    New addresses get an inactive account and an activation mail; existing users are added at once.
    Nobody grants beyond their own standing: only org owners and admins invite, and stack roles need
    the right to manage that stack's users.
    """
    user_uid = str(caller.user_uid)
    _, role = _visible_row(tx, user_uid, org_uid)
    if role not in ("owner", "admin"):
        raise Forbidden("Only organization owners and admins can add users.")
    share_data: dict[str, Any] = data["share"] if isinstance(data.get("share"), dict) else data
    org_users = share_data.get("users") or {}
    stack_grants = share_data.get("stacks") or {}
    message = share_data.get("message") or ""
    if not isinstance(org_users, dict) or not isinstance(stack_grants, dict) or not isinstance(message, str):
        raise invalid(
            {
                "share": [
                    "needs 'users' {email: [org_role]} and optionally 'stacks' {email: {api_key: [role]}}."
                ]
            }
        )
    emails = {users.normalize_email(e) for e in [*org_users.keys(), *stack_grants.keys()]}
    out = []
    for email in sorted(emails):
        org_role_list = (
            org_users.get(email)
            or next((v for k, v in org_users.items() if k.lower() == email), None)
            or ["member"]
        )
        if not isinstance(org_role_list, list) or any(r not in ORG_ROLES for r in org_role_list):
            raise invalid({"users": [f"roles for {email} must be a list of {sorted(ORG_ROLES)}."]})
        org_role = "admin" if "admin" in org_role_list else "member"
        grants = (
            stack_grants.get(email)
            or next((v for k, v in stack_grants.items() if k.lower() == email), None)
            or {}
        )
        if not isinstance(grants, dict):
            raise invalid({"stacks": [f"grants for {email} must be an object of api_key: [role uids]."]})
        member_uid = _member_for(tx, email, org_uid, message)
        existing = role_of(tx, org_uid, member_uid)
        if existing is None:
            tx.run(
                "INSERT INTO org_members (org_uid, user_uid, role, created_at) VALUES (?, ?, ?, ?)",
                org_uid,
                member_uid,
                org_role,
                now(),
            )
        elif existing != "owner" and existing != org_role and org_role == "admin":
            tx.run(
                "UPDATE org_members SET role = ? WHERE org_uid = ? AND user_uid = ?",
                org_role,
                org_uid,
                member_uid,
            )
        for api_key, role_uids in grants.items():
            access = stack_access(tx, caller, api_key)
            if access.org_uid != org_uid:
                raise invalid({"stacks": [f"stack {api_key} is not in this organization."]})
            if not allowed(access, "stack_user", "manage"):
                raise Forbidden("You cannot share this stack.")
            from stackyard.content.stacks import add_member

            add_member(tx, access, member_uid, role_uids)
        invitation = uid()
        tx.run(
            "INSERT INTO invitations (uid, org_uid, email, org_roles, stack_roles, message, invited_by, created_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            invitation,
            org_uid,
            email,
            jdump([org_role]),
            jdump(grants),
            message,
            user_uid,
            now(),
        )
        out.append(
            {
                "uid": invitation,
                "email": email,
                "user_uid": member_uid,
                "org_uid": org_uid,
                "org_roles": [org_role],
                "stacks": grants,
                "invited_by": user_uid,
            }
        )
        audit.record(
            tx,
            caller,
            "organization",
            "share",
            org_uid=org_uid,
            metadata={"email": email, "org_role": org_role},
        )
    return out


def _member_for(tx: Tx, email: str, org_uid: str, message: str) -> str:
    row = tx.one("SELECT uid FROM users WHERE email = ?", email)
    if row is not None:
        return str(row["uid"])
    member_uid, activation = users.create(tx, email, active=False)
    mail.queue(
        tx,
        email,
        "You have been invited to Stackyard",
        f"{message}\n\nActivate your account with this token:\n\n    {activation}\n\n"
        "using `stackyard user activate` or POST /v3/user/activate/<token>.\n",
    )
    return member_uid


def transfer_ownership(tx: Tx, caller: Caller, org_uid: str, email: object) -> None:
    """Make another member the owner; the old owner stays as an admin."""
    user_uid = str(caller.user_uid)
    _, role = _visible_row(tx, user_uid, org_uid)
    if role != "owner":
        raise Forbidden("Only the organization owner can transfer ownership.")
    target = tx.one("SELECT uid FROM users WHERE email = ?", users.normalize_email(email))
    if target is None or role_of(tx, org_uid, target["uid"]) is None:
        raise invalid({"transfer_to": ["must be a member of this organization."]})
    tx.run("UPDATE org_members SET role = 'admin' WHERE org_uid = ? AND user_uid = ?", org_uid, user_uid)
    tx.run("UPDATE org_members SET role = 'owner' WHERE org_uid = ? AND user_uid = ?", org_uid, target["uid"])
    tx.run(
        "UPDATE organizations SET owner_uid = ?, updated_at = ? WHERE uid = ?", target["uid"], now(), org_uid
    )
    audit.record(
        tx, caller, "organization", "transfer_ownership", org_uid=org_uid, metadata={"to": target["uid"]}
    )


def logs(tx: Tx, user_uid: str, org_uid: str, skip: int, limit: int) -> tuple[list[dict[str, Any]], int]:
    _, role = _visible_row(tx, user_uid, org_uid)
    if role not in ("owner", "admin"):
        raise Forbidden("Only organization owners and admins can read its logs.")
    return audit.find(tx, org_uid=org_uid, skip=skip, limit=limit)
