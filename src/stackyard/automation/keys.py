"""The key-value store (st2 `/keys`): system and user scope per organization, secrets encrypted with
authenticated encryption (Fernet: AES-128-CBC with HMAC-SHA256), TTLs, prefix listing.

The server key is the `automation_secret_key` setting, or one generated on first use and kept in
`<data dir>/automation.key` (mode 0600). Every process of one installation must share it.
A secret's stored value is its ciphertext; it is answered as such (`encrypted: true`) unless the
caller asks for `decrypt=true` (system scope: admins only; user scope: the key's own user or an admin).
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet, InvalidToken

from stackyard.automation.common import Principal, iso, not_found
from stackyard.core import spine
from stackyard.errors import BadRequest, Forbidden
from stackyard.settings import Settings
from stackyard.store.engine import Row, Tx

SCOPES = {
    "system": "st2kv.system",
    "user": "st2kv.user",
    "st2kv.system": "st2kv.system",
    "st2kv.user": "st2kv.user",
}
_CIPHERS: dict[str, Fernet] = {}
_LOCK = threading.Lock()


def cipher(settings: Settings) -> Fernet:
    """The server's Fernet key: the setting, else <data dir>/automation.key (created once)."""
    if settings.automation_secret_key:
        key = settings.automation_secret_key
    else:
        path = Path(settings.data_dir) / "automation.key"
        key = str(path)
    with _LOCK:
        found = _CIPHERS.get(key)
        if found is not None:
            return found
        if settings.automation_secret_key:
            made = Fernet(settings.automation_secret_key.encode())
        else:
            path = Path(key)
            if not path.exists():
                path.parent.mkdir(parents=True, exist_ok=True)
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                with os.fdopen(fd, "wb") as out:
                    out.write(Fernet.generate_key())
            made = Fernet(path.read_bytes().strip())
        _CIPHERS[key] = made
        return made


def encrypt(settings: Settings, plain: str) -> str:
    return cipher(settings).encrypt(plain.encode()).decode()


def decrypt(settings: Settings, token: str) -> str:
    try:
        return cipher(settings).decrypt(token.encode()).decode()
    except (InvalidToken, ValueError):
        raise BadRequest("The value is not a ciphertext of this server's key (decrypt_kv failed).") from None


def scope_of(value: Any, default: str = "st2kv.system") -> str:
    if value in (None, ""):
        return default
    if value == "all":
        return "all"
    found = SCOPES.get(str(value))
    if found is None:
        raise BadRequest(
            f'Invalid scope "{value}". Valid scopes are: system, user, st2kv.system, st2kv.user, all.'
        )
    return found


def _render(row: Row, settings: Settings, decrypted: bool) -> dict[str, Any]:
    value = row["value"]
    secret = bool(row["secret"])
    if secret and decrypted:
        value = decrypt(settings, value)
    scope = row["scope"]
    out: dict[str, Any] = {
        "id": row["name"],
        "uid": f"key_value_pair:{scope}:{row['owner'] + ':' if row['owner'] else ''}{row['name']}",
        "name": row["name"],
        "value": value,
        "secret": secret,
        "encrypted": secret and not decrypted,
        "scope": scope,
    }
    if scope == "st2kv.user":
        out["user"] = row["owner"]
    if row["expires_at"] is not None:
        out["expire_timestamp"] = iso(row["expires_at"])
    return out


def _owner(p: Principal, scope: str, user: Any) -> str:
    if scope == "st2kv.system":
        return ""
    if user and user != p.username:
        if not p.is_admin:
            raise Forbidden(f'"{p.username}" may not access the keys of user "{user}".')
        return str(user)
    return p.username


def _may_decrypt(p: Principal, scope: str, owner: str) -> None:
    if not p.is_admin and (scope == "st2kv.system" or owner != p.username):
        raise Forbidden("Decrypting system-scoped or other users' secrets requires an administrator.")


def _live(now: float) -> str:
    return f"(expires_at IS NULL OR expires_at > {now!r})"


def get(
    tx: Tx, p: Principal, settings: Settings, name: str, scope: Any, user: Any, decrypted: bool
) -> dict[str, Any]:
    sc = scope_of(scope)
    if sc == "all":
        sc = "st2kv.system"
    owner = _owner(p, sc, user)
    row = tx.one(
        f"SELECT * FROM st2_keys WHERE org_uid = ? AND scope = ? AND owner = ? AND name = ? AND {_live(time.time())}",
        p.org_uid,
        sc,
        owner,
        name,
    )
    if row is None:
        raise not_found("KeyValuePair", name)
    if decrypted and row["secret"]:
        _may_decrypt(p, sc, owner)
    return _render(row, settings, decrypted)


def list_(
    tx: Tx,
    p: Principal,
    settings: Settings,
    *,
    scope: Any,
    user: Any,
    prefix: str | None,
    decrypted: bool,
    offset: int = 0,
    limit: int | None = None,
    name: str | None = None,
) -> list[dict[str, Any]]:
    sc = scope_of(scope, "all")
    clauses = ["org_uid = ?", _live(time.time())]
    params: list[Any] = [p.org_uid]
    parts: list[str] = []
    if sc in ("all", "st2kv.system"):
        parts.append("(scope = 'st2kv.system')")
    if sc in ("all", "st2kv.user"):
        parts.append("(scope = 'st2kv.user' AND owner = ?)")
        params.append(_owner(p, "st2kv.user", user))
    clauses.append("(" + " OR ".join(parts) + ")")
    if prefix:
        clauses.append("substr(name, 1, ?) = ?")
        params += [len(prefix), prefix]
    if name:
        clauses.append("name = ?")
        params.append(name)
    rows = tx.all(f"SELECT * FROM st2_keys WHERE {' AND '.join(clauses)} ORDER BY scope, name", *params)
    rows = rows[offset : None if limit is None else offset + limit]
    out = []
    for row in rows:
        want = decrypted and bool(row["secret"])
        if want:
            _may_decrypt(p, row["scope"], row["owner"])
        out.append(_render(row, settings, want))
    return out


def put(tx: Tx, p: Principal, settings: Settings, name: str, body: Mapping[str, Any]) -> dict[str, Any]:
    """Create or replace a key (st2's `PUT /keys/{name}`)."""
    if not name or len(name) > 512:
        raise BadRequest("A key needs a name of at most 512 characters.")
    sc = scope_of(body.get("scope"))
    if sc == "all":
        raise BadRequest('Scope "all" cannot be used to set a key.')
    p.require_admin()  # observers read only, their own user-scoped keys too
    owner = _owner(p, sc, body.get("user"))
    value = body.get("value")
    if not isinstance(value, str):
        raise BadRequest("value must be a string.")
    secret = bool(body.get("secret")) or bool(body.get("encrypted"))
    if body.get("encrypted"):
        if not p.is_admin:
            raise Forbidden("Only administrators may store already encrypted values.")
        decrypt(settings, value)  # must be a ciphertext of this server's key
        stored = value
    else:
        stored = encrypt(settings, value) if secret else value
    ttl = body.get("ttl")
    expires = None
    if ttl is not None:
        if not isinstance(ttl, int) or isinstance(ttl, bool) or ttl < 1:
            raise BadRequest("ttl must be a positive integer (seconds).")
        expires = time.time() + ttl
    tx.run(
        "INSERT INTO st2_keys (org_uid, scope, owner, name, value, secret, expires_at, updated_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (org_uid, scope, owner, name) DO UPDATE SET "
        "value = excluded.value, secret = excluded.secret, expires_at = excluded.expires_at, updated_at = excluded.updated_at",
        p.org_uid,
        sc,
        owner,
        name,
        stored,
        int(secret),
        expires,
        iso(),
    )
    spine.record_org(tx, p, "automation_key.set", p.org_uid, {"name": name, "scope": sc, "secret": secret})
    return get(tx, p, settings, name, sc, owner or None, False)


def delete(tx: Tx, p: Principal, name: str, scope: Any, user: Any) -> None:
    sc = scope_of(scope)
    if sc == "all":
        sc = "st2kv.system"
    p.require_admin()  # observers read only, their own user-scoped keys too
    owner = _owner(p, sc, user)
    n = tx.run(
        f"DELETE FROM st2_keys WHERE org_uid = ? AND scope = ? AND owner = ? AND name = ? AND {_live(time.time())}",
        p.org_uid,
        sc,
        owner,
        name,
    )
    if n == 0:
        raise not_found("KeyValuePair", name)
    spine.record_org(tx, p, "automation_key.delete", p.org_uid, {"name": name, "scope": sc})


def lookup_for(tx: Tx, org_uid: str, username: str) -> Any:
    """A template lookup `(scope, name) -> stored value` for this organization and user."""

    def lookup(scope: str, name: str) -> str | None:
        sc = "st2kv.user" if scope == "user" else "st2kv.system"
        owner = username if sc == "st2kv.user" else ""
        value = tx.scalar(
            f"SELECT value FROM st2_keys WHERE org_uid = ? AND scope = ? AND owner = ? AND name = ? AND {_live(time.time())}",
            org_uid,
            sc,
            owner,
            name,
        )
        return None if value is None else str(value)

    return lookup


def set_system(tx: Tx, org_uid: str, name: str, value: str, ttl: int | None = None) -> None:
    """Write a plain system key (the st2.kv.set action, used by the demo rule)."""
    expires = time.time() + ttl if ttl else None
    tx.run(
        "INSERT INTO st2_keys (org_uid, scope, owner, name, value, secret, expires_at, updated_at) "
        "VALUES (?, 'st2kv.system', '', ?, ?, 0, ?, ?) ON CONFLICT (org_uid, scope, owner, name) DO UPDATE SET "
        "value = excluded.value, secret = 0, expires_at = excluded.expires_at, updated_at = excluded.updated_at",
        org_uid,
        name,
        value,
        expires,
        iso(),
    )
