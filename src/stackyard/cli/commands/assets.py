"""`asset` and `folder`: files in a stack and the folders that hold them.

    stackyard asset upload logo.png photos/ --folder blt123    # directories keep their folders
    stackyard asset download blt456 -o logo.png
    stackyard folder create --name Brand --parent blt123

`asset upload` takes files and whole directories: each directory becomes a folder (an existing one
of the same name in the same place is reused), and a progress bar on stderr counts the bytes sent.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path
from typing import Any

from stackyard.cli.context import Ctx
from stackyard.cli.errors import CLIError, UsageError
from stackyard.cli.payload import field_of
from stackyard.cli.resources import PAGE_ARGS, Resource, Verb, arg, list_params


def _asset(ctx: Ctx, args: argparse.Namespace, uid: str | None) -> Any:
    return ctx.stack().assets(uid)


def _find(ctx: Ctx, args: argparse.Namespace) -> Any:
    params = list_params(args)
    if args.folder:
        params["folder"] = args.folder
    if args.query:
        params["query"] = json.loads(args.query)
    return ctx.stack().assets().find(params=params)


def _existing_path(path: str) -> str:
    if not Path(path).exists():
        raise argparse.ArgumentTypeError(f"no such file or directory: {path}")
    return path


def _plan(paths: list[str]) -> list[tuple[tuple[str, ...], Path]]:
    """(folder names below the target, file) for every file named or inside a directory named."""
    out: list[tuple[tuple[str, ...], Path]] = []
    for given in paths:
        root = Path(given)
        if root.is_file():
            out.append(((), root))
            continue
        for folder, dirs, names in os.walk(root):
            dirs.sort()
            rel = Path(folder).relative_to(root.parent)
            for name in sorted(names):
                out.append((rel.parts, Path(folder) / name))
    return out


class _Folders:
    """Folder uids by path below the target folder, found or created once each."""

    def __init__(self, stack: Any, top: str | None) -> None:
        self.stack = stack
        self.known: dict[tuple[str, ...], str | None] = {(): top}

    def uid(self, parts: tuple[str, ...]) -> str | None:
        if parts in self.known:
            return self.known[parts]
        parent = self.uid(parts[:-1])
        name = parts[-1]
        query = {"is_dir": True, "name": name, "parent_uid": parent or ""}
        found = self.stack.assets().find(params={"include_folders": True, "query": query}).json()["assets"]
        if found:
            uid = str(found[0]["uid"])
        else:
            body = {"asset": {"name": name, **({"parent_uid": parent} if parent else {})}}
            uid = str(self.stack.assets().create_folder(body).json()["asset"]["uid"])
        self.known[parts] = uid
        return uid


def _upload(ctx: Ctx, args: argparse.Namespace) -> Any:
    from rich.console import Console
    from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TransferSpeedColumn

    files = _plan(args.paths)
    if not files:
        raise UsageError("nothing to upload: the directories given hold no files")
    if args.title and len(files) > 1:
        raise UsageError("--title names one file; give one file to use it")
    stack = ctx.stack()
    folders = _Folders(stack, args.folder)
    uploaded: list[dict[str, Any]] = []
    total = sum(p.stat().st_size for _, p in files)
    console = Console(file=ctx.err)
    columns = (TextColumn("{task.description}"), BarColumn(), DownloadColumn(), TransferSpeedColumn())
    with Progress(*columns, console=console, transient=True, disable=not console.is_terminal) as bar:
        task = bar.add_task("uploading", total=total)
        for parts, path in files:
            bar.update(task, description=str(path))
            fields: dict[str, Any] = {"parent_uid": folders.uid(parts), "title": args.title}
            if args.tags:
                fields["tags"] = args.tags
            answer = stack.assets().upload(str(path), **{k: v for k, v in fields.items() if v})
            uploaded.append(answer.json()["asset"])
            bar.advance(task, path.stat().st_size)
    return {"assets": uploaded}


def _download(ctx: Ctx, args: argparse.Namespace) -> Any:
    target = ctx.stack().assets(args.uid)
    asset = target.fetch().json()["asset"]
    body = target.download().content
    out = Path(args.output or asset["filename"])
    if out.is_dir():
        out = out / asset["filename"]
    try:
        out.write_bytes(body)
    except OSError as e:
        raise CLIError(f"cannot write {out}: {e.strerror or e}") from e
    return {"notice": f"wrote {out} ({len(body)} bytes)"}


def _publish(action: str) -> Any:
    def call(ctx: Ctx, args: argparse.Namespace) -> Any:
        body: dict[str, Any] = {"asset": {"environments": args.environment, "locales": args.locale or []}}
        if args.version:
            body["version"] = args.version
        target = ctx.stack().assets(args.uid)
        return target.publish(body) if action == "publish" else target.unpublish(body)

    return call


_PUBLISH_ARGS = (
    arg("--environment", action="append", required=True, help="Environment name (repeat for several)."),
    arg("--locale", action="append", help="Locale code (repeat; default: the master locale)."),
    arg("--version", type=int, help="Version to publish (default: the latest)."),
)

ASSET = Resource(
    name="asset",
    help="Assets: uploaded files, in folders.",
    key="asset",
    list_key="assets",
    open=_asset,
    columns=("uid", "filename", "content_type", "file_size", "_version"),
    verbs=("list", "get", "update", "delete"),
    fields=(
        field_of("--title", key="title", help="Title.", verbs=("update",)),
        field_of("--description", key="description", help="A description.", verbs=("update",)),
        field_of("--parent", key="parent_uid", help="Move it into this folder.", verbs=("update",)),
    ),
    extra=(
        Verb(
            "list",
            "List assets (of one folder with --folder).",
            _find,
            show="list",
            key="assets",
            takes_id=False,
            args=(
                *PAGE_ARGS,
                arg("--folder", help="Only assets in this folder."),
                arg("--query", help='A JSON query, e.g. \'{"title": "Logo"}\'.'),
            ),
        ),
        Verb(
            "upload",
            "Upload files and directories (directories become folders, mirrored).",
            _upload,
            show="list",
            key="assets",
            takes_id=False,
            args=(
                arg("paths", nargs="+", type=_existing_path, help="Files or directories to upload."),
                arg("--folder", help="Upload into this folder (default: the top level)."),
                arg("--title", help="Title of the asset (one file only)."),
                arg("--tags", help="Comma-separated tags for every uploaded asset."),
            ),
        ),
        Verb(
            "download",
            "Save an asset's file (to its own name, or -o PATH).",
            _download,
            show="notice",
            args=(arg("-o", "--output", help="File or directory to write to."),),
        ),
        Verb(
            "replace",
            "Replace an asset's file (a new version).",
            lambda ctx, a: ctx.stack().assets(a.uid).replace(a.path),
            args=(arg("path", type=_existing_path, help="The new file."),),
            key="asset",
        ),
        Verb(
            "versions",
            "List an asset's versions.",
            lambda ctx, a: ctx.stack().assets(a.uid).version(),
            show="list",
            key="versions",
            columns=("_version", "_version_name"),
        ),
        Verb(
            "publish",
            "Publish an asset to environments.",
            _publish("publish"),
            show="notice",
            args=_PUBLISH_ARGS,
        ),
        Verb(
            "unpublish",
            "Unpublish an asset from environments.",
            _publish("unpublish"),
            show="notice",
            args=_PUBLISH_ARGS,
        ),
    ),
)


class _FolderHandle:
    """The folder calls of the SDK under the CRUD names the verb table uses."""

    def __init__(self, assets: Any, uid: str | None) -> None:
        self.assets, self.uid = assets, uid

    def find(self, params: dict[str, Any] | None = None) -> Any:
        query: dict[str, Any] = {"is_dir": True}
        return self.assets.find(params={**(params or {}), "include_folders": True, "query": query})

    def fetch(self) -> Any:
        return self.assets.folder(self.uid)

    def create(self, body: dict[str, Any]) -> Any:
        return self.assets.create_folder(body)

    def update(self, body: dict[str, Any]) -> Any:
        return self.assets.update_or_move(self.uid, body)

    def delete(self) -> Any:
        return self.assets.delete_folder(self.uid)


FOLDER = Resource(
    name="folder",
    help="Asset folders (deleting one deletes what it holds).",
    key="asset",
    list_key="assets",
    open=lambda ctx, args, uid: _FolderHandle(ctx.stack().assets(), uid),
    columns=("uid", "name", "parent_uid"),
    fields=(
        field_of("--name", key="name", help="Folder name."),
        field_of("--parent", key="parent_uid", help="Parent folder uid (move it there)."),
    ),
)

RESOURCES = (ASSET, FOLDER)
