"""JSON answers as bytes: orjson, with what `json.dumps(..., default=str)` gave for the rest.

Compact, UTF-8 (not ASCII-escaped), keys in insertion order; values JSON has no type for become
their `str()` (datetimes and dataclasses included, as before), non-string keys become strings. What
orjson refuses (integers past 64 bits, nesting past its depth limit) is encoded by the standard
library instead, so nothing that rendered before fails now.
"""

from __future__ import annotations

import json
from typing import Any

import orjson

_OPTIONS = orjson.OPT_NON_STR_KEYS | orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS


def dumps(content: Any) -> bytes:
    try:
        return orjson.dumps(content, default=str, option=_OPTIONS)
    except TypeError:  # orjson.JSONEncodeError
        return json.dumps(content, ensure_ascii=False, separators=(",", ":"), default=str).encode("utf-8")
