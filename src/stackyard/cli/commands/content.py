"""`content-type`, `global-field` and `entry`: the content model and the content itself.

Schemas and entries are documents, so create/update read them from `--file` or `--data` (a few
flags such as `--title` cover the simple cases); `export` writes the document the server returns to
a file, and `import` sends a file back.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from stackyard.cli import payload
from stackyard.cli.commands.publishing import entry_verbs
from stackyard.cli.context import Ctx
from stackyard.cli.errors import UsageError
from stackyard.cli.payload import field_of
from stackyard.cli.resources import PAGE_ARGS, Resource, Verb, arg, body_of, list_params, nonempty


def _existing(path: str) -> str:
    """argparse type for a file to import: it must exist before we contact the server."""
    if not Path(path).is_file():
        raise argparse.ArgumentTypeError(f"no such file: {path}")
    return path


def _schema_resource(name: str, help_text: str, key: str, list_key: str, method: str) -> Resource:
    """content-type and global-field share their verbs: CRUD plus export and import."""

    def open_(ctx: Ctx, args: argparse.Namespace, uid: str | None) -> Any:
        return getattr(ctx.stack(), method)(uid)

    def import_(ctx: Ctx, args: argparse.Namespace) -> Any:
        target = open_(ctx, args, None)
        if args.overwrite:
            target = target.add_param("overwrite", True)
        return target.imports(args.path)

    return Resource(
        name=name,
        help=help_text,
        key=key,
        list_key=list_key,
        open=open_,
        columns=("uid", "title", "updated_at"),
        fields=(
            field_of("--title", key="title", help="Title."),
            field_of("--uid", key="uid", help="UID (letters, digits and _).", verbs=("create",)),
            field_of("--description", key="description", help="A description."),
        ),
        extra=(
            Verb(
                "export",
                f"Write a {name.replace('-', ' ')} as JSON to a file or stdout.",
                lambda ctx, a: open_(ctx, a, a.uid).export(),
                show="export",
            ),
            Verb(
                "import",
                f"Create a {name.replace('-', ' ')} from an exported JSON file.",
                import_,
                key=key,
                takes_id=False,
                args=(
                    arg("path", type=_existing, help="The JSON file to import."),
                    arg(
                        "--overwrite", action="store_true", help="Replace an existing one with the same UID."
                    ),
                ),
            ),
        ),
    )


CONTENT_TYPE = _schema_resource(
    "content-type",
    "Content types: the schemas entries follow.",
    "content_type",
    "content_types",
    "content_types",
)
GLOBAL_FIELD = _schema_resource(
    "global-field",
    "Global fields: schemas reused by content types.",
    "global_field",
    "global_fields",
    "global_fields",
)


# --- entries -----------------------------------------------------------------------------------------


def _entry(ctx: Ctx, args: argparse.Namespace, uid: str | None) -> Any:
    return ctx.stack().content_types(args.content_type).entry(uid)


def _params(args: argparse.Namespace, *names: str) -> dict[str, Any]:
    return {n: v for n in names if (v := getattr(args, n, None)) not in (None, False)}


def _query(text: str) -> dict[str, Any]:
    value = payload.json_value(text)
    if not isinstance(value, dict):
        raise argparse.ArgumentTypeError('the query must be a JSON object, e.g. \'{"title": "Hello"}\'')
    return value


def _list_entries(ctx: Ctx, args: argparse.Namespace) -> Any:
    params = {**list_params(args), **_params(args, "query", "locale", "include_count", "include_fallback")}
    return _entry(ctx, args, None).find(params)


def _get_entry(ctx: Ctx, args: argparse.Namespace) -> Any:
    params = _params(args, "version", "locale", "include_fallback")
    return _entry(ctx, args, args.uid).add_param_dict(params).fetch()


def _entry_body(args: argparse.Namespace, verb: str) -> dict[str, Any]:
    return body_of(ENTRY, args, verb)


def _create_entry(ctx: Ctx, args: argparse.Namespace) -> Any:
    return _entry(ctx, args, None).create(_entry_body(args, "create"), **_params(args, "locale"))


def _update_entry(ctx: Ctx, args: argparse.Namespace) -> Any:
    return _entry(ctx, args, args.uid).update(_entry_body(args, "update"), **_params(args, "locale"))


def _delete_entry(ctx: Ctx, args: argparse.Namespace) -> Any:
    if args.all_locales and args.locale:
        raise UsageError("give --locale or --all-locales, not both")
    return _entry(ctx, args, args.uid).delete(
        locale=args.locale, delete_all_localized=args.all_locales or None
    )


def _localize(ctx: Ctx, args: argparse.Namespace) -> Any:
    return _entry(ctx, args, args.uid).localize(_entry_body(args, "localize"), args.locale)


def _import_entry(ctx: Ctx, args: argparse.Namespace) -> Any:
    target = _entry(ctx, args, args.into)
    return target.imports(args.path, **_params(args, "locale"), overwrite=args.overwrite or None)


LOCALE_ARG = arg("--locale", default=None, help="Locale code (default: the master locale).")
FALLBACK_ARG = arg(
    "--include-fallback",
    dest="include_fallback",
    action="store_true",
    help="Where the entry is not localized, show the fallback locale's content.",
)
WRITE_LOCALE = arg("--locale", default=None, help="Locale code (default: en-us).")
REQUIRED_LOCALE = arg("--locale", required=True, help="Locale code, e.g. fr-fr.")

ENTRY = Resource(
    name="entry",
    help="Entries of a content type.",
    key="entry",
    list_key="entries",
    open=_entry,
    parents=(arg("content_type", metavar="CONTENT_TYPE", type=nonempty, help="UID of the content type."),),
    columns=("uid", "title", "locale", "_version", "updated_at"),
    fields=(
        field_of("--title", key="title", help="Title of the entry.", verbs=("create", "update", "localize")),
    ),
    extra=(
        *entry_verbs(_entry),
        Verb(
            "list",
            "List entries, optionally filtered with a query.",
            _list_entries,
            show="list",
            key="entries",
            takes_id=False,
            args=(
                *PAGE_ARGS,
                arg("--query", type=_query, default=None, help='A JSON query, e.g. \'{"title": "Hello"}\'.'),
                LOCALE_ARG,
                FALLBACK_ARG,
                arg(
                    "--include-count", dest="include_count", action="store_true", help="Also print the total."
                ),
            ),
        ),
        Verb(
            "get",
            "Show one entry (the latest version unless --version).",
            _get_entry,
            key="entry",
            args=(
                LOCALE_ARG,
                FALLBACK_ARG,
                arg("--version", type=int, default=None, help="Show this version."),
            ),
        ),
        Verb(
            "create",
            "Create an entry.",
            _create_entry,
            key="entry",
            takes_id=False,
            body=True,
            args=(WRITE_LOCALE,),
        ),
        Verb(
            "update",
            "Change an entry (a new version).",
            _update_entry,
            key="entry",
            body=True,
            args=(WRITE_LOCALE,),
        ),
        Verb(
            "delete",
            "Delete an entry (one locale with --locale).",
            _delete_entry,
            show="notice",
            args=(
                LOCALE_ARG,
                arg("--all-locales", action="store_true", help="Delete every localized version too."),
            ),
        ),
        Verb(
            "versions",
            "List an entry's versions.",
            lambda ctx, a: _entry(ctx, a, a.uid).versions(locale=a.locale),
            show="list",
            key="versions",
            columns=("_version", "locale", "updated_at", "updated_by", "_version_name"),
            args=(LOCALE_ARG,),
        ),
        Verb(
            "localize",
            "Create or change an entry's version in another locale.",
            _localize,
            key="entry",
            body=True,
            args=(REQUIRED_LOCALE,),
        ),
        Verb(
            "unlocalize",
            "Remove an entry's localized version; the locale falls back again.",
            lambda ctx, a: _entry(ctx, a, a.uid).unlocalize(a.locale),
            show="notice",
            args=(REQUIRED_LOCALE,),
        ),
        Verb(
            "export",
            "Write an entry as JSON to a file or stdout.",
            lambda ctx, a: _entry(ctx, a, a.uid).add_param_dict(_params(a, "locale")).export(),
            show="export",
            args=(LOCALE_ARG,),
        ),
        Verb(
            "import",
            "Create an entry from an exported JSON file.",
            _import_entry,
            key="entry",
            takes_id=False,
            args=(
                arg("path", type=_existing, help="The JSON file to import."),
                LOCALE_ARG,
                arg("--overwrite", action="store_true", help="Replace the entry with the same UID."),
                arg(
                    "--into",
                    metavar="UID",
                    type=nonempty,
                    default=None,
                    help="Import as a new version of this entry.",
                ),
            ),
        ),
    ),
)

RESOURCES = (CONTENT_TYPE, GLOBAL_FIELD, ENTRY)
