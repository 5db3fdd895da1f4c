"""Packs registered from a local directory: `<packs dir>/<organization uid>/<pack>/` with `pack.yaml`,
`actions/*.yaml` (action metadata; entry points beside them) and `rules/*.yaml`. Registering reads
them into the organization's actions and rules (created or replaced), as `st2 pack register` does."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from stackyard.automation import actions, rules
from stackyard.automation.common import Principal
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


def register(tx: Tx, p: Principal, settings: Settings, names: Any) -> dict[str, int]:
    p.require_admin()
    base = root(settings, p.org_uid)
    if names is not None and (not isinstance(names, list) or not all(isinstance(n, str) for n in names)):
        raise BadRequest("packs must be a list of pack names.")
    found = sorted(d.name for d in base.iterdir() if d.is_dir()) if base.is_dir() else []
    chosen = [n for n in (names or found) if n != "core"]
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
