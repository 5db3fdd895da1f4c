"""What a client command works with: its parsed arguments, credentials and an SDK client.

The client is made on first use, so `--help` and argument errors never touch the network, and is
closed by `run()` whatever happens.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any, TextIO

from stackyard.cli.config import DEFAULT_URL, Credentials
from stackyard.cli.errors import UsageError
from stackyard.cli.output import Format

URL_HELP = f"Server URL (default: $STACKYARD_URL, else the server you logged in to, else {DEFAULT_URL})."
API_KEY_HELP = "API key of the stack to work on (default: $STACKYARD_API_KEY)."


def add_global_options(parser: argparse.ArgumentParser) -> None:
    """`--url` and `--api-key` before the command name, as in `stackyard --url U environment list`."""
    parser.add_argument("--url", default=argparse.SUPPRESS, help=URL_HELP)
    parser.add_argument("--api-key", dest="api_key", default=argparse.SUPPRESS, help=API_KEY_HELP)


def add_connection_options(parser: argparse.ArgumentParser, *, stack: bool) -> None:
    """The same options after the command name, unless the command uses the flag itself (for
    `environment create --url LOCALE=URL` the server URL goes before the command or in $STACKYARD_URL).
    Defaults are suppressed so a value given before the command name is not overwritten."""
    group = parser.add_argument_group("connection")
    taken = parser._option_string_actions
    if "--url" not in taken:
        group.add_argument("--url", default=argparse.SUPPRESS, help=URL_HELP)
    if stack and "--api-key" not in taken:
        group.add_argument("--api-key", dest="api_key", default=argparse.SUPPRESS, help=API_KEY_HELP)


class Ctx:
    """One invocation: arguments, credentials, output format and a lazily made SDK client."""

    def __init__(
        self, args: argparse.Namespace, out: TextIO | None = None, err: TextIO | None = None
    ) -> None:
        self.args = args
        self.out = out or sys.stdout
        self.err = err or sys.stderr
        self.format = Format.from_args(args)
        self.credentials = Credentials.resolve(getattr(args, "url", None), getattr(args, "api_key", None))
        self._client: Any = None

    def client(self) -> Any:
        """The management SDK client for these credentials."""
        if self._client is None:
            from stackyard.client.management import Client

            c = self.credentials
            self._client = Client(
                base_url=c.url, authtoken=c.authtoken, management_token=c.management_token, timeout=30
            )
        return self._client

    def stack(self) -> Any:
        """The SDK handle of the stack named by --api-key / $STACKYARD_API_KEY."""
        if not self.credentials.api_key:
            raise UsageError("this command works on a stack: pass --api-key or set STACKYARD_API_KEY")
        return self.client().stack(self.credentials.api_key)

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None
