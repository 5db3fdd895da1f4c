"""Workflows and publish rules (catalogue §2.11): `workflows[/{uid}]`, `workflows/publishing_rules`.

Enable and disable are GETs, as the API defines them; `set_workflow_stage` and
`publish_request_approval` act on an entry (`content_types/{ct}/entries/{uid}/workflow`).
"""

from __future__ import annotations

from typing import Any, TypeVar

from .._path import segment
from ._resource import Collection, body

R = TypeVar("R")
It = TypeVar("It")

RULES = "workflows/publishing_rules"


def _entry_workflow(content_type_uid: str, entry_uid: str) -> str:
    ct, entry = segment(content_type_uid, "content type uid"), segment(entry_uid, "entry uid")
    return f"content_types/{ct}/entries/{entry}/workflow"


class Workflow(Collection[R, It]):
    """`stack.workflows(uid)`: CRUD, enable/disable, publish rules, entry stages, tasks.

    >>> client.stack("blt1").workflows().fetch_publish_rules().json()["publishing_rules"]  # doctest: +SKIP
    """

    base = "workflows"
    envelope = "workflows"
    what = "workflow uid"

    def disable(self) -> R:
        """Turn this workflow off.

        >>> client.stack("blt1").workflows("blt2").disable()  # doctest: +SKIP
        """
        return self._call("GET", self._one("disable"))

    def enable(self) -> R:
        """Turn this workflow on.

        >>> client.stack("blt1").workflows("blt2").enable()  # doctest: +SKIP
        """
        return self._call("GET", self._one("enable"))

    def set_workflow_stage(self, content_type_uid: str, entry_uid: str, data: dict[str, Any]) -> R:
        """Move an entry to a stage: `{"workflow": {"workflow_stage": {"uid", ...}}}`.

        >>> client.stack("blt1").workflows().set_workflow_stage("blog", "blt3", {"workflow": {"workflow_stage": {"uid": "s1"}}})  # doctest: +SKIP
        """
        return self._call("POST", _entry_workflow(content_type_uid, entry_uid), json=body(data))

    def publish_request_approval(self, content_type_uid: str, entry_uid: str) -> R:
        """Ask for publish approval of an entry (a GET, as the official SDK sends it).

        >>> client.stack("blt1").workflows().publish_request_approval("blog", "blt3")  # doctest: +SKIP
        """
        return self._call("GET", _entry_workflow(content_type_uid, entry_uid))

    def create_publish_rule(self, data: dict[str, Any]) -> R:
        """Add a publish rule: `{"publishing_rule": {...}}`.

        >>> client.stack("blt1").workflows().create_publish_rule({"publishing_rule": {...}})  # doctest: +SKIP
        """
        return self._call("POST", RULES, json=body(data))

    def update_publish_rule(self, rule_uid: str, data: dict[str, Any]) -> R:
        """Change a publish rule.

        >>> client.stack("blt1").workflows().update_publish_rule("blt_rule", {"publishing_rule": {...}})  # doctest: +SKIP
        """
        return self._call("PUT", f"{RULES}/{segment(rule_uid, 'rule uid')}", json=body(data))

    def delete_publish_rule(self, rule_uid: str) -> R:
        """Remove a publish rule.

        >>> client.stack("blt1").workflows().delete_publish_rule("blt_rule")  # doctest: +SKIP
        """
        return self._call("DELETE", f"{RULES}/{segment(rule_uid, 'rule uid')}")

    def fetch_publish_rule(self, rule_uid: str) -> R:
        """One publish rule.

        >>> client.stack("blt1").workflows().fetch_publish_rule("blt_rule").json()["publishing_rule"]  # doctest: +SKIP
        """
        return self._call("GET", f"{RULES}/{segment(rule_uid, 'rule uid')}")

    def fetch_publish_rules(self) -> R:
        """All publish rules.

        >>> client.stack("blt1").workflows().fetch_publish_rules().json()["publishing_rules"]  # doctest: +SKIP
        """
        return self._call("GET", RULES)

    def fetch_publish_rule_content_type(self, content_type_uid: str) -> R:
        """The publish rules that apply to a content type.

        >>> client.stack("blt1").workflows().fetch_publish_rule_content_type("blog").json()  # doctest: +SKIP
        """
        return self._call("GET", f"workflows/content_type/{segment(content_type_uid, 'content type uid')}")

    def fetch_tasks(self) -> R:
        """The signed-in user's workflow tasks.

        >>> client.stack("blt1").workflows().fetch_tasks().json()["assignments"]  # doctest: +SKIP
        """
        return self._call("GET", "user/assignments")

    logs = fetch_tasks  # the name one seed example uses
