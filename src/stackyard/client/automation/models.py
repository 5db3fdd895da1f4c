"""Automation models: plain attribute bags over the StackStorm JSON shapes, as st2client's models are.

>>> kv = KeyValuePair(name="k1", value="v1")
>>> kv.to_dict()
{'name': 'k1', 'value': 'v1'}
"""

from __future__ import annotations

from typing import Any, ClassVar


class Resource:
    """A model instance: every JSON field is an attribute; `to_dict()` gives the JSON back."""

    path: ClassVar[str] = ""
    display: ClassVar[str] = "Resource"

    def __init__(self, **fields: Any) -> None:
        for k, v in fields.items():
            setattr(self, k, v)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Resource:
        return cls(**data)

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in vars(self).items() if not k.startswith("_")}

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        return None  # a field the server did not send

    def __repr__(self) -> str:
        ident = vars(self).get("ref") or vars(self).get("name") or vars(self).get("id")
        return f"<{type(self).__name__} {ident!r}>"

    def __eq__(self, other: object) -> bool:
        return type(self) is type(other) and self.to_dict() == other.to_dict()

    __hash__ = None  # type: ignore[assignment]


class Action(Resource):
    path, display = "actions", "Action"


class Execution(Resource):
    path, display = "executions", "Execution"


LiveAction = Execution


class Rule(Resource):
    path, display = "rules", "Rule"


class Trigger(Resource):
    """A trigger type (what `st2 trigger` lists)."""

    path, display = "triggertypes", "TriggerType"


TriggerType = Trigger


class TriggerSpec(Resource):
    path, display = "triggers", "Trigger"


class TriggerInstance(Resource):
    path, display = "triggerinstances", "TriggerInstance"


class KeyValuePair(Resource):
    path, display = "keys", "KeyValuePair"

    @property
    def id(self) -> Any:  # st2client's KeyValuePair is addressed by name
        return vars(self).get("name")

    @id.setter
    def id(self, value: Any) -> None:
        pass

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in super().to_dict().items() if k != "id"}


class RunnerType(Resource):
    path, display = "runnertypes", "RunnerType"


class Pack(Resource):
    path, display = "packs", "Pack"


class ApiKey(Resource):
    path, display = "apikeys", "ApiKey"


class RuleEnforcement(Resource):
    path, display = "ruleenforcements", "RuleEnforcement"


class Trace(Resource):
    path, display = "traces", "Trace"


class Webhook(Resource):
    path, display = "webhooks", "Webhook"


class Timer(Resource):
    path, display = "timers", "Timer"


class Token(Resource):
    path, display = "tokens", "Token"
