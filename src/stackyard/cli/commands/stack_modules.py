"""Stack-scoped resources with plain CRUD: roles, environments, locales, tokens, labels, extensions,
and the read-only audit log. Each needs the stack's API key (`--api-key` or $STACKYARD_API_KEY)."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

from stackyard.cli import payload
from stackyard.cli.context import Ctx
from stackyard.cli.errors import UsageError
from stackyard.cli.payload import field_of
from stackyard.cli.resources import Resource


def _on_stack(method: str) -> Callable[[Ctx, argparse.Namespace, str | None], Any]:
    """An `open` that reaches `client.stack(api_key).<method>(uid)`."""

    def open_(ctx: Ctx, args: argparse.Namespace, uid: str | None) -> Any:
        return getattr(ctx.stack(), method)(uid)

    return open_


def _name(help_text: str) -> tuple[payload.Field, payload.Field]:
    """A positional NAME on create and a `--name` on update (renaming)."""
    return (
        field_of("NAME", key="name", help=help_text, verbs=("create",)),
        field_of("--name", key="name", help="New name.", verbs=("update",)),
    )


DESCRIPTION = field_of("--description", key="description", help="A description.")

ROLE = Resource(
    name="role",
    help="Stack roles and their rules.",
    key="role",
    list_key="roles",
    open=_on_stack("roles"),
    columns=("uid", "name", "description"),
    fields=(*_name("Name of the role (rules come from --file or --data)."), DESCRIPTION),
)

ENVIRONMENT = Resource(
    name="environment",
    help="Publishing environments (named by their name).",
    key="environment",
    list_key="environments",
    open=_on_stack("environments"),
    id="name",
    id_help="Name of the environment.",
    columns=("uid", "name", "urls"),
    fields=(
        *_name("Name of the environment."),
        field_of(
            "--url",
            key="urls",
            help="Base URL for a locale, as LOCALE=URL (repeatable).",
            action="append",
            type=payload.pairs,
            metavar="LOCALE=URL",
            convert=payload.locale_urls,
        ),
    ),
)

LOCALE = Resource(
    name="locale",
    help="Languages of the stack (named by their code).",
    key="locale",
    list_key="locales",
    open=_on_stack("locale"),
    id="code",
    id_help="Locale code, e.g. fr-fr.",
    columns=("code", "name", "fallback_locale", "uid"),
    fields=(
        field_of("CODE", key="code", help="Locale code, e.g. fr-fr.", verbs=("create",)),
        field_of("--name", key="name", help="Display name of the language."),
        field_of("--fallback-locale", key="fallback_locale", help="Code of the locale to fall back to."),
    ),
)


def _environment_scope(names: list[str]) -> list[dict[str, Any]]:
    return [{"module": "environment", "environments": names, "acl": {"read": True}}]


def _module_scope(values: list[tuple[str, str]]) -> list[dict[str, Any]]:
    """`--scope content_type=read,write` pairs as management-token scope rules."""
    scope = []
    for module, rights in values:
        given = {r.strip() for r in rights.split(",") if r.strip()}
        unknown = given - {"read", "write"}
        if unknown:
            raise UsageError(
                f"--scope {module}: rights are read and/or write, not {', '.join(sorted(unknown))}"
            )
        scope.append({"module": module, "acl": {"read": "read" in given, "write": "write" in given}})
    return scope


TOKEN_COLUMNS = ("uid", "name", "description", "created_at")

DELIVERY_TOKEN = Resource(
    name="delivery-token",
    help="Delivery tokens: read access to published content of some environments.",
    key="token",
    list_key="tokens",
    open=_on_stack("delivery_token"),
    columns=TOKEN_COLUMNS,
    fields=(
        *_name("Name of the token."),
        DESCRIPTION,
        field_of(
            "--environment",
            key="scope",
            help="Environment the token may read (repeatable).",
            action="append",
            metavar="NAME",
            convert=_environment_scope,
        ),
    ),
)

MANAGEMENT_TOKEN = Resource(
    name="management-token",
    help="Management tokens: stack-scoped API credentials without a user.",
    key="token",
    list_key="tokens",
    open=_on_stack("management_token"),
    columns=(*TOKEN_COLUMNS, "expires_on"),
    fields=(
        *_name("Name of the token."),
        DESCRIPTION,
        field_of(
            "--scope",
            key="scope",
            help="Module and rights, as MODULE=read,write (repeatable).",
            action="append",
            type=payload.pairs,
            metavar="MODULE=RIGHTS",
            convert=_module_scope,
        ),
        field_of("--expires-on", key="expires_on", help="Expiry date (YYYY-MM-DD); default never."),
    ),
)

AUDIT_LOG = Resource(
    name="audit-log",
    help="The stack's audit log.",
    key="log",
    list_key="logs",
    open=_on_stack("auditlog"),
    columns=("uid", "created_at", "module", "event_type", "created_by"),
    verbs=("list", "get"),
)

LABEL = Resource(
    name="label",
    help="Labels that group content types.",
    key="label",
    list_key="labels",
    open=_on_stack("label"),
    columns=("uid", "name", "parent", "content_types"),
    fields=(
        *_name("Name of the label."),
        field_of("--parent", key="parent", help="UID of a parent label (repeatable).", action="append"),
        field_of(
            "--content-type",
            key="content_types",
            help="Content type UID to label (repeatable).",
            action="append",
        ),
    ),
)

EXTENSION = Resource(
    name="extension",
    help="Custom fields, widgets and dashboards.",
    key="extension",
    list_key="extensions",
    open=_on_stack("extension"),
    columns=("uid", "title", "type", "data_type"),
    fields=(
        field_of("--title", key="title", help="Title of the extension."),
        field_of(
            "--type", key="type", help="field, widget or dashboard.", choices=("field", "widget", "dashboard")
        ),
        field_of("--data-type", key="data_type", help="Data type of a custom field (text, number, json...)."),
        field_of("--src", key="src", help="URL the extension is served from."),
        field_of("--tag", key="tags", help="A tag (repeatable).", action="append"),
    ),
)

RESOURCES = (ROLE, ENVIRONMENT, LOCALE, DELIVERY_TOKEN, MANAGEMENT_TOKEN, AUDIT_LOG, LABEL, EXTENSION)
