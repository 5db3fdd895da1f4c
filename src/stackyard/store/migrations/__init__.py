"""Schema migrations: numbered SQL files applied in order, once, at start and by `stackyard db upgrade`.

A file may use `{json}` (TEXT on SQLite, JSONB on PostgreSQL) and `{serial}` (an auto-increment
integer primary key). Each file runs in one transaction with its bookkeeping row.
"""

from __future__ import annotations

from importlib import resources

from stackyard.ids import now
from stackyard.store.engine import Database, unlimited_queries

_MACROS = {
    "sqlite": {"json": "TEXT", "serial": "INTEGER PRIMARY KEY AUTOINCREMENT"},
    "postgresql": {"json": "JSONB", "serial": "BIGSERIAL PRIMARY KEY"},
}


def available() -> list[tuple[int, str, str]]:
    """(version, name, sql) of every migration shipped with this package, in order."""
    out = []
    for item in resources.files(__package__).iterdir():
        name = item.name
        if name.endswith(".sql") and name[:4].isdigit():
            out.append((int(name[:4]), name[:-4], item.read_text(encoding="utf-8")))
    return sorted(out)


def render(sql: str, dialect: str) -> str:
    for key, value in _MACROS[dialect].items():
        sql = sql.replace("{" + key + "}", value)
    return sql


def upgrade(db: Database) -> list[str]:
    """Apply every migration not yet applied; answers the names applied now. No statement time limit:
    a migration may rewrite big tables, and processes starting together wait here for the first."""
    applied_now: list[str] = []
    with unlimited_queries(), db.write() as tx:
        if db.dialect == "postgresql":
            # Several server processes may start at once: one migrates, the others wait.
            tx.run("SELECT pg_advisory_xact_lock(727400001)")
        tx.run(
            "CREATE TABLE IF NOT EXISTS schema_migrations "
            "(version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)"
        )
        done = {r["version"] for r in tx.all("SELECT version FROM schema_migrations")}
        for version, name, sql in available():
            if version in done:
                continue
            tx.script(render(sql, db.dialect))
            tx.run(
                "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
                version,
                name,
                now(),
            )
            applied_now.append(name)
    return applied_now


def current(db: Database) -> list[str]:
    with db.read() as tx:
        try:
            return [r["name"] for r in tx.all("SELECT name FROM schema_migrations ORDER BY version")]
        except Exception:
            return []
