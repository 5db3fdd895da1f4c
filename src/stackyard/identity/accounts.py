"""Accounts opened without an invitation: a further organization created by an operator
(`stackyard organization create NAME --owner EMAIL`), and self-service sign-up (`--allow-signup`).

Either way a new address gets an inactive account and an activation mail; the owner chooses a
password when activating, so no password travels through an operator's shell or an
unauthenticated request. A sign-up's organization is opened by its activation (`activate`), so an
address nobody reads never owns anything.
"""

from __future__ import annotations

from typing import Any

from stackyard.errors import Forbidden, invalid
from stackyard.identity import mail, organizations, users
from stackyard.settings import Settings
from stackyard.store.engine import Database, Tx

MAX_NAME = 200
SIGNUP_NOTICE = "If this address can sign up, an activation mail is on its way to it."


def _name(value: object, field: str = "name") -> str:
    if not isinstance(value, str) or not value.strip() or len(value.strip()) > MAX_NAME:
        raise invalid({field: [f"must be a name of 1 to {MAX_NAME} characters."]})
    return value.strip()


def _activation_mail(tx: Tx, email: str, subject: str, intro: str, token: str, settings: Settings) -> None:
    expires = tx.scalar("SELECT activation_expires_at FROM users WHERE email = ?", email)
    mail.queue(
        tx,
        email,
        subject,
        f"{intro}\n\nActivate your account and choose a password with this token:\n\n    {token}\n\n"
        f"using `stackyard user activate` or POST {settings.public_url}/v3/user/activate/<token>.\n"
        f"It expires at {expires}.\n",
        expires_at=str(expires),
    )


def create_organization(
    db: Database, name: object, owner_email: object, settings: Settings
) -> dict[str, Any]:
    """A further organization owned by `owner_email` (an operator's command); answers the
    organization with `owner_email` and `activation_mailed`.

    A new address becomes an inactive user with an activation mail; an existing user becomes the
    owner (one still waiting for activation is mailed a fresh token, the old one stops working).
    """
    org_name = _name(name)
    email = users.normalize_email(owner_email)
    ttl = settings.activation_token_ttl_seconds
    with db.write() as tx:
        row = tx.one("SELECT uid, active FROM users WHERE email = ?", email)
        token: str | None
        if row is None:
            owner_uid, token = users.create(tx, email, active=False, activation_ttl_seconds=ttl)
        elif not row["active"]:
            owner_uid, token = str(row["uid"]), users.new_activation(tx, str(row["uid"]), ttl)
        else:
            owner_uid, token = str(row["uid"]), None
        org_uid = organizations.create(tx, owner_uid, org_name)
        subject = f"You own the organization {org_name} on Stackyard"
        if token is None:
            mail.queue(tx, email, subject, f"The organization {org_name} is yours. Log in to see it.\n")
        else:
            _activation_mail(
                tx, email, subject, f"The organization {org_name} was created for you.", token, settings
            )
        org = organizations.fetch(tx, owner_uid, org_uid)
    return {**org, "owner_email": email, "activation_mailed": token is not None}


def require_signup(settings: Settings) -> None:
    """Refuse (403) unless the operator turned sign-up on."""
    if not settings.allow_signup:
        raise Forbidden("Sign-up is turned off on this server; ask its operator for an account.")


def sign_up(tx: Tx, data: dict[str, Any], settings: Settings) -> None:
    """Open an account by self-service, when `allow_signup` is on: an inactive user and an
    activation mail; the activation opens their organization (named after `company`, else them).

    Answers the same whatever the address: an existing account is not revealed, nor changed (a
    pending sign-up is mailed a fresh token, the way a lost mail is resent).
    """
    require_signup(settings)
    email = users.normalize_email(data.get("email"))
    profile: dict[str, Any] = {k: data[k] for k in ("first_name", "last_name", "company") if k in data}
    # Checked before the address is looked up, so a refusal says nothing about who has an account.
    bad = [k for k, v in profile.items() if not isinstance(v, str) or len(v) > MAX_NAME]
    if bad:
        raise invalid({k: [f"must be a string of at most {MAX_NAME} characters."] for k in bad})
    company = profile.get("company")
    org_name = _name(company, "company") if company else f"{email.split('@')[0]}'s organization"
    ttl = settings.activation_token_ttl_seconds
    row = tx.one("SELECT uid, active, signup_org_name FROM users WHERE email = ?", email)
    if row is None:
        user_uid, token = users.create(tx, email, active=False, activation_ttl_seconds=ttl)
        users.update(tx, user_uid, profile)
        tx.run("UPDATE users SET signup_org_name = ? WHERE uid = ?", org_name, user_uid)
    elif not row["active"] and row["signup_org_name"]:
        token = users.new_activation(tx, str(row["uid"]), ttl)
    else:
        return
    _activation_mail(tx, email, "Welcome to Stackyard", "Thank you for signing up.", str(token), settings)


def activate(db: Database, token: str, data: dict[str, Any], settings: Settings) -> str:
    """`users.activate`, and for a sign-up, its own organization in the same transaction."""
    return users.activate(db, token, data, settings, then=_open_signup_organization)


def _open_signup_organization(tx: Tx, user_uid: str) -> None:
    name = tx.scalar("SELECT signup_org_name FROM users WHERE uid = ?", user_uid)
    if not name:
        return
    tx.run("UPDATE users SET signup_org_name = NULL WHERE uid = ?", user_uid)
    organizations.create(tx, user_uid, str(name))
