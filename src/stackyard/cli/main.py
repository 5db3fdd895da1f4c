"""Entry point of the `stackyard` command.

Server verbs (`serve`, `db upgrade`, `mail outbox`, see `stackyard.cli.admin`) run in-process; every other command talks to a
server through `stackyard.client` (see `stackyard.cli.commands`). Library errors become CLI errors
in exactly one place, `main()`, with the exit code their class carries.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from stackyard import __version__
from stackyard.cli import admin, commands
from stackyard.cli.context import add_global_options
from stackyard.cli.errors import CLIError, UsageError
from stackyard.errors import APIError, StackyardError


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="stackyard", description="Stackyard: a self-hosted content platform."
    )
    parser.add_argument("--version", action="version", version=f"stackyard {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="command")
    admin.register(sub)
    add_global_options(parser)
    commands.register(sub)
    return parser


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
