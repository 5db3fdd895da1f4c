"""The one permission policy (DESIGN §6). Deny by default.

`allowed(access, module, action, uid)` answers "may this caller do this to this object?" and
`visible(access, module, column)` answers "which rows may this caller see?" as a `Filter` the store
renders to SQL, so list routes filter in SQL instead of after the fetch.

Built-in roles follow Contentstack's: the owner may do everything; an admin everything but delete
or give away the stack; a developer manages the content model, content, environments, locales and
tokens but not users or roles; a content manager works on entries and assets and reads the rest.
Custom roles grant what their rules list. Management tokens get the modules of their scope (read, or
read and write), never users, roles or tokens. Delivery tokens get nothing here.

Content that exists per locale (entries now, assets when they are localized) is also bound by a
custom role's `locale` rules: pass `locale=` to `allowed`/`require` and the caller must be allowed
the action by the content type rule *and* hold a locale rule (with `read`) naming that locale, as
Contentstack's "languages" of a role. A role without locale rules works in no locale, as it may read
no locale (`GET /v3/locales/{code}`). Every entry action checks this (`entries.in_locale`); a
publish checks `require(access, "entry", PUBLISH, ct_uid, locale=code)` for each locale it targets.
`content_locales` is the same rule as a row filter, for lists that span locales.
"""

from __future__ import annotations

from typing import Any

from stackyard.access.caller import StackAccess
from stackyard.errors import Forbidden
from stackyard.store.filters import Filter

READ, CREATE, UPDATE, DELETE, PUBLISH, MANAGE = "read", "create", "update", "delete", "publish", "manage"
WRITE = frozenset({CREATE, UPDATE, DELETE, PUBLISH})
CRUD = frozenset({READ, CREATE, UPDATE, DELETE})
CRUDP = CRUD | {PUBLISH}
R = frozenset({READ})

# module -> actions, per built-in level. "stack" MANAGE covers settings and sharing;
# "stack_owner" covers delete and transfer of the stack itself.
_ADMIN: dict[str, frozenset[str]] = {
    "stack": frozenset({READ, UPDATE, MANAGE}),
    "stack_user": frozenset({READ, MANAGE}),
    "role": CRUD,
    "environment": CRUD,
    "locale": CRUD,
    "delivery_token": CRUD,
    "management_token": CRUD,
    "audit_log": R,
    "content_type": CRUD,
    "global_field": CRUD,
    "entry": CRUDP,
    "asset": CRUDP,
    "label": CRUD,
    "extension": CRUD,
    "metadata": CRUDP,
    "branch": CRUD,
    "webhook": CRUD,
    "taxonomy": CRUD,
}
BUILTIN: dict[str, dict[str, frozenset[str]]] = {
    "owner": {**_ADMIN, "stack_owner": frozenset({DELETE, MANAGE})},
    "admin": _ADMIN,
    "developer": {
        **_ADMIN,
        "stack": R,
        "stack_user": R,
        "role": R,
    },
    "content_manager": {
        "stack": R,
        "stack_user": R,
        "environment": R,
        "locale": R,
        "content_type": R,
        "global_field": R,
        "entry": CRUDP,
        "asset": CRUDP,
        "label": R,
        "extension": R,
        "metadata": CRUDP,
        "branch": R,
        "taxonomy": R,
    },
}

# Modules a management token may be scoped to. Users, roles, tokens and the stack itself are not among them.
TOKEN_MODULES = frozenset(
    {
        "content_type",
        "global_field",
        "entry",
        "asset",
        "environment",
        "locale",
        "label",
        "extension",
        "metadata",
        "branch",
        "webhook",
        "taxonomy",
        "audit_log",
    }
)
# Modules a custom role's rules speak of, and the list key naming the objects each rule covers.
RULE_TARGETS = {
    "content_type": "content_types",
    "asset": "assets",
    "folder": "folders",
    "environment": "environments",
    "locale": "locales",
    "branch": "branches",
    "taxonomy": "taxonomies",
}
# Modules whose objects exist per locale: a custom role's locale rules bind them too.
LOCALIZED = frozenset({"entry", "asset"})
# Modules whose access a custom role derives from another rule's module.
_DERIVED = {"entry": "content_type", "global_field": "content_type", "metadata": "content_type"}
_ALL = "$all"


def _acl_allows(acl: dict[str, Any], action: str, *, token: bool = False) -> bool:
    if token:
        return bool(acl.get("read")) if action == READ else bool(acl.get("write"))
    if action == PUBLISH:
        return bool(acl.get("publish") or acl.get("update"))
    return bool(acl.get(action))


def _custom_allows(rules: tuple[dict[str, Any], ...], module: str, action: str, uid: str | None) -> bool:
    if module == "stack" and action == READ:
        return True
    base = _DERIVED.get(module, module)
    for rule in rules:
        if rule.get("module") != base:
            continue
        targets = rule.get(RULE_TARGETS.get(base, "")) or [_ALL]
        # Entries are named by their content type's uid, so the rule's content types bind them too.
        if uid is not None and module in (base, "entry") and _ALL not in targets and uid not in targets:
            continue
        acl = rule.get("acl") or {}
        if module == "entry":
            acl = acl.get("sub_acl") or {}
        elif module in ("global_field", "metadata"):
            acl = {READ: bool(acl.get(READ))}
        if _acl_allows(acl, action):
            return True
    return False


def allowed(
    access: StackAccess, module: str, action: str, uid: str | None = None, *, locale: str | None = None
) -> bool:
    """May the caller do `action` in `module` (to object `uid`, when one is named; in `locale`, when
    the module is localized and one is named)?"""
    if locale is not None and module in LOCALIZED and not content_locales(access).admits(locale.lower()):
        return False
    level = access.level
    if level in BUILTIN:
        return action in BUILTIN[level].get(module, frozenset())
    if level == "custom":
        return _custom_allows(access.rules, module, action, uid)
    if level == "management_token":
        if module == "stack":
            return action == READ
        if module not in TOKEN_MODULES:
            return False
        for rule in access.rules:
            if rule.get("module") == module and _acl_allows(rule.get("acl") or {}, action, token=True):
                return True
        return False
    return False


def require(
    access: StackAccess, module: str, action: str, uid: str | None = None, *, locale: str | None = None
) -> None:
    """Raise Forbidden unless `allowed`."""
    if not allowed(access, module, action, uid, locale=locale):
        localized = locale is not None and module in LOCALIZED
        where = f"in the language '{locale}'" if localized else "in this stack"
        raise Forbidden(f"You don't have the permission to {action} {_plural(module)} {where}.")


def _plural(module: str) -> str:
    name = module.replace("_", " ")
    return name[:-1] + "ies" if name.endswith("y") else name + "s"


def visible(access: StackAccess, module: str, column: str = "uid") -> Filter:
    """The rows of `module` the caller may read, as a filter on `column` (the store renders its SQL).

    A management token whose scope leaves the module out is refused (403), as for a single object:
    its scope is what it was made for, and an empty list would read as "there are none". A custom
    role sees the rows its rules name (none, when no rule names the module)."""
    if not allowed(access, module, READ):
        if access.level == "management_token":
            require(access, module, READ)
        return Filter.nothing()
    if access.level != "custom":
        return Filter.everything()
    base = _DERIVED.get(module, module)
    if module != base:
        return Filter.everything()
    listed: set[str] = set()
    for rule in access.rules:
        if rule.get("module") != base or not (rule.get("acl") or {}).get(READ):
            continue
        targets = rule.get(RULE_TARGETS.get(base, ""), [_ALL])
        if _ALL in targets:
            return Filter.everything()
        listed.update(str(t) for t in targets)
    return Filter.column_in(column, listed)


def content_locales(access: StackAccess, column: str = "locale") -> Filter:
    """The locales whose content (entries; assets once localized) the caller may work on, as a
    filter on `column`. Only custom roles are limited: by their locale rules that grant `read`."""
    if access.level != "custom":
        return Filter.everything()
    return visible(access, "locale", column)


def visible_uids(access: StackAccess, module: str) -> set[str] | None:
    """The object uids a custom role limits `module` to, or None when not limited."""
    shown = visible(access, module)
    if shown.is_everything:
        return None
    return set(shown.values)


def branch_allowed(access: StackAccess, branch: str) -> bool:
    """Tokens and custom roles may be limited to some branches; built-in roles see them all."""
    if access.level in BUILTIN:
        return True
    branch_rules = [r for r in access.rules if r.get("module") == "branch"]
    if not branch_rules:
        return branch == "main"
    return any(
        branch in (r.get("branches") or []) or _ALL in (r.get("branches") or [])
        for r in branch_rules
        if (r.get("acl") or {}).get(READ, True)
    )


def actions_of(access: StackAccess, module: str) -> set[str]:
    """Every action the caller holds in `module` (used to refuse grants beyond one's own)."""
    return {a for a in (READ, CREATE, UPDATE, DELETE, PUBLISH, MANAGE) if allowed(access, module, a)}
