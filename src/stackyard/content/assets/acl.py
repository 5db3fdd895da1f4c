"""Who may do what to which asset or folder: the policy's `asset` rules, and a custom role's
`folder` rules (catalogue §2.5, the seed's role shape).

    acl.require(tx, access, "update", r)                  # r: the asset's or folder's row
    acl.require_new(tx, access, parent_uid, is_dir=False) # an upload into a folder ('' = the root)
    cond, params = acl.visible(tx, access)                # the rows a list may show

A folder rule names folders (or `$all`) and grants, for each folder named and every folder inside
it at any depth:

    {"module": "folder", "folders": ["bltf1"], "acl": {"read": true, "update": true,
     "sub_acl": {"read": true, "create": true, "update": true, "delete": true, "publish": true}}}

`acl` on the folders themselves (read, `create` for subfolders in them, `update` to rename or
move, `delete`), `sub_acl` on the assets in them. Either is in addition to what the role's asset
rules grant (which, as before, cover folders too). Assets at the root are in no folder: only asset
rules reach them. Built-in roles and tokens are decided by the policy alone.
"""

from __future__ import annotations

from typing import Any

from stackyard.access.caller import StackAccess
from stackyard.access.policy import (
    PUBLISH,
    READ,
    allowed,
)
from stackyard.access.policy import (
    require as require_policy,
)
from stackyard.access.policy import (
    visible as visible_policy,
)
from stackyard.store.engine import Row, Tx

_ALL = "$all"
_DEPTH = 64  # folders nest at most this deep here (a loop in bad data stops too)


def _folder_rules(access: StackAccess) -> list[dict[str, Any]]:
    if access.level != "custom":
        return []
    return [r for r in access.rules if r.get("module") == "folder"]


def _grants(acl: dict[str, Any], action: str) -> bool:
    if action == PUBLISH:
        return bool(acl.get("publish") or acl.get("update"))
    return bool(acl.get(action))


def _chain(tx: Tx, access: StackAccess, folder_uid: str) -> list[str]:
    """`folder_uid` and the folders it is in, innermost first ([] for the root)."""
    out: list[str] = []
    while folder_uid and folder_uid not in out and len(out) < _DEPTH:
        out.append(folder_uid)
        up = tx.scalar(
            "SELECT parent_uid FROM assets WHERE api_key = ? AND branch = ? AND uid = ? AND is_dir = 1",
            access.api_key,
            access.branch,
            folder_uid,
        )
        folder_uid = str(up or "")
    return out


def _by_folders(tx: Tx, access: StackAccess, action: str, folder_uid: str, *, sub: bool) -> bool:
    rules = _folder_rules(access)
    if not rules or not folder_uid:
        return False
    chain = set(_chain(tx, access, folder_uid))
    for rule in rules:
        targets = rule.get("folders") or [_ALL]
        if _ALL not in targets and not chain.intersection(str(t) for t in targets):
            continue
        acl = rule.get("acl") or {}
        if _grants((acl.get("sub_acl") or {}) if sub else acl, action):
            return True
    return False


def may(tx: Tx, access: StackAccess, action: str, r: Row) -> bool:
    """May the caller do `action` to the asset or folder of row `r`?"""
    if allowed(access, "asset", action, str(r["uid"])):
        return True
    if r["is_dir"]:
        return _by_folders(tx, access, action, str(r["uid"]), sub=False)
    return _by_folders(tx, access, action, str(r["parent_uid"] or ""), sub=True)


def require(tx: Tx, access: StackAccess, action: str, r: Row) -> None:
    """403 unless `may`."""
    if not may(tx, access, action, r):
        require_policy(access, "asset", action, str(r["uid"]))


def require_new(tx: Tx, access: StackAccess, parent_uid: str | None, *, is_dir: bool) -> None:
    """403 unless the caller may make an asset (or a folder) in the folder `parent_uid`."""
    if allowed(access, "asset", "create"):
        return
    if not _by_folders(tx, access, "create", parent_uid or "", sub=not is_dir):
        require_policy(access, "asset", "create")


def _somewhere(access: StackAccess, action: str, *, sub: bool) -> bool:
    """Could some folder rule grant `action` (on assets in folders, with `sub`)? For the checks
    made before an upload's bytes are kept; the folder itself is checked when the asset is written."""
    if allowed(access, "asset", action):
        return True
    for rule in _folder_rules(access):
        acl = rule.get("acl") or {}
        if _grants((acl.get("sub_acl") or {}) if sub else acl, action):
            return True
    return False


def may_create_somewhere(access: StackAccess, *, folders: bool = False) -> bool:
    """Could the caller make an asset (a folder, with `folders`) in some folder?"""
    return _somewhere(access, "create", sub=not folders)


def may_update_somewhere(access: StackAccess) -> bool:
    """Could the caller change some asset in some folder?"""
    return _somewhere(access, "update", sub=True)


def visible(tx: Tx, access: StackAccess) -> tuple[str, tuple[Any, ...]]:
    """A WHERE condition (and its parameters) for the asset and folder rows the caller may list."""
    base = visible_policy(access, "asset", "uid")
    rules = [r for r in _folder_rules(access) if not base.is_everything]
    if not rules:
        return base.sql()
    folders = tx.all(
        "SELECT uid, parent_uid FROM assets WHERE api_key = ? AND branch = ? AND is_dir = 1",
        access.api_key,
        access.branch,
    )
    children: dict[str, list[str]] = {}
    for f in folders:
        children.setdefault(str(f["parent_uid"] or ""), []).append(str(f["uid"]))

    def under(targets: list[Any]) -> set[str]:
        todo = [str(f["uid"]) for f in folders] if _ALL in targets else [str(t) for t in targets]
        seen: set[str] = set()
        while todo:
            uid = todo.pop()
            if uid not in seen:
                seen.add(uid)
                todo.extend(children.get(uid, []))
        return seen

    own: set[str] = set()  # folders shown themselves
    inside: set[str] = set()  # folders whose assets are shown
    for rule in rules:
        acl = rule.get("acl") or {}
        targets = rule.get("folders") or [_ALL]
        if acl.get(READ):
            own |= under(targets)
        if (acl.get("sub_acl") or {}).get(READ):
            inside |= under(targets)
    cond, params = base.sql()
    parts, values = [cond], list(params)
    if own:
        parts.append(f"(is_dir = 1 AND uid IN ({', '.join('?' * len(own))}))")
        values += sorted(own)
    if inside:
        parts.append(f"(is_dir = 0 AND parent_uid IN ({', '.join('?' * len(inside))}))")
        values += sorted(inside)
    return "(" + " OR ".join(parts) + ")", tuple(values)
