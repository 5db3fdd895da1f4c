"""`stackyard delivery`: read published content with a delivery token, through the delivery SDK.

    stackyard delivery query article --query '{"rating": {"$gt": 3}}' --desc rating --limit 5
    stackyard delivery sync ./content              # first run: everything; later runs: the changes

Credentials: `--api-key` (or $STACKYARD_API_KEY), `--token` (or $STACKYARD_DELIVERY_TOKEN) and
`--environment` (or $STACKYARD_ENVIRONMENT); the server is `--url` (or $STACKYARD_URL).

`sync` keeps one JSON file per published item, `DIR/<content type>/<uid>.<locale>.json`
(`DIR/sys_assets/...` for assets), deletes the files of unpublished and deleted items, and keeps
its sync token in `DIR/.sync_token`, so the next run fetches only what changed since.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any, TextIO

from stackyard.cli.config import Credentials
from stackyard.cli.errors import UsageError
from stackyard.cli.output import Format, add_options, show_list

TOKEN_FILE = ".sync_token"


def register(sub: Any) -> None:
    about = "Read published content with a delivery token (query, sync)."
    parser = sub.add_parser("delivery", help=about, description=about)
    verbs = parser.add_subparsers(dest="verb", required=True, metavar="verb")
    about = "Entries of a content type, as the delivery API serves them (all pages unless --limit)."
    q = verbs.add_parser("query", help=about, description=about)
    q.add_argument("content_type", metavar="CONTENT_TYPE", help="Content type uid.")
    q.add_argument("--query", help='A query object, e.g. \'{"rating": {"$gt": 3}}\'.')
    q.add_argument("--locale", help="Locale code (default: the master locale).")
    q.add_argument("--fallback", action="store_true", help="Fall back along the locale chain.")
    q.add_argument("--include", action="append", default=[], help="Include a reference path (repeatable).")
    q.add_argument("--asc", help="Sort ascending by this field.")
    q.add_argument("--desc", help="Sort descending by this field.")
    q.add_argument("--limit", type=int, help="At most this many entries (default: all, page after page).")
    q.add_argument("--skip", type=int, default=0, help="Skip this many first.")
    _connection(q)
    add_options(q)
    q.set_defaults(func=_query)
    about = (
        "Mirror the published content into a directory of JSON files: everything on the first run, "
        "only the changes on later runs (the sync token is kept in DIR/.sync_token)."
    )
    s = verbs.add_parser(
        "sync", help="Mirror the published content into a directory of JSON files.", description=about
    )
    s.add_argument("directory", metavar="DIR", help="Directory to keep the files in (made if missing).")
    s.add_argument("--content-type", help="Only this content type (fixed on the first run).")
    s.add_argument("--locale", help="Only this locale (fixed on the first run).")
    s.add_argument("--full", action="store_true", help="Start over: forget the sync token.")
    s.add_argument("--quiet", action="store_true", help="No progress bar.")
    _connection(s)
    s.set_defaults(func=_sync)


def _connection(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("delivery credentials")
    g.add_argument("--url", default=argparse.SUPPRESS, help="Server URL (default: $STACKYARD_URL).")
    g.add_argument("--api-key", dest="api_key", default=argparse.SUPPRESS, help="Stack API key.")
    g.add_argument("--token", help="Delivery token (default: $STACKYARD_DELIVERY_TOKEN).")
    g.add_argument("--environment", help="Environment name (default: $STACKYARD_ENVIRONMENT).")


def _stack(args: argparse.Namespace) -> Any:
    from stackyard.client.delivery import Stack

    creds = Credentials.resolve(getattr(args, "url", None), getattr(args, "api_key", None))
    token = args.token or os.environ.get("STACKYARD_DELIVERY_TOKEN")
    env = args.environment or os.environ.get("STACKYARD_ENVIRONMENT")
    if not creds.api_key or not token or not env:
        raise UsageError(
            "delivery needs --api-key, --token and --environment (or their STACKYARD_ variables)"
        )
    return Stack(creds.api_key, token, env, host=creds.url)


def _query(args: argparse.Namespace) -> int:
    stack = _stack(args)
    try:
        q = stack.content_type(args.content_type).query()
        if args.query:
            try:
                q.parameters = json.loads(args.query)
            except ValueError as e:
                raise UsageError(f"--query is not JSON: {e}") from None
        if args.locale:
            q.locale(args.locale)
        if args.fallback:
            q.include_fallback()
        if args.include:
            q.include_reference(args.include)
        if args.asc:
            q.order_by_ascending(args.asc)
        if args.desc:
            q.order_by_descending(args.desc)
        if args.limit is not None:
            entries = q.skip(args.skip).limit(args.limit).find()["entries"]
        else:
            entries = [e for i, e in enumerate(q.iter()) if i >= args.skip]
        show_list(entries, Format.from_args(args), sys.stdout, columns=("uid", "title", "locale", "_version"))
    finally:
        stack.close()
    return 0


class Progress:
    """A one-line progress bar on a terminal (nothing when `quiet`)."""

    def __init__(self, out: TextIO, quiet: bool) -> None:
        self.out, self.quiet = out, quiet
        self.done = 0

    def show(self, done: int, total: int | None) -> None:
        self.done = done
        if self.quiet:
            return
        if total:
            filled = min(30, round(30 * done / total))
            self.out.write(f"\r[{'#' * filled}{' ' * (30 - filled)}] {done}/{total} items")
        else:
            self.out.write(f"\r{done} items")
        self.out.flush()

    def end(self) -> None:
        if not self.quiet:
            self.out.write("\n")


def _path(root: Path, item: dict[str, Any]) -> Path:
    data = item.get("data") or {}
    locale = (data.get("publish_details") or {}).get("locale") or data.get("locale") or "und"
    folder = str(item.get("content_type_uid") or "unknown")
    for part in (folder, str(data.get("uid")), str(locale)):
        if not part or "/" in part or part.startswith(".") or "\x00" in part:
            raise UsageError(f"refusing an unsafe name from the server: {part!r}")
    return root / folder / f"{data['uid']}.{locale}.json"


def apply(root: Path, items: list[dict[str, Any]]) -> tuple[int, int]:
    """Write or delete the files of sync items; answers (written, deleted)."""
    written = deleted = 0
    for item in items:
        kind = str(item.get("type", ""))
        if kind == "content_type_deleted":
            folder = root / str(item.get("content_type_uid"))
            if folder.is_dir() and folder.parent == root:
                for f in folder.glob("*.json"):
                    f.unlink()
                    deleted += 1
            continue
        path = _path(root, item)
        if kind.endswith("_published"):
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(".tmp")
            tmp.write_text(
                json.dumps(item["data"], ensure_ascii=False, indent=2, sort_keys=True), encoding="utf-8"
            )
            tmp.replace(path)
            written += 1
        elif path.exists():
            path.unlink()
            deleted += 1
    return written, deleted


def _sync(args: argparse.Namespace) -> int:
    root = Path(args.directory)
    root.mkdir(parents=True, exist_ok=True)
    token_file = root / TOKEN_FILE
    token = None if args.full or not token_file.exists() else token_file.read_text().strip() or None
    stack = _stack(args)
    progress = Progress(sys.stderr, args.quiet or not sys.stderr.isatty())
    written = deleted = seen = 0
    try:
        if token:
            body = stack.sync_token(token)
        else:
            body = stack.sync_init(content_type_uid=args.content_type, locale=args.locale)
        while True:
            w, d = apply(root, body.get("items") or [])
            written, deleted, seen = written + w, deleted + d, seen + len(body.get("items") or [])
            progress.show(seen, body.get("total_count"))
            if "pagination_token" not in body:
                break
            body = stack.pagination(body["pagination_token"])
        token_file.write_text(str(body["sync_token"]))
    finally:
        progress.end()
        stack.close()
    print(f"{'updated' if token else 'synced'} {root}: {written} written, {deleted} deleted")
    return 0
