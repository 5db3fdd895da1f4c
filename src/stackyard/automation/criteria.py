"""Rule criteria (st2 `operators.py`, catalogue §7), as pure functions of the payload.

    matches({"trigger.body.x": {"type": "equals", "pattern": 1}}, {"body": {"x": 1}})  -> True

A criterion key is a dotted path from `trigger.` into the payload (a `#N` suffix repeats a key);
`pattern` is compared with the value found there. A missing key fails every operator but `nexists`
(and `exists` is true only for present keys). A `None` pattern fails the comparing operators.
Patterns and keys may hold Jinja; the rules engine renders them before calling `matches`.
"""

from __future__ import annotations

import fnmatch
import re
import time
from collections.abc import Callable, Mapping
from typing import Any

from stackyard.errors import BadRequest

_MISSING = object()


def _s(v: Any) -> str:
    return v if isinstance(v, str) else str(v)


def _epoch(v: Any) -> float:
    from stackyard.automation.common import parse_iso

    if isinstance(v, int | float):
        return float(v)
    return parse_iso(str(v))


def _search(value: Any, pattern: Any, condition: str) -> bool:
    if not isinstance(value, list) or not isinstance(pattern, dict):
        return False
    results = [
        [_match_one(item_criterion, item) for item_criterion in _item_criteria(pattern)] for item in value
    ]
    if condition == "any":  # some item matches every criterion
        return any(all(r) for r in results)
    if condition == "all":  # every item matches every criterion
        return bool(results) and all(all(r) for r in results)
    if condition == "any2any":  # some item matches some criterion
        return any(any(r) for r in results)
    if condition == "all2any":  # every item matches some criterion
        return bool(results) and all(any(r) for r in results)
    raise BadRequest(f'Unknown search condition "{condition}"; use any, all, any2any or all2any.')


def _item_criteria(pattern: Mapping[str, Any]) -> list[tuple[str, Mapping[str, Any]]]:
    return [(k, v) for k, v in pattern.items() if isinstance(v, Mapping)]


def _match_one(criterion: tuple[str, Mapping[str, Any]], item: Any) -> bool:
    key, spec = criterion
    path = key.split(".", 1)[1] if key.startswith("item.") else key
    return check(spec, lookup({"item": item} if not key.startswith("item.") else item, path))


def _cmp(fn: Callable[[Any, Any], bool]) -> Callable[[Any, Any], bool]:
    def wrapped(v: Any, p: Any) -> bool:
        if v is _MISSING or p is None:
            return False
        try:
            return bool(fn(v, p))
        except (TypeError, ValueError, re.error):
            return False

    return wrapped


OPERATORS: dict[str, Callable[[Any, Any], bool]] = {
    "equals": _cmp(lambda v, p: v == p or _s(v) == _s(p)),
    "nequals": lambda v, p: not OPERATORS["equals"](v, p),
    "iequals": _cmp(lambda v, p: _s(v).lower() == _s(p).lower()),
    "contains": _cmp(lambda v, p: _s(p) in (v if isinstance(v, list) else _s(v))),
    "ncontains": lambda v, p: v is not _MISSING and p is not None and not OPERATORS["contains"](v, p),
    "icontains": _cmp(lambda v, p: _s(p).lower() in _s(v).lower()),
    "incontains": lambda v, p: v is not _MISSING and p is not None and not OPERATORS["icontains"](v, p),
    "startswith": _cmp(lambda v, p: _s(v).startswith(_s(p))),
    "istartswith": _cmp(lambda v, p: _s(v).lower().startswith(_s(p).lower())),
    "endswith": _cmp(lambda v, p: _s(v).endswith(_s(p))),
    "iendswith": _cmp(lambda v, p: _s(v).lower().endswith(_s(p).lower())),
    "lessthan": _cmp(lambda v, p: v < p if type(v) is type(p) else float(v) < float(p)),
    "greaterthan": _cmp(lambda v, p: v > p if type(v) is type(p) else float(v) > float(p)),
    "matchwildcard": _cmp(lambda v, p: fnmatch.fnmatch(_s(v), _s(p))),
    "matchregex": _cmp(lambda v, p: re.match(_s(p), _s(v), re.DOTALL) is not None),
    "regex": _cmp(lambda v, p: re.search(_s(p), _s(v)) is not None),
    "iregex": _cmp(lambda v, p: re.search(_s(p), _s(v), re.IGNORECASE) is not None),
    "timediff_lt": _cmp(lambda v, p: time.time() - _epoch(v) < float(p)),
    "timediff_gt": _cmp(lambda v, p: time.time() - _epoch(v) > float(p)),
    "exists": lambda v, p: v is not _MISSING,
    "nexists": lambda v, p: v is _MISSING,
    "inside": _cmp(lambda v, p: v in p),
    "ninside": lambda v, p: v is not _MISSING and p is not None and not OPERATORS["inside"](v, p),
}
ALIASES = {
    "eq": "equals",
    "neq": "nequals",
    "ieq": "iequals",
    "lt": "lessthan",
    "gt": "greaterthan",
    "td_lt": "timediff_lt",
    "td_gt": "timediff_gt",
    "in": "inside",
    "nin": "ninside",
}
NAMES = set(OPERATORS) | set(ALIASES) | {"search"}
# Operators applying a regular expression (`search` nests criteria that may): their cost depends on
# the pattern, and a backtracking one can take very long on a crafted payload.
PATTERN_OPERATORS = {"matchregex", "regex", "iregex", "search"}


def bounded(criteria: Mapping[str, Any]) -> bool:
    """Do these criteria check in a time bounded by the payload's size (no regular expression)?"""
    return not any(spec.get("type") in PATTERN_OPERATORS for spec in criteria.values())


def lookup(payload: Any, path: str) -> Any:
    """The value at a dotted path (list indexes allowed), or _MISSING."""
    value = payload
    for part in path.split(".") if path else []:
        if isinstance(value, Mapping) and part in value:
            value = value[part]
        elif isinstance(value, list) and part.lstrip("-").isdigit() and -len(value) <= int(part) < len(value):
            value = value[int(part)]
        else:
            return _MISSING
    return value


def check(spec: Mapping[str, Any], value: Any) -> bool:
    kind = spec.get("type")
    name = ALIASES.get(str(kind), str(kind))
    if name == "search":
        return value is not _MISSING and _search(
            value, spec.get("pattern"), str(spec.get("condition") or "any")
        )
    fn = OPERATORS.get(name)
    if fn is None:
        raise BadRequest(f'Unknown criteria operator "{kind}".')
    return fn(value, spec.get("pattern"))


def validate(criteria: Any) -> dict[str, Any]:
    """Criteria of a rule, checked on create and update."""
    if criteria in (None, {}):
        return {}
    if not isinstance(criteria, dict):
        raise BadRequest("criteria must be an object of 'trigger.<path>' -> {type, pattern}.")
    for key, spec in criteria.items():
        if not isinstance(spec, dict) or "type" not in spec:
            raise BadRequest(f"Criterion {key!r} needs an object with a 'type'.")
        if spec["type"] not in NAMES:
            raise BadRequest(
                f'Criterion {key!r}: unknown operator "{spec["type"]}" (one of {", ".join(sorted(NAMES))}).'
            )
    return criteria


def matches(criteria: Mapping[str, Any], payload: Any) -> bool:
    """Do all criteria hold for this trigger payload?"""
    for key, spec in criteria.items():
        path = key.split("#", 1)[0]
        if path.startswith("trigger."):
            path = path[len("trigger.") :]
        elif path == "trigger":
            path = ""
        if not check(spec, lookup(payload, path)):
            return False
    return True
