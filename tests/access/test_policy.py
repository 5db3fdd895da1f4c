"""Unit tests of the permission policy: built-in roles, custom-role rules, token scopes, SQL filters."""

from __future__ import annotations

from typing import Any

import pytest

from stackyard.access.caller import Caller, Level, StackAccess
from stackyard.access.policy import (
    TOKEN_MODULES,
    actions_of,
    allowed,
    branch_allowed,
    require,
    visible,
    visible_uids,
)
from stackyard.errors import Forbidden
from stackyard.store.engine import Database
from stackyard.store.filters import Filter

STACK = {"api_key": "bltkey", "uid": "bltstack", "org_uid": "bltorg", "name": "S", "owner_uid": "bltowner"}


def access(level: Level, rules: list[dict[str, Any]] | None = None) -> StackAccess:
    kind = "management_token" if level == "management_token" else "user"
    return StackAccess(caller=Caller(kind=kind), stack=STACK, level=level, rules=tuple(rules or ()))


@pytest.mark.parametrize(
    ("level", "module", "action", "expected"),
    [
        ("owner", "stack_owner", "delete", True),
        ("admin", "stack_owner", "delete", False),
        ("admin", "stack_owner", "manage", False),
        ("admin", "stack_user", "manage", True),
        ("admin", "role", "create", True),
        ("developer", "role", "create", False),
        ("developer", "role", "read", True),
        ("developer", "stack_user", "manage", False),
        ("developer", "stack", "update", False),
        ("developer", "management_token", "create", True),
        ("developer", "audit_log", "read", True),
        ("content_manager", "entry", "publish", True),
        ("content_manager", "environment", "create", False),
        ("content_manager", "delivery_token", "read", False),
        ("content_manager", "audit_log", "read", False),
        ("delivery_token", "stack", "read", False),
    ],
)
def test_builtin_levels(level: Level, module: str, action: str, expected: bool) -> None:
    assert allowed(access(level), module, action) is expected


def test_custom_rules_limit_objects_and_actions() -> None:
    # given a role reading one environment and updating entries of one content type
    role = access(
        "custom",
        [
            {"module": "environment", "environments": ["bltprod"], "acl": {"read": True}},
            {
                "module": "content_type",
                "content_types": ["blog"],
                "acl": {"read": True, "sub_acl": {"read": True, "update": True}},
            },
        ],
    )
    assert allowed(role, "environment", "read", "bltprod")
    assert not allowed(role, "environment", "read", "bltdev")
    assert not allowed(role, "environment", "update", "bltprod")
    assert allowed(role, "entry", "update", "blog")
    assert allowed(role, "entry", "publish", "blog")  # publish follows update when not set
    assert not allowed(role, "entry", "delete", "blog")
    assert not allowed(role, "content_type", "update", "blog")
    # everyone in a stack may read the stack itself, and nothing of users, roles or tokens
    assert allowed(role, "stack", "read")
    for module in ("stack_user", "role", "delivery_token", "management_token", "audit_log"):
        assert actions_of(role, module) == set()


def test_custom_all_targets() -> None:
    role = access(
        "custom", [{"module": "locale", "locales": ["$all"], "acl": {"read": True, "create": True}}]
    )
    assert allowed(role, "locale", "read", "fr-fr") and allowed(role, "locale", "create")
    assert visible(role, "locale", "code").is_everything
    assert visible_uids(role, "locale") is None


def test_visible_is_a_filter_value_the_store_renders() -> None:
    role = access(
        "custom",
        [
            {"module": "environment", "environments": ["b", "a"], "acl": {"read": True}},
            {"module": "environment", "environments": ["c"], "acl": {"read": False, "update": True}},
        ],
    )
    # only rules that grant read count
    shown = visible(role, "environment", "uid")
    assert shown == Filter.column_in("uid", ["a", "b"])
    assert not shown.is_everything and not shown.is_nothing
    assert shown.admits("a") and not shown.admits("c")
    # values are parameters, never spliced into the SQL
    assert shown.sql() == ("uid IN (?, ?)", ("a", "b"))
    assert visible_uids(role, "environment") == {"a", "b"}
    assert visible(access("custom"), "environment").is_nothing
    assert visible(access("admin"), "environment").is_everything
    assert visible(access("content_manager"), "delivery_token").is_nothing
    assert not visible(access("content_manager"), "delivery_token").admits("a")


def test_filters_render_to_sql_that_selects_the_right_rows(db: Database) -> None:
    rows = "SELECT 'a' AS uid UNION ALL SELECT 'b' UNION ALL SELECT 'c' UNION ALL SELECT 'it''s'"
    cases = [
        (Filter.everything(), ["a", "b", "c", "it's"]),
        (Filter.nothing(), []),
        (Filter.column_in("uid", ["c", "a", "a"]), ["a", "c"]),
        (Filter.column_in("uid", ["it's", "x) OR (1 = 1"]), ["it's"]),
        (Filter.column_in("uid", []), []),
    ]
    with db.read() as tx:
        for shown, expected in cases:
            cond, params = shown.sql()
            found = tx.all(f"SELECT uid FROM ({rows}) t WHERE {cond} ORDER BY uid", *params)
            assert [r["uid"] for r in found] == expected, shown
    assert Filter.column_in("uid", []).is_nothing
    with pytest.raises(ValueError):
        Filter.column_in("uid) OR (1 = 1", ["a"])


def test_management_token_scope() -> None:
    token = access(
        "management_token",
        [
            {"module": "environment", "acl": {"read": True, "write": True}},
            {"module": "locale", "acl": {"read": True, "write": False}},
            # a token scope naming a module outside TOKEN_MODULES grants nothing
            {"module": "role", "acl": {"read": True, "write": True}},
        ],
    )
    assert actions_of(token, "environment") >= {"read", "create", "update", "delete"}
    assert actions_of(token, "locale") == {"read"}
    assert actions_of(token, "role") == set()
    assert actions_of(token, "content_type") == set()
    assert allowed(token, "stack", "read") and not allowed(token, "stack", "update")
    assert not {"role", "stack_user", "delivery_token", "management_token", "stack"} & TOKEN_MODULES


def test_require_raises_forbidden() -> None:
    require(access("owner"), "stack_owner", "delete")
    with pytest.raises(Forbidden) as err:
        require(access("developer"), "role", "delete")
    assert err.value.status == 403 and err.value.error_code == 161


def test_branches() -> None:
    assert branch_allowed(access("developer"), "anything")
    # without a branch rule, custom roles and tokens see main only
    assert branch_allowed(access("custom"), "main") and not branch_allowed(access("custom"), "dev")
    scoped = access("management_token", [{"module": "branch", "branches": ["dev"], "acl": {"read": True}}])
    assert branch_allowed(scoped, "dev") and not branch_allowed(scoped, "main")
    every = access("custom", [{"module": "branch", "branches": ["$all"], "acl": {"read": True}}])
    assert branch_allowed(every, "feature-x")


def test_custom_role_binds_entries_to_the_rules_content_types() -> None:
    from stackyard.access.caller import Caller, StackAccess
    from stackyard.access.policy import allowed

    rules = (
        {
            "module": "content_type",
            "content_types": ["article"],
            "acl": {"read": True, "sub_acl": {"read": True, "create": True}},
        },
    )
    access = StackAccess(
        caller=Caller(kind="user", user_uid="u"),
        stack={"api_key": "k", "org_uid": "o"},
        level="custom",
        rules=rules,
    )
    assert allowed(access, "entry", "create", "article")
    assert not allowed(access, "entry", "create", "author")
    assert not allowed(access, "entry", "delete", "article")
