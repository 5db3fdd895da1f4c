"""Invitations: nobody who already has an account is made a member without saying yes.

Sharing a stack or an organization with the address of an existing account from elsewhere writes
an `invitations` row (the org role, and stack roles per api_key) and mails that user a one-time
token; nothing else changes, and the share answer names only the address and "pending", so the
inviter learns nothing about the account (not even that it exists). The invitee, logged in,
accepts with `POST /v3/user/invitations/{token}/accept`; only then do they join the organization
and get the stack roles that still exist (`organizations.accept`). A new address is invited by its
activation mail instead: activating the account is the consent (`users.activate`).

The token is stored only as its hash; the row names the invited account, so a token forwarded to
someone else is of no use to them. A token works once and expires (`invitation_ttl_seconds`).
"""

from __future__ import annotations

from typing import Any

from stackyard.errors import UnprocessableEntity
from stackyard.identity import mail
from stackyard.ids import digest, now, secret, uid
from stackyard.store.engine import Row, Tx, jdump

ACCEPT_PATH = "/v3/user/invitations/{token}/accept"


def record(
    tx: Tx,
    *,
    org_uid: str,
    email: str,
    org_role: str,
    stacks: dict[str, Any],
    message: str,
    invited_by: str,
    user_uid: str | None = None,
    accepted: bool = False,
    token_hash: str | None = None,
    expires_at: str | None = None,
) -> str:
    """Write an invitation row; answers its uid."""
    invitation = uid()
    t = now()
    tx.run(
        "INSERT INTO invitations (uid, org_uid, email, org_roles, stack_roles, message, invited_by, created_at, "
        "accepted_at, token_hash, expires_at, user_uid) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        invitation,
        org_uid,
        email,
        jdump([org_role]),
        jdump(stacks),
        message,
        invited_by,
        t,
        t if accepted else None,
        token_hash,
        expires_at,
        user_uid,
    )
    return invitation


def invite(
    tx: Tx,
    *,
    org_uid: str,
    user_uid: str,
    email: str,
    org_role: str,
    stacks: dict[str, Any],
    message: str,
    invited_by: str,
    place: str,
    ttl_seconds: int,
    public_url: str = "",
) -> str:
    """Invite an existing account: a pending row and a mail with the token to accept it."""
    token = secret("inv")
    expires = mail.later(ttl_seconds)
    invitation = record(
        tx,
        org_uid=org_uid,
        email=email,
        org_role=org_role,
        stacks=stacks,
        message=message,
        invited_by=invited_by,
        user_uid=user_uid,
        token_hash=digest(token),
        expires_at=expires,
    )
    note = f"{message}\n\n" if message else ""
    mail.queue(
        tx,
        email,
        f"You are invited to {place} on Stackyard",
        f"{note}Nothing changes until you accept. To accept, log in and call\n\n"
        f"    POST {public_url}{ACCEPT_PATH.format(token=token)}\n\n"
        f"It expires at {expires}. If you do not want to join, ignore this message.\n",
        expires_at=expires,
    )
    return invitation


def take(tx: Tx, user_uid: str, email: str, token: str) -> Row:
    """The pending invitation of `user_uid` that `token` opens, marked accepted; 422/111 otherwise
    (unknown, used, expired, or someone else's: the answer does not say which)."""
    row = tx.one("SELECT * FROM invitations WHERE token_hash = ?", digest(token))
    if (
        row is None
        or row["accepted_at"] is not None
        or row["user_uid"] != user_uid
        or not row["expires_at"]
        or row["expires_at"] <= now()
        # Still pending (a concurrent accept on PostgreSQL waits here, then matches nothing).
        or not tx.run(
            "UPDATE invitations SET accepted_at = ? WHERE uid = ? AND accepted_at IS NULL", now(), row["uid"]
        )
    ):
        raise UnprocessableEntity(
            "The invitation is not valid: it may have expired or been used.",
            error_code=111,
            errors={"invitation_token": ["is not valid."]},
        )
    mail.spent(tx, email, token)
    return row
