"""StackPath list semantics: the `page_request.filter` grammar and cursor pagination.

Filter (reference/stackpath_api.md §3.3): `field = 'literal'` terms joined by `and`, literals in
single or double quotes (or bare numbers and true/false). Only the fields a list allows may be
named; anything else is a 400 that says what is understood. Matching compares the rendered
object's value as text, so `status='ACTIVE'` and `enabled=true` both work.

Pagination: `page_request.first` items after the cursor `page_request.after`. A cursor is the
position of an item in the filtered, ordered list (as text), so `endCursor` of one page is the
`after` of the next. pystackpath's `sort_by` bug puts a field name into `first` (§3.2): a
non-numeric `first` that names an allowed field sorts by it; any other is ignored. `pageInfo`
has exactly the five keys the client accepts.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from stackyard.errors import BadRequest

DEFAULT_FIRST = 50
MAX_FIRST = 1000
_TERM = re.compile(
    r"""\s*([A-Za-z_][A-Za-z0-9_.]*)\s*=\s*(?:'([^']*)'|"([^"]*)"|([A-Za-z0-9_.:-]+))\s*""",
)
_AND = re.compile(r"\s+and\s+", re.IGNORECASE)


def parse_filter(text: str | None, fields: Iterable[str]) -> list[tuple[str, str]]:
    """`name='x' and status="ACTIVE"` -> [("name", "x"), ("status", "ACTIVE")]; 400 otherwise."""
    if not text or not text.strip():
        return []
    allowed = set(fields)
    terms = []
    for part in _split(text):
        m = _TERM.fullmatch(part)
        if m is None:
            raise BadRequest(
                f"Cannot read the filter term {part.strip()!r}: use field = 'value' terms joined by 'and'.",
                errors={"page_request.filter": ["must be field = 'value' terms joined by 'and'."]},
            )
        name = m.group(1)
        if name not in allowed:
            raise BadRequest(
                f"Cannot filter on {name!r}; filterable fields: {', '.join(sorted(allowed))}.",
                errors={"page_request.filter": [f"{name} is not a filterable field."]},
            )
        value = next(g for g in m.groups()[1:] if g is not None)
        terms.append((name, value))
    return terms


def _split(text: str) -> list[str]:
    """Split on `and` outside quotes."""
    parts, quote, start, i = [], "", 0, 0
    while i < len(text):
        ch = text[i]
        if quote:
            quote = "" if ch == quote else quote
        elif ch in "'\"":
            quote = ch
        else:
            m = _AND.match(text, i)
            if m is not None and i > start:
                parts.append(text[start:i])
                start = i = m.end()
                continue
        i += 1
    parts.append(text[start:])
    return parts


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def matches(item: dict[str, Any], terms: list[tuple[str, str]]) -> bool:
    for name, value in terms:
        found: Any = item
        for key in name.split("."):
            found = found.get(key) if isinstance(found, dict) else None
        wanted = value.lower() if isinstance(found, bool) else value
        if _text(found) != wanted:
            return False
    return True


def page(
    items: list[dict[str, Any]],
    query: Any,
    fields: Iterable[str],
) -> dict[str, Any]:
    """`{"pageInfo": ..., "results": [...]}` for `items` (already in their default order)."""
    fields = list(fields)
    terms = parse_filter(query.get("page_request.filter"), fields)
    chosen = [i for i in items if matches(i, terms)]
    first_raw = (query.get("page_request.first") or "").strip()
    sort_by = (query.get("page_request.sort_by") or "").strip()
    first = DEFAULT_FIRST
    if first_raw.isdigit():
        first = min(MAX_FIRST, max(1, int(first_raw)))
    elif first_raw in fields:
        sort_by = first_raw  # pystackpath's sort_by bug
    if sort_by.lstrip("-") in fields:
        key = sort_by.lstrip("-")
        chosen.sort(key=lambda i: _text(i.get(key)), reverse=sort_by.startswith("-"))
    after_raw = (query.get("page_request.after") or "").strip()
    start = 0
    if after_raw:
        if not after_raw.lstrip("-").isdigit():
            raise BadRequest(
                "page_request.after must be a cursor from a previous page's pageInfo.",
                errors={"page_request.after": ["is not a cursor."]},
            )
        start = max(0, int(after_raw) + 1)
    window = chosen[start : start + first]
    info: dict[str, Any] = {
        "totalCount": str(len(chosen)),
        "hasPreviousPage": start > 0,
        "hasNextPage": start + len(window) < len(chosen),
        "startCursor": str(start) if window else "",
        "endCursor": str(start + len(window) - 1) if window else "",
    }
    return {"pageInfo": info, "results": window}


def single_page(items: list[dict[str, Any]]) -> dict[str, Any]:
    """A whole list as one page (lists the client reads without paging parameters)."""
    n = len(items)
    info = {
        "totalCount": str(n),
        "hasPreviousPage": False,
        "hasNextPage": False,
        "startCursor": "0" if n else "",
        "endCursor": str(n - 1) if n else "",
    }
    return {"pageInfo": info, "results": items}
