"""Login (with lockout and TOTP two-factor), logout, and two-factor enrolment."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pyotp

from stackyard.errors import UnprocessableEntity, invalid
from stackyard.identity.passwords import verify
from stackyard.identity.users import normalize_email
from stackyard.ids import digest, now, parse_time, secret
from stackyard.settings import Settings
from stackyard.store.engine import Tx


def _later(seconds: int) -> str:
    return (parse_time(now()) + timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def login(tx: Tx, data: dict[str, Any], settings: Settings) -> tuple[str, str]:
    """Check credentials; answers (user uid, new authtoken). Failures count towards a lockout."""
    email, password = data.get("email"), data.get("password")
    if not isinstance(email, str) or not isinstance(password, str):
        raise invalid({"email": ["is required."], "password": ["is required."]}, code=104)
    try:
        address = normalize_email(email)
    except UnprocessableEntity:
        address = ""
    row = tx.one("SELECT * FROM users WHERE email = ?", address)
    if row and row["locked_until"] and row["locked_until"] > now():
        raise UnprocessableEntity(error_code=108, errors=[])
    if row is None or not verify(row["password_hash"], password):
        left = settings.max_failed_logins
        if row is not None:
            failed = int(row["failed_attempts"]) + 1
            locked = _later(settings.lockout_seconds) if failed >= settings.max_failed_logins else None
            tx.run(
                "UPDATE users SET failed_attempts = ?, locked_until = ? WHERE uid = ?",
                0 if locked else failed,
                locked,
                row["uid"],
            )
            if locked:
                raise UnprocessableEntity(error_code=108, errors=[])
            left = settings.max_failed_logins - failed
        raise UnprocessableEntity(
            f"Looks like your email or password is invalid. You have {left} login attempt(s) left.",
            error_code=104,
            errors=[],
        )
    if not row["active"]:
        raise UnprocessableEntity(error_code=112, errors=[])
    if row["tfa_enabled"]:
        code = data.get("tfa_token")
        if not code:
            raise UnprocessableEntity(error_code=294, errors=[], extra={"tfa_type": "totp_authenticator"})
        if not isinstance(code, str) or not pyotp.TOTP(row["tfa_secret"]).verify(code, valid_window=1):
            raise UnprocessableEntity(error_code=295, errors=[])
    token = secret("cs")
    tx.run(
        "INSERT INTO sessions (token_hash, user_uid, created_at, expires_at) VALUES (?, ?, ?, ?)",
        digest(token),
        row["uid"],
        now(),
        _later(settings.session_ttl_seconds),
    )
    tx.run("UPDATE users SET failed_attempts = 0, locked_until = NULL WHERE uid = ?", row["uid"])
    return str(row["uid"]), token


def logout(tx: Tx, session_hash: str) -> None:
    tx.run("DELETE FROM sessions WHERE token_hash = ?", session_hash)


def tfa_setup(tx: Tx, user_uid: str, email: str) -> dict[str, str]:
    """Start two-factor enrolment: a new TOTP secret, not yet required until confirmed."""
    key = pyotp.random_base32()
    tx.run("UPDATE users SET tfa_secret = ?, tfa_enabled = 0 WHERE uid = ?", key, user_uid)
    return {
        "secret": key,
        "otpauth_uri": pyotp.TOTP(key).provisioning_uri(name=email, issuer_name="Stackyard"),
    }


def tfa_confirm(tx: Tx, user_uid: str, code: object, *, enable: bool) -> None:
    """Turn two-factor login on (after setup) or off; either way a current code is needed."""
    row = tx.one("SELECT tfa_secret FROM users WHERE uid = ?", user_uid)
    if row is None or not row["tfa_secret"]:
        raise invalid({"tfa_token": ["two-factor setup has not been started."]})
    if not isinstance(code, str) or not pyotp.TOTP(row["tfa_secret"]).verify(code, valid_window=1):
        raise UnprocessableEntity(error_code=295, errors=[])
    tx.run(
        "UPDATE users SET tfa_enabled = ?, tfa_secret = ? WHERE uid = ?",
        1 if enable else 0,
        row["tfa_secret"] if enable else None,
        user_uid,
    )
