"""`organization` and `stack`: the account-level resources (no --api-key; the stack is positional)."""

from __future__ import annotations

import argparse
from typing import Any

from stackyard.cli import payload
from stackyard.cli.admin import ORGANIZATION_CREATE
from stackyard.cli.context import Ctx
from stackyard.cli.errors import UsageError
from stackyard.cli.payload import field_of
from stackyard.cli.resources import Resource, Verb, arg, nonempty


def _share(values: list[tuple[str, str]]) -> dict[str, list[str]]:
    """`--user EMAIL=ROLE_UID` pairs as `{email: [role_uid, ...]}`."""
    out: dict[str, list[str]] = {}
    for email, role in values:
        out.setdefault(email, []).append(role)
    return out


def _org(ctx: Ctx, args: argparse.Namespace, uid: str | None) -> Any:
    return ctx.client().organizations(uid)


SHARE_FIELDS = (
    field_of(
        "--user",
        key="users",
        help="Invite EMAIL with the organization role ROLE_UID (repeatable).",
        verbs=("add-users",),
        action="append",
        type=payload.pairs,
        metavar="EMAIL=ROLE_UID",
        convert=_share,
    ),
    field_of("--message", key="message", help="A note for the invitation e-mail.", verbs=("add-users",)),
)

ORGANIZATION = Resource(
    name="organization",
    help="Organizations you belong to.",
    key="organization",
    list_key="organizations",
    open=_org,
    stack=False,
    columns=("uid", "name", "owner_uid", "enabled"),
    verbs=("list", "get"),
    fields=SHARE_FIELDS,
    extra=(
        ORGANIZATION_CREATE,  # an operator verb: on the database, not through a server
        Verb(
            "roles",
            "List the organization's roles.",
            lambda ctx, a: _org(ctx, a, a.uid).roles(),
            show="list",
            key="roles",
            columns=("uid", "name", "description"),
        ),
        Verb(
            "stacks",
            "List the organization's stacks.",
            lambda ctx, a: _org(ctx, a, a.uid).stacks(),
            show="list",
            key="stacks",
            columns=("api_key", "name", "master_locale", "owner_uid"),
        ),
        Verb(
            "add-users",
            "Invite users to the organization.",
            lambda ctx, a: _org(ctx, a, a.uid).add_users(payload.build(a, "share", list(SHARE_FIELDS))),
            show="raw",
            body=True,
            envelope="share",
        ),
        Verb(
            "transfer-ownership",
            "Hand the organization to another member.",
            lambda ctx, a: _org(ctx, a, a.uid).transfer_ownership({"transfer_to": a.email}),
            show="notice",
            args=(arg("email", type=nonempty, help="E-mail of the new owner."),),
        ),
        Verb(
            "logs",
            "List the organization's audit log.",
            lambda ctx, a: _org(ctx, a, a.uid).logs(),
            show="list",
            key="logs",
            columns=("uid", "created_at", "module", "event_type", "created_by"),
        ),
    ),
)


def _stack(ctx: Ctx, args: argparse.Namespace, api_key: str | None) -> Any:
    return ctx.client().stack(api_key)


def _share_body(args: argparse.Namespace) -> dict[str, Any]:
    doc = payload.given_document(args)
    if doc is not None:
        return doc
    if not args.email:
        raise UsageError("give --email (and --role) or --file/--data")
    return {"emails": args.email, "roles": {e: list(args.role or []) for e in args.email}}


STACK_FIELDS = (
    field_of("NAME", key="name", help="Name of the new stack.", verbs=("create",)),
    field_of("--name", key="name", help="New name.", verbs=("update",)),
    field_of("--description", key="description", help="What the stack is for."),
    field_of(
        "--master-locale",
        key="master_locale",
        help="Master locale code (default en-us).",
        verbs=("create",),
    ),
)

STACK = Resource(
    name="stack",
    help="Stacks: the containers of content, named by their API key.",
    key="stack",
    list_key="stacks",
    open=_stack,
    id="api_key",
    id_help="API key of the stack.",
    stack=False,
    columns=("api_key", "name", "master_locale", "org_uid"),
    fields=STACK_FIELDS,
    extra=(
        Verb(
            "list",
            "List the stacks you can see.",
            lambda ctx, a: ctx.client().stack().find(),
            show="list",
            key="stacks",
            takes_id=False,
        ),
        Verb(
            "create",
            "Create a stack.",
            lambda ctx, a: (
                ctx.client()
                .stack()
                .create(a.org, payload.build(a, "stack", [f for f in STACK_FIELDS if "create" in f.verbs]))
            ),
            key="stack",
            takes_id=False,
            body=True,
            args=(arg("--org", default=None, help="UID of the organization (default: your own)."),),
        ),
        Verb(
            "settings",
            "Show the stack's settings.",
            lambda ctx, a: _stack(ctx, a, a.api_key).settings(),
            key="stack_settings",
        ),
        Verb(
            "share",
            "Invite users to the stack.",
            lambda ctx, a: _stack(ctx, a, a.api_key).share(_share_body(a)),
            show="notice",
            body=True,
            envelope="share",
            args=(
                arg("--email", action="append", default=None, help="E-mail to invite (repeatable)."),
                arg(
                    "--role", action="append", default=None, help="Stack role UID to give them (repeatable)."
                ),
            ),
        ),
        Verb(
            "unshare",
            "Remove a user from the stack.",
            lambda ctx, a: _stack(ctx, a, a.api_key).unshare({"email": a.email}),
            show="notice",
            args=(arg("email", type=nonempty, help="E-mail of the user to remove."),),
        ),
        Verb(
            "users",
            "List the users the stack is shared with.",
            lambda ctx, a: _stack(ctx, a, a.api_key).users(),
            show="list",
            key="users",
            columns=("uid", "email", "first_name", "last_name", "roles"),
        ),
    ),
)

RESOURCES = (ORGANIZATION, STACK)
