"""First start: the owner is created from the settings, with the password read from a file if asked."""

from __future__ import annotations

from pathlib import Path

from stackyard.identity import passwords
from stackyard.server.bootstrap import ensure_owner
from stackyard.settings import Settings
from stackyard.store.engine import Database


def test_owner_password_from_a_file(db: Database, settings: Settings, tmp_path: Path) -> None:
    # given a password file (the password kept out of the command line and the environment)
    secret = tmp_path / "admin-password"
    secret.write_text("from a file, not ps\n")
    secret.chmod(0o600)
    configured = settings.replace(admin_email="first@example.com", admin_password_file=str(secret))
    # when the server starts on an empty database
    message = ensure_owner(db, configured)
    # then the owner exists and logs in with the file's first line
    assert message is not None and "first@example.com" in message
    with db.read() as tx:
        stored = tx.scalar("SELECT password_hash FROM users WHERE email = ?", "first@example.com")
    assert passwords.verify(stored, "from a file, not ps")
    assert not passwords.verify(stored, "from a file, not ps\n")


def test_without_a_password_nothing_is_created(db: Database, settings: Settings) -> None:
    message = ensure_owner(db, settings.replace(admin_email="first@example.com"))
    assert message is not None and "--admin-password-file" in message
    with db.read() as tx:
        assert tx.scalar("SELECT COUNT(*) FROM users") == 0
