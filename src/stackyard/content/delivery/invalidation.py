"""Which cache tags an event of the spine purges (`tags.py`): the delivery cache's rules.

A rule answers the tags of every delivery response the event may have changed, or None for
"anything of any stack" (an event type this server does not know). Events that change nothing
delivery serves (drafts saved, users invited) purge nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from stackyard.content.delivery import tags

# Modules whose every event purges the whole stack's responses: tokens (a response is cached under
# its token: a revoked one must stop answering), environments and locales (scopes and fallback
# chains), global fields (inlined into content types), the stack itself and its members' roles
# do not matter to delivery but stack deletion does.
_WHOLE_STACK = {"delivery_token", "environment", "locale", "global_field"}
_NOTHING = {
    "management_token",
    "role",
    "extension",
    "label",
    "organization",
    "user",
}
_NOTHING_TYPES = {
    "entry.create",
    "entry.update",
    "entry.localize",
    "entry.unlocalize",
    "entry.import",
    "entry.version_name",
    "entry.version_unname",
    "stack.update",
    "stack.settings",
    "stack.reset_settings",
    "stack.share",
    "stack.unshare",
    "stack.invite",
    "stack.update_user_roles",
    "stack.transfer_ownership",
    "stack.accept_ownership",
    "stack.create",
}


def purged(event: Mapping[str, Any]) -> set[str] | None:
    """The tags `event` (a row of `core.events.after`) purges; None: purge everything."""
    kind = str(event["type"])
    module = kind.split(".", 1)[0]
    api_key = str(event["api_key"])
    uid = str(event["object_uid"])
    if kind in _NOTHING_TYPES or module in _NOTHING:
        return set()
    if module in _WHOLE_STACK or kind == "stack.delete":
        return {tags.stack(api_key)}
    if module == "content_type":
        return {tags.content_type(api_key, uid), tags.content_types(api_key)}
    if module == "entry":  # publish, unpublish, delete
        out = {tags.entry(api_key, uid)}
        if event.get("content_type_uid"):
            out.add(tags.content_type(api_key, str(event["content_type_uid"])))
        return out
    if module == "asset":
        return {tags.asset(api_key, uid), tags.assets(api_key)}
    if module == "metadata":
        return {tags.stack(api_key)} if kind.endswith("publish") else set()
    return None
