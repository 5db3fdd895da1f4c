"""The server-side verbs of `stackyard`, run in-process: `serve`, `worker`, `db upgrade`, `mail outbox`,
and `organization create` (an operator verb inside the client-side `organization` command)."""

from __future__ import annotations

import argparse
from typing import Any

from stackyard.cli.context import Ctx
from stackyard.cli.resources import Verb, arg, nonempty
from stackyard.settings import describe


def register(sub: Any) -> None:
    """Add the server-side commands to the top-level parser."""
    _serve_parser(sub)
    _worker_parser(sub)
    _db_parser(sub)
    _mail_parser(sub)


def _serve_parser(sub: Any) -> None:
    p = sub.add_parser(
        "serve",
        help="Run the Stackyard server.",
        description="Run the Stackyard server. Every option can also be set as STACKYARD_<NAME>.",
    )
    _add_settings(p)
    p.set_defaults(func=_cmd_serve)


def _add_settings(p: argparse.ArgumentParser) -> None:
    """One option per setting (`--name-with-dashes`), booleans with a `--no-` twin."""
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


def _worker_parser(sub: Any) -> None:
    p = sub.add_parser(
        "worker",
        help="Run background jobs only (no HTTP), beside the servers.",
        description="Run background jobs (scheduled publishing, bulk jobs, deliveries...) without serving "
        "HTTP, until SIGTERM. Takes the same settings as `serve`; the job_* ones matter here.",
    )
    _add_settings(p)
    p.set_defaults(func=_cmd_worker)


def _cmd_worker(args: argparse.Namespace) -> int:
    from stackyard.server.worker import run_worker

    run_worker(_settings_from(args))
    return 0


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


DATABASE_ARGS = (
    arg(
        "--database-url",
        dest="database_url",
        default=None,
        help="Database URL (default: STACKYARD_DATABASE_URL or the data dir's SQLite file).",
    ),
    arg("--data-dir", dest="data_dir", default=None, help="Data directory (default: ./.stackyard)."),
)


def _create_organization(ctx: Ctx, args: argparse.Namespace) -> Any:
    """Create the organization on the database; answers its uid (the whole object with -j/-y/-a)."""
    from stackyard.identity import accounts
    from stackyard.store import migrations
    from stackyard.store.engine import Database

    settings = _settings_from(args)
    db = Database(settings.resolved_database_url)
    try:
        migrations.upgrade(db)
        org = accounts.create_organization(db, args.name, args.owner, settings)
    finally:
        db.close()
    if org["activation_mailed"]:
        ctx.err.write(
            f"{org['owner_email']} is a new owner: an activation token was mailed "
            "(without SMTP, read it with `stackyard mail outbox`).\n"
        )
    if ctx.format.kind == "table" and ctx.format.attrs is None:
        return org["uid"]
    return org


ORGANIZATION_CREATE = Verb(
    "create",
    "Create a further organization (operator command: runs on the database, like `stackyard db upgrade`).",
    _create_organization,
    show="raw",
    takes_id=False,
    connection=False,
    args=(
        arg("name", metavar="NAME", type=nonempty, help="Name of the new organization."),
        arg(
            "--owner",
            required=True,
            metavar="EMAIL",
            help="Its owner: an existing user, or a new address that gets an inactive account and an "
            "activation mail.",
        ),
        *DATABASE_ARGS,
    ),
)
