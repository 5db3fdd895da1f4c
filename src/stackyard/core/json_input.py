"""JSON from clients, read so that nothing in it can fail later in a handler or a database.

    data = loads(body, max_depth=64)       # ValueError (`Refused`) for anything below

Refused, besides what is not JSON at all:

  - nesting deeper than `max_depth` (Python's parser itself fails with RecursionError near 1000,
    and every recursive walk of the value after it would too);
  - NaN and Infinity, numbers too large for a float (`1e400`), and integers beyond 64 bits (no
    database column takes them; `math.isfinite(10**400)` raises);
  - NUL characters (PostgreSQL cannot store them) and unpaired surrogates such as `"\\ud800"`
    (neither engine can encode them), in keys as in values.

The walk that looks for the last three runs only when the raw text could hold one, so an ordinary
body costs one `json.loads`.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

from stackyard.settings import Settings

_INT_MIN, _INT_MAX = -(2**63), 2**63 - 1
_INT_DIGITS = len(str(_INT_MAX))
# Text that may decode to NUL or a surrogate: a \u escape of either, or (json decodes bytes with
# "surrogatepass") the UTF-8-like bytes of a surrogate.
_SUSPECT_BYTES = re.compile(rb"\\u(?:0000|[dD][89a-fA-F])|\x00|\xed[\xa0-\xbf]")
_SUSPECT_TEXT = re.compile(r"\\u(?:0000|[dD][89a-fA-F])|[\x00\ud800-\udfff]")
_BAD_CHAR = re.compile(r"[\x00\ud800-\udfff]")


class Refused(ValueError):
    """Valid JSON syntax, or close to it, that Stackyard does not take."""


def loads(raw: bytes | str, *, max_depth: int = Settings.max_json_depth) -> Any:
    """`raw` as JSON, within the rules of the module docstring; `Refused` (a ValueError) if not."""
    try:
        value = _DECODER.decode(_text(raw))
    except RecursionError:
        raise Refused(f"nested more than {max_depth} levels deep") from None
    if isinstance(raw, bytes):
        flagged = raw.count(b"[") + raw.count(b"{") > max_depth or bool(_SUSPECT_BYTES.search(raw))
    else:
        flagged = raw.count("[") + raw.count("{") > max_depth or bool(_SUSPECT_TEXT.search(raw))
    if flagged:
        _check(value, max_depth)
    return value


def _text(raw: bytes | str) -> str:
    """What `json.loads` decodes first: bytes in the UTF-8, -16 or -32 their start shows; a str
    that opens with a byte order mark is refused, as json.loads refuses it."""
    if isinstance(raw, str):
        if raw.startswith("\ufeff"):
            raise json.JSONDecodeError("Unexpected UTF-8 BOM (decode using utf-8-sig)", raw, 0)
        return raw
    return raw.decode(json.detect_encoding(raw), "surrogatepass")


def _no_constants(name: str) -> Any:
    """NaN and Infinity are not JSON (Python reads them anyway) and no database stores them."""
    raise Refused(f"{name} is not a valid JSON value")


def _int(text: str) -> int:
    if len(text.lstrip("-")) > _INT_DIGITS or not _INT_MIN <= (value := int(text)) <= _INT_MAX:
        raise Refused(f"the integer {text[:24]}{'...' if len(text) > 24 else ''} is beyond 64 bits")
    return value


def _float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise Refused(f"the number {text[:24]}{'...' if len(text) > 24 else ''} is too large")
    return value


# One decoder for every body (`json.loads` with these hooks built a new one, and its scanner, each call).
_DECODER = json.JSONDecoder(parse_constant=_no_constants, parse_int=_int, parse_float=_float)


def _check(value: Any, max_depth: int) -> None:
    """Depth, NUL and surrogates, without recursion (the value may be a thousand levels deep)."""
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, str):
            _check_text(item)
        elif isinstance(item, dict | list):
            if depth >= max_depth:
                raise Refused(f"nested more than {max_depth} levels deep")
            if isinstance(item, dict):
                for k, v in item.items():
                    _check_text(k)
                    stack.append((v, depth + 1))
            else:
                stack.extend((v, depth + 1) for v in item)


def _check_text(text: str) -> None:
    bad = _BAD_CHAR.search(text)
    if bad is None:
        return
    if bad.group() == "\x00":
        raise Refused("a string holds a NUL character (\\u0000)")
    raise Refused(f"a string holds an unpaired surrogate (\\u{ord(bad.group()):04x})")
