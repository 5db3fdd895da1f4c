"""Action parameter schemas (st2's JSON-schema-like `parameters`): checked when an action is
created, and used to validate, default and coerce the parameters of every run.

    spec = merged(runner["runner_parameters"], action["parameters"])
    values = validate(spec, {"cmd": "date"}, immutable_ok=False)
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from stackyard.errors import BadRequest

TYPES = {"string", "integer", "number", "boolean", "array", "object", "null"}
_KNOWN = {
    "type",
    "description",
    "default",
    "required",
    "enum",
    "secret",
    "immutable",
    "position",
    "items",
    "properties",
    "pattern",
    "minimum",
    "maximum",
    "minLength",
    "maxLength",
    "minItems",
    "maxItems",
    "additionalProperties",
    "format",
    "title",
    "anyOf",
    "oneOf",
    "uniqueItems",
    "dependencies",
}


def check_schema(parameters: Any) -> dict[str, Any]:
    """The `parameters` of an action, checked (400 names the first problem)."""
    if parameters is None:
        return {}
    if not isinstance(parameters, dict):
        raise BadRequest("'parameters' must be an object of parameter name -> schema.")
    for name, spec in parameters.items():
        if not isinstance(spec, dict):
            raise BadRequest(f"Parameter '{name}': its schema must be an object.")
        kind = spec.get("type")
        kinds = kind if isinstance(kind, list) else [kind]
        if kind is not None and not all(k in TYPES for k in kinds):
            raise BadRequest(f"Parameter '{name}': type {kind!r} is not one of {', '.join(sorted(TYPES))}.")
        for flag in ("required", "secret", "immutable"):
            if flag in spec and not isinstance(spec[flag], bool):
                raise BadRequest(f"Parameter '{name}': '{flag}' must be true or false.")
        if "enum" in spec and not isinstance(spec["enum"], list):
            raise BadRequest(f"Parameter '{name}': 'enum' must be a list.")
        if spec.get("immutable") and spec.get("required") and "default" not in spec:
            raise BadRequest(f"Parameter '{name}' is immutable and required, so it needs a default.")
        if "default" in spec and not (isinstance(spec["default"], str) and "{{" in spec["default"]):
            try:
                _check_value(name, spec, spec["default"])
            except BadRequest as e:
                raise BadRequest(
                    f"The default of {e.error_message[0].lower()}{e.error_message[1:]}"
                ) from None
    return parameters


def merged(runner_params: Mapping[str, Any], action_params: Mapping[str, Any]) -> dict[str, Any]:
    """The effective schema: runner parameters overridden key by key by the action's."""
    out = {k: dict(v) for k, v in runner_params.items()}
    for k, v in action_params.items():
        out[k] = {**out.get(k, {}), **v}
    return out


def secrets_of(spec: Mapping[str, Any]) -> set[str]:
    return {k for k, v in spec.items() if isinstance(v, dict) and v.get("secret")}


def validate(spec: Mapping[str, Any], given: Mapping[str, Any]) -> dict[str, Any]:
    """Given parameters checked against the schema, with defaults filled in. Unknown names, missing
    required ones, immutable ones given, wrong types and values outside an enum are 400s."""
    if not isinstance(given, Mapping):
        raise BadRequest("'parameters' must be an object.")
    unknown = sorted(set(given) - set(spec))
    if unknown:
        raise BadRequest(f"Parameters {unknown} are not defined by the action or its runner.")
    out: dict[str, Any] = {}
    for name, p in spec.items():
        if name in given:
            if p.get("immutable") and given[name] != p.get("default"):
                raise BadRequest(f"Parameter '{name}' is immutable and cannot be given a value.")
            value = given[name]
            if not (isinstance(value, str) and "{{" in value):
                value = coerce(p, value)
                _check_value(name, p, value)
            out[name] = value
        elif "default" in p:
            out[name] = p["default"]
        elif p.get("required"):
            raise BadRequest(f"'{name}' is a required property")
    return out


def coerce(p: Mapping[str, Any], value: Any) -> Any:
    """Strings from a webhook or a rule for typed parameters ("3" for an integer), as st2 does."""
    kind = p.get("type")
    if not isinstance(value, str):
        return value
    try:
        if kind == "integer":
            return int(value)
        if kind == "number":
            return float(value)
        if kind == "boolean" and value.lower() in ("true", "false"):
            return value.lower() == "true"
    except ValueError:
        return value
    return value


def _is(kind: str, value: Any) -> bool:
    if kind == "string":
        return isinstance(value, str)
    if kind == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == "number":
        return isinstance(value, int | float) and not isinstance(value, bool)
    if kind == "boolean":
        return isinstance(value, bool)
    if kind == "array":
        return isinstance(value, list)
    if kind == "object":
        return isinstance(value, dict)
    return value is None


def _check_value(name: str, p: Mapping[str, Any], value: Any) -> None:
    kind = p.get("type")
    if value is None and not p.get("required"):
        return
    if kind is not None:
        kinds = kind if isinstance(kind, list) else [kind]
        if not any(_is(k, value) for k in kinds):
            raise BadRequest(f"Parameter '{name}': {value!r} is not of type '{kind}'.")
    if "enum" in p and value not in p["enum"]:
        raise BadRequest(f"Parameter '{name}': {value!r} is not one of {p['enum']}.")
    if isinstance(value, int | float) and not isinstance(value, bool):
        if "minimum" in p and value < p["minimum"]:
            raise BadRequest(f"Parameter '{name}': {value} is less than the minimum of {p['minimum']}.")
        if "maximum" in p and value > p["maximum"]:
            raise BadRequest(f"Parameter '{name}': {value} is greater than the maximum of {p['maximum']}.")


def masked(spec: Mapping[str, Any], values: Mapping[str, Any]) -> dict[str, Any]:
    """`values` with every secret parameter shown as ********."""
    hidden = secrets_of(spec)
    return {k: ("********" if k in hidden and v not in (None, "") else v) for k, v in values.items()}


SEALED = "__stackyard_sealed__"


def sealed(spec: Mapping[str, Any], values: Mapping[str, Any], seal: Callable[[str], str]) -> dict[str, Any]:
    """`values` as stored: each secret parameter's value encrypted by `seal` (see `opened`)."""
    hidden = secrets_of(spec)
    return {
        k: ({SEALED: seal(json.dumps(v))} if k in hidden and v not in (None, "") else v)
        for k, v in values.items()
    }


def opened(values: Mapping[str, Any], unseal: Callable[[str], str]) -> dict[str, Any]:
    """Stored `values` with their secret parameters decrypted by `unseal`, for the runner."""
    return {
        k: (json.loads(unseal(v[SEALED])) if isinstance(v, dict) and set(v) == {SEALED} else v)
        for k, v in values.items()
    }
