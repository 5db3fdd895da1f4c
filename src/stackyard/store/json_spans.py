"""A JSON object's text, and where each of its top-level arrays lies in that text.

    text, spans = dump({"title": "A", "author": [{"uid": "blt1", "_content_type_uid": "author"}]})
    # text == jdump(doc); spans == '{"author":[22,67]}': text[22:67] is the author array

`text` is exactly what `jdump` writes, so it can be stored in its place. `spans` maps each
top-level key whose value is an array to the [start, end) character offsets of that array in
`text` (keys of other values are not listed). A reader that keeps the text (SQLite hands stored
JSON back as written) can then replace one array with other JSON text by slicing, without
decoding the object and encoding it again: the delivery API splices the entries a reference
array names in that way (`content.delivery.splice`). Only arrays are listed because those are
what get replaced, and a short `spans` costs less to decode than the document it saves decoding.
"""

from __future__ import annotations

from typing import Any

from stackyard.store.tx import jdump

# Members are encoded one by one as `jdump` encodes whole documents (the same bytes as json.dumps'
# compact form; only a float NaN or infinity, which no stored document holds, could differ).
_ENCODE = jdump


def dump(doc: Any) -> tuple[str, str | None]:
    """`(jdump(doc), spans)`; spans is None when `doc` is not an object with string keys."""
    if not isinstance(doc, dict) or not all(isinstance(k, str) for k in doc):
        return jdump(doc), None
    # json encodes an object as its members joined by ",", each the key, ":" and the value: encoding
    # them one by one gives the same text, and the length of what precedes each value.
    parts: list[str] = []
    spans: dict[str, list[int]] = {}
    at = 1  # after "{"
    for key, value in doc.items():
        name = _ENCODE(key) + ":"
        text = _ENCODE(value)
        if isinstance(value, list):
            start = at + len(name)
            spans[key] = [start, start + len(text)]
        parts.append(name + text)
        at += len(name) + len(text) + 1  # and the ","
    return "{" + ",".join(parts) + "}", _ENCODE(spans)


def key_text(key: str) -> str:
    """How `key` reads as a member name in a text `dump` wrote (`"key":`)."""
    return _ENCODE(key) + ":"
