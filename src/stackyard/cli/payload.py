"""Request bodies from the command line: `--file path.json`, `--data '{json}'` or attribute flags.

A body may be given bare (`{"name": "prod"}`) or already wrapped in its envelope
(`{"environment": {"name": "prod"}}`); `wrap` makes both the wrapped form the API expects.
Attribute flags (`--url en-us=https://...`) are declared per resource as `Field`s and merged over the
file or data, so `--file base.json --description "..."` overrides one attribute.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from stackyard.cli.errors import UsageError


def add_body_options(parser: argparse.ArgumentParser, what: str) -> None:
    """`--file` / `--data`, mutually exclusive."""
    group = parser.add_mutually_exclusive_group()
    group.add_argument(
        "--file",
        metavar="PATH",
        default=None,
        help=f"Read the {what} from this JSON file ('-' for standard input).",
    )
    group.add_argument("--data", metavar="JSON", default=None, help=f"The {what} as a JSON string.")


def parse_json(text: str, where: str) -> Any:
    try:
        return json.loads(text)
    except ValueError as e:
        raise UsageError(f"{where} is not valid JSON: {e}") from None


def read_json_file(path: str) -> Any:
    """A JSON document from a file path, or standard input for '-'."""
    if path == "-":
        return parse_json(sys.stdin.read(), "standard input")
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as e:
        raise UsageError(f"cannot read {path}: {e.strerror or e}") from None
    return parse_json(text, path)


def given_document(args: argparse.Namespace) -> dict[str, Any] | None:
    """The object from --file or --data, if either was given."""
    doc: Any
    if getattr(args, "file", None):
        doc, where = read_json_file(args.file), args.file
    elif getattr(args, "data", None) is not None:
        doc, where = parse_json(args.data, "--data"), "--data"
    else:
        return None
    if not isinstance(doc, dict):
        raise UsageError(f"{where} must hold a JSON object")
    return doc


def unwrap(doc: dict[str, Any], key: str) -> dict[str, Any]:
    """The inner object of `{key: {...}}`, or the document itself when it is not wrapped."""
    if set(doc) == {key} and isinstance(doc[key], dict):
        return dict(doc[key])
    return dict(doc)


# --- attribute flags -------------------------------------------------------------------------------


def pairs(text: str) -> tuple[str, str]:
    """argparse type for `KEY=VALUE`."""
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {text!r}")
    return key, value


def json_value(text: str) -> Any:
    """argparse type for a JSON value."""
    try:
        return json.loads(text)
    except ValueError as e:
        raise argparse.ArgumentTypeError(f"not valid JSON: {e}") from None


@dataclass(frozen=True)
class Field:
    """One attribute flag of create/update: how argparse reads it and where it lands in the body.

    `convert` turns the parsed value into the body value; `key` is a dotted path in the object.
    """

    flags: tuple[str, ...]
    key: str
    help: str
    convert: Callable[[Any], Any] = lambda v: v
    options: dict[str, Any] = field(default_factory=dict)
    verbs: frozenset[str] = frozenset({"create", "update"})

    @property
    def dest(self) -> str:
        return "field_" + self.key.replace(".", "__")

    def add_to(self, parser: argparse.ArgumentParser) -> None:
        if not self.flags[0].startswith("-"):  # an optional positional, e.g. `environment create NAME`
            parser.add_argument(
                self.dest, metavar=self.flags[0], nargs="?", default=None, help=self.help, **self.options
            )
            return
        parser.add_argument(*self.flags, dest=self.dest, default=None, help=self.help, **self.options)


def field_of(
    *flags: str, key: str, help: str, verbs: Sequence[str] = ("create", "update"), **options: Any
) -> Field:
    """A `Field` in one line; `convert=` is taken out of the argparse options."""
    convert = options.pop("convert", None)
    return Field(flags, key, help, convert or (lambda v: v), options, frozenset(verbs))


def apply_fields(obj: dict[str, Any], fields: Sequence[Field], args: argparse.Namespace) -> dict[str, Any]:
    """Set each attribute flag the user gave into the object (dotted keys make nested objects)."""
    for f in fields:
        value = getattr(args, f.dest, None)
        if value is None:
            continue
        target = obj
        *parents, last = f.key.split(".")
        for part in parents:
            nested = target.get(part)
            if not isinstance(nested, dict):
                nested = target[part] = {}
            target = nested
        target[last] = f.convert(value)
    return obj


def build(
    args: argparse.Namespace, key: str, fields: Sequence[Field], *, required: bool = True
) -> dict[str, Any]:
    """The wrapped body `{key: {...}}` from --file/--data plus attribute flags."""
    doc = given_document(args)
    obj = unwrap(doc, key) if doc is not None else {}
    apply_fields(obj, fields, args)
    if required and not obj:
        flags = ", ".join(f.flags[0] for f in fields if f.flags[0].startswith("-"))
        hint = f"--file, --data or {flags}" if flags else "--file or --data"
        raise UsageError(f"nothing to send: give {hint}")
    return {key: obj}


def locale_urls(values: list[tuple[str, str]]) -> list[dict[str, str]]:
    """`--url en-us=https://...` pairs as an environment's `urls` list."""
    return [{"locale": loc, "url": url} for loc, url in values]
