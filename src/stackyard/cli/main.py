"""Entry point of the `stackyard` command.

Server verbs (`serve`, `db upgrade`, `mail outbox`) run in-process; every other command talks to a
server through `stackyard.client` (see `stackyard.cli.commands`). Library errors become CLI errors
in exactly one place, `main()`, with the exit code their class carries.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from typing import Any

from stackyard import __version__
from stackyard.errors import APIError, StackyardError
from stackyard.settings import describe

# Functions that add subcommands to the top-level parser; client command modules register here.
Registrar = Callable[[Any], None]
REGISTRARS: list[Registrar] = []
# Functions that add options to the top-level parser itself (`stackyard --url U environment list`).
GLOBAL_OPTIONS: list[Callable[[argparse.ArgumentParser], None]] = []


class CLIError(StackyardError):
    """An error to report on stderr; `exit_code` 2 means bad usage, 1 anything else."""

    exit_code = 1


class UsageError(CLIError):
    exit_code = 2


def _serve_parser(sub: Any) -> None:
    p = sub.add_parser(
        "serve",
        help="Run the Stackyard server.",
        description="Run the Stackyard server. Every option can also be set as STACKYARD_<NAME>.",
    )
    for name, default, help_text in describe():
        flag = "--" + name.replace("_", "-")
        if isinstance(default, bool):
            p.add_argument(
                flag,
                dest=name,
                action=argparse.BooleanOptionalAction,
                default=None,
                help=f"{help_text} (default: {default})",
            )
        else:
            p.add_argument(
                flag, dest=name, type=type(default), default=None, help=f"{help_text} (default: {default!r})"
            )
    p.set_defaults(func=_cmd_serve)


def _settings_from(args: argparse.Namespace) -> Any:
    from stackyard.settings import Settings

    names = [n for n, _, _ in describe()]
    return Settings.from_sources({n: getattr(args, n, None) for n in names})


def _cmd_serve(args: argparse.Namespace) -> int:
    from stackyard.server.serve import run

    run(_settings_from(args))
    return 0


def _db_parser(sub: Any) -> None:
    p = sub.add_parser("db", help="Database administration.", description="Database administration.")
    dsub = p.add_subparsers(dest="db_command", required=True)
    up = dsub.add_parser(
        "upgrade", help="Apply pending schema migrations.", description="Apply pending schema migrations."
    )
    up.add_argument(
        "--database-url",
        dest="database_url",
        default=None,
        help="Database URL (default: STACKYARD_DATABASE_URL or the data dir's SQLite file).",
    )
    up.add_argument(
        "--data-dir", dest="data_dir", default=None, help="Data directory (default: ./.stackyard)."
    )
    up.set_defaults(func=_cmd_db_upgrade)


def _cmd_db_upgrade(args: argparse.Namespace) -> int:
    from stackyard.store import migrations
    from stackyard.store.engine import Database

    settings = _settings_from(args)
    db = Database(settings.resolved_database_url)
    try:
        applied = migrations.upgrade(db)
        print("applied: " + ", ".join(applied) if applied else "the schema is up to date")
    finally:
        db.close()
    return 0


def _mail_parser(sub: Any) -> None:
    p = sub.add_parser(
        "mail",
        help="Read the server's mail outbox.",
        description="Read the server's mail outbox (activation, reset and invitation mail).",
    )
    msub = p.add_subparsers(dest="mail_command", required=True)
    ob = msub.add_parser(
        "outbox",
        help="Show queued and sent mail, newest first.",
        description="Show queued and sent mail, newest first.",
    )
    ob.add_argument("--to", default=None, help="Only mail to this address.")
    ob.add_argument("-n", "--limit", type=int, default=20, help="How many messages (default 20).")
    ob.add_argument(
        "--database-url",
        dest="database_url",
        default=None,
        help="Database URL (default: STACKYARD_DATABASE_URL or the data dir's SQLite file).",
    )
    ob.add_argument(
        "--data-dir", dest="data_dir", default=None, help="Data directory (default: ./.stackyard)."
    )
    ob.set_defaults(func=_cmd_outbox)


def _cmd_outbox(args: argparse.Namespace) -> int:
    from stackyard.identity import mail
    from stackyard.store.engine import Database

    db = Database(_settings_from(args).resolved_database_url)
    try:
        with db.read() as tx:
            rows = mail.outbox(tx, args.to, args.limit)
    finally:
        db.close()
    for row in rows:
        print(
            f"--- {row['created_at']}  to: {row['to_addr']}  subject: {row['subject']}  {'sent' if row['sent_at'] else 'queued'}"
        )
        print(row["body"])
    if not rows:
        print("the outbox is empty")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="stackyard", description="Stackyard: a self-hosted content platform."
    )
    parser.add_argument("--version", action="version", version=f"stackyard {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="command")
    _serve_parser(sub)
    _db_parser(sub)
    _mail_parser(sub)
    _load_client_commands()
    for add_options in GLOBAL_OPTIONS:
        add_options(parser)
    for register in REGISTRARS:
        register(sub)
    return parser


def _load_client_commands() -> None:
    try:
        import stackyard.cli.commands  # noqa: F401  (registers itself)
    except ImportError as e:  # pragma: no cover - only while the client half is absent
        if e.name != "stackyard.cli.commands":
            raise


def main(argv: Sequence[str] | None = None) -> None:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        code = args.func(args)
    except UsageError as e:
        print(f"stackyard: {e}", file=sys.stderr)
        code = e.exit_code
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        code = 130
    except APIError as e:
        detail = "".join(
            f"\n  {k}: {', '.join(map(str, v)) if isinstance(v, list) else v}"
            for k, v in (e.errors.items() if isinstance(e.errors, dict) else [])
        )
        print(f"ERROR: {e.status} {e.error_message}{detail}", file=sys.stderr)
        code = 1
    except CLIError as e:
        print(f"ERROR: {e}", file=sys.stderr)
        code = e.exit_code
    except StackyardError as e:
        print(f"ERROR: {e}", file=sys.stderr)
        code = 1
    sys.exit(code)
