"""The verbs of the automation commands (see `automation`), and `auth` and `run`."""

from __future__ import annotations

import argparse
import getpass
import json
import sys
import time
from collections.abc import Callable
from typing import Any

from stackyard.cli import output
from stackyard.cli.commands.automation import (
    HELP,
    NOUNS,
    Noun,
    client,
    load_file,
    save_token,
    server_url,
    show,
)
from stackyard.cli.errors import CLIError, UsageError

DONE = {"succeeded", "failed", "timeout", "canceled", "abandoned"}
RUN_COLUMNS = (
    "id",
    "action.ref",
    "context.user",
    "parameters",
    "status",
    "start_timestamp",
    "end_timestamp",
    "result",
)


def _model(noun: Noun) -> Any:
    from stackyard.client.automation import models

    return getattr(models, noun.model)


def _manager(c: Any, noun: Noun) -> Any:
    return getattr(c, noun.manager)


def do_list(c: Any, noun: Noun, args: argparse.Namespace) -> int:
    params = {k[2:]: v for k, v in vars(args).items() if k.startswith("f_") and v is not None}
    if args.last is not None:
        params["limit"] = args.last
    if noun.name == "key":
        params.update(scope=args.scope, decrypt="true" if args.decrypt else "false")
    if noun.name == "execution":
        params.setdefault("parent", "null")
    show(args, _manager(c, noun).get_all(**params), noun.columns, True)
    return 0


def do_get(c: Any, noun: Noun, args: argparse.Namespace) -> int:
    extra = (
        {"scope": args.scope, "decrypt": "true" if args.decrypt else "false"} if noun.name == "key" else {}
    )
    for ident in args.ids:
        found = _manager(c, noun).get_by_id(ident, **extra)
        if found is None:
            raise CLIError(f'{noun.model} "{ident}" is not found.')
        show(args, found, noun.columns, False)
    return 0


def do_create(c: Any, noun: Noun, args: argparse.Namespace) -> int:
    if noun.name == "apikey":
        body = {"metadata": json.loads(args.metadata)} if args.metadata else {}
        show(args, _manager(c, noun).create(_model(noun)(**body)), ("id", "key", "user", "metadata"), False)
        return 0
    show(args, _manager(c, noun).create(_model(noun)(**load_file(args.file))), noun.columns, False)
    return 0


def do_delete(c: Any, noun: Noun, args: argparse.Namespace) -> int:
    m = _manager(c, noun)
    params = {"scope": args.scope} if noun.name == "key" else {}
    found = m.get_by_id(args.id, **params)
    if found is None:
        raise CLIError(f'{noun.model} "{args.id}" is not found.')
    m.delete_by_id(found.name if noun.name == "key" else found.id, **params)
    print(f'Resource with id "{args.id}" has been successfully deleted.')
    return 0


def _toggle(enabled: bool) -> Callable[[Any, Noun, argparse.Namespace], int]:
    def toggle(c: Any, noun: Noun, args: argparse.Namespace) -> int:
        m = _manager(c, noun)
        found = m.get_by_id(args.id)
        if found is None:
            raise CLIError(f'{noun.model} "{args.id}" is not found.')
        found.enabled = enabled
        show(args, m.update(found), noun.columns, False)
        return 0

    return toggle


def do_cancel(c: Any, noun: Noun, args: argparse.Namespace) -> int:
    for ident in args.ids:
        answer = c.executions.cancel(ident)
        print(
            answer.get("faultstring")
            if isinstance(answer, dict) and "faultstring" in answer
            else f"execution with id {ident} canceled."
        )
    return 0


def do_rerun(c: Any, noun: Noun, args: argparse.Namespace) -> int:
    old = c.executions.get_by_id(args.id)
    if old is None:
        raise CLIError(f'Execution "{args.id}" is not found.')
    params = parse_parameters(c, old.action["ref"], args.parameters)
    show(args, wait(c, c.executions.re_run(args.id, params)), RUN_COLUMNS, False)
    return 0


def do_tail(c: Any, noun: Noun, args: argparse.Namespace) -> int:
    sys.stdout.write(c.executions.get_output(args.id))
    return 0


def do_set(c: Any, noun: Noun, args: argparse.Namespace) -> int:
    from stackyard.client.automation import models

    kv = models.KeyValuePair(name=args.name, value=args.value, scope=args.scope, secret=args.encrypt)
    if args.ttl:
        kv.ttl = args.ttl  # type: ignore[attr-defined]
    show(args, c.keys.update(kv), noun.columns, False)
    return 0


def do_load(c: Any, noun: Noun, args: argparse.Namespace) -> int:
    from stackyard.client.automation import models

    items = load_file(args.file)
    items = items if isinstance(items, list) else [{"name": k, "value": v} for k, v in (items or {}).items()]
    done = [
        c.keys.update(
            models.KeyValuePair(
                **{
                    **item,
                    "value": item["value"] if isinstance(item["value"], str) else json.dumps(item["value"]),
                }
            )
        )
        for item in items
    ]
    show(args, done, noun.columns, True)
    return 0


def do_register(c: Any, noun: Noun, args: argparse.Namespace) -> int:
    answer = c._call(
        "POST", f"{c.api_url}/packs/register", None, {"packs": args.packs or None}, lambda s, d: d
    )
    output.show_raw(answer, output.Format.from_args(args), sys.stdout)
    return 0


VERBS: dict[str, Callable[[Any, Noun, argparse.Namespace], int]] = {
    "list": do_list,
    "get": do_get,
    "create": do_create,
    "delete": do_delete,
    "enable": _toggle(True),
    "disable": _toggle(False),
    "cancel": do_cancel,
    "re-run": do_rerun,
    "tail": do_tail,
    "set": do_set,
    "load": do_load,
    "register": do_register,
}


def _typed(kind: Any, raw: str) -> Any:
    """A `k=v` value as the parameter's type, as the st2 CLI converts it."""
    try:
        if kind == "integer":
            return int(raw)
        if kind == "number":
            return float(raw)
        if kind == "boolean":
            if raw.lower() not in ("true", "false"):
                raise UsageError(f"Invalid value for boolean parameter: {raw!r} (true or false).")
            return raw.lower() == "true"
        if kind in ("object", "array"):
            try:
                return json.loads(raw)
            except ValueError:
                if kind == "array":
                    return [x.strip() for x in raw.split(",")]
                return dict(pair.split("=", 1) for pair in raw.split(",") if "=" in pair)
    except ValueError:
        raise UsageError(f"{raw!r} is not a valid {kind}.") from None
    return raw


def parse_parameters(c: Any, ref: str, pairs: list[str]) -> dict[str, Any]:
    action = c.actions.get_by_id(ref)
    if action is None:
        raise CLIError(f'Action "{ref}" is not found.')
    runner = c.runners.get_by_id(action.runner_type)
    spec = {**((runner.runner_parameters if runner else None) or {}), **(action.parameters or {})}
    out: dict[str, Any] = {}
    words: list[str] = []
    for pair in pairs:
        if "=" in pair and not words:
            k, v = pair.split("=", 1)
            out[k] = _typed((spec.get(k) or {}).get("type"), v)
        else:
            words.append(pair)
    if words:
        out["cmd"] = " ".join(words)
    return out


def wait(c: Any, execution: Any, show_status: bool = True) -> Any:
    """Poll until the execution is finished, showing its status on stderr."""
    shown = ""
    while execution.status not in DONE:
        if show_status and execution.status != shown:
            print(f"{execution.id}: {execution.status}", file=sys.stderr)
            shown = execution.status
        time.sleep(0.25)
        execution = c.executions.get_by_id(execution.id)
    return execution


def cmd_run(args: argparse.Namespace) -> int:
    with client(args) as c:
        params = parse_parameters(c, args.action, args.parameters)
        execution = c.executions.run(args.action, params)
        if args.async_:
            print(f"To get the results, execute:\n stackyard execution get {execution.id}")
            return 0
        execution = wait(c, execution, not (args.json or args.yaml))
        show(args, execution, RUN_COLUMNS, False)
        return 1 if execution.status == "failed" else 0


def cmd_auth(args: argparse.Namespace) -> int:
    from stackyard.client.automation import Client

    password = args.password or getpass.getpass("Password: ")
    url = server_url(args)
    with Client(base_url=url) as c:
        token = c.auth(args.email, password, args.ttl).to_dict()
    path = save_token(url, token)
    if args.only_token:
        print(token["token"])
    else:
        output.show_one(
            {k: token[k] for k in ("user", "token", "expiry")}, output.Format.from_args(args), sys.stdout
        )
        print(f"(kept in {path})", file=sys.stderr)
    return 0


def register_auth_and_run(sub: Any) -> None:
    p = sub.add_parser(
        "auth",
        help="Get an automation token (HTTP Basic email:password) and keep it.",
        description=(
            "Get an automation token and keep it for later automation commands. EMAIL#ORGANIZATION picks one of "
            "your organizations (by uid or name); otherwise the first one you own or administer."
        ),
    )
    p.add_argument("email", help="Your Stackyard email (optionally #organization).")
    p.add_argument("-p", "--password", default=None, help="The password (prompted for when absent).")
    p.add_argument(
        "-l", "--ttl", type=int, default=None, help="Seconds the token lives (up to the server's maximum)."
    )
    p.add_argument("-t", "--only-token", action="store_true", help="Print only the token.")
    output.add_options(p)
    p.add_argument("--url", default=argparse.SUPPRESS, help="Server URL (default: $STACKYARD_URL).")
    p.set_defaults(func=cmd_auth)
    r = sub.add_parser(
        "run",
        help="Run an action and wait for it: run ACTION k=v ...",
        description=(
            "Run an action with k=v parameters (words without = become cmd), waiting with a live status; exits 1 if it failed."
        ),
    )
    r.add_argument("action", help="The action's ref, e.g. core.echo.")
    r.add_argument("parameters", nargs="*", metavar="k=v", help="Parameters (typed by the action's schema).")
    r.add_argument("-a", "--async", dest="async_", action="store_true", help="Do not wait for the result.")
    fmt = r.add_mutually_exclusive_group()
    fmt.add_argument("-j", "--json", action="store_true", help="Print the result as JSON.")
    fmt.add_argument("-y", "--yaml", action="store_true", help="Print the result as YAML.")
    r.add_argument("-w", "--width", nargs="+", type=int, default=None, metavar="N", help="Column widths.")
    r.add_argument("--url", default=argparse.SUPPRESS, help="Server URL (default: $STACKYARD_URL).")
    r.set_defaults(func=cmd_run)


def _verb(noun: Noun, verb: str) -> Callable[[argparse.Namespace], int]:
    def run(args: argparse.Namespace) -> int:
        with client(args) as c:
            return VERBS[verb](c, noun, args)

    return run


def _add_verb(sub: Any, noun: Noun, verb: str) -> None:
    p = sub.add_parser(verb, help=HELP[verb], description=HELP[verb])
    if verb == "list":
        for flag, dest, text in noun.filters:
            p.add_argument(flag, dest="f_" + dest, default=None, help=text)
        p.add_argument(
            "-n", "--last", type=int, default=noun.default_limit, help="How many to show (-1: all)."
        )
        if noun.name == "key":
            p.add_argument("-d", "--decrypt", action="store_true", help="Decrypt secrets.")
            p.add_argument("-s", "--scope", default="all", help="system, user or all.")
    elif verb in ("get", "cancel"):
        p.add_argument("ids", nargs="+", help="Ids, refs or names.")
        if noun.name == "key":
            p.add_argument("-d", "--decrypt", action="store_true", help="Decrypt a secret.")
            p.add_argument("-s", "--scope", default="system", help="system or user.")
    elif verb in ("create", "load"):
        p.add_argument("file", help="A JSON or YAML file.")
        if noun.name == "apikey":
            p.add_argument("-m", "--metadata", default=None, help="Metadata as JSON.")
    elif verb in ("delete", "enable", "disable", "tail"):
        p.add_argument("id", help="Id, ref or name.")
        if noun.name == "key":
            p.add_argument("-s", "--scope", default="system", help="system or user.")
    elif verb == "re-run":
        p.add_argument("id", help="The execution to run again.")
        p.add_argument("parameters", nargs="*", metavar="k=v", help="Parameters to change.")
    elif verb == "set":
        p.add_argument("name", help="The key.")
        p.add_argument("value", help="Its value.")
        p.add_argument("-e", "--encrypt", action="store_true", help="Store it encrypted (a secret).")
        p.add_argument("-l", "--ttl", type=int, default=None, help="Seconds until it expires.")
        p.add_argument("-s", "--scope", default="system", help="system or user.")
    elif verb == "register":
        p.add_argument("packs", nargs="*", help="Pack names (default: all in the packs directory).")
    if noun.name == "apikey" and verb == "create":
        p.set_defaults(file=None)
    output.add_options(p)
    p.add_argument("--url", default=argparse.SUPPRESS, help="Server URL (default: $STACKYARD_URL).")
    p.set_defaults(func=_verb(noun, verb))


def register(sub: Any) -> None:
    """Add `auth`, `run` and the automation nouns to the top-level parser."""
    register_auth_and_run(sub)
    for noun in NOUNS:
        p = sub.add_parser(noun.name, help=noun.help, description=noun.help)
        verbs = p.add_subparsers(dest="verb", required=True, metavar="verb")
        for verb in noun.verbs:
            if noun.name == "apikey" and verb == "create":
                q = verbs.add_parser(
                    "create",
                    help="Create an API key (printed once).",
                    description="Create an API key (printed once).",
                )
                q.add_argument("-m", "--metadata", default=None, help="Metadata as JSON.")
                output.add_options(q)
                q.add_argument(
                    "--url", default=argparse.SUPPRESS, help="Server URL (default: $STACKYARD_URL)."
                )
                q.set_defaults(func=_verb(noun, "create"), file=None)
                continue
            _add_verb(verbs, noun, verb)
