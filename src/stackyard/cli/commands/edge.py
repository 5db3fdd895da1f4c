"""`stackyard edge ...`: the StackPath-compatible edge through `stackyard.client.edge`.

    stackyard edge credential create NAME -j      (an organization owner or admin, logged in)
    stackyard edge stack list                     (with $STACKYARD_EDGE_CLIENT_ID / _SECRET)
    stackyard edge site create STACK cdn.example.com --origin www.example.com:80
    stackyard edge purge STACK https://cdn.example.com/ --recursive     (a progress bar until 1.0)
    stackyard edge metrics STACK --hours 6                              (a table and a sparkline)
    stackyard edge certificate add STACK --cert cert.pem --key key.pem

Credential commands use the session of `stackyard login` (or $STACKYARD_URL and
$STACKYARD_AUTHTOKEN); the others an edge API credential: `--client-id`/`--client-secret` or
$STACKYARD_EDGE_CLIENT_ID and $STACKYARD_EDGE_CLIENT_SECRET.
"""

from __future__ import annotations

import argparse
import os
import time
from contextlib import closing
from datetime import UTC, datetime, timedelta
from typing import Any

from stackyard.cli import output
from stackyard.cli.context import Ctx, add_connection_options
from stackyard.cli.errors import UsageError

SPARK = "▁▂▃▄▅▆▇█"
SITE_COLUMNS = ("id", "label", "status", "enabled", "type")
STACK_COLUMNS = ("id", "slug", "name", "status", "accountId")
CERT_COLUMNS = ("id", "commonName", "status", "expirationDate", "fingerprint")


def sparkline(values: list[float]) -> str:
    """`[0, 5, 10]` -> `▁▄█` (one character per value, scaled to the largest)."""
    if not values:
        return ""
    top = max(values) or 1.0
    return "".join(SPARK[min(len(SPARK) - 1, int(v / top * (len(SPARK) - 1)))] for v in values)


def _edge(ctx: Ctx, args: argparse.Namespace) -> Any:
    from stackyard.client.edge import Stackpath

    cid = args.client_id or os.environ.get("STACKYARD_EDGE_CLIENT_ID")
    secret = args.client_secret or os.environ.get("STACKYARD_EDGE_CLIENT_SECRET")
    if not cid or not secret:
        raise UsageError(
            "edge commands need an API credential: --client-id and --client-secret, or "
            "STACKYARD_EDGE_CLIENT_ID and STACKYARD_EDGE_CLIENT_SECRET (`stackyard edge credential create`)"
        )
    return Stackpath(cid, secret, base_url=ctx.credentials.url)


def _organization(ctx: Ctx, args: argparse.Namespace) -> str:
    if args.organization:
        return str(args.organization)
    orgs = ctx.client().organizations().find().json().get("organizations", [])
    if len(orgs) != 1:
        raise UsageError(f"you belong to {len(orgs)} organizations: pass --organization UID")
    return str(orgs[0]["uid"])


def _credentials(ctx: Ctx) -> Any:
    from stackyard.client.edge import Credentials

    if not ctx.credentials.authtoken:
        raise UsageError("log in first (stackyard login), or set STACKYARD_URL and STACKYARD_AUTHTOKEN")
    return Credentials(ctx.credentials.url, ctx.credentials.authtoken)


# -- verbs ----------------------------------------------------------------------------------------


def credential_create(ctx: Ctx, args: argparse.Namespace) -> None:
    with closing(_credentials(ctx)) as credentials:
        made = credentials.create(_organization(ctx, args), args.name)
    output.show_one(made, ctx.format, ctx.out, ("client_id", "client_secret", "name", "account_id"))
    if ctx.format.kind == "table":
        ctx.err.write("The client secret is shown only this once.\n")


def credential_list(ctx: Ctx, args: argparse.Namespace) -> None:
    with closing(_credentials(ctx)) as credentials:
        found = credentials.list(_organization(ctx, args))
    output.show_list(found, ctx.format, ctx.out, ("client_id", "name", "created_at", "revoked_at"))


def credential_revoke(ctx: Ctx, args: argparse.Namespace) -> None:
    with closing(_credentials(ctx)) as credentials:
        credentials.revoke(_organization(ctx, args), args.client_id)
    ctx.err.write(f"Revoked {args.client_id}.\n")


def stack_list(ctx: Ctx, args: argparse.Namespace) -> None:
    with _edge(ctx, args) as sp:
        found = sp.stacks().index(filter=args.filter or "")["results"]
        output.show_list([s.to_dict() for s in found], ctx.format, ctx.out, STACK_COLUMNS)


def stack_get(ctx: Ctx, args: argparse.Namespace) -> None:
    with _edge(ctx, args) as sp:
        output.show_one(sp.stacks().get(args.stack).to_dict(), ctx.format, ctx.out, STACK_COLUMNS)


def stack_create(ctx: Ctx, args: argparse.Namespace) -> None:
    with _edge(ctx, args) as sp:
        account = args.account or ""
        output.show_one(sp.stacks().create(account, args.name).to_dict(), ctx.format, ctx.out, STACK_COLUMNS)


def site_list(ctx: Ctx, args: argparse.Namespace) -> None:
    with _edge(ctx, args) as sp:
        found = sp.stacks().get(args.stack).cdnsites().index(filter=args.filter or "")["results"]
        output.show_list([s.to_dict() for s in found], ctx.format, ctx.out, SITE_COLUMNS)


def _origin(text: str) -> dict[str, Any]:
    host, _, port = text.rpartition(":") if text.count(":") == 1 else (text, "", "")
    out: dict[str, Any] = {"hostname": host or text}
    if port:
        if not port.isdigit():
            raise UsageError(f"--origin takes HOST or HOST:PORT, not {text!r}")
        out["port"] = int(port)
    return out


def site_create(ctx: Ctx, args: argparse.Namespace) -> None:
    with _edge(ctx, args) as sp:
        site = (
            sp.stacks()
            .get(args.stack)
            .cdnsites()
            .create(domain=args.domain, origin=_origin(args.origin), type="CDN")
        )
        output.show_one(site.to_dict(), ctx.format, ctx.out, SITE_COLUMNS)


def site_action(ctx: Ctx, args: argparse.Namespace) -> None:
    with _edge(ctx, args) as sp:
        site = sp.stacks().get(args.stack).cdnsites().get(args.site)
        getattr(site, args.action)()
        ctx.err.write(
            f"{args.action}d {site.label}.\n" if args.action != "delete" else f"Deleted {site.label}.\n"
        )


def purge(ctx: Ctx, args: argparse.Namespace) -> None:
    item: dict[str, Any] = {
        "url": args.target,
        "recursive": args.recursive,
        "invalidateOnly": args.invalidate_only,
    }
    selectors = [{"selectorType": "TAG", "selectorValue": t} for t in args.tag or []]
    selectors += [
        {
            "selectorType": "HEADER",
            "selectorName": h.partition(":")[0].strip(),
            "selectorValue": h.partition(":")[2].strip(),
        }
        for h in args.header or []
    ]
    if selectors:
        item["purgeSelector"] = selectors
    with _edge(ctx, args) as sp:
        stack = sp.stacks().get(args.stack)
        purge_id = stack.purge([item])
        progress = stack.purge_status(purge_id)
        if not args.no_wait and progress < 1.0:
            progress = _wait(ctx, stack, purge_id, progress, args.timeout)
    output.show_one({"id": purge_id, "progress": progress}, ctx.format, ctx.out, ("id", "progress"))


def _wait(ctx: Ctx, stack: Any, purge_id: str, progress: float, timeout: float) -> float:
    from rich.progress import Progress

    deadline = time.monotonic() + timeout
    with Progress(console=None, transient=True) as bar:
        task = bar.add_task("purging", total=100, completed=int(progress * 100))
        while progress < 1.0 and time.monotonic() < deadline:
            time.sleep(0.2)
            progress = stack.purge_status(purge_id)
            bar.update(task, completed=int(progress * 100))
    return progress


def metrics(ctx: Ctx, args: argparse.Namespace) -> None:
    end = datetime.now(UTC).replace(tzinfo=None)
    with _edge(ctx, args) as sp:
        found = (
            sp.stacks()
            .get(args.stack)
            .metrics()
            .get(
                start_date=end - timedelta(hours=args.hours),
                end_date=end,
                granularity=args.granularity,
                platforms=["CDE"],
            )
        )
    rows = []
    requests: list[float] = []
    for series in found.series:
        for sample in series["samples"]:
            values = dict(zip(series["metrics"], sample["values"], strict=False))
            when = datetime.fromtimestamp(values["usageTime"], UTC).strftime("%Y-%m-%d %H:%M")
            rows.append({"time": when, **{k: v for k, v in values.items() if k != "usageTime"}})
            requests.append(float(values.get("requestsCountTotal", 0)))
    output.show_list(
        rows,
        ctx.format,
        ctx.out,
        ("time", "requestsCountTotal", "cacheHitsCountTotal", "cacheMissesCountTotal", "xferUsedTotalMB"),
    )
    if ctx.format.kind == "table":
        ctx.out.write(f"requests: {sparkline(requests) or '(no traffic)'}\n")


def certificate_list(ctx: Ctx, args: argparse.Namespace) -> None:
    with _edge(ctx, args) as sp:
        found = sp.stacks().get(args.stack).certificates().index()["results"]
        output.show_list([c.to_dict() for c in found], ctx.format, ctx.out, CERT_COLUMNS)


def _read(path: str | None) -> str | None:
    if not path:
        return None
    with open(path, encoding="utf-8") as f:
        return f.read()


def certificate_add(ctx: Ctx, args: argparse.Namespace) -> None:
    with _edge(ctx, args) as sp:
        cert = (
            sp.stacks().get(args.stack).certificates().add(_read(args.cert), _read(args.key), _read(args.ca))
        )
        output.show_one(cert.to_dict(), ctx.format, ctx.out, CERT_COLUMNS)


def certificate_delete(ctx: Ctx, args: argparse.Namespace) -> None:
    with _edge(ctx, args) as sp:
        sp.stacks().get(args.stack).certificates().pk(args.certificate).delete()
        ctx.err.write(f"Deleted {args.certificate}.\n")


# -- the parser -----------------------------------------------------------------------------------


def _verb(sub: Any, name: str, help: str, fn: Any, *, edge: bool = True) -> argparse.ArgumentParser:
    p: argparse.ArgumentParser = sub.add_parser(name, help=help, description=help)
    output.add_options(p)
    add_connection_options(p, stack=False)
    if edge:
        p.add_argument("--client-id", help="Edge API client id (default: $STACKYARD_EDGE_CLIENT_ID).")
        p.add_argument(
            "--client-secret", help="Edge API client secret (default: $STACKYARD_EDGE_CLIENT_SECRET)."
        )
    else:
        p.add_argument("--organization", help="Organization uid (needed when you belong to several).")
    p.set_defaults(func=lambda args: _run(fn, args))
    return p


def _run(fn: Any, args: argparse.Namespace) -> int:
    ctx = Ctx(args)
    try:
        fn(ctx, args)
    finally:
        ctx.close()
    return 0


def _group(groups: Any, name: str, help: str) -> Any:
    parser = groups.add_parser(name, help=help, description=help)
    return parser.add_subparsers(dest="verb", required=True, metavar="verb")


def register(sub: Any) -> None:
    edge = sub.add_parser(
        "edge",
        help="The edge: CDN stacks, sites, purges, metrics and certificates.",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    groups = edge.add_subparsers(dest="edge_command", required=True, metavar="command")

    cred = _group(groups, "credential", "API credentials of an organization (owners and admins).")
    p = _verb(
        cred,
        "create",
        "Create an API credential; prints its client_id and client_secret (shown once).",
        credential_create,
        edge=False,
    )
    p.add_argument("name", help="A name for the credential.")
    _verb(cred, "list", "List the organization's API credentials.", credential_list, edge=False)
    p = _verb(
        cred, "revoke", "Revoke an API credential; its tokens stop working.", credential_revoke, edge=False
    )
    p.add_argument("client_id", help="The credential's client id.")

    stack = _group(groups, "stack", "Edge stacks.")
    p = _verb(stack, "list", "List stacks.", stack_list)
    p.add_argument("--filter", help="A filter such as \"name='x' and status='ACTIVE'\".")
    p = _verb(stack, "get", "Show a stack.", stack_get)
    p.add_argument("stack", help="Stack id or slug.")
    p = _verb(stack, "create", "Create a stack.", stack_create)
    p.add_argument("name", help="The stack's name.")
    p.add_argument("--account", help="Account id (an organization uid; default: the credential's).")

    site = _group(groups, "site", "CDN sites of a stack.")
    p = _verb(site, "list", "List a stack's CDN sites.", site_list)
    p.add_argument("stack", help="Stack id or slug.")
    p.add_argument("--filter", help="A filter such as \"label='cdn.example.com'\".")
    p = _verb(site, "create", "Create a CDN site.", site_create)
    p.add_argument("stack", help="Stack id or slug.")
    p.add_argument("domain", help="The site's domain (the Host it answers).")
    p.add_argument("--origin", required=True, help="The origin, HOST or HOST:PORT.")
    for action, text in (
        ("enable", "Enable a site."),
        ("disable", "Disable a site (it answers 403)."),
        ("delete", "Delete a site."),
    ):
        p = _verb(site, action, text, site_action)
        p.add_argument("stack", help="Stack id or slug.")
        p.add_argument("site", help="Site id.")
        p.set_defaults(action=action)

    p = _verb(
        groups,
        "purge",
        "Purge cached content of a stack's sites; waits with a progress bar until every node applied it.",
        purge,
    )
    p.add_argument("stack", help="Stack id or slug.")
    p.add_argument(
        "target",
        metavar="URL",
        help="URL to purge: https://cdn.example.com/path, /path, or '' for everything.",
    )
    p.add_argument("--recursive", action="store_true", help="Everything under the URL's path.")
    p.add_argument(
        "--invalidate-only", action="store_true", help="Mark expired (revalidate) instead of dropping."
    )
    p.add_argument("--tag", action="append", help="Only responses with this X-Tag value (repeatable).")
    p.add_argument(
        "--header", action="append", help="Only responses with this 'Name: value' header (repeatable)."
    )
    p.add_argument("--no-wait", action="store_true", help="Print the purge id without waiting for it.")
    p.add_argument(
        "--timeout", type=float, default=60.0, help="Seconds to wait for progress 1.0 (default 60)."
    )

    p = _verb(
        groups, "metrics", "Requests, hits, misses and bytes over time: a table and a sparkline.", metrics
    )
    p.add_argument("stack", help="Stack id or slug.")
    p.add_argument("--hours", type=float, default=24.0, help="How many hours back (default 24).")
    p.add_argument(
        "--granularity", default="AUTO", choices=("AUTO", "PT5M", "PT1H", "P1D", "P1M"), help="Bucket size."
    )

    cert = _group(groups, "certificate", "TLS certificates of a stack.")
    p = _verb(cert, "list", "List a stack's certificates.", certificate_list)
    p.add_argument("stack", help="Stack id or slug.")
    p = _verb(cert, "add", "Add a certificate (PEM files); the key must match it.", certificate_add)
    p.add_argument("stack", help="Stack id or slug.")
    p.add_argument("--cert", required=True, help="PEM certificate file.")
    p.add_argument("--key", required=True, help="PEM private key file.")
    p.add_argument("--ca", help="PEM CA bundle file.")
    p = _verb(cert, "delete", "Delete a certificate.", certificate_delete)
    p.add_argument("stack", help="Stack id or slug.")
    p.add_argument("certificate", help="Certificate id.")
