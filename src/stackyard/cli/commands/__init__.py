"""The client half of the `stackyard` command; importing this package registers it with `main`.

Every command here talks to a server through `stackyard.client.management` and holds no business
logic: `account` (login, logout, whoami, user), `organizations` (organization, stack),
`stack_modules` (role, environment, locale, tokens, audit-log, label, extension) and `content`
(content-type, global-field, entry).
"""

from __future__ import annotations

from typing import Any

from stackyard.cli import resources
from stackyard.cli.commands import account, content, organizations, stack_modules
from stackyard.cli.context import add_global_options
from stackyard.cli.main import GLOBAL_OPTIONS, REGISTRARS

RESOURCES = (*organizations.RESOURCES, *stack_modules.RESOURCES, *content.RESOURCES)


def register(sub: Any) -> None:
    """Add the client commands to the top-level parser."""
    account.register(sub)
    resources.register(sub, RESOURCES)


GLOBAL_OPTIONS.append(add_global_options)
REGISTRARS.append(register)
