"""The client half of the `stackyard` command; `main` calls `register`.

Every command here talks to a server through `stackyard.client.management` and holds no business
logic: `account` (login, logout, whoami, user), `organizations` (organization, stack),
`stack_modules` (role, environment, locale, tokens, audit-log, label, extension) and `content`
(content-type, global-field, entry), `assets` (asset, folder) and `publishing` (entry
publish/unpublish, bulk, release, publish-queue); `delivery` reads published content with a
delivery token, through `stackyard.client.delivery`.
"""

from __future__ import annotations

from typing import Any

from stackyard.cli import resources
from stackyard.cli.commands import (
    account,
    assets,
    content,
    delivery,
    organizations,
    publishing,
    stack_modules,
)

RESOURCES = (
    *organizations.RESOURCES,
    *stack_modules.RESOURCES,
    *content.RESOURCES,
    *assets.RESOURCES,
    *publishing.RESOURCES,
)


def register(sub: Any) -> None:
    """Add the client commands to the top-level parser."""
    account.register(sub)
    delivery.register(sub)
    resources.register(sub, RESOURCES)
