"""Users: creation, the profile, activation and password reset."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from stackyard.access.caller import Caller
from stackyard.core import spine
from stackyard.errors import UnprocessableEntity, invalid, not_found
from stackyard.identity import mail
from stackyard.identity.passwords import check_new, hash_password
from stackyard.ids import digest, now, secret, uid
from stackyard.settings import Settings
from stackyard.store.engine import Database, Row, Tx, jdump, jload

EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]+$")
# Activation tokens issued without a lifetime of their own live as long as the default setting says.
_ACTIVATION_SECONDS = Settings().activation_token_ttl_seconds
_PROFILE_FIELDS = ("first_name", "last_name", "company", "username", "mobile_number", "country_code")


def normalize_email(value: object) -> str:
    if not isinstance(value, str) or len(value) > 254 or not EMAIL.match(value.strip()):
        raise invalid({"email": ["is not a valid email address."]})
    return value.strip().lower()


def create(
    tx: Tx,
    email: str,
    *,
    password_hash: str | None = None,
    password: str | None = None,
    first_name: str = "",
    last_name: str = "",
    active: bool = True,
    activation_ttl_seconds: int | None = None,
) -> tuple[str, str | None]:
    """A new user; answers (uid, activation token) — the token only for inactive users.

    Give `password_hash` (`passwords.hash_password`, computed before the write transaction began);
    `password` is hashed here, at the default cost, for one-off scripts only. The activation token
    expires after `activation_ttl_seconds` (the settings' `activation_token_ttl_seconds`; the
    default setting when None).
    """
    if password_hash is None and password:
        password_hash = hash_password(password)
    email = normalize_email(email)
    if tx.one("SELECT uid FROM users WHERE email = ?", email):
        raise UnprocessableEntity(
            "A user with this email already exists.", errors={"email": ["is already taken."]}
        )
    user_uid = uid()
    activation = None if active else secret("act")
    t = now()
    tx.run(
        "INSERT INTO users (uid, email, username, first_name, last_name, password_hash, active, "
        "activation_token_hash, activation_expires_at, settings, created_at, updated_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        user_uid,
        email,
        email.split("@")[0],
        first_name,
        last_name,
        password_hash,
        1 if active else 0,
        digest(activation) if activation else None,
        mail.later(activation_ttl_seconds or _ACTIVATION_SECONDS) if activation else None,
        jdump({"preferences": {}}),
        t,
        t,
    )
    return user_uid, activation


def new_activation(tx: Tx, user_uid: str, ttl_seconds: int | None = None) -> str:
    """A fresh activation token for an inactive user, living `ttl_seconds` (default: the default
    `activation_token_ttl_seconds`); any earlier one stops working."""
    activation = secret("act")
    tx.run(
        "UPDATE users SET activation_token_hash = ?, activation_expires_at = ?, updated_at = ? "
        "WHERE uid = ? AND active = 0",
        digest(activation),
        mail.later(ttl_seconds or _ACTIVATION_SECONDS),
        now(),
        user_uid,
    )
    return activation


def get_row(tx: Tx, user_uid: str) -> Row:
    row = tx.one("SELECT * FROM users WHERE uid = ?", user_uid)
    if row is None:
        raise not_found()
    return row


def render(tx: Tx, row: Row, *, authtoken: str | None = None) -> dict[str, Any]:
    """The user object of catalogue §4.6, with the user's organizations."""
    orgs = tx.all(
        "SELECT o.uid, o.name, o.plan_id, o.enabled, o.owner_uid, m.role FROM org_members m "
        "JOIN organizations o ON o.uid = m.org_uid WHERE m.user_uid = ? ORDER BY o.created_at",
        row["uid"],
    )
    out: dict[str, Any] = {
        "uid": row["uid"],
        "created_at": row["created_at"],
        "updated_at": row["updated_at"],
        "email": row["email"],
        "username": row["username"],
        "first_name": row["first_name"],
        "last_name": row["last_name"],
        "company": row["company"],
        "org_uid": [o["uid"] for o in orgs if o["owner_uid"] == row["uid"]],
        "shared_org_uid": [o["uid"] for o in orgs if o["owner_uid"] != row["uid"]],
        "mobile_number": row["mobile_number"],
        "country_code": row["country_code"],
        "tfa_status": "verified" if row["tfa_enabled"] else "unverified",
        "authy_id": None,
        "active": bool(row["active"]),
        "failed_attempts": row["failed_attempts"],
        "roles": [],
        "organizations": [
            {
                "uid": o["uid"],
                "name": o["name"],
                "plan_id": o["plan_id"],
                "expires_on": None,
                "enabled": bool(o["enabled"]),
                "is_owner": o["owner_uid"] == row["uid"],
                "org_roles": [
                    {"uid": o["role"], "name": o["role"].title(), "admin": o["role"] in ("owner", "admin")}
                ],
            }
            for o in orgs
        ],
        "settings": jload(row["settings"]),
    }
    if authtoken:
        out["authtoken"] = authtoken
    return out


def update(tx: Tx, user_uid: str, data: dict[str, Any]) -> None:
    """Change profile fields. Email and password have their own flows: a changed email and any
    password are refused here (the email a fetched profile carries, sent back as it was, is not)."""
    errors: dict[str, list[str]] = {}
    changes: dict[str, str] = {}
    for key, value in data.items():
        if key in _PROFILE_FIELDS:
            if not isinstance(value, str) or len(value) > 200:
                errors[key] = ["must be a string of at most 200 characters."]
            else:
                changes[key] = value
        elif (
            key == "email"
            and isinstance(value, str)
            and value.strip().lower() == get_row(tx, user_uid)["email"]
        ):
            continue
        elif key in ("email", "password", "uid", "active"):
            errors[key] = ["cannot be changed here."]
    if errors:
        raise invalid(errors)
    if changes:
        sets = ", ".join(f"{k} = ?" for k in changes)
        tx.run(f"UPDATE users SET {sets}, updated_at = ? WHERE uid = ?", *changes.values(), now(), user_uid)


def _invited(tx: Tx, token: str) -> Row:
    """The inactive user holding this activation token; an expired token is as unknown as a wrong one
    (one with no expiry was issued before tokens had one, and has expired too)."""
    row = tx.one(
        "SELECT uid, email FROM users WHERE activation_token_hash = ? AND active = 0 "
        "AND activation_expires_at > ?",
        digest(token),
        now(),
    )
    if row is None:
        raise UnprocessableEntity(error_code=111, errors={"activation_token": ["is not valid."]})
    return row


# Called in the activation's write with the user's uid: what else activation does (a sign-up's
# own organization, `accounts.opened`; identity.organizations sits above users, so it is passed in).
Activated = Callable[[Tx, str], None]


def activate(
    db: Database, token: str, data: dict[str, Any], settings: Settings, then: Activated | None = None
) -> str:
    """Activate an invited account with the token from its invitation mail; answers the uid.

    The token is checked in a read, the new password hashed outside any transaction, and the
    token checked again in the short write (it may have been used or replaced meanwhile). The used
    token leaves the outbox too (`mail.spent`).
    """
    with db.read() as tx:
        _invited(tx, token)
    password = check_new(data.get("password"), data.get("password_confirmation"))
    password_hash = hash_password(password, settings)
    with db.write() as tx:
        row = _invited(tx, token)
        names = {k: data[k] for k in ("first_name", "last_name") if isinstance(data.get(k), str)}
        update(tx, row["uid"], names)
        # Still this token's (a concurrent activation on PostgreSQL waits here, then matches nothing).
        if not tx.run(
            "UPDATE users SET password_hash = ?, active = 1, activation_token_hash = NULL, "
            "activation_expires_at = NULL, updated_at = ? "
            "WHERE uid = ? AND activation_token_hash = ? AND active = 0",
            password_hash,
            now(),
            row["uid"],
            digest(token),
        ):
            raise UnprocessableEntity(error_code=111, errors={"activation_token": ["is not valid."]})
        tx.run(
            # Activating is accepting what the activation mail offered; invitations with a token
            # of their own (to accounts that were already active) wait for that token.
            "UPDATE invitations SET accepted_at = ? WHERE email = ? AND accepted_at IS NULL AND token_hash IS NULL",
            now(),
            row["email"],
        )
        mail.spent(tx, str(row["email"]), token)
        if then is not None:
            then(tx, str(row["uid"]))
    return str(row["uid"])


def forgot_password(tx: Tx, email: object, reset_ttl_seconds: int, public_url: str) -> None:
    """Mail a reset token if the address belongs to a user. Says nothing either way."""
    try:
        address = normalize_email(email)
    except UnprocessableEntity:
        return
    row = tx.one("SELECT uid FROM users WHERE email = ? AND active = 1", address)
    if row is None:
        return
    token = secret("rst")
    expires = mail.later(reset_ttl_seconds)
    tx.run(
        "UPDATE users SET reset_token_hash = ?, reset_expires_at = ? WHERE uid = ?",
        digest(token),
        expires,
        row["uid"],
    )
    mail.queue(
        tx,
        address,
        "Reset your Stackyard password",
        "Someone asked to reset the password of this account. If it was you, use this token:\n\n"
        f"    {token}\n\nwith `stackyard user reset-password` or POST {public_url}/v3/user/reset_password.\n"
        f"It expires at {expires}. If it was not you, ignore this message.\n",
        expires_at=expires,
    )


def _resetting(tx: Tx, data: dict[str, Any]) -> Row:
    token = data.get("reset_password_token")
    if not isinstance(token, str) or not token:
        raise invalid({"reset_password_token": ["is required."]})
    row = tx.one("SELECT uid, email, reset_expires_at FROM users WHERE reset_token_hash = ?", digest(token))
    if row is None or (row["reset_expires_at"] or "") <= now():
        raise UnprocessableEntity(error_code=111, errors={"reset_password_token": ["is not valid."]})
    return row


def reset_password(db: Database, data: dict[str, Any], settings: Settings, caller: Caller) -> None:
    """Set a new password with a mailed reset token: checked in a read, hashed outside any
    transaction, checked again in the short write that stores it. `caller` is the request's (the
    token is the credential: the change is recorded as the user's own)."""
    with db.read() as tx:
        _resetting(tx, data)
    password = check_new(data.get("password"), data.get("password_confirmation"))
    password_hash = hash_password(password, settings)
    with db.write() as tx:
        row = _resetting(tx, data)
        # Still this token's (a concurrent reset on PostgreSQL waits here, then matches nothing).
        if not tx.run(
            "UPDATE users SET password_hash = ?, reset_token_hash = NULL, reset_expires_at = NULL, "
            "failed_attempts = 0, locked_until = NULL, updated_at = ? WHERE uid = ? AND reset_token_hash = ?",
            password_hash,
            now(),
            row["uid"],
            digest(str(data["reset_password_token"])),
        ):
            raise UnprocessableEntity(error_code=111, errors={"reset_password_token": ["is not valid."]})
        # A new password ends every existing session (in every process's cache too).
        tx.run("DELETE FROM sessions WHERE user_uid = ?", row["uid"])
        user = replace(caller, kind="user", user_uid=str(row["uid"]), email=str(row["email"]))
        spine.record_user(tx, user, "user.reset_password", str(row["uid"]))
        mail.spent(tx, str(row["email"]), str(data["reset_password_token"]))
