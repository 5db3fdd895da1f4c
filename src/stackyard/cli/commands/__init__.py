"""The client half of the `stackyard` command; `main` calls `register`.

Every command here talks to a server through `stackyard.client.management` and holds no business
logic: `account` (login, logout, whoami, user), `organizations` (organization, stack),
`stack_modules` (role, environment, locale, tokens, audit-log, label, extension) and `content`
(content-type, global-field, entry), `assets` (asset, folder), `publishing` (entry publish/unpublish,
bulk, release, publish-queue), `delivery` (published content read with a delivery token, through
`stackyard.client.delivery`), `edge` (the StackPath-compatible edge, through `stackyard.client.edge`)
and `automation` (auth, run, action, rule, execution, key and the other StackStorm nouns).
"""

from __future__ import annotations

from typing import Any

from stackyard.cli import resources
from stackyard.cli.commands import (
    account,
    assets,
    automation_verbs,
    content,
    delivery,
    edge,
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
    edge.register(sub)
    automation_verbs.register(sub)
