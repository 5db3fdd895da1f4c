"""Errors the command line reports itself; `exit_code` 2 means bad usage, 1 anything else (click's rule)."""

from __future__ import annotations

from stackyard.errors import StackyardError


class CLIError(StackyardError):
    """An error to report on stderr."""

    exit_code = 1


class UsageError(CLIError):
    exit_code = 2
