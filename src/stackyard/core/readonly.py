"""Read-only system fields of each resource: ignored when a client sends them back in an update.

Clients (and the official SDKs) fetch an object, change a field and PUT the whole object back, system
fields and all, as Contentstack accepts. Every update route passes its body through `writable`, so
services only see what a client may change:

    data = writable("environment", r.envelope("environment"))

What stays in a body on purpose: an entry's `_version` (its optimistic concurrency check: a stale one
is a 409) and `tags`; the `uid` of content types and global fields, the `code` of a locale and a
user's `email`, which name the object: their services accept them unchanged and refuse a change.

An entry's table holds only names no field can take (reserved by `content.model.schema`, starting
with `_`, or not lowercase), since any other key of an entry body may be a field value.
"""

from __future__ import annotations

from typing import Any

_STAMPS = frozenset({"created_at", "created_by", "updated_at", "updated_by", "_version"})
# What Contentstack shows on many objects; a client may echo any of these back on any of them.
_SYSTEM = _STAMPS | frozenset(
    {
        "ACL",
        "SYS_ACL",
        "DEFAULT_ACL",
        "_metadata",
        "_in_progress",
        "publish_details",
        "content_type_uid",
        "api_key",
        "org_uid",
        "owner",
        "owner_uid",
        "deleted_at",
        "_branch",
        "_branches",
    }
)
_MODEL = _SYSTEM | {"inbuilt_class", "last_activity", "maintain_revisions", "abilities"}

READ_ONLY: dict[str, frozenset[str]] = {
    "entry": frozenset(
        {
            "uid",
            "locale",
            "content_type_uid",
            "api_key",
            "created_at",
            "created_by",
            "updated_at",
            "updated_by",
            "deleted_at",
            "publish_details",
            "ACL",
            "_in_progress",
            "_version_name",
            "_workflow",
            "_rules",
            "_metadata",
            "_branch",
            "_content_type_uid",
            "_embedded_items",
        }
    ),
    "content_type": _MODEL,
    "global_field": _MODEL,
    "environment": _SYSTEM | {"uid"},
    "locale": _SYSTEM | {"uid"},
    "role": _SYSTEM | {"uid", "users", "roles", "stack", "admin", "default", "kind"},
    "token": _SYSTEM | {"uid", "type", "token"},
    "label": _SYSTEM | {"uid"},
    "release": _SYSTEM | {"uid", "items", "items_count", "status", "_deploy_latest"},
    "extension": _SYSTEM | {"uid"},
    # Any other key of a metadata body is kept as the extension's own data.
    "metadata": _STAMPS | {"uid", "api_key", "scope", "deleted_at"},
    "stack": _SYSTEM
    | {"uid", "master_locale", "user_uids", "settings", "is_asset_download_public", "collaborators"},
    "user": frozenset(
        {
            "uid",
            "created_at",
            "updated_at",
            "org_uid",
            "shared_org_uid",
            "organizations",
            "roles",
            "tfa_status",
            "authy_id",
            "active",
            "failed_attempts",
            "settings",
            "authtoken",
        }
    ),
}


def writable(resource: str, body: dict[str, Any]) -> dict[str, Any]:
    """`body` without the read-only system fields of `resource` (a key of `READ_ONLY`)."""
    ignored = READ_ONLY[resource]
    return {k: v for k, v in body.items() if k not in ignored}
