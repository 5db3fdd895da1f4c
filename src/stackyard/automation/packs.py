"""Packs registered from a local directory: `<packs dir>/<organization uid>/<pack>/` with `pack.yaml`,
`actions/*.yaml` (action metadata; entry points beside them) and `rules/*.yaml`. Registering reads
them into the organization's actions and rules (created or replaced), as `st2 pack register` does.

`st2 pack install /path/to/pack` (the action `packs.install`) copies a pack directory of the
server's host into the organization's packs directory, then registers it. There is no pack
exchange and no git here: any other source is refused (`local_source`). Installing reads the host,
so, like the host runners, it runs only with `--allow-local-runners`.
"""

from __future__ import annotations

import os
import re
import shutil
import uuid
from pathlib import Path
from typing import Any

import yaml

from stackyard.automation import actions, rules
from stackyard.automation.common import ADMIN, Principal
from stackyard.errors import BadRequest
from stackyard.settings import Settings
from stackyard.store.engine import Row, Tx


def root(settings: Settings, org_uid: str) -> Path:
    return Path(settings.automation_packs_dir or Path(settings.data_dir) / "packs") / org_uid


def _yaml(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as e:
        raise BadRequest(f"{path.name}: not readable YAML ({e}).") from None
    if not isinstance(data, dict):
        raise BadRequest(f"{path.name}: expected a mapping.")
    return data


BUILT_IN = {"core", "st2", "packs"}
PACK_NAME = re.compile(r"^[A-Za-z0-9_-]{1,100}$")
MAX_PACK_FILES = 10_000
NOT_LOCAL = (
    "Installing packs from the StackStorm Exchange, git or a URL is not supported by this server: "
    "give the path of the pack's directory on the server's host "
    "(st2 pack install /path/to/pack, or file:///path/to/pack)."
)


def local_source(source: Any) -> Path:
    """The directory a `pack install` source names (an absolute path or a file:// URL); a clear
    400 for anything else (a pack name, git, a URL)."""
    if not isinstance(source, str) or not source:
        raise BadRequest("packs must be a list of pack directories (absolute paths).")
    path = source.removeprefix("file://")
    if "://" in path or not path.startswith("/"):
        raise BadRequest(f'"{source}": {NOT_LOCAL}')
    return Path(os.path.normpath(path))


def acting(tx: Tx, org_uid: str, username: str) -> Principal:
    """The organization's admin an execution runs for (its permission was checked when it started)."""
    uid = tx.scalar("SELECT uid FROM users WHERE email = ?", username)
    return Principal(user_uid=str(uid or username), username=username, org_uid=org_uid, role=ADMIN)


def install_local(tx: Tx, p: Principal, settings: Settings, values: dict[str, Any]) -> dict[str, Any]:
    """Copy each pack directory into the organization's packs directory (replacing an installed
    pack of that name) and register it: st2's `packs.install` output."""
    sources = values.get("packs")
    if not isinstance(sources, list) or not sources:
        raise BadRequest("packs must be a non-empty list of pack directories.")
    base = root(settings, p.org_uid)
    data_dir = Path(settings.data_dir).resolve()
    installed: list[str] = []
    counts = {"actions": 0, "rules": 0}
    swaps: list[_Swap] = []
    try:
        for source in sources:
            folder = local_source(source).resolve()
            if not (folder / "pack.yaml").is_file():
                raise BadRequest(f'"{source}" is not a pack directory on the server (it has no pack.yaml).')
            inside_own = folder == base.resolve() / folder.name
            if not inside_own and (folder == data_dir or data_dir in folder.parents):
                raise BadRequest(
                    f'"{source}" is inside the server\'s data directory; packs cannot come from there.'
                )
            meta = _yaml(folder / "pack.yaml")
            name = str(meta.get("ref") or meta.get("name") or folder.name)
            if not PACK_NAME.match(name) or name in BUILT_IN:
                raise BadRequest(
                    f'"{name}" (pack.yaml of {source}) is not a pack name that can be installed.'
                )
            if not inside_own:
                swaps.append(_copy(folder, base, name))
            done = register(tx, p, settings, [name])
            installed.append(name)
            counts["actions"] += done["actions"]
            counts["rules"] += done["rules"]
    except BaseException:
        for swap in reversed(swaps):  # the files as they were: nothing of this install is registered
            swap.undo()
        raise
    for swap in swaps:
        tx.after_commit(f"packs.installed.{id(swap)}", swap.done)
    return {
        "packs_list": installed,
        "message": f"Installed and registered {', '.join(installed)}: "
        f"{counts['actions']} actions, {counts['rules']} rules.",
        "warning_list": [],
        "conflict_list": [],
    }


class _Swap:
    """A pack directory put in place of `target`: `undo` puts back what was there (or nothing),
    `done` drops the replaced copy once the registration is committed."""

    def __init__(self, target: Path, old: Path | None) -> None:
        self.target = target
        self.old = old

    def undo(self) -> None:
        shutil.rmtree(self.target, ignore_errors=True)
        if self.old is not None:
            self.old.rename(self.target)

    def done(self) -> None:
        if self.old is not None:
            shutil.rmtree(self.old, ignore_errors=True)


def _copy(source: Path, base: Path, name: str) -> _Swap:
    files = sum(len(f) for _, _, f in os.walk(source))
    if files > MAX_PACK_FILES:
        raise BadRequest(f"{source} holds {files} files; a pack may hold at most {MAX_PACK_FILES}.")
    base.mkdir(parents=True, exist_ok=True)
    staged, old = base / f".{name}.{uuid.uuid4().hex}", base / f".{name}.old.{uuid.uuid4().hex}"
    try:
        shutil.copytree(source, staged, symlinks=True, ignore=shutil.ignore_patterns(".git", "__pycache__"))
    except OSError as e:
        shutil.rmtree(staged, ignore_errors=True)
        raise BadRequest(f"{source} could not be copied: {e}") from None
    target = base / name
    replaced = None
    if target.exists():
        target.rename(old)
        replaced = old
    staged.rename(target)
    return _Swap(target, replaced)


def register(tx: Tx, p: Principal, settings: Settings, names: Any) -> dict[str, int]:
    p.require_admin()
    base = root(settings, p.org_uid)
    if names is not None and (not isinstance(names, list) or not all(isinstance(n, str) for n in names)):
        raise BadRequest("packs must be a list of pack names.")
    found = (
        sorted(d.name for d in base.iterdir() if d.is_dir() and not d.name.startswith("."))
        if base.is_dir()
        else []
    )
    chosen = [n for n in (names or found) if n not in BUILT_IN]
    counts = {"packs": 0, "actions": 0, "rules": 0, "runners": 0, "triggers": 0, "sensors": 0}
    for name in chosen:
        folder = base / name
        if "/" in name or name.startswith(".") or not folder.is_dir():
            raise BadRequest(f'Pack "{name}" is not in the packs directory of this organization ({base}).')
        meta = _yaml(folder / "pack.yaml") if (folder / "pack.yaml").exists() else {}
        ref = str(meta.get("ref") or meta.get("name") or name)
        actions.ensure_pack(tx, p.org_uid, ref, {**meta, "path": str(folder)})
        counts["packs"] += 1
        for f in sorted((folder / "actions").glob("*.y*ml")):
            doc = {**_yaml(f), "pack": ref, "metadata_file": f"actions/{f.name}"}
            existing = actions.find(tx, p.org_uid, f"{ref}.{doc.get('name')}")
            if existing is None:
                actions.create(tx, p, doc)
            else:
                actions.update(tx, p, existing["id"], doc)
            counts["actions"] += 1
        for f in sorted((folder / "rules").glob("*.y*ml")):
            doc = {**_yaml(f), "pack": ref}
            rules.upsert(tx, p, doc)
            counts["rules"] += 1
    return counts


def entry_point(settings: Settings, row: Row) -> Path:
    """The file of an execution's action in its pack (FileNotFoundError when it is not there)."""
    action = row["doc"]["action"]
    base = (
        Path(settings.automation_packs_dir or Path(settings.data_dir) / "packs")
        / row["org_uid"]
        / action["pack"]
        / "actions"
    )
    path = (base / action["entry_point"]).resolve()
    if not action["entry_point"] or base.resolve() not in path.parents or not path.is_file():
        raise FileNotFoundError(
            f"entry point {action['entry_point']!r} of {action['ref']} is not in its pack"
        )
    return path
