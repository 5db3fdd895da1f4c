"""Verbs from a table: one `Resource` declaration builds `list/get/create/update/delete` and extras.

After st2client's `ResourceBranch`: a resource says how to reach its SDK object, its envelope keys,
its id, its default columns and the attribute flags of create/update; `register()` turns that into
argparse subcommands that share the output options (`-j -y -a -w`) and connection options (`--url`,
`--api-key`). A verb's `call` only calls the SDK; presentation is `show`'s job. Errors are not
caught here: `main()` turns them into messages and exit codes.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from stackyard.cli import output, payload
from stackyard.cli.context import Ctx, add_connection_options
from stackyard.cli.errors import CLIError
from stackyard.cli.payload import Field

Call = Callable[[Ctx, argparse.Namespace], Any]
Open = Callable[[Ctx, argparse.Namespace, "str | None"], Any]
CRUD = ("list", "get", "create", "update", "delete")


@dataclass(frozen=True)
class Arg:
    """One argparse argument, declared as data."""

    flags: tuple[str, ...]
    options: dict[str, Any]

    def add_to(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument(*self.flags, **self.options)


def arg(*flags: str, **options: Any) -> Arg:
    return Arg(flags, options)


def nonempty(text: str) -> str:
    """argparse type for ids: an empty id would address the collection instead of an object."""
    if not text.strip():
        raise argparse.ArgumentTypeError("must not be empty")
    return text


@dataclass(frozen=True)
class Verb:
    """A subcommand. `show` says how to print the answer:

    list    -- `body[key]` as rows          one    -- `body[key]` as one object (notice on stderr)
    notice  -- the `notice` text            raw    -- the whole body as one object
    export  -- the body as JSON, into `--output FILE` when given, else on stdout
    """

    name: str
    help: str
    call: Call
    show: str = "one"
    key: str | None = None
    args: tuple[Arg, ...] = ()
    takes_id: bool = True
    body: bool = False
    columns: tuple[str, ...] = ()
    envelope: str | None = None  # the body's envelope key when it is not the resource's
    # False for an operator verb that runs in-process on the database (like `stackyard db upgrade`)
    # instead of talking to a server: it takes no --url / --api-key.
    connection: bool = True


@dataclass(frozen=True)
class Resource:
    """One CLI noun and how it maps onto the SDK."""

    name: str
    help: str
    key: str
    list_key: str
    open: Open
    id: str = "uid"
    id_help: str = "UID of the object."
    parents: tuple[Arg, ...] = ()
    columns: tuple[str, ...] = ("uid", "name")
    verbs: tuple[str, ...] = CRUD
    fields: tuple[Field, ...] = ()
    extra: tuple[Verb, ...] = ()
    stack: bool = True

    def all_verbs(self) -> list[Verb]:
        """The standard verbs it declares, then its extras; an extra with a standard name replaces it."""
        extra = {v.name: v for v in self.extra}
        standard = [extra.pop(name) if name in extra else _STANDARD[name](self) for name in self.verbs]
        return standard + [v for v in self.extra if v.name in extra]


def _id(res: Resource, args: argparse.Namespace) -> str:
    return str(getattr(args, res.id))


def _noun(res: Resource) -> str:
    return res.name.replace("-", " ")


def _a(noun: str) -> str:
    return ("an " if noun[0] in "aeiou" else "a ") + noun


def _list(res: Resource) -> Verb:
    def call(ctx: Ctx, args: argparse.Namespace) -> Any:
        target = res.open(ctx, args, None)
        if args.all:  # every page, fetched lazily by the SDK
            return {res.list_key: list(target.iterate())}
        return target.find(params=list_params(args))

    return Verb(
        "list",
        f"List {res.help.rstrip('.').lower()}.",
        call,
        show="list",
        key=res.list_key,
        takes_id=False,
        args=(
            *PAGE_ARGS,
            arg("--all", action="store_true", help="Fetch every page (instead of --limit/--skip)."),
        ),
    )


def _get(res: Resource) -> Verb:
    return Verb(
        "get",
        f"Show one {_noun(res)}.",
        lambda ctx, args: res.open(ctx, args, _id(res, args)).fetch(),
        key=res.key,
    )


def _create(res: Resource) -> Verb:
    def call(ctx: Ctx, args: argparse.Namespace) -> Any:
        return res.open(ctx, args, None).create(body_of(res, args, "create"))

    return Verb("create", f"Create {_a(_noun(res))}.", call, key=res.key, takes_id=False, body=True)


def _update(res: Resource) -> Verb:
    def call(ctx: Ctx, args: argparse.Namespace) -> Any:
        return res.open(ctx, args, _id(res, args)).update(body_of(res, args, "update"))

    return Verb("update", f"Change {_a(_noun(res))}.", call, key=res.key, body=True)


def _delete(res: Resource) -> Verb:
    return Verb(
        "delete",
        f"Delete {_a(_noun(res))}.",
        lambda ctx, args: res.open(ctx, args, _id(res, args)).delete(),
        show="notice",
    )


_STANDARD: dict[str, Callable[[Resource], Verb]] = {
    "list": _list,
    "get": _get,
    "create": _create,
    "update": _update,
    "delete": _delete,
}

PAGE_ARGS = (
    arg("--limit", type=int, default=None, help="At most this many items."),
    arg("--skip", type=int, default=None, help="Skip this many items first."),
)


def list_params(args: argparse.Namespace) -> dict[str, Any]:
    """The paging parameters the user gave."""
    return {k: v for k in ("limit", "skip") if (v := getattr(args, k, None)) is not None}


def body_of(
    res: Resource, args: argparse.Namespace, verb: str, envelope: str | None = None
) -> dict[str, Any]:
    """The wrapped request body of a verb from --file/--data and the fields declared for it."""
    return payload.build(args, envelope or res.key, [f for f in res.fields if verb in f.verbs])


# --- building the argparse tree --------------------------------------------------------------------


def register(sub: Any, resources: Sequence[Resource]) -> None:
    """Add one command per resource, one subcommand per verb."""
    for res in resources:
        p = sub.add_parser(res.name, help=res.help, description=res.help)
        verbs = p.add_subparsers(dest="verb", required=True, metavar="verb")
        for verb in res.all_verbs():
            add_verb(verbs, verb, res)


def add_verb(verbs: Any, verb: Verb, res: Resource | None = None) -> argparse.ArgumentParser:
    """One verb's parser: positionals, its own options, body options, output and connection options."""
    vp: argparse.ArgumentParser = verbs.add_parser(verb.name, help=verb.help, description=verb.help)
    if res is not None:
        for parent in res.parents:
            parent.add_to(vp)
        if verb.takes_id:
            vp.add_argument(res.id, type=nonempty, help=res.id_help)
    for a in verb.args:
        a.add_to(vp)
    if verb.body and res is not None:
        payload.add_body_options(vp, (verb.envelope or res.key).replace("_", " "))
        for f in res.fields:
            if verb.name in f.verbs:
                f.add_to(vp)
    if verb.show == "export":
        vp.add_argument(
            "-o", "--output", metavar="PATH", default=None, help="Write to this file (default: stdout)."
        )
    else:
        output.add_options(vp)
    if verb.connection:
        add_connection_options(vp, stack=res.stack if res is not None else False)
    columns = verb.columns or (res.columns if res is not None else ())
    vp.set_defaults(func=lambda args: run(verb, args, columns))
    return vp


def run(verb: Verb, args: argparse.Namespace, columns: Sequence[str] = ()) -> int:
    """Call the SDK and print its answer; the SDK client is closed afterwards."""
    ctx = Ctx(args)
    try:
        answer = verb.call(ctx, args)
        show(ctx, verb, body_json(answer), columns)
    finally:
        ctx.close()
    return 0


def body_json(answer: Any) -> Any:
    """An SDK response's JSON body (commands may also answer plain data)."""
    return answer.json() if hasattr(answer, "json") else answer


def show(ctx: Ctx, verb: Verb, body: Any, columns: Sequence[str]) -> None:
    fmt, out = ctx.format, ctx.out
    if verb.show == "list":
        items = body.get(verb.key, []) if isinstance(body, dict) else body
        output.show_list(list(items or []), fmt, out, columns)
        if isinstance(body, dict) and "count" in body:  # on stderr, so -j output stays a plain list
            ctx.err.write(f"count: {body['count']}\n")
    elif verb.show == "one":
        item = body.get(verb.key, body) if isinstance(body, dict) and verb.key else body
        if isinstance(body, dict) and body.get("notice"):
            ctx.err.write(f"{body['notice']}\n")
        _one_or_raw(item, fmt, out, verb.columns)
    elif verb.show == "notice" and fmt.kind == "table" and isinstance(body, dict) and "notice" in body:
        output.show_raw(body["notice"], fmt, out)
    elif verb.show == "export":
        export(ctx, body)
    else:
        _one_or_raw(body, fmt, out, verb.columns)


def export(ctx: Ctx, body: Any) -> None:
    """An exported document, as pretty JSON, to --output or stdout."""
    text = json.dumps(body, indent=2, ensure_ascii=False) + "\n"
    path = getattr(ctx.args, "output", None)
    if not path or path == "-":
        ctx.out.write(text)
        return
    try:
        Path(path).write_text(text, encoding="utf-8")
    except OSError as e:
        raise CLIError(f"cannot write {path}: {e.strerror or e}") from e
    ctx.err.write(f"wrote {path}\n")


def _one_or_raw(item: Any, fmt: output.Format, out: Any, default: Sequence[str] = ()) -> None:
    if isinstance(item, dict):
        output.show_one(item, fmt, out, default)
    else:
        output.show_raw(item, fmt, out)
