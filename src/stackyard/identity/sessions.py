"""Login (with lockout and TOTP two-factor), logout, and two-factor enrolment.

Every change that ends or narrows a session (logout here, a password reset in `users`) records a
`user.*` event: sessions are cached per process (`access.resolve`) until such an event."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pyotp

from stackyard.access.caller import Caller
from stackyard.core import spine
from stackyard.errors import APIError, UnprocessableEntity, invalid
from stackyard.identity.passwords import verify
from stackyard.identity.users import normalize_email
from stackyard.ids import digest, now, parse_time, secret
from stackyard.settings import Settings
from stackyard.store.engine import Database, Row, Tx


def _later(seconds: int) -> str:
    return (parse_time(now()) + timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%S.000Z")


@dataclass(frozen=True)
class Attempt:
    """The outcome of a login: a new session, or the error to answer once the attempt is committed."""

    user_uid: str = ""
    authtoken: str = ""
    error: APIError | None = None


def login(db: Database, data: dict[str, Any], settings: Settings) -> Attempt:
    """Check credentials and, when they hold, open a session.

    Takes the database, not a transaction: the password check (argon2, slow by design) runs
    between a read of the user and a short write, never inside a transaction, so a failed login
    does not hold up other writes. The write reads the user again; should the password, the
    second factor or the active flag have changed meanwhile, the check starts over.

    Wrong passwords and wrong two-factor codes count towards a lockout. They are answered as an
    `Attempt` with an error instead of being raised, because raising inside the write transaction
    would roll back the very failure count that makes the lockout work.
    """
    email, password = data.get("email"), data.get("password")
    if not isinstance(email, str) or not isinstance(password, str):
        raise invalid({"email": ["is required."], "password": ["is required."]}, code=104)
    try:
        address = normalize_email(email)
    except UnprocessableEntity:
        address = ""
    for _ in range(_CHECKS):
        with db.read() as tx:
            seen = tx.one("SELECT * FROM users WHERE email = ?", address)
        if seen is not None and _locked(seen):
            return Attempt(error=UnprocessableEntity(error_code=108, errors=[]))
        matches = verify(seen["password_hash"] if seen else None, password, settings)
        if seen is None:
            return Attempt(error=_bad_credentials(settings.max_failed_logins))
        with db.write() as tx:
            row = tx.one("SELECT * FROM users WHERE uid = ?" + tx.for_update, seen["uid"])
            if row is None:
                return Attempt(error=_bad_credentials(settings.max_failed_logins))
            if any(row[k] != seen[k] for k in _CREDENTIALS):
                continue
            return _settle(tx, row, matches, data, settings)
    # Credentials that change under every check: answer as a wrong password, without counting it.
    return Attempt(error=_bad_credentials(settings.max_failed_logins))


# Checks of one login before giving up on credentials that keep changing; what must not change
# between the check of the password and the write that acts on it.
_CHECKS = 3
_CREDENTIALS = ("password_hash", "active", "tfa_enabled", "tfa_secret")


def _locked(row: Row) -> bool:
    return bool(row["locked_until"] and row["locked_until"] > now())


def _settle(tx: Tx, row: Row, matches: bool, data: dict[str, Any], settings: Settings) -> Attempt:
    """Act on a checked password, in the write: count a failure, or open the session."""
    if _locked(row):
        return Attempt(error=UnprocessableEntity(error_code=108, errors=[]))
    if not matches:
        return _failed(tx, row["uid"], settings)
    if not row["active"]:
        return Attempt(error=UnprocessableEntity(error_code=112, errors=[]))
    if row["tfa_enabled"]:
        code = data.get("tfa_token")
        if code is None or code == "":
            return Attempt(
                error=UnprocessableEntity(error_code=294, errors=[], extra={"tfa_type": "totp_authenticator"})
            )
        if not _code_ok(row["tfa_secret"], code):
            failed = _failed(tx, row["uid"], settings)
            if failed.error is not None and failed.error.error_code == 108:
                return failed
            return Attempt(error=UnprocessableEntity(error_code=295, errors=[]))
    token = secret("cs")
    tx.run(
        "INSERT INTO sessions (token_hash, user_uid, created_at, expires_at) VALUES (?, ?, ?, ?)",
        digest(token),
        row["uid"],
        now(),
        _later(settings.session_ttl_seconds),
    )
    tx.run("UPDATE users SET failed_attempts = 0, locked_until = NULL WHERE uid = ?", row["uid"])
    return Attempt(user_uid=str(row["uid"]), authtoken=token)


def _bad_credentials(left: int) -> UnprocessableEntity:
    return UnprocessableEntity(
        f"Looks like your email or password is invalid. You have {left} login attempt(s) left.",
        error_code=104,
        errors=[],
    )


def _failed(tx: Tx, user_uid: str, settings: Settings) -> Attempt:
    """Count one failed attempt (atomically, so parallel guesses all count); lock at the limit."""
    counted = tx.all(
        "UPDATE users SET failed_attempts = failed_attempts + 1 WHERE uid = ? RETURNING failed_attempts",
        user_uid,
    )
    failed = int(counted[0]["failed_attempts"]) if counted else settings.max_failed_logins
    if failed >= settings.max_failed_logins:
        tx.run(
            "UPDATE users SET failed_attempts = 0, locked_until = ? WHERE uid = ?",
            _later(settings.lockout_seconds),
            user_uid,
        )
        return Attempt(error=UnprocessableEntity(error_code=108, errors=[]))
    return Attempt(error=_bad_credentials(settings.max_failed_logins - failed))


def _code_ok(tfa_secret: str | None, code: object) -> bool:
    """A current TOTP code (one step of clock drift either way)."""
    if (
        not tfa_secret
        or not isinstance(code, str)
        or not (code.isascii() and code.isdigit())
        or len(code) != 6
    ):
        return False
    return bool(pyotp.TOTP(tfa_secret).verify(code, valid_window=1))


def logout(tx: Tx, caller: Caller) -> None:
    """End the caller's session; the event tells every process's session cache (`core.cache`)."""
    tx.run("DELETE FROM sessions WHERE token_hash = ?", caller.session_hash)
    spine.record_user(tx, caller, "user.logout", str(caller.user_uid))


def tfa_setup(tx: Tx, user_uid: str, email: str) -> dict[str, str]:
    """Start two-factor enrolment: a new TOTP secret, not yet required until confirmed.

    Refused while two-factor login is on: otherwise anyone holding a session could swap the
    secret (and switch the second factor off) without knowing a current code.
    """
    if tx.scalar("SELECT tfa_enabled FROM users WHERE uid = ?", user_uid):
        raise invalid(
            {"tfa_token": ["two-factor login is already on; disable it with a current code first."]}
        )
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
    if not _code_ok(row["tfa_secret"], code):
        raise UnprocessableEntity(error_code=295, errors=[])
    tx.run(
        "UPDATE users SET tfa_enabled = ?, tfa_secret = ? WHERE uid = ?",
        1 if enable else 0,
        row["tfa_secret"] if enable else None,
        user_uid,
    )
