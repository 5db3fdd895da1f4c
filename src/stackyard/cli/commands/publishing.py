"""Publishing from the command line: `entry publish/unpublish`, `bulk`, `release` and `publish-queue`.

Bulk jobs and release deployments run on the server after the request answers; `--wait` follows
them with a progress bar (on stderr, so `-j` output stays clean) until they finish.

    stackyard entry publish blog blt123 --environment production --locale en-us --locale fr-fr
    stackyard bulk publish --entry blog/blt123 --entry blog/blt456@fr-fr --environment production --wait
    stackyard release deploy blt789 --environment production --wait
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from typing import Any

from stackyard.cli.context import Ctx
from stackyard.cli.errors import CLIError, UsageError
from stackyard.cli.payload import field_of
from stackyard.cli.resources import Open, Resource, Verb, arg, body_json, nonempty

POLL_SECONDS = 0.25
ENVIRONMENTS = arg(
    "--environment",
    dest="environments",
    action="append",
    required=True,
    help="Environment name (repeatable).",
)
LOCALES = arg("--locale", dest="locales", action="append", default=None, help="Locale code (repeatable).")
SCHEDULE = arg(
    "--at",
    dest="scheduled_at",
    default=None,
    help="Schedule it: an ISO 8601 time, e.g. 2030-01-01T09:00:00Z.",
)
WAIT = arg("--wait", action="store_true", help="Follow the job with a progress bar until it finishes.")


def _progress(what: str, poll: Callable[[], tuple[float, bool, dict[str, Any]]]) -> dict[str, Any]:
    """Show a progress bar while `poll` answers (fraction done, finished, last body); answers the last body."""
    from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn

    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TaskProgressColumn(),
        TimeElapsedColumn(),
        transient=not sys.stderr.isatty(),
        console=None,
    ) as bar:
        task = bar.add_task(what, total=1.0)
        while True:
            fraction, finished, body = poll()
            bar.update(task, completed=fraction)
            if finished:
                return body
            time.sleep(POLL_SECONDS)


# -- entry publish / unpublish -------------------------------------------------------------------------
def entry_verbs(open_entry: Open) -> tuple[Verb, ...]:
    """`entry publish` and `entry unpublish`, on the entry resource of `content`."""

    def call(action: str) -> Callable[[Ctx, argparse.Namespace], Any]:
        def run(ctx: Ctx, args: argparse.Namespace) -> Any:
            body: dict[str, Any] = {
                "entry": {"environments": args.environments, "locales": args.locales or []}
            }
            if not args.locales:
                del body["entry"]["locales"]
            for key in ("locale", "version", "scheduled_at"):
                if getattr(args, key, None) is not None:
                    body[key] = getattr(args, key)
            target = open_entry(ctx, args, args.uid)
            if args.all_localized:
                target = target.add_param("publish_all_localized", True)
            return getattr(target, action)(body)

        return run

    shared = (
        ENVIRONMENTS,
        LOCALES,
        arg(
            "--version-locale",
            dest="locale",
            default=None,
            help="The locale --version counts in (default: the master).",
        ),
        arg("--version", type=int, default=None, help="Publish this version (default: the latest)."),
        SCHEDULE,
        arg("--all-localized", action="store_true", help="Also every locale the entry is localized in."),
    )
    return (
        Verb(
            "publish",
            "Publish an entry to environments and locales, now or --at a time.",
            call("publish"),
            show="notice",
            args=shared,
        ),
        Verb(
            "unpublish",
            "Withdraw an entry from environments and locales.",
            call("unpublish"),
            show="notice",
            args=shared,
        ),
    )


# -- bulk -------------------------------------------------------------------------------------------------
def _items(specs: list[str]) -> list[dict[str, Any]]:
    """`CONTENT_TYPE/UID[@LOCALE]` -> bulk entry items."""
    out = []
    for spec in specs:
        ref, _, locale = spec.partition("@")
        ct, _, uid = ref.partition("/")
        if not ct or not uid:
            raise UsageError(f"--entry takes CONTENT_TYPE/UID[@LOCALE], not {spec!r}")
        out.append({"content_type": ct, "uid": uid, **({"locale": locale} if locale else {})})
    return out


def _follow_job(ctx: Ctx, job: str) -> dict[str, Any]:
    bulk = ctx.stack().bulk_operation()

    def poll() -> tuple[float, bool, dict[str, Any]]:
        body = body_json(bulk.job_status(job))
        return float(body.get("progress", 0)), body.get("status") == "completed", body

    return _progress(f"job {job}", poll)


def _bulk(operation: str) -> Callable[[Ctx, argparse.Namespace], Any]:
    def run(ctx: Ctx, args: argparse.Namespace) -> Any:
        body: dict[str, Any] = {"entries": _items(args.entry or [])}
        if operation != "delete":
            body["environments"] = args.environments
            body["locales"] = args.locales or []
            if args.scheduled_at:
                body["scheduled_at"] = args.scheduled_at
            if args.with_references:
                body["publish_with_reference"] = True
        answer = body_json(getattr(ctx.stack().bulk_operation(), operation)(body))
        if not args.wait:
            return answer
        return _follow_job(ctx, answer["job_id"])

    return run


def _bulk_verb(operation: str, help_text: str) -> Verb:
    entries = arg("--entry", action="append", required=True, help="CONTENT_TYPE/UID[@LOCALE] (repeatable).")
    targets = (
        ()
        if operation == "delete"
        else (
            ENVIRONMENTS,
            LOCALES,
            SCHEDULE,
            arg("--with-references", action="store_true", help="Also publish the entries they reference."),
        )
    )
    return Verb(
        operation, help_text, _bulk(operation), show="raw", takes_id=False, args=(entries, *targets, WAIT)
    )


BULK = Resource(
    name="bulk",
    help="Bulk publish, unpublish and delete, run as jobs on the server.",
    key="job",
    list_key="jobs",
    open=lambda ctx, args, uid: ctx.stack().bulk_operation(),
    verbs=(),
    extra=(
        _bulk_verb("publish", "Publish many entries at once (a job)."),
        _bulk_verb("unpublish", "Unpublish many entries at once (a job)."),
        _bulk_verb("delete", "Delete many entries at once (a job)."),
        Verb(
            "status",
            "Show a bulk job's progress and per-item results (--wait: until it finishes).",
            lambda ctx, a: (
                _follow_job(ctx, a.uid) if a.wait else ctx.stack().bulk_operation().job_status(a.uid)
            ),
            show="raw",
            args=(WAIT,),
        ),
    ),
)


# -- releases -------------------------------------------------------------------------------------------
def _release(ctx: Ctx, args: argparse.Namespace, uid: str | None) -> Any:
    return ctx.stack().releases(uid)


def _item_spec(spec: str, action: str, version: int | None) -> dict[str, Any]:
    ref, _, locale = spec.partition("@")
    ct, _, uid = ref.partition("/")
    if not ct or not uid:
        raise UsageError(f"items are CONTENT_TYPE/UID[@LOCALE], not {spec!r}")
    item: dict[str, Any] = {"uid": uid, "content_type_uid": ct, "action": action, "locale": locale or "en-us"}
    if version is not None:
        item["version"] = version
    return item


def _deploy(ctx: Ctx, args: argparse.Namespace) -> Any:
    body: dict[str, Any] = {"environments": args.environments}
    if args.locales:
        body["locales"] = args.locales
    if args.scheduled_at:
        body["scheduled_at"] = args.scheduled_at
    answer = body_json(ctx.stack().releases(args.uid).deploy({"release": body}))
    if not args.wait or args.scheduled_at:
        return answer
    queue = ctx.stack().publish_queue()

    def poll() -> tuple[float, bool, dict[str, Any]]:
        items = body_json(queue.find()).get("queue", [])
        mine = next(
            (q for q in items if q.get("type") == "release" and q.get("entry", {}).get("uid") == args.uid),
            None,
        )
        status = (mine or {}).get("publish_details", {}).get("status", "pending")
        return (1.0 if status in ("success", "failed") else 0.0), status in ("success", "failed"), mine or {}

    done = _progress(f"release {args.uid}", poll)
    if done.get("publish_details", {}).get("status") == "failed":
        error = done["publish_details"].get("error", {})
        raise CLIError(
            f"the deployment failed: {error.get('error_message', '')} {error.get('errors', '')}".strip()
        )
    return done


RELEASE = Resource(
    name="release",
    help="Releases: sets of entries to publish or unpublish together.",
    key="release",
    list_key="releases",
    open=_release,
    columns=("uid", "name", "items_count", "locked", "updated_at"),
    fields=(
        field_of("NAME", key="name", help="Name of the release.", verbs=("create",)),
        field_of("--name", key="name", help="New name.", verbs=("update",)),
        field_of("--description", key="description", help="A description."),
    ),
    extra=(
        Verb(
            "items",
            "List a release's items.",
            lambda ctx, a: ctx.stack().releases(a.uid).item().find(),
            show="list",
            key="items",
            columns=("uid", "content_type_uid", "locale", "version", "action", "title"),
        ),
        Verb(
            "add",
            "Add entries to a release.",
            lambda ctx, a: (
                ctx.stack()
                .releases(a.uid)
                .item()
                .create_multiple({"items": [_item_spec(s, a.action, a.version) for s in a.items]})
            ),
            show="notice",
            args=(
                arg("items", nargs="+", metavar="CONTENT_TYPE/UID[@LOCALE]", help="Entries to add."),
                arg(
                    "--action",
                    choices=("publish", "unpublish"),
                    default="publish",
                    help="What the deployment does.",
                ),
                arg(
                    "--version",
                    type=int,
                    default=None,
                    help="The version to deploy (default: latest when deployed).",
                ),
            ),
        ),
        Verb(
            "remove",
            "Remove entries from a release.",
            lambda ctx, a: (
                ctx.stack()
                .releases(a.uid)
                .item()
                .delete({"items": [_item_spec(s, "publish", None) for s in a.items]})
            ),
            show="notice",
            args=(arg("items", nargs="+", metavar="CONTENT_TYPE/UID[@LOCALE]", help="Entries to remove."),),
        ),
        Verb(
            "update-items",
            "Set every item of a release to its entry's latest version.",
            lambda ctx, a: ctx.stack().releases(a.uid).item().update({"items": ["$all"]}),
            show="notice",
        ),
        Verb(
            "clone",
            "Copy a release with its items.",
            lambda ctx, a: ctx.stack().releases(a.uid).clone({"release": {"name": a.name}}),
            key="release",
            args=(arg("--name", required=True, type=nonempty, help="Name of the copy."),),
        ),
        Verb(
            "deploy",
            "Deploy a release to environments (all items or none), now or --at a time.",
            _deploy,
            show="raw",
            args=(ENVIRONMENTS, LOCALES, SCHEDULE, WAIT),
        ),
    ),
)

PUBLISH_QUEUE = Resource(
    name="publish-queue",
    help="The publish queue: every publish, unpublish and release deployment.",
    key="entry",
    list_key="queue",
    open=lambda ctx, args, uid: ctx.stack().publish_queue(uid),
    columns=("uid", "type", "action", "publish_details", "scheduled_at", "created_at"),
    verbs=("list", "get"),
    extra=(
        Verb(
            "unschedule",
            "Cancel a scheduled publish, unpublish or deployment.",
            lambda ctx, a: ctx.stack().publish_queue(a.uid).cancel(),
            show="notice",
        ),
    ),
)

RESOURCES = (BULK, RELEASE, PUBLISH_QUEUE)
