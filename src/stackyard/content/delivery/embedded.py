"""`include_embedded_items[]=BASE`: the entries and assets embedded in an entry's rich text.

    found = embeds(schema, doc)          # {"body": [("entry", "article", "blt1"), ("asset", "", "blt2")]}
    attach(docs, schema, fetch_entries, fetch_assets)

Rich text is a JSON RTE field (`data_type: json` with `field_metadata.allow_json_rte`), whose
embeds are nodes `{"type": "reference", "attrs": {"type": "entry", "entry-uid", "content-type-uid"}}`
(or `"type": "asset"` with `"asset-uid"`), or an HTML RTE field (`data_type: text` with
`field_metadata.allow_rich_text`), whose embeds are elements with the class `embedded-entry` /
`embedded-asset` and `data-sys-entry-uid` + `data-sys-content-type-uid` / `data-sys-asset-uid`.
They are looked for through groups, global fields and modular blocks.

Each entry gets `_embedded_items`: the field's dotted path (`body`, `info.notes`, `sections.hero.text`)
-> the embedded items available where the request reads, in the order they first appear: entries
with `_content_type_uid`, assets with `"_content_type_uid": "sys_assets"`. An item that is not
published there is left out, as an unpublished reference is.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

from stackyard.store.engine import jload

Item = tuple[str, str, str]  # ("entry", content type uid, uid) or ("asset", "", uid)
FetchEntries = Callable[[set[tuple[str, str]]], dict[tuple[str, str], Any]]
FetchAssets = Callable[[set[str]], dict[str, dict[str, Any]]]
ASSETS = "sys_assets"

# Linear-time scans: one start tag at a time, then its attributes.
_TAG = re.compile(r"<[A-Za-z][^<>]*>")
_ATTR = re.compile(r"""([^\s=<>"'/]+)\s*=\s*(?:"([^"]*)"|'([^']*)')""")


def _is_rich(f: dict[str, Any]) -> str | None:
    meta = f.get("field_metadata") if isinstance(f.get("field_metadata"), dict) else {}
    assert isinstance(meta, dict)
    if f.get("data_type") == "json" and meta.get("allow_json_rte") is True:
        return "json"
    if f.get("data_type") == "text" and meta.get("allow_rich_text") is True:
        return "html"
    return None


def _values(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _json_embeds(node: Any, out: list[Item]) -> None:
    if isinstance(node, list):
        for n in node:
            _json_embeds(n, out)
        return
    if not isinstance(node, dict):
        return
    attrs = node.get("attrs")
    if node.get("type") == "reference" and isinstance(attrs, dict):
        if attrs.get("type") == "entry" and isinstance(attrs.get("entry-uid"), str):
            ct = attrs.get("content-type-uid")
            if isinstance(ct, str):
                out.append(("entry", ct, attrs["entry-uid"]))
        elif attrs.get("type") == "asset" and isinstance(attrs.get("asset-uid"), str):
            out.append(("asset", "", attrs["asset-uid"]))
    _json_embeds(node.get("children"), out)


def _html_embeds(html: Any, out: list[Item]) -> None:
    if not isinstance(html, str) or "data-sys-" not in html:
        return
    for tag in _TAG.finditer(html):
        attrs = {
            m.group(1).lower(): m.group(2) if m.group(2) is not None else m.group(3)
            for m in _ATTR.finditer(tag.group())
        }
        classes = (attrs.get("class") or "").split()
        if "embedded-entry" in classes or attrs.get("type") == "entry":
            uid, ct = attrs.get("data-sys-entry-uid"), attrs.get("data-sys-content-type-uid")
            if uid and ct:
                out.append(("entry", ct, uid))
        elif "embedded-asset" in classes or attrs.get("type") == "asset":
            uid = attrs.get("data-sys-asset-uid")
            if uid:
                out.append(("asset", "", uid))


def _walk(schema: Any, holders: list[Any], prefix: str) -> Iterator[tuple[str, list[Item]]]:
    for f in schema or []:
        if not isinstance(f, dict) or not isinstance(f.get("uid"), str):
            continue
        uid = f["uid"]
        values = [v for h in holders if isinstance(h, dict) and uid in h for v in _values(h[uid])]
        if not values:
            continue
        path = prefix + uid
        kind = _is_rich(f)
        dt = f.get("data_type")
        if kind is not None:
            found: list[Item] = []
            for v in values:
                (_json_embeds if kind == "json" else _html_embeds)(v, found)
            if found:
                yield path, list(dict.fromkeys(found))
        elif dt in ("group", "global_field"):
            yield from _walk(f.get("schema"), values, path + ".")
        elif dt == "blocks":
            for block in f.get("blocks") or []:
                if isinstance(block, dict) and isinstance(block.get("uid"), str):
                    b = block["uid"]
                    inner = [v[b] for v in values if isinstance(v, dict) and isinstance(v.get(b), dict)]
                    yield from _walk(block.get("schema"), inner, f"{path}.{b}.")


def embeds(schema: Any, doc: dict[str, Any]) -> dict[str, list[Item]]:
    """The rich text fields of `doc` that embed something: dotted path -> items, first seen first."""
    return dict(_walk(schema, [doc], ""))


def attach(docs: list[dict[str, Any]], schema: Any, entries: FetchEntries, assets: FetchAssets) -> None:
    """Set `_embedded_items` on each document, in place, reading every embedded item at once."""
    found = [embeds(schema, d) for d in docs]
    want_entries = {
        (ct, uid) for paths in found for items in paths.values() for k, ct, uid in items if k == "entry"
    }
    want_assets = {uid for paths in found for items in paths.values() for k, _, uid in items if k == "asset"}
    got_entries = entries(want_entries) if want_entries else {}
    got_assets = assets(want_assets) if want_assets else {}
    for doc, paths in zip(docs, found, strict=True):
        out: dict[str, list[dict[str, Any]]] = {}
        for path, items in paths.items():
            shown: list[dict[str, Any]] = []
            for kind, ct, uid in items:
                if kind == "entry":
                    got = got_entries.get((ct, uid))
                    if got is not None:
                        shown.append({**jload(got), "_content_type_uid": ct})
                elif uid in got_assets:
                    shown.append({**got_assets[uid], "_content_type_uid": ASSETS})
            out[path] = shown
        doc["_embedded_items"] = out
