"""Delivery and management tokens of a stack.

A token's secret is a high-entropy value shown once, in the create answer; only its SHA-256 is
stored (DESIGN §4), so a lost token is replaced, never recovered.

Delivery tokens read published content of the environments in their scope and of their branches.
Environments are stored by uid, so renaming one keeps the token's access and a deleted one that is
re-created under the same name does not silently regain it; answers show the environment objects.
A delivery token may carry a preview token (`preview_token`, catalogue §3.6): a second secret, made
and replaced by `POST .../delivery_tokens/{uid}/preview_token` (or `"preview_token": true` at create)
and shown once, that reads the latest drafts of the same environments for live preview. Management tokens get modules of
`policy.TOKEN_MODULES`, each with read or read and write, an optional expiry and branches.
Nobody grants what they lack: every module, action, environment and branch in a scope must be
within the creator's own standing, or the write is refused with 403.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal

from stackyard.access.caller import StackAccess
from stackyard.access.policy import BUILTIN, READ, TOKEN_MODULES, allowed, branch_allowed, require
from stackyard.core import spine
from stackyard.errors import Conflict, Forbidden, invalid, not_found
from stackyard.ids import digest, now, secret, uid
from stackyard.stacks import environments
from stackyard.store.engine import Row, Tx, jdump, jload

Kind = Literal["delivery", "management"]
NAME_LIMIT = 100
DESCRIPTION_LIMIT = 2000
LIST_LIMIT = 100
ALL = "$all"
DEFAULT_BRANCHES = {"module": "branch", "branches": ["main"], "acl": {"read": True}}
_TABLE = {"delivery": "delivery_tokens", "management": "management_tokens"}
_MODULE = {"delivery": "delivery_token", "management": "management_token"}
_TITLE = {"delivery": "Delivery Token", "management": "Management Token"}


def _row(tx: Tx, kind: Kind, api_key: str, token_uid: str) -> Row:
    found = tx.one(f"SELECT * FROM {_TABLE[kind]} WHERE api_key = ? AND uid = ?", api_key, token_uid)
    if found is None:
        raise not_found(_TITLE[kind])
    return found


def _render_scope(tx: Tx, kind: Kind, api_key: str, scope: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Delivery scopes name environments; answers show the environment objects, as Contentstack does."""
    if kind != "delivery":
        return scope
    out = []
    for rule in scope:
        if rule.get("module") == "environment":
            uids = list(rule.get("environments") or [])
            rows = (
                tx.all(
                    f"SELECT * FROM environments WHERE api_key = ? AND uid IN ({', '.join('?' * len(uids))})",
                    api_key,
                    *uids,
                )
                if uids
                else []
            )
            by_uid = {r["uid"]: environments.render(r) for r in rows}
            rule = {**rule, "environments": [by_uid[u] for u in uids if u in by_uid]}
        out.append(rule)
    return out


def render(
    tx: Tx, kind: Kind, r: Row, token: str | None = None, preview_token: str | None = None
) -> dict[str, Any]:
    out: dict[str, Any] = {
        "uid": r["uid"],
        "name": r["name"],
        "description": r["description"],
        "scope": _render_scope(tx, kind, r["api_key"], jload(r["scope"])),
        "type": kind,
        "created_by": r["created_by"],
        "updated_by": r["updated_by"],
        "created_at": r["created_at"],
        "updated_at": r["updated_at"],
    }
    if kind == "management":
        out["expires_on"] = r["expires_on"]
        out["is_email_notification_enabled"] = bool(r["is_email_notification_enabled"])
    if token is not None:
        out["token"] = token
    if preview_token is not None:
        out["preview_token"] = preview_token
    return out


def find(tx: Tx, access: StackAccess, kind: Kind) -> list[dict[str, Any]]:
    require(access, _MODULE[kind], READ)
    rows = tx.all(f"SELECT * FROM {_TABLE[kind]} WHERE api_key = ? ORDER BY created_at, name", access.api_key)
    return [render(tx, kind, r) for r in rows]


def fetch(tx: Tx, access: StackAccess, kind: Kind, token_uid: str) -> dict[str, Any]:
    require(access, _MODULE[kind], READ)
    return render(tx, kind, _row(tx, kind, access.api_key, token_uid))


# -- validation ------------------------------------------------------------------------------------
def _names(value: Any, path: str, errors: dict[str, list[str]]) -> list[str] | None:
    if (
        not isinstance(value, list)
        or not value
        or len(value) > LIST_LIMIT
        or not all(isinstance(v, str) and v.strip() for v in value)
    ):
        errors[path] = [f"must be a non-empty list of at most {LIST_LIMIT} names."]
        return None
    return list(dict.fromkeys(v.strip() for v in value))


def _branch_rule(
    access: StackAccess, module: str, rule: dict[str, Any], path: str, errors: dict[str, list[str]]
) -> dict[str, Any] | None:
    key = "branches" if module == "branch" else "branch_aliases"
    names = _names(rule.get(key), f"{path}.{key}", errors)
    if names is None:
        return None
    if module == "branch":
        for name in names:
            if name != ALL and not branch_allowed(access, name):
                raise Forbidden(f"You cannot grant access to the branch '{name}': you lack it yourself.")
    return {"module": module, key: names, "acl": {"read": True}}


def _delivery_scope(tx: Tx, access: StackAccess, scope: Any) -> list[dict[str, Any]]:
    if not isinstance(scope, list) or not scope:
        raise invalid({"scope": ["is required: a list with an environment rule."]})
    errors: dict[str, list[str]] = {}
    envs: list[str] = []
    rules: dict[str, dict[str, Any]] = {}
    for i, rule in enumerate(scope):
        path = f"scope.{i}"
        module = rule.get("module") if isinstance(rule, dict) else None
        if not isinstance(rule, dict) or module not in ("environment", "branch", "branch_alias"):
            errors[f"{path}.module"] = ["must be 'environment', 'branch' or 'branch_alias'."]
            continue
        acl = rule.get("acl", {"read": True})
        if not isinstance(acl, dict) or acl.get("read", True) is not True or set(acl) - {"read"}:
            errors[f"{path}.acl"] = ['must be {"read": true}: delivery tokens only read.']
        if module == "environment":
            # Names or uids; or the environment objects a fetched token shows, sent back as they came.
            listed = rule.get("environments")
            if isinstance(listed, list):
                listed = [e.get("uid") if isinstance(e, dict) else e for e in listed]
            names = _names(listed, f"{path}.environments", errors)
            for j, name in enumerate(names or []):
                env = tx.one(
                    "SELECT uid, name FROM environments WHERE api_key = ? AND (name = ? OR uid = ?)",
                    access.api_key,
                    name,
                    name,
                )
                if env is None:
                    errors[f"{path}.environments.{j}"] = [f"'{name}' is not an environment of this stack."]
                elif not allowed(access, "environment", READ, env["uid"]):
                    raise Forbidden(
                        f"You cannot grant access to the environment '{name}': you lack it yourself."
                    )
                elif env["uid"] not in envs:
                    envs.append(str(env["uid"]))
        else:
            made = _branch_rule(access, str(module), rule, path, errors)
            if made is not None:
                rules[str(module)] = made
    if not envs and not errors:
        errors["scope"] = ["needs an environment rule naming at least one environment."]
    if errors:
        raise invalid(errors, "The token could not be saved. Please check the scope.")
    out = [{"module": "environment", "environments": envs, "acl": {"read": True}}]
    out.append(rules.get("branch", DEFAULT_BRANCHES))
    if "branch_alias" in rules:
        out.append(rules["branch_alias"])
    return out


def _write_actions(module: str) -> frozenset[str]:
    """What `write` in a management token's scope lets it do in a module (every non-read action)."""
    return BUILTIN["admin"].get(module, frozenset()) - {READ}


def _management_scope(access: StackAccess, scope: Any) -> list[dict[str, Any]]:
    if not isinstance(scope, list) or not scope:
        raise invalid({"scope": ["is required: a list of {module, acl} rules."]})
    errors: dict[str, list[str]] = {}
    rules: dict[str, dict[str, Any]] = {}
    for i, rule in enumerate(scope):
        path = f"scope.{i}"
        module = rule.get("module") if isinstance(rule, dict) else None
        if not isinstance(rule, dict) or module not in (*TOKEN_MODULES, "branch_alias"):
            errors[f"{path}.module"] = [f"must be one of {sorted({*TOKEN_MODULES, 'branch_alias'})}."]
            continue
        if module in rules:
            errors[f"{path}.module"] = [f"'{module}' appears more than once."]
            continue
        if module in ("branch", "branch_alias"):
            made = _branch_rule(access, str(module), rule, path, errors)
            if made is not None:
                rules[str(module)] = made
            continue
        acl = rule.get("acl")
        if (
            not isinstance(acl, dict)
            or set(acl) - {"read", "write"}
            or not all(isinstance(v, bool) for v in acl.values())
            or not any(acl.values())
        ):
            errors[f"{path}.acl"] = ['must be {"read": bool, "write": bool} granting at least one.']
            continue
        read, write = bool(acl.get("read") or acl.get("write")), bool(acl.get("write"))
        if write and not _write_actions(str(module)):
            errors[f"{path}.acl.write"] = [f"'{module}' is read-only."]
            continue
        wanted = {READ} | (set(_write_actions(str(module))) if write else set())
        lacking = sorted(a for a in wanted if not allowed(access, str(module), a))
        if lacking:
            raise Forbidden(
                f"You cannot grant {', '.join(lacking)} on {str(module).replace('_', ' ')}s: you lack it yourself."
            )
        rules[str(module)] = {"module": module, "acl": {"read": read, "write": write}}
    if errors:
        raise invalid(errors, "The token could not be saved. Please check the scope.")
    if not any(m not in ("branch", "branch_alias") for m in rules):
        raise invalid({"scope": ["must grant at least one module."]})
    rules.setdefault("branch", DEFAULT_BRANCHES)
    return list(rules.values())


def _expiry(value: Any) -> str | None:
    """`expires_on` as stored (the format of `ids.now()`, so it compares as text); None is never."""
    if value is None or value == "":
        return None
    try:
        if not isinstance(value, str):
            raise ValueError
        t = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise invalid({"expires_on": ["must be an ISO date or date-time, or null for never."]}) from None
    t = t.replace(tzinfo=UTC) if t.tzinfo is None else t.astimezone(UTC)
    stored = t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"
    if stored <= now():
        raise invalid({"expires_on": ["must be in the future."]})
    return stored


def _texts(data: dict[str, Any], *, partial: bool) -> tuple[str | None, str | None]:
    errors: dict[str, list[str]] = {}
    name, description = data.get("name"), data.get("description")
    if name is None and partial:
        pass
    elif not isinstance(name, str) or not name.strip() or len(name) > NAME_LIMIT:
        errors["name"] = [f"is required: a string of 1 to {NAME_LIMIT} characters."]
    if description is not None and (not isinstance(description, str) or len(description) > DESCRIPTION_LIMIT):
        errors["description"] = [f"must be a string of at most {DESCRIPTION_LIMIT} characters."]
    if errors:
        raise invalid(errors, "The token could not be saved. Please check the data.")
    return (name.strip() if isinstance(name, str) else None), description


def _unique(tx: Tx, kind: Kind, api_key: str, name: str, except_uid: str | None = None) -> None:
    other = tx.scalar(f"SELECT uid FROM {_TABLE[kind]} WHERE api_key = ? AND name = ?", api_key, name)
    if other is not None and other != except_uid:
        raise Conflict(
            f"A {_TITLE[kind].lower()} named '{name}' already exists.", errors={"name": ["is not unique."]}
        )


def _scope(tx: Tx, access: StackAccess, kind: Kind, scope: Any) -> list[dict[str, Any]]:
    return _delivery_scope(tx, access, scope) if kind == "delivery" else _management_scope(access, scope)


def _notify_flag(value: Any) -> bool:
    if not isinstance(value, bool):
        raise invalid({"is_email_notification_enabled": ["must be a boolean."]})
    return value


# -- writes ----------------------------------------------------------------------------------------
def create(tx: Tx, access: StackAccess, kind: Kind, data: dict[str, Any]) -> dict[str, Any]:
    """A new token; the answer carries its secret in `token`, the only time it is shown."""
    require(access, _MODULE[kind], "create")
    name, description = _texts(data, partial=False)
    assert name is not None
    scope = _scope(tx, access, kind, data.get("scope"))
    _unique(tx, kind, access.api_key, name)
    token_uid, token, t, actor = uid(), secret("cs"), now(), access.caller.actor
    if kind == "delivery":
        tx.run(
            "INSERT INTO delivery_tokens (api_key, uid, name, description, scope, token_hash, created_by, updated_by, "
            "created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            access.api_key,
            token_uid,
            name,
            description or "",
            jdump(scope),
            digest(token),
            actor,
            actor,
            t,
            t,
        )
    else:
        tx.run(
            "INSERT INTO management_tokens (api_key, uid, name, description, scope, token_hash, expires_on, "
            "is_email_notification_enabled, created_by, updated_by, created_at, updated_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            access.api_key,
            token_uid,
            name,
            description or "",
            jdump(scope),
            digest(token),
            _expiry(data.get("expires_on")),
            1 if _notify_flag(data.get("is_email_notification_enabled", False)) else 0,
            actor,
            actor,
            t,
            t,
        )
    module = _MODULE[kind]
    spine.record(tx, access, f"{module}.create", token_uid, {"name": name})
    preview = None
    if kind == "delivery" and data.get("preview_token") is True:
        preview = _set_preview(tx, access, token_uid)
    return render(tx, kind, _row(tx, kind, access.api_key, token_uid), token, preview)


def _set_preview(tx: Tx, access: StackAccess, token_uid: str) -> str:
    preview = secret("cs")
    tx.run(
        "UPDATE delivery_tokens SET preview_token_hash = ?, updated_by = ?, updated_at = ? "
        "WHERE api_key = ? AND uid = ?",
        digest(preview),
        access.caller.actor,
        now(),
        access.api_key,
        token_uid,
    )
    return preview


def create_preview(tx: Tx, access: StackAccess, token_uid: str) -> dict[str, Any]:
    """Give the delivery token a (new) preview token; an earlier one stops working. The answer
    carries it in `preview_token`, the only time it is shown."""
    require(access, "delivery_token", "update")
    r = _row(tx, "delivery", access.api_key, token_uid)
    preview = _set_preview(tx, access, token_uid)
    spine.record(tx, access, "delivery_token.update", token_uid, {"name": r["name"]})
    return render(tx, "delivery", _row(tx, "delivery", access.api_key, token_uid), None, preview)


def delete_preview(tx: Tx, access: StackAccess, token_uid: str) -> None:
    """Remove the delivery token's preview token (404 when it has none)."""
    require(access, "delivery_token", "update")
    r = _row(tx, "delivery", access.api_key, token_uid)
    if r.get("preview_token_hash") is None:
        raise not_found("Preview Token")
    tx.run(
        "UPDATE delivery_tokens SET preview_token_hash = NULL, updated_by = ?, updated_at = ? "
        "WHERE api_key = ? AND uid = ?",
        access.caller.actor,
        now(),
        access.api_key,
        token_uid,
    )
    spine.record(tx, access, "delivery_token.update", token_uid, {"name": r["name"]})


def update(tx: Tx, access: StackAccess, kind: Kind, token_uid: str, data: dict[str, Any]) -> dict[str, Any]:
    """Change name, description, scope (and expiry, notification for management tokens); the secret stays."""
    require(access, _MODULE[kind], "update")
    r = _row(tx, kind, access.api_key, token_uid)
    name, description = _texts(data, partial=True)
    name = name or r["name"]
    scope = _scope(tx, access, kind, data["scope"]) if "scope" in data else jload(r["scope"])
    _unique(tx, kind, access.api_key, name, token_uid)
    desc = r["description"] if description is None else description
    if kind == "delivery":
        tx.run(
            "UPDATE delivery_tokens SET name = ?, description = ?, scope = ?, updated_by = ?, updated_at = ? "
            "WHERE api_key = ? AND uid = ?",
            name,
            desc,
            jdump(scope),
            access.caller.actor,
            now(),
            access.api_key,
            token_uid,
        )
    else:
        expires = _expiry(data["expires_on"]) if "expires_on" in data else r["expires_on"]
        notify = (
            _notify_flag(data["is_email_notification_enabled"])
            if "is_email_notification_enabled" in data
            else bool(r["is_email_notification_enabled"])
        )
        tx.run(
            "UPDATE management_tokens SET name = ?, description = ?, scope = ?, expires_on = ?, "
            "is_email_notification_enabled = ?, updated_by = ?, updated_at = ? WHERE api_key = ? AND uid = ?",
            name,
            desc,
            jdump(scope),
            expires,
            1 if notify else 0,
            access.caller.actor,
            now(),
            access.api_key,
            token_uid,
        )
    module = _MODULE[kind]
    spine.record(tx, access, f"{module}.update", token_uid, {"name": name})
    return render(tx, kind, _row(tx, kind, access.api_key, token_uid))


def delete(tx: Tx, access: StackAccess, kind: Kind, token_uid: str) -> None:
    require(access, _MODULE[kind], "delete")
    r = _row(tx, kind, access.api_key, token_uid)
    tx.run(f"DELETE FROM {_TABLE[kind]} WHERE api_key = ? AND uid = ?", access.api_key, token_uid)
    module = _MODULE[kind]
    spine.record(tx, access, f"{module}.delete", token_uid, {"name": r["name"]})


DEMO_TOKEN = "Demo delivery token"


def demo_delivery_token(tx: Tx, access: StackAccess) -> dict[str, Any]:
    """Demo step: a delivery token for 'production'. Re-run only when the demo details are lost, so
    an older demo token (whose secret nobody can read back) is replaced."""
    old = tx.scalar(
        "SELECT uid FROM delivery_tokens WHERE api_key = ? AND name = ?", access.api_key, DEMO_TOKEN
    )
    if old is not None:
        delete(tx, access, "delivery", str(old))
    made = create(
        tx,
        access,
        "delivery",
        {
            "name": DEMO_TOKEN,
            "description": "Reads the demo content published to production.",
            "scope": [{"module": "environment", "environments": ["production"], "acl": {"read": True}}],
        },
    )
    return {"delivery_token": made["token"]}
