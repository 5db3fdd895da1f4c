"""Every command, subcommand and option has help text (like sqlite-utils' tests/test_docs.py)."""

from __future__ import annotations

import argparse
from collections.abc import Iterator

import pytest

from stackyard.cli.main import build_parser
from tests.cli.conftest import Run


def _walk(
    parser: argparse.ArgumentParser, path: tuple[str, ...] = ()
) -> Iterator[tuple[tuple[str, ...], argparse.ArgumentParser, str | None]]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            helps = {a.dest: a.help for a in action._choices_actions}
            for name, sub in action.choices.items():
                yield (*path, name), sub, helps.get(name)
                yield from _walk(sub, (*path, name))


COMMANDS = list(_walk(build_parser()))


def test_the_tree_has_the_client_commands() -> None:
    names = {" ".join(path) for path, _, _ in COMMANDS}
    for expected in (
        "login",
        "logout",
        "whoami",
        "user activate",
        "user forgot-password",
        "user reset-password",
        "organization add-users",
        "organization transfer-ownership",
        "stack share",
        "stack unshare",
        "stack settings",
        "environment create",
        "delivery-token update",
        "management-token delete",
        "audit-log get",
        "content-type export",
        "global-field import",
        "entry versions",
        "entry localize",
        "entry unlocalize",
        "label list",
        "extension create",
        "role get",
        "locale update",
    ):
        assert expected in names
    assert "audit-log create" not in names


@pytest.mark.parametrize("path,parser,help_text", COMMANDS, ids=[" ".join(c[0]) for c in COMMANDS])
def test_command_has_help(
    path: tuple[str, ...], parser: argparse.ArgumentParser, help_text: str | None
) -> None:
    assert help_text, f"`stackyard {' '.join(path)}` has no help in its parent's list"
    assert parser.description, f"`stackyard {' '.join(path)}` has no description"
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            continue
        assert action.help and action.help != argparse.SUPPRESS, (
            f"`stackyard {' '.join(path)}` option {action.option_strings or action.dest} has no help"
        )


def test_help_prints_and_exits_0(cli: Run) -> None:
    r = cli("entry", "list", "--help")
    assert r.code == 0
    assert "--query" in r.out and "-w N [N ...]" in r.out
