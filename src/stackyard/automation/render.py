"""Jinja rendering of action parameters and rule criteria, sandboxed.

Templates see `trigger` (the trigger payload), `st2kv` (`{{ st2kv.system.name }}`,
`{{ st2kv.user.name }}`), `action_context`, and the other parameters by name; `| decrypt_kv`
decrypts a secret key-value pair. The environment is Jinja's SandboxedEnvironment (no attribute
starting with `_`, no unsafe callables), so a template cannot reach Python internals; an unsafe
template is a rendering error, reported as such.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from contextvars import ContextVar
from functools import lru_cache
from typing import Any

from jinja2 import Template, TemplateError, Undefined
from jinja2.sandbox import ImmutableSandboxedEnvironment

from stackyard.errors import BadRequest

Lookup = Callable[[str, str], str | None]  # (scope "system"|"user", name) -> value (ciphertext if secret)
Decrypt = Callable[[str], str]


class _Scope:
    """`st2kv.system` / `st2kv.user`: attribute and item access look a key up."""

    def __init__(self, scope: str, lookup: Lookup) -> None:
        self._scope = scope
        self._lookup = lookup

    def __getattr__(self, name: str) -> Any:
        return self[name]

    def __getitem__(self, name: str) -> Any:
        value = self._lookup(self._scope, name)
        return "" if value is None else value


class _KV:
    def __init__(self, lookup: Lookup) -> None:
        self.system = _Scope("system", lookup)
        self.user = _Scope("user", lookup)


# The decrypt function of the render running in this thread (`| decrypt_kv` needs the server key).
_DECRYPT: ContextVar[Decrypt | None] = ContextVar("automation_decrypt", default=None)


def _decrypt_kv(value: Any) -> str:
    decrypt = _DECRYPT.get()
    if decrypt is None:
        raise BadRequest("decrypt_kv is not available here.")
    return decrypt(str(value))


def _env() -> ImmutableSandboxedEnvironment:
    env = ImmutableSandboxedEnvironment(undefined=Undefined, autoescape=False)
    env.filters["decrypt_kv"] = _decrypt_kv
    env.filters["to_json_string"] = lambda v: json.dumps(v)
    env.filters["json_parse"] = lambda v: json.loads(v)
    return env


_ENV = _env()


@lru_cache(maxsize=2048)
def _compiled(template: str) -> Template:
    """A template compiled once (rules render the same parameters for every trigger instance)."""
    return _ENV.from_string(template)


def _render_one(template: str, context: Mapping[str, Any]) -> Any:
    try:
        text = _compiled(template).render(**context)
    except TemplateError as e:
        raise BadRequest(f"Failed to render parameter template {template!r}: {e}") from None
    except Exception as e:  # a sandbox refusal or a failing filter inside a template
        raise BadRequest(
            f"Failed to render parameter template {template!r}: {type(e).__name__}: {e}"
        ) from None
    # A template that is one expression keeps its type ("{{ trigger.count }}" -> 3), as st2 does.
    stripped = template.strip()
    if stripped.startswith("{{") and stripped.endswith("}}") and stripped.count("{{") == 1:
        try:
            return json.loads(text)
        except ValueError:
            return text
    return text


def render(
    values: Mapping[str, Any],
    context: Mapping[str, Any],
    lookup: Lookup | None = None,
    decrypt: Decrypt | None = None,
) -> dict[str, Any]:
    """Every string value holding `{{` or `{%` rendered, recursively through lists and objects."""
    if not values or not any(templated(v) for v in values.values()):
        return dict(values)
    ctx = dict(context)
    if lookup is not None:
        ctx["st2kv"] = _KV(lookup)
    plain = {k: v for k, v in values.items() if not templated(v)}
    ctx = {**plain, **ctx}

    def walk(v: Any) -> Any:
        if isinstance(v, str) and ("{{" in v or "{%" in v):
            return _render_one(v, ctx)
        if isinstance(v, list):
            return [walk(x) for x in v]
        if isinstance(v, dict):
            return {k: walk(x) for k, x in v.items()}
        return v

    token = _DECRYPT.set(decrypt)
    try:
        return {k: walk(v) for k, v in values.items()}
    finally:
        _DECRYPT.reset(token)


def templated(v: Any) -> bool:
    """Does `v` hold a template (a string with `{{` or `{%`, at any depth)?"""
    if isinstance(v, str):
        return "{{" in v or "{%" in v
    if isinstance(v, list):
        return any(templated(x) for x in v)
    if isinstance(v, dict):
        return any(templated(x) for x in v.values())
    return False
