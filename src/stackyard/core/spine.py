"""The event spine: one function records a change, as an event and an audit entry, from one value.

    spine.record(tx, access, "environment.create", env_uid, {"name": name})
    spine.record(tx, access, "entry.update", uid, data, content_type="blog", locale="fr-fr", version=3)

Every write site calls `record` in the write's transaction; nothing else appends events or audit
entries (a test checks). The event type must be in `event_types.EVENT_TYPES` and `data` must have
exactly its payload keys, so events of one type never drift apart. The audit entry carries the same
module, action, uid and payload, plus the dimensions (content type, locale, environment, version).
Changes of an organization (`record_org`) or of a user's account (`record_user`) have no stack:
they are audited, and those whose type is `logged` (organization members, sessions: what the
per-process caches hold) are also events of the log's stackless scope, `events.NO_STACK`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from stackyard.core import audit, events
from stackyard.core.audit import Actor
from stackyard.core.event_types import EVENT_TYPES, EventType
from stackyard.store.engine import Tx


class Caller(Protocol):
    """What the spine needs of a caller (`access.caller.Caller` fits)."""

    @property
    def actor(self) -> str: ...

    @property
    def kind(self) -> str: ...

    @property
    def request_id(self) -> str: ...

    @property
    def remote_addr(self) -> str: ...


class Scope(Protocol):
    """Where a change happened (`access.caller.StackAccess` fits, and `StackScope`)."""

    @property
    def caller(self) -> Caller: ...

    @property
    def api_key(self) -> str: ...

    @property
    def org_uid(self) -> str: ...

    @property
    def branch(self) -> str: ...


@dataclass(frozen=True)
class StackScope:
    """A scope for writes made before the caller has a standing in the stack (creating it)."""

    caller: Caller
    api_key: str
    org_uid: str
    branch: str = "main"


def actor_of(caller: Caller) -> Actor:
    return Actor(caller.actor, caller.kind, caller.request_id, caller.remote_addr)


def record(
    tx: Tx,
    scope: Scope,
    type: str,
    uid: str,
    data: Mapping[str, Any] | None = None,
    *,
    content_type: str | None = None,
    locale: str | None = None,
    environment: str | None = None,
    version: int | None = None,
) -> None:
    """Record a change in a stack: its event (appended at commit) and its audit entry."""
    kind = _checked(type, data)
    payload = dict(data or {})
    actor = actor_of(scope.caller)
    # The audit entries are flushed first, so the event counters are taken last, just before COMMIT.
    audit.write(
        tx,
        actor,
        kind.module,
        kind.action,
        api_key=scope.api_key,
        org_uid=scope.org_uid,
        branch=scope.branch,
        metadata=_metadata(uid, payload, content_type, locale, environment, version),
    )
    dimensions = (content_type, locale, environment, version)
    events.buffer(
        tx, _pending(kind, scope.api_key, scope.branch, uid, scope.org_uid, actor, payload, dimensions)
    )


def _pending(
    kind: EventType,
    api_key: str,
    branch: str,
    uid: str,
    org_uid: str | None,
    actor: Actor,
    data: dict[str, Any],
    dimensions: tuple[str | None, str | None, str | None, int | None] = (None, None, None, None),
) -> events.Pending:
    """The event of a change; `dimensions`: its content type, locale, environment and version."""
    content_type, locale, environment, version = dimensions
    return events.Pending(
        api_key=api_key,
        branch=branch,
        type=kind.name,
        module=kind.module,
        object_uid=uid,
        org_uid=org_uid,
        actor_uid=actor.uid,
        actor_kind=actor.kind,
        request_id=actor.request_id,
        data=data,
        content_type_uid=content_type,
        locale=locale,
        environment=environment,
        version=version,
    )


def record_org(tx: Tx, caller: Caller, type: str, org_uid: str, data: Mapping[str, Any]) -> None:
    """Record a change of an organization: audited, and an event without a stack if `logged`."""
    _stackless(tx, caller, type, org_uid, org_uid, data)


def record_user(
    tx: Tx, caller: Caller, type: str, user_uid: str, data: Mapping[str, Any] | None = None
) -> None:
    """Record a change of a user's account (their sessions): audited, and an event without a stack."""
    _stackless(tx, caller, type, user_uid, None, data)


def _stackless(
    tx: Tx, caller: Caller, type: str, uid: str, org_uid: str | None, data: Mapping[str, Any] | None
) -> None:
    kind = _checked(type, data)
    payload = dict(data or {})
    actor = actor_of(caller)
    audit.write(
        tx,
        actor,
        kind.module,
        kind.action,
        api_key=None,
        org_uid=org_uid,
        branch=None,
        metadata=_metadata(uid, payload, None, None, None, None),
    )
    if kind.logged:
        events.buffer(tx, _pending(kind, events.NO_STACK, "", uid, org_uid, actor, payload))


def _checked(type: str, data: Mapping[str, Any] | None) -> EventType:
    kind = EVENT_TYPES.get(type)
    if kind is None:
        raise ValueError(f"unknown event type {type!r}: add it to core.event_types")
    kind.check(data or {})
    return kind


def _metadata(
    uid: str,
    data: dict[str, Any],
    content_type: str | None,
    locale: str | None,
    environment: str | None,
    version: int | None,
) -> dict[str, Any]:
    dims = {
        "content_type_uid": content_type,
        "locale": locale,
        "environment": environment,
        "version": version,
    }
    return {"uid": uid, **data, **{k: v for k, v in dims.items() if v is not None}}
