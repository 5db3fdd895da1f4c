"""What a publish or unpublish asks for (`Action`), read from the CMA's request bodies and checked
against the stack: environments by name or uid, locales the stack has, a version, a time.

    {"entry": {"environments": ["development"], "locales": ["en-us"]},
     "locale": "en-us", "version": 1, "scheduled_at": "2019-02-14T18:30:00.000Z"}
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from stackyard.access.caller import StackAccess
from stackyard.errors import invalid
from stackyard.stacks import locales as stack_locales
from stackyard.store.engine import Tx

PUBLISH, UNPUBLISH = "publish", "unpublish"
MAX_TARGETS = 100
MAX_VERSION = 2**31 - 1


@dataclass(frozen=True)
class Action:
    """Publish or unpublish one entry or asset to environments and locales.

    `version` is the version of the copy in `locale` to publish (None: the latest); copies in other
    locales publish their latest version."""

    action: str
    kind: str
    uid: str
    content_type_uid: str
    environments: tuple[str, ...]
    locales: tuple[str, ...]
    locale: str
    version: int | None = None
    with_references: bool = False
    all_localized: bool = False
    extra: dict[str, Any] = field(default_factory=dict)

    def payload(self) -> dict[str, Any]:
        return {
            "action": self.action,
            "kind": self.kind,
            "uid": self.uid,
            "content_type_uid": self.content_type_uid,
            "environments": list(self.environments),
            "locales": list(self.locales),
            "locale": self.locale,
            "version": self.version,
            "with_references": self.with_references,
            "all_localized": self.all_localized,
        }

    @classmethod
    def from_payload(cls, p: dict[str, Any]) -> Action:
        return cls(
            action=p["action"],
            kind=p["kind"],
            uid=p["uid"],
            content_type_uid=p["content_type_uid"],
            environments=tuple(p["environments"]),
            locales=tuple(p["locales"]),
            locale=p["locale"],
            version=p["version"],
            with_references=bool(p["with_references"]),
            all_localized=bool(p.get("all_localized")),
        )


def _strings(value: Any, name: str, errors: dict[str, list[str]]) -> list[str]:
    if not isinstance(value, list) or not value or not all(isinstance(v, str) and v for v in value):
        errors[name] = ["must be a non-empty list of strings."]
        return []
    if len(value) > MAX_TARGETS:
        errors[name] = [f"may list at most {MAX_TARGETS}."]
        return []
    return list(dict.fromkeys(value))


def environments(tx: Tx, access: StackAccess, names: list[str]) -> tuple[str, ...]:
    """Environment uids for names or uids (422 naming the unknown ones)."""
    if not names:
        return ()
    marks = ", ".join("?" * len(names))
    rows = tx.all(
        f"SELECT uid, name FROM environments WHERE api_key = ? AND (name IN ({marks}) OR uid IN ({marks}))",
        access.api_key,
        *names,
        *names,
    )
    by = {r["name"]: r["uid"] for r in rows} | {r["uid"]: r["uid"] for r in rows}
    unknown = [n for n in names if n not in by]
    if unknown:
        raise invalid(
            {"environments": [f"'{n}' is not an environment of this stack." for n in unknown]},
            "The environment was not found.",
        )
    return tuple(dict.fromkeys(by[n] for n in names))


def locales(tx: Tx, access: StackAccess, codes: list[str]) -> tuple[str, ...]:
    found = []
    for code in codes:
        c = code.lower()
        if not stack_locales.exists(tx, access.api_key, c, access.branch):
            raise invalid(
                {"locales": [f"'{code}' is not a language of this stack."]}, "The language was not found."
            )
        found.append(c)
    return tuple(dict.fromkeys(found))


def version_of(value: Any, errors: dict[str, list[str]]) -> int | None:
    """A version given as a number or a numeric string (the bulk seed sends "5"); None when absent."""
    if value is None or value == "":
        return None
    if isinstance(value, str) and value.isascii() and value.isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_VERSION:
        errors["version"] = ["must be a whole number of 1 or more."]
        return None
    return value


def scheduled_at(value: Any, errors: dict[str, list[str]]) -> datetime | None:
    """The time an action is scheduled for (ISO 8601; a time without zone is UTC); None: now."""
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        errors["scheduled_at"] = ["must be an ISO 8601 date and time."]
        return None
    try:
        when = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        errors["scheduled_at"] = ["must be an ISO 8601 date and time, like 2030-02-14T18:30:00.000Z."]
        return None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def parse(
    tx: Tx,
    access: StackAccess,
    body: dict[str, Any],
    *,
    action: str,
    kind: str,
    uid: str,
    content_type_uid: str,
    with_references: bool = False,
    all_localized: bool = False,
) -> tuple[Action, datetime | None]:
    """The action a publish/unpublish body asks for, and when (None: now); 422 on bad input."""
    inner = body.get(kind)
    errors: dict[str, list[str]] = {}
    if not isinstance(inner, dict):
        raise invalid({kind: [f"is required: an object with 'environments' and '{'locales'}'."]})
    envs = _strings(inner.get("environments"), "environments", errors)
    codes_given = inner.get("locales")
    codes = _strings(codes_given, "locales", errors) if codes_given is not None else []
    locale = body.get("locale", inner.get("locale"))
    if locale is not None and not isinstance(locale, str):
        errors["locale"] = ["must be a locale code."]
        locale = None
    version = version_of(body.get("version", inner.get("version")), errors)
    when = scheduled_at(body.get("scheduled_at", inner.get("scheduled_at")), errors)
    if errors:
        raise invalid(errors, f"The {kind} could not be {action}ed. Please check the request.")
    master = str(access.stack["master_locale"])
    locale_code = (locale or (codes[0] if codes else master)).lower()
    chosen = locales(tx, access, codes or [locale_code])
    act = Action(
        action=action,
        kind=kind,
        uid=uid,
        content_type_uid=content_type_uid,
        environments=environments(tx, access, envs),
        locales=chosen,
        locale=locales(tx, access, [locale_code])[0],
        version=version,
        with_references=with_references,
        all_localized=all_localized,
    )
    return act, when
