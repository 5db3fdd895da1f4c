"""First start: the owner and their organization; with --demo, a demo stack to play with."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from stackyard.access.caller import Caller
from stackyard.access.resolve import stack_access
from stackyard.content.assets import storage as asset_storage
from stackyard.identity import organizations, passwords, users
from stackyard.settings import Settings
from stackyard.stacks import environments, locales, stacks
from stackyard.store.engine import Database

DEMO_EMAIL = "demo@stackyard.local"
DEMO_PASSWORD = "stackyard-demo"
DEMO_STACK = "Demo: Stackyard Journal"


def admin_password(settings: Settings) -> str:
    """The first owner's password: `--admin-password`, or the first line of `--admin-password-file`."""
    if settings.admin_password or not settings.admin_password_file:
        return settings.admin_password
    with open(settings.admin_password_file, encoding="utf-8") as f:
        return f.readline().rstrip("\r\n")


def ensure_owner(db: Database, settings: Settings) -> str | None:
    """Create the first owner and organization when the database has no users; answers a message for the console."""
    email, password = settings.admin_email, admin_password(settings)
    if settings.demo and not email:
        email, password = DEMO_EMAIL, DEMO_PASSWORD
    with db.read() as tx:
        if tx.scalar("SELECT COUNT(*) AS n FROM users"):
            return None
    if not email or not password:
        return (
            "No users yet. Restart with STACKYARD_ADMIN_EMAIL and STACKYARD_ADMIN_PASSWORD set "
            "(or --admin-email with --admin-password or --admin-password-file) to create the owner and an organization."
        )
    password_hash = passwords.hash_password(password, settings)  # hashed before the write, as everywhere
    with db.write() as tx:
        if tx.scalar("SELECT COUNT(*) AS n FROM users"):
            return None
        user_uid, _ = users.create(tx, email, password_hash=password_hash, first_name="Owner")
        organizations.create(tx, user_uid, "My Organization")
    return f"Created the owner {email} and the organization 'My Organization'."


def ensure_demo(db: Database, settings: Settings) -> dict[str, Any]:
    """The demo stack, created once; its details (with the delivery token) are kept in the data dir."""
    info_path = Path(settings.data_dir) / "demo.json"
    with db.write() as tx:
        owner = tx.one(
            "SELECT u.uid, u.email FROM organizations o JOIN users u ON u.uid = o.owner_uid ORDER BY o.created_at LIMIT 1"
        )
        if owner is None:
            raise RuntimeError(
                "the demo needs an owner; set STACKYARD_ADMIN_EMAIL and STACKYARD_ADMIN_PASSWORD"
            )
        existing = tx.one("SELECT api_key FROM stacks WHERE name = ?", DEMO_STACK)
        if existing and info_path.exists():
            info: dict[str, Any] = json.loads(info_path.read_text())
            return info
        caller = Caller(kind="user", user_uid=owner["uid"], email=owner["email"], request_id="bootstrap")
        api_key = (
            existing["api_key"]
            if existing
            else stacks.create(
                tx,
                caller,
                {"name": DEMO_STACK, "description": "Demo content", "master_locale": "en-us"},
                None,
            )
        )
        access = stack_access(tx, caller, api_key)
        if not locales.exists(tx, api_key, "fr-fr"):
            locales.create(
                tx, access, {"code": "fr-fr", "name": "French - France", "fallback_locale": "en-us"}
            )
        for name in ("development", "production"):
            if not tx.one("SELECT 1 AS x FROM environments WHERE api_key = ? AND name = ?", api_key, name):
                environments.create(
                    tx,
                    access,
                    {
                        "name": name,
                        "urls": [
                            {"locale": "en-us", "url": f"https://{name}.example.com"},
                            {"locale": "fr-fr", "url": f"https://{name}.example.com/fr"},
                        ],
                    },
                )
        info = {"email": owner["email"], "api_key": api_key, "environment": "production"}
        asset_storage.configure(db, settings)  # the demo's images are stored where uploads go
        for extra in _demo_extras():
            info.update(extra(tx, access))
    Path(settings.data_dir).mkdir(parents=True, exist_ok=True)
    fd = os.open(info_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        json.dump(info, fh, indent=2)
    return info


def _demo_extras() -> list[Any]:
    """Further demo steps contributed by domains (delivery token, content model, entries)."""
    from stackyard.automation import demo as automation_demo
    from stackyard.content import demo

    return [*demo.STEPS, automation_demo.demo_rule]
