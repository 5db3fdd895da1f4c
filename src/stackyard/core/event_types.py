"""Every event type of the spine, with the shape of its payload (`data`).

An event is `<module>.<action>`; its module names what changed (`entry`, `environment`...), and the
audit entry recorded with it carries the same module and the action as its `event_type`. Every type
is also an automation trigger type `stackyard.<type>` (DESIGN §7), so this table is public: a type
is added here, never invented at a write site, and its payload keys are fixed.

    EVENT_TYPES["environment.create"].payload == {"name": "str"}

Most events belong to a stack. Changes of a user's account (`user.*`) and of an organization's
members (`organization.*`) have none; they are in the log all the same, under `events.NO_STACK`,
because the per-process caches hold sessions and organization roles (`core.cache`) and must see
them end. Edge and automation configuration (`edge_*`, `automation_*`) is audited only: nothing
of it is cached, and its types are not `logged`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

# JSON type names a payload value may take (`"str|null"` allows either).
# Modules of organization-level configuration that is audited but not in the event log.
_AUDIT_ONLY = ("edge_", "automation_")
_PY = {"str": str, "int": int, "bool": bool, "list": list, "dict": dict, "null": type(None)}


@dataclass(frozen=True)
class EventType:
    name: str
    description: str
    payload: Mapping[str, str] = field(default_factory=dict)

    @property
    def module(self) -> str:
        return self.name.split(".", 1)[0]

    @property
    def action(self) -> str:
        return self.name.split(".", 1)[1]

    @property
    def logged(self) -> bool:
        """Whether the change goes into the event log (every type but the audit-only ones)."""
        return not self.module.startswith(_AUDIT_ONLY)

    def check(self, data: Mapping[str, Any]) -> None:
        """Raise ValueError unless `data` has exactly this type's keys, each of its declared type."""
        if set(data) != set(self.payload):
            raise ValueError(f"{self.name}: payload keys {sorted(data)}, expected {sorted(self.payload)}")
        for key, kinds in self.payload.items():
            value = data[key]
            allowed = tuple(_PY[k] for k in kinds.split("|"))
            if not isinstance(value, allowed) or (isinstance(value, bool) and bool not in allowed):
                raise ValueError(f"{self.name}: {key} must be {kinds}, got {type(value).__name__}")


def _crud(module: str, what: str, payload: Mapping[str, str]) -> list[EventType]:
    return [EventType(f"{module}.{a}", f"{what} {a}d.", payload) for a in ("create", "update", "delete")]


# Entry events carry the content type, locale and version as dimensions of the event itself.
_ENTRY = {"title": "str|null"}
_ASSET = {"title": "str", "filename": "str"}
_TYPES: list[EventType] = [
    EventType("stack.create", "A stack was created.", {"name": "str"}),
    EventType("stack.update", "A stack's name or description changed.", {"name": "str"}),
    EventType("stack.delete", "A stack was deleted, with everything in it.", {"name": "str"}),
    EventType("stack.settings", "A stack's settings changed.", {"sections": "list"}),
    EventType("stack.reset_settings", "A stack's settings were reset.", {"sections": "list"}),
    EventType("stack.share", "A user was given roles in a stack.", {"user_uid": "str", "roles": "list"}),
    EventType(
        "stack.invite",
        "An existing user was invited to a stack; they join when they accept.",
        {"email": "str", "roles": "list"},
    ),
    EventType("stack.unshare", "A user was removed from a stack.", {"user_uid": "str"}),
    EventType("stack.update_user_roles", "Members' roles were replaced.", {"users": "list"}),
    EventType("stack.transfer_ownership", "Ownership was offered to a member.", {"to": "str"}),
    EventType("stack.accept_ownership", "A member accepted ownership.", {"from": "str", "to": "str"}),
    *_crud("environment", "An environment was", {"name": "str"}),
    *_crud("locale", "A locale was", {"code": "str", "name": "str"}),
    *_crud("role", "A role was", {"name": "str"})[:2],
    EventType("role.delete", "A role was deleted.", {"name": "str", "users": "list"}),
    *_crud("delivery_token", "A delivery token was", {"name": "str"}),
    *_crud("management_token", "A management token was", {"name": "str"}),
    *_crud("content_type", "A content type was", {"title": "str"})[:2],
    EventType(
        "content_type.delete",
        "A content type was deleted (with its entries when forced).",
        {"title": "str", "entries_deleted": "int"},
    ),
    *_crud("global_field", "A global field was", {"title": "str"}),
    *_crud("extension", "An extension was", {"title": "str"}),
    *_crud("label", "A label was", {"name": "str"}),
    *_crud("metadata", "Metadata of an entry or asset was", {"entity_uid": "str"}),
    EventType(
        "metadata.publish",
        "Metadata was published.",
        {"entity_uid": "str", "environments": "list", "locales": "list"},
    ),
    EventType(
        "metadata.unpublish",
        "Metadata was unpublished.",
        {"entity_uid": "str", "environments": "list", "locales": "list"},
    ),
    EventType("entry.create", "An entry was created (its master locale version).", _ENTRY),
    EventType("entry.update", "An entry was saved in one locale.", _ENTRY),
    EventType("entry.localize", "An entry got its own version in a locale.", _ENTRY),
    EventType("entry.unlocalize", "An entry's locale version now falls back again.", _ENTRY),
    EventType("entry.delete", "An entry was deleted in one locale.", _ENTRY),
    EventType("entry.import", "An entry was imported from a file.", _ENTRY),
    EventType(
        "entry.publish",
        "An entry's version was published to an environment in a locale (`source_locale` is the locale "
        "whose content it is: the fallback's when the entry is not localized there).",
        {"title": "str|null", "source_locale": "str"},
    ),
    EventType("entry.unpublish", "An entry was unpublished from an environment in a locale.", _ENTRY),
    EventType("entry.version_name", "A version of an entry was named.", {"name": "str|null"}),
    EventType("entry.version_unname", "A version's name was removed.", {"name": "str|null"}),
    # Assets carry their version as a dimension of the event; folders have none.
    EventType("asset.create", "A file was uploaded as a new asset.", _ASSET),
    EventType("asset.update", "An asset's title, description, tags or folder changed.", _ASSET),
    EventType("asset.replace", "An asset's file was replaced (a new version).", _ASSET),
    EventType(
        "asset.restore",
        "An earlier version of an asset became its latest.",
        {**_ASSET, "from_version": "int"},
    ),
    EventType("asset.delete", "An asset was deleted, with its versions.", _ASSET),
    EventType("asset.version_name", "A version of an asset was named.", {"name": "str|null"}),
    EventType("asset.version_unname", "A version's name was removed.", {"name": "str|null"}),
    EventType(
        "asset.publish",
        "An asset's version was published to an environment in a locale.",
        {"title": "str|null", "source_locale": "str"},
    ),
    EventType(
        "asset.unpublish", "An asset was unpublished from an environment in a locale.", {"title": "str|null"}
    ),
    *_crud("folder", "An asset folder was", {"name": "str", "parent_uid": "str|null"})[:2],
    EventType(
        "folder.delete",
        "An asset folder was deleted, with the folders and assets inside it.",
        {"name": "str", "parent_uid": "str|null", "assets_deleted": "int"},
    ),
    EventType(
        "organization.share",
        "A user was invited to an organization.",
        {"email": "str", "org_role": "str", "stacks": "list"},
    ),
    EventType(
        "organization.accept_invitation",
        "An invited user accepted an invitation and joined.",
        {"user_uid": "str", "org_role": "str", "stacks": "list"},
    ),
    EventType("organization.transfer_ownership", "An organization got a new owner.", {"to": "str"}),
    # A user's account (the event's uid is the user's): what ends sessions.
    EventType("user.logout", "A user logged out: that session ended.", {}),
    EventType(
        "user.reset_password", "A user's password was reset with a mailed token: every session ended.", {}
    ),
    # The edge (StackPath-compatible CDN): organization-level changes, audited (`spine.record_org`).
    EventType(
        "edge_credential.create", "An edge API credential was created.", {"client_id": "str", "name": "str"}
    ),
    EventType(
        "edge_credential.delete", "An edge API credential was revoked.", {"client_id": "str", "name": "str"}
    ),
    EventType("edge_stack.create", "An edge stack was created.", {"id": "str", "name": "str"}),
    EventType("edge_stack.update", "An edge stack's billing changed.", {"id": "str", "action": "str"}),
    *_crud("edge_site", "A CDN site was", {"id": "str", "label": "str"}),
    EventType("edge_site.enable", "A CDN site was enabled.", {"id": "str", "label": "str"}),
    EventType("edge_site.disable", "A CDN site was disabled.", {"id": "str", "label": "str"}),
    EventType(
        "edge_scope.create", "A CDN scope was created.", {"id": "str", "site_id": "str", "path": "str"}
    ),
    EventType(
        "edge_scope.delete", "A CDN scope was deleted.", {"id": "str", "site_id": "str", "path": "str"}
    ),
    EventType(
        "edge_scope.configure", "A CDN scope's configuration changed.", {"id": "str", "blocks": "list"}
    ),
    EventType(
        "edge_origin.create", "An origin was attached to a CDN scope.", {"id": "str", "scope_id": "str"}
    ),
    EventType("edge_origin.delete", "A CDN scope's origins were detached.", {"scope_id": "str"}),
    *_crud("edge_certificate", "A CDN certificate was", {"id": "str", "common_name": "str"}),
    EventType(
        "edge_certificate.renew",
        "A CDN certificate renewal was asked for.",
        {"id": "str", "common_name": "str"},
    ),
    EventType(
        "edge_purge.create", "A CDN purge was requested.", {"id": "str", "stack_id": "str", "items": "int"}
    ),
    # Automation (organization-level, audited): changes of its configuration, not every execution.
    *_crud("automation_action", "An automation action was", {"ref": "str"}),
    *_crud("automation_rule", "An automation rule was", {"ref": "str", "enabled": "bool"}),
    *_crud("automation_api_key", "An automation API key was", {"id": "str", "enabled": "bool"}),
    EventType(
        "automation_key.set",
        "An automation key-value pair was set.",
        {"name": "str", "scope": "str", "secret": "bool"},
    ),
    EventType(
        "automation_key.delete", "An automation key-value pair was deleted.", {"name": "str", "scope": "str"}
    ),
]
EVENT_TYPES: dict[str, EventType] = {t.name: t for t in _TYPES}
