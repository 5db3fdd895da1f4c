"""Path ids: checked before any I/O and quoted one segment at a time (stripe's `sanitize_id`).

A uid that is empty, not a string, or only whitespace is a programming error, so it raises
`ValueError` at the call site instead of turning into a request for the collection.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote


def segment(value: Any, what: str = "uid") -> str:
    """One path segment, validated and percent-quoted (`/` included), so `a/b` stays one segment.

    >>> segment("fr fr", "locale code")
    'fr%20fr'
    """
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise ValueError(f"{what} must be a non-empty string, got {value!r}")
    text = str(value)
    if not text.strip():
        raise ValueError(f"{what} must be a non-empty string, got {value!r}")
    if text in (".", ".."):
        # quoting leaves dots alone and URL normalisation would resolve them: a path escape
        raise ValueError(f"{what} cannot be {text!r}")
    return quote(text, safe="")


def join(*parts: str) -> str:
    """Join already-quoted segments (and literal path words) with `/`."""
    return "/".join(parts)
