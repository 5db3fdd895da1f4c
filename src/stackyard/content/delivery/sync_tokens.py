"""Sync and pagination tokens: signed, never expiring, bound to a stack, environment and branch.

    token = sign(db, {"k": api_key, "e": env_uid, "b": branch, "p": 42, ...})
    state = verify(db, token, scope)      # None when forged, altered, or another stack's

A token is `<payload>.<mac>`: the payload is base64url JSON, the mac an HMAC-SHA256 of it under a
secret the database keeps (`delivery_secrets`, made on first use), so every process and server
sharing the database accepts every token, and nobody without the secret can make one.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import threading
from typing import Any
from weakref import WeakKeyDictionary

from stackyard.content.delivery.scope import Scope
from stackyard.ids import now
from stackyard.store.engine import Database

_SECRETS: WeakKeyDictionary[Database, bytes] = WeakKeyDictionary()
_LOCK = threading.Lock()


def _secret(db: Database) -> bytes:
    found = _SECRETS.get(db)
    if found is not None:
        return found
    with _LOCK:
        with db.read() as tx:
            value = tx.scalar("SELECT secret FROM delivery_secrets WHERE name = 'sync'")
        if value is None:
            with db.write() as tx:
                tx.run(
                    "INSERT INTO delivery_secrets (name, secret, created_at) VALUES ('sync', ?, ?) "
                    "ON CONFLICT (name) DO NOTHING",
                    secrets.token_hex(32),
                    now(),
                )
                value = tx.scalar("SELECT secret FROM delivery_secrets WHERE name = 'sync'")
        key = bytes.fromhex(str(value))
        _SECRETS[db] = key
        return key


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def sign(db: Database, state: dict[str, Any]) -> str:
    payload = _b64(json.dumps(state, separators=(",", ":"), sort_keys=True).encode())
    mac = hmac.new(_secret(db), payload.encode(), hashlib.sha256).digest()
    return f"{payload}.{_b64(mac)}"


def verify(db: Database, token: str, scope: Scope) -> dict[str, Any] | None:
    if not isinstance(token, str) or token.count(".") != 1 or len(token) > 4096:
        return None
    payload, mac = token.split(".")
    want = hmac.new(_secret(db), payload.encode(), hashlib.sha256).digest()
    try:
        if not hmac.compare_digest(want, _unb64(mac)):
            return None
        state = json.loads(_unb64(payload))
    except ValueError:
        return None
    if not isinstance(state, dict):
        return None
    if (state.get("k"), state.get("e"), state.get("b")) != (scope.api_key, scope.environment, scope.branch):
        return None
    return state
