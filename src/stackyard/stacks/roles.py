"""Stack roles: the three built-in roles made with every stack, and custom roles with rules.

Built-in roles (kind admin, developer, content_manager) carry no rules: `access.policy` holds their
permissions, so they are readable but cannot be edited or deleted. Custom roles grant exactly what
their rules list; a rule names a module, the objects it covers (`"$all"` for every one) and an ACL.
Rules are checked on write so a role can never point at an environment or locale the stack lacks.

Deleting a custom role that members still hold is refused (422/164, naming the holders) unless
`force` is given; then the grants go with it (FK cascade) and members left without any role are
unshared, so nobody keeps a membership that grants nothing.
"""

from __future__ import annotations

from typing import Any

from stackyard.access.caller import StackAccess
from stackyard.access.policy import RULE_TARGETS, require
from stackyard.core import spine
from stackyard.errors import Conflict, UnprocessableEntity, invalid, not_found
from stackyard.ids import now, uid
from stackyard.store.engine import Row, Tx, jdump, jload

NAME_LIMIT = 100
DESCRIPTION_LIMIT = 2000
RULES_LIMIT = 200
TARGETS_LIMIT = 1000
ALL = "$all"
BUILTIN_KINDS = ("admin", "developer", "content_manager")
# Modules a rule may name and the list key of the objects it covers. Branch aliases come with the
# branch API; their rules are kept so the official SDK's examples are accepted.
TARGETS: dict[str, str] = {**RULE_TARGETS, "branch_alias": "branch_aliases"}
ACL_KEYS = frozenset({"read", "create", "update", "delete", "publish"})


def _row(tx: Tx, api_key: str, role_uid: str) -> Row:
    found = tx.one("SELECT * FROM roles WHERE api_key = ? AND uid = ?", api_key, role_uid)
    if found is None:
        raise not_found("role")
    return found


def holders(tx: Tx, api_key: str, role_uid: str) -> list[str]:
    """Uids of the users holding the role, oldest grant first."""
    return [
        r["user_uid"]
        for r in tx.all(
            "SELECT m.user_uid FROM member_roles m JOIN stack_members s ON s.api_key = m.api_key "
            "AND s.user_uid = m.user_uid WHERE m.api_key = ? AND m.role_uid = ? ORDER BY s.created_at, m.user_uid",
            api_key,
            role_uid,
        )
    ]


def render(tx: Tx, r: Row, owner_uid: str) -> dict[str, Any]:
    kind = r["kind"]
    return {
        "uid": r["uid"],
        "name": r["name"],
        "description": r["description"],
        "rules": jload(r["rules"]),
        "users": holders(tx, r["api_key"], r["uid"]),
        "roles": [],
        "owner": owner_uid,
        "stack": {"api_key": r["api_key"]},
        "admin": kind == "admin",
        "default": kind != "custom",
        "kind": kind,
        "SYS_ACL": {},
        "created_by": r["created_by"],
        "updated_by": r["updated_by"],
        "created_at": r["created_at"],
        "updated_at": r["updated_at"],
    }


def find(tx: Tx, access: StackAccess) -> list[dict[str, Any]]:
    require(access, "role", "read")
    rows = tx.all(
        "SELECT * FROM roles WHERE api_key = ? ORDER BY CASE kind WHEN 'admin' THEN 0 WHEN 'developer' THEN 1 "
        "WHEN 'content_manager' THEN 2 ELSE 3 END, created_at, name",
        access.api_key,
    )
    return [render(tx, r, str(access.stack["owner_uid"])) for r in rows]


def fetch(tx: Tx, access: StackAccess, role_uid: str) -> dict[str, Any]:
    require(access, "role", "read")
    return render(tx, _row(tx, access.api_key, role_uid), str(access.stack["owner_uid"]))


def _acl(value: Any, path: str, errors: dict[str, list[str]], *, nested: bool) -> dict[str, Any] | None:
    if not isinstance(value, dict):
        errors[path] = ["must be an object of booleans (read, create, update, delete, publish)."]
        return None
    out: dict[str, Any] = {}
    for key, flag in value.items():
        if key == "sub_acl" and not nested:
            sub = _acl(flag, f"{path}.sub_acl", errors, nested=True)
            if sub is not None:
                out[key] = sub
        elif key in ACL_KEYS and isinstance(flag, bool):
            out[key] = flag
        else:
            errors[f"{path}.{key}"] = ["is not a known permission, or is not a boolean."]
    return out


def _targets(
    tx: Tx, api_key: str, module: str, value: Any, path: str, errors: dict[str, list[str]]
) -> list[str] | None:
    if (
        not isinstance(value, list)
        or not value
        or len(value) > TARGETS_LIMIT
        or not all(isinstance(t, str) and t.strip() for t in value)
    ):
        errors[path] = [f'must be a non-empty list of uids (or "{ALL}").']
        return None
    out: list[str] = []
    for i, target in enumerate(value):
        if target == ALL:
            out.append(ALL)
        elif module == "environment":
            env = tx.one(
                "SELECT uid FROM environments WHERE api_key = ? AND (uid = ? OR name = ?)",
                api_key,
                target,
                target,
            )
            if env is None:
                errors[f"{path}.{i}"] = [f"'{target}' is not an environment of this stack."]
            else:
                out.append(str(env["uid"]))
        elif module == "locale":
            code = target.lower()
            if tx.one("SELECT 1 AS x FROM locales WHERE api_key = ? AND code = ?", api_key, code) is None:
                errors[f"{path}.{i}"] = [f"'{target}' is not a locale of this stack."]
            else:
                out.append(code)
        else:
            out.append(target)
    return list(dict.fromkeys(out))


def validate_rules(tx: Tx, api_key: str, rules: Any) -> list[dict[str, Any]]:
    """Rules as stored: known modules, existing environments and locales, boolean ACLs."""
    if not isinstance(rules, list) or len(rules) > RULES_LIMIT:
        raise invalid({"rules": [f"must be a list of at most {RULES_LIMIT} rules."]})
    errors: dict[str, list[str]] = {}
    out: list[dict[str, Any]] = []
    for i, rule in enumerate(rules):
        path = f"rules.{i}"
        if not isinstance(rule, dict) or rule.get("module") not in TARGETS:
            errors[f"{path}.module"] = [f"must be one of {sorted(TARGETS)}."]
            continue
        module = rule["module"]
        key = TARGETS[module]
        unknown = set(rule) - {"module", key, "acl"}
        if unknown:
            errors[path] = [f"has unknown keys: {sorted(unknown)}."]
        targets = _targets(tx, api_key, module, rule.get(key), f"{path}.{key}", errors)
        acl = _acl(rule.get("acl"), f"{path}.acl", errors, nested=False)
        if targets is not None and acl is not None:
            out.append({"module": module, key: targets, "acl": acl})
    if errors:
        raise invalid(errors, "The role could not be saved. Please check the rules.")
    return out


def _text(data: dict[str, Any], key: str, limit: int, errors: dict[str, list[str]], *, required: bool) -> Any:
    value = data.get(key)
    if value is None:
        if required:
            errors[key] = ["is required."]
        return None
    if not isinstance(value, str) or len(value) > limit or (key == "name" and not value.strip()):
        errors[key] = [
            f"must be a {'non-empty ' if key == 'name' else ''}string of at most {limit} characters."
        ]
        return None
    return value.strip() if key == "name" else value


def _unique_name(tx: Tx, api_key: str, name: str, except_uid: str | None = None) -> None:
    other = tx.scalar("SELECT uid FROM roles WHERE api_key = ? AND LOWER(name) = ?", api_key, name.lower())
    if other is not None and other != except_uid:
        raise Conflict(f"A role named '{name}' already exists.", errors={"name": ["is not unique."]})


def create(tx: Tx, access: StackAccess, data: dict[str, Any]) -> dict[str, Any]:
    require(access, "role", "create")
    errors: dict[str, list[str]] = {}
    name = _text(data, "name", NAME_LIMIT, errors, required=True)
    description = _text(data, "description", DESCRIPTION_LIMIT, errors, required=False) or ""
    if errors:
        raise invalid(errors, "The role could not be saved. Please check the data.")
    rules = validate_rules(tx, access.api_key, data.get("rules", []))
    _unique_name(tx, access.api_key, name)
    role_uid = uid()
    actor = access.caller.actor
    t = now()
    tx.run(
        "INSERT INTO roles (api_key, uid, name, description, kind, rules, created_by, updated_by, created_at, updated_at) "
        "VALUES (?, ?, ?, ?, 'custom', ?, ?, ?, ?, ?)",
        access.api_key,
        role_uid,
        name,
        description,
        jdump(rules),
        actor,
        actor,
        t,
        t,
    )
    spine.record(tx, access, "role.create", role_uid, {"name": name})
    return fetch(tx, access, role_uid)


def _custom(tx: Tx, access: StackAccess, role_uid: str, action: str) -> Row:
    require(access, "role", action)
    r = _row(tx, access.api_key, role_uid)
    if r["kind"] != "custom":
        raise UnprocessableEntity(
            f"'{r['name']}' is a built-in role: it cannot be {action}d.",
            errors={"uid": ["is a built-in role."]},
        )
    return r


def update(tx: Tx, access: StackAccess, role_uid: str, data: dict[str, Any]) -> dict[str, Any]:
    r = _custom(tx, access, role_uid, "update")
    errors: dict[str, list[str]] = {}
    name = _text(data, "name", NAME_LIMIT, errors, required=False) or r["name"]
    description = _text(data, "description", DESCRIPTION_LIMIT, errors, required=False)
    if errors:
        raise invalid(errors, "The role could not be saved. Please check the data.")
    rules = validate_rules(tx, access.api_key, data["rules"]) if "rules" in data else jload(r["rules"])
    _unique_name(tx, access.api_key, name, role_uid)
    tx.run(
        "UPDATE roles SET name = ?, description = ?, rules = ?, updated_by = ?, updated_at = ? WHERE api_key = ? AND uid = ?",
        name,
        r["description"] if description is None else description,
        jdump(rules),
        access.caller.actor,
        now(),
        access.api_key,
        role_uid,
    )
    spine.record(tx, access, "role.update", role_uid, {"name": name})
    return fetch(tx, access, role_uid)


def delete(tx: Tx, access: StackAccess, role_uid: str, *, force: bool = False) -> list[str]:
    """Delete a custom role; answers the users it was taken from (only with `force`)."""
    r = _custom(tx, access, role_uid, "delete")
    users = holders(tx, access.api_key, role_uid)
    if users and not force:
        raise UnprocessableEntity(
            f"The role '{r['name']}' is assigned to {len(users)} user(s). Assign them other roles first, "
            "or delete with force=true to take it from them.",
            error_code=164,
            errors={"users": users},
        )
    tx.run("DELETE FROM roles WHERE api_key = ? AND uid = ?", access.api_key, role_uid)
    # Members the role was the last grant of would keep an empty membership: unshare them.
    for user_uid in users:
        if (
            tx.one(
                "SELECT 1 AS x FROM member_roles WHERE api_key = ? AND user_uid = ?", access.api_key, user_uid
            )
            is None
        ):
            tx.run("DELETE FROM stack_members WHERE api_key = ? AND user_uid = ?", access.api_key, user_uid)
    spine.record(tx, access, "role.delete", role_uid, {"name": r["name"], "users": users})
    return users
