"""The SQLite database and its -wal and -shm files are the server user's alone (mode 0600)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from stackyard.store import migrations
from stackyard.store.engine import Database


def _mode(path: Path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_new_database_files_are_private(tmp_path: Path) -> None:
    path = tmp_path / "data" / "stackyard.db"
    db = Database(f"sqlite:///{path}")
    try:
        migrations.upgrade(db)
        with db.write() as tx:  # leaves the -wal and -shm files in place while open
            tx.run("CREATE TABLE t (x INTEGER)")
        for name in ("stackyard.db", "stackyard.db-wal", "stackyard.db-shm"):
            assert _mode(path.parent / name) == 0o600, name
        assert _mode(path.parent) == 0o700
    finally:
        db.close()


def test_an_older_world_readable_database_is_tightened(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    path.touch(mode=0o644)
    os.chmod(path, 0o644)
    db = Database(f"sqlite:///{path}")
    try:
        migrations.upgrade(db)
        assert _mode(path) == 0o600
    finally:
        db.close()
