"""The caller of a request, and their standing in one stack."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

CallerKind = Literal["anonymous", "user", "management_token", "delivery_token"]


@dataclass(frozen=True)
class Caller:
    """Who sent a request. Built once per request from its credential headers."""

    kind: CallerKind
    request_id: str = ""
    remote_addr: str = ""
    user_uid: str | None = None
    email: str | None = None
    # management and delivery tokens are bound to one stack
    token_uid: str | None = None
    token_api_key: str | None = None
    token_scope: tuple[dict[str, Any], ...] = ()
    session_hash: str | None = None

    @property
    def actor(self) -> str:
        """What the audit log records as the actor: a user uid or a token uid, never a secret."""
        return self.user_uid or self.token_uid or "anonymous"


ANONYMOUS = Caller(kind="anonymous")

Level = Literal[
    "owner", "admin", "developer", "content_manager", "custom", "management_token", "delivery_token"
]


@dataclass(frozen=True)
class StackAccess:
    """A caller's standing in one stack, resolved from memberships, roles or token scope."""

    caller: Caller
    stack: dict[str, Any]
    level: Level
    role_uids: tuple[str, ...] = ()
    rules: tuple[dict[str, Any], ...] = field(default_factory=tuple)
    branch: str = "main"

    @property
    def api_key(self) -> str:
        return str(self.stack["api_key"])

    @property
    def org_uid(self) -> str:
        return str(self.stack["org_uid"])
