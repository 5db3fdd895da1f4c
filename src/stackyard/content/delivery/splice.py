"""`include[]` of top-level references by splicing stored texts: the answer `shape.expand` gives,
without decoding the documents and encoding them again.

    names = reference_fields(schema, trie(["author"], 3, 100))        # ["author"]
    entries = splice([(document, spans), ...], names, fetch)           # orjson.Fragment each

A published entry's row keeps its document's text and where each top-level array lies in it
(`store.json_spans`). When a read asks only to include reference fields of the entries themselves
(each path one segment long, and no projection or other flag that changes the documents, see
`Ask.only_includes`), each such array is replaced by the referenced entries' own stored texts with
`_content_type_uid` appended, as `expand` sends them, and the rest of the text is sent as stored,
as a read without `include[]` sends it. Anything else (a path into a group, a block or a
referenced entry's references, a row without spans, a reference field holding something other
than an array) answers None and the read takes the general path; `tests/content/delivery/
test_splice.py` checks that both paths give the same answers.
"""

from __future__ import annotations

from typing import Any

import orjson

from stackyard.content.delivery.shape import Fetch, Trie, fields_by_uid, stubs, tagged_text
from stackyard.store.json_spans import key_text

_NESTING = ("group", "global_field", "blocks")


def reference_fields(schema: Any, node: Trie) -> list[str] | None:
    """The top-level reference fields `node` includes, if including them is all it asks: None when
    a path goes on past a reference or into a field that nests others (the general path follows
    those). Paths naming no field, or a field of another kind, include nothing, as in `expand`."""
    fields = fields_by_uid(schema)
    names: list[str] = []
    for seg, sub in node.items():
        dt = fields[seg].get("data_type") if seg in fields else None
        if dt == "reference" and not sub:
            names.append(seg)
        elif dt == "reference" or dt in _NESTING:
            return None
    return names


def splice(rows: list[tuple[Any, Any]], names: list[str], fetch: Fetch) -> list[orjson.Fragment] | None:
    """The (document, spans) rows with the reference arrays `names` replaced by the entries they
    name (those `fetch` finds, in order); None when a row cannot be spliced."""
    loads = orjson.loads
    cuts: list[list[tuple[int, int, list[tuple[str, str]]]]] = []
    wanted: set[tuple[str, str]] = set()
    for text, spans in rows:
        if not isinstance(text, str) or spans is None:
            return None
        where = loads(spans)
        mine = []
        for name in names:
            span = where.get(name)
            if span is None:
                if key_text(name) in text:  # there, but no array: `expand` makes it []
                    return None
                continue
            refs = stubs(loads(text[span[0] : span[1]]))
            wanted.update(refs)
            mine.append((span[0], span[1], refs))
        if len(mine) > 1:
            mine.sort()
        cuts.append(mine)
    # Each entry found, as it is sent (once, however many rows name it).
    found = {ref: _included(doc, ref[0]) for ref, doc in (fetch(wanted) if wanted else {}).items()}
    out = []
    for (text, _), mine in zip(rows, cuts, strict=True):
        parts, at = [], 0
        for start, end, refs in mine:
            parts.append(text[at:start])
            parts.append("[" + ",".join([found[r] for r in refs if r in found]) + "]")
            at = end
        parts.append(text[at:])
        out.append(orjson.Fragment("".join(parts)))
    return out


def _included(doc: Any, ct: str) -> str:
    """An included entry's text, as `expand` sends it (its stored text with `_content_type_uid`)."""
    if isinstance(doc, str):
        text = tagged_text(doc, ct)
        if text is not None:
            return text
        doc = orjson.loads(doc)
    return orjson.dumps({**doc, "_content_type_uid": ct}).decode()
