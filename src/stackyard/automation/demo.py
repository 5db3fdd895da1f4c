"""The demo's automation: a rule on `stackyard.entry.publish` that writes the published entry's
title into the key-value store, so publishing a demo article shows content and automation working
together (`stackyard key get last_published`, or `st2 key get last_published`)."""

from __future__ import annotations

from typing import Any

from stackyard.access.caller import StackAccess
from stackyard.automation import rules
from stackyard.automation.common import ADMIN, Principal
from stackyard.store.engine import Tx

DEMO_RULE = {
    "name": "remember_published",
    "pack": "demo",
    "description": "When an entry is published, keep its title in the key last_published.",
    "enabled": True,
    "trigger": {"type": "stackyard.entry.publish"},
    "action": {
        "ref": "st2.kv.set",
        "parameters": {
            "key": "last_published",
            "value": "{{ trigger.data.title }} ({{ trigger.uid }}, {{ trigger.locale }})",
        },
    },
}


def demo_rule(tx: Tx, access: StackAccess) -> dict[str, Any]:
    caller = access.caller
    p = Principal(
        user_uid=caller.user_uid or "", username=caller.email or "", org_uid=access.org_uid, role=ADMIN
    )
    rules.upsert(tx, p, DEMO_RULE)
    return {"automation_rule": "demo.remember_published"}
