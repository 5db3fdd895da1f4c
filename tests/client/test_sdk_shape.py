"""Properties of the SDK as a package: no server imports, a docstring with an example on every call."""

from __future__ import annotations

import inspect
import subprocess
import sys

import stackyard.client.management as management
from stackyard.client.management import (
    assets,
    auditlog,
    branches,
    bulk,
    client,
    content_types,
    entries,
    environments,
    extensions,
    global_fields,
    labels,
    locales,
    metadata,
    organizations,
    publish_queue,
    releases,
    roles,
    stack,
    taxonomies,
    tokens,
    user,
    webhooks,
    workflows,
)

MODULES = [
    assets,
    auditlog,
    branches,
    bulk,
    client,
    content_types,
    entries,
    environments,
    extensions,
    global_fields,
    labels,
    locales,
    metadata,
    organizations,
    publish_queue,
    releases,
    roles,
    stack,
    taxonomies,
    tokens,
    user,
    webhooks,
    workflows,
]


def test_the_sdk_imports_nothing_from_the_server() -> None:
    code = (
        "import sys, stackyard.client.management\n"
        "bad = [m for m in sys.modules if m.startswith('stackyard.') and not m.startswith('stackyard.client')"
        " and m != 'stackyard.errors']\n"
        "print(','.join(sorted(bad)))\n"
        "print('starlette' in sys.modules, 'psycopg' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.splitlines() == ["", "False False"]


def test_every_public_call_has_a_docstring_with_an_example() -> None:
    missing = []
    for module in MODULES:
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if not cls.__module__.startswith("stackyard.client.management"):
                continue
            for name, fn in inspect.getmembers(cls, inspect.isfunction):
                if name.startswith("_"):
                    continue
                doc = inspect.getdoc(fn) or ""
                if ">>>" not in doc and "Not possible" not in doc:
                    missing.append(f"{cls.__name__}.{name}")
    assert missing == []


def test_the_seed_names_exist() -> None:
    c = management.Client(base_url="http://127.0.0.1:9")
    s = c.stack("k")
    org = c.organizations("o")
    for obj, names in [
        (c, ["login", "logout", "user", "organizations", "stack"]),
        (c.user(), ["fetch", "update", "activate", "forgot_password", "request_password", "reset_password"]),
        (org, ["find", "fetch", "roles", "get_organization_roles", "add_users", "organization_add_users"]),
        (org, ["transfer_ownership", "transfer_organizations_ownership", "stacks", "organization_stacks"]),
        (org, ["logs", "organization_logs"]),
        (
            s,
            [
                "fetch",
                "find",
                "create",
                "update",
                "delete",
                "users",
                "update_user_role",
                "transfer_ownership",
            ],
        ),
        (s, ["accept_ownership", "settings", "create_settings", "create_stack_settings", "reset_settings"]),
        (
            s,
            [
                "reset_stack_settings",
                "share",
                "share_stack",
                "unshare",
                "roles",
                "environments",
                "environment",
            ],
        ),
        (s, ["locale", "delivery_token", "management_token", "auditlog", "content_types", "content_type"]),
        (s, ["global_fields", "global_field", "label", "extension", "metadata"]),
        (
            s.content_types("ct"),
            ["find", "fetch", "create", "update", "delete", "set_field_visibility_rules"],
        ),
        (s.content_types("ct"), ["references", "export", "imports", "entry"]),
        (s.global_fields("g"), ["find", "fetch", "create", "update", "delete", "export", "imports"]),
        (
            s.content_types("ct").entry("e"),
            ["find", "fetch", "create", "update", "version_naming", "references"],
        ),
        (
            s.content_types("ct").entry("e"),
            ["languages", "localize", "unlocalize", "delete", "imports", "export"],
        ),
        (
            s.content_types("ct").entry("e"),
            ["publish", "unpublish", "versions", "delete_version_name", "iterate"],
        ),
        (s.locale("fr-fr"), ["set_fallback", "update_fallback"]),
        (s.extension(), ["upload"]),
        (s.metadata("m"), ["publish", "unpublish"]),
        (s, ["assets", "branch", "branch_alias", "bulk_operation", "publish_queue", "releases", "webhooks"]),
        (s, ["workflows", "taxonomy"]),
        (
            s.assets("a"),
            ["find", "fetch", "delete", "specific_folder", "subfolders", "upload", "replace", "generate"],
        ),
        (s.assets("a"), ["download", "rte", "version_naming", "version", "version_delete", "references"]),
        (
            s.assets("a"),
            ["specific_asset_type", "update_asset_revision", "update", "publish", "unpublish", "folder"],
        ),
        (
            s.assets("a"),
            ["folder_by_name", "get_subfolders", "create_folder", "update_or_move", "delete_folder"],
        ),
        (s.assets("a"), ["folder_collection"]),
        (s.branch("b"), ["find", "fetch", "create", "delete"]),
        (s.branch_alias("b"), ["find", "fetch", "assign", "delete"]),
        (
            s.bulk_operation(),
            ["publish", "unpublish", "delete", "update", "add_items", "update_items", "job_status"],
        ),
        (s.publish_queue("q"), ["find", "fetch", "cancel"]),
        (s.releases("r"), ["find", "fetch", "create", "update", "delete", "deploy", "clone", "item"]),
        (
            s.releases("r").item(),
            ["find", "create", "create_multiple", "update", "delete", "delete_multiple", "move"],
        ),
        (s.webhooks("w"), ["find", "fetch", "create", "update", "delete", "imports", "export", "executions"]),
        (s.webhooks("w"), ["retry", "logs"]),
        (
            s.workflows("w"),
            ["find", "fetch", "create", "update", "delete", "disable", "enable", "set_workflow_stage"],
        ),
        (
            s.workflows("w"),
            ["create_publish_rule", "update_publish_rule", "delete_publish_rule", "fetch_publish_rule"],
        ),
        (
            s.workflows("w"),
            ["fetch_publish_rules", "fetch_publish_rule_content_type", "publish_request_approval"],
        ),
        (s.workflows("w"), ["fetch_tasks", "logs"]),
        (s.taxonomy("t"), ["find", "fetch", "create", "update", "delete", "terms"]),
        (
            s.taxonomy("t").terms("x"),
            ["find", "fetch", "create", "update", "delete", "search", "move", "ancestors"],
        ),
        (s.taxonomy("t").terms("x"), ["descendants"]),
    ]:
        for name in names:
            assert callable(getattr(obj, name)), f"{type(obj).__name__}.{name}"
        for name in ("add_param", "add_param_dict", "add_header", "add_header_dict"):
            if obj is not c:
                assert callable(getattr(obj, name))
    c.close()
