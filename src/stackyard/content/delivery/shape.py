"""Shaping published documents for an answer: `include[]` references, `only`/`except` projections.

    expand(docs, schema, ["author", "author.books"], fetch, depth=3)   # stubs -> published entries
    project(doc, only=["title", "info.name"])                            # uid always kept

References are expanded along dotted paths (through groups, global fields and modular blocks, and
from one referenced entry into its own references), up to `depth` references deep. A referenced
entry that is not published where the request reads is left out of the array, as if it were not
referenced. Every expanded entry carries `_content_type_uid`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import lru_cache
from typing import Any

import orjson

from stackyard.errors import BadRequest

# Answers the published documents (objects, or their JSON text) of (content type uid, entry uid)
# pairs, keyed the same way.
Fetch = Callable[[set[tuple[str, str]]], dict[tuple[str, str], Any]]
SchemaOf = Callable[[str], "list[dict[str, Any]] | None"]
Trie = dict[str, "Trie"]


def fields_by_uid(schema: Any) -> dict[str, dict[str, Any]]:
    return {f["uid"]: f for f in schema or [] if isinstance(f, dict) and isinstance(f.get("uid"), str)}


def trie(paths: list[str], depth: int, most: int) -> Trie:
    if len(paths) > most:
        raise BadRequest(
            f"At most {most} include[] paths may be given.", errors={"include": [f"at most {most} paths."]}
        )
    root: Trie = {}
    for path in paths:
        node = root
        for seg in path.split("."):
            if not seg:
                raise BadRequest(f"'{path}' is not a reference path.", errors={"include": ["is not valid."]})
            node = node.setdefault(seg, {})
    return root


def _containers(
    values: list[Any], schema: Any, node: Trie, out: list[tuple[dict[str, Any], str, Any, Trie]]
) -> None:
    """Collect (holder, key, reference field, sub-trie) for the reference arrays `node` names."""
    fields = fields_by_uid(schema)
    for seg, sub in node.items():
        f = fields.get(seg)
        if f is None:
            continue
        dt = f.get("data_type")
        holders = [v for v in values if isinstance(v, dict) and seg in v]
        if dt == "reference":
            for h in holders:
                out.append((h, seg, f, sub))
        elif dt in ("group", "global_field"):
            inner: list[Any] = []
            for h in holders:
                v = h[seg]
                inner.extend(v if isinstance(v, list) else [v])
            _containers(inner, f.get("schema"), sub, out)
        elif dt == "blocks":
            blocks = {b.get("uid"): b for b in f.get("blocks") or [] if isinstance(b, dict)}
            for block_uid, block_sub in sub.items():
                block = blocks.get(block_uid)
                if block is None:
                    continue
                items = [
                    item[block_uid]
                    for h in holders
                    if isinstance(h[seg], list)
                    for item in h[seg]
                    if isinstance(item, dict) and isinstance(item.get(block_uid), dict)
                ]
                _containers(items, block.get("schema"), block_sub, out)


def expand(
    docs: list[dict[str, Any]],
    schema: Any,
    node: Trie,
    fetch: Fetch,
    schema_of: SchemaOf,
    depth: int,
    seen: set[tuple[str, str]] | None = None,
    *,
    verbatim: bool = False,
) -> set[tuple[str, str]]:
    """Replace reference stubs along `node` with the referenced published entries, in place;
    answers every (content type, uid) included (for cache tags). `fetch` may answer documents as
    JSON text; with `verbatim` (nothing will project them), those included at the end of a path are
    sent as that text, with `_content_type_uid` appended, instead of being decoded and encoded."""
    included: set[tuple[str, str]] = set() if seen is None else seen
    if not node or depth <= 0:
        return included
    found: list[tuple[dict[str, Any], str, Any, Trie]] = []
    _containers(docs, schema, node, found)
    wanted: set[tuple[str, str]] = set()
    for holder, key, _, _ in found:
        for stub in stubs(holder[key]):
            wanted.add(stub)
    got = fetch(wanted) if wanted else {}
    included |= set(got)
    by_type: dict[str, list[dict[str, Any]]] = {}
    subtries: dict[str, Trie] = {}
    for holder, key, _field, sub in found:
        expanded: list[Any] = []
        for stub in stubs(holder[key]):
            doc = got.get(stub)
            if doc is None:
                continue
            if isinstance(doc, str):
                text = tagged_text(doc, stub[0]) if verbatim and not sub else None
                if text is not None:
                    expanded.append(orjson.Fragment(text))
                    continue
                doc = orjson.loads(doc)
            doc = {**doc, "_content_type_uid": stub[0]}
            expanded.append(doc)
            if sub:
                by_type.setdefault(stub[0], []).append(doc)
                subtries[stub[0]] = _merge(subtries.get(stub[0], {}), sub)
        holder[key] = expanded
    for ct, ct_docs in by_type.items():
        expand(ct_docs, schema_of(ct), subtries[ct], fetch, schema_of, depth - 1, included, verbatim=verbatim)
    return included


def _merge(a: Trie, b: Trie) -> Trie:
    out = dict(a)
    for k, v in b.items():
        out[k] = _merge(out.get(k, {}), v)
    return out


def tagged_text(doc: str, ct: str) -> str | None:
    """The JSON text of an included entry: its stored text `doc` with `_content_type_uid` appended;
    None when that text is not an object with members to append to (decode it instead)."""
    if doc.endswith("}") and doc != "{}":
        return doc[:-1] + _ct_member(ct)
    return None


@lru_cache(maxsize=1024)
def _ct_member(ct: str) -> str:
    return f',"_content_type_uid":{orjson.dumps(ct).decode()}}}'


def stubs(value: Any) -> list[tuple[str, str]]:
    """The (content type, uid) of each reference in a reference field's value, in order."""
    if not isinstance(value, list):
        return []
    return [
        (v["_content_type_uid"], v["uid"])
        for v in value
        if isinstance(v, dict)
        and isinstance(v.get("uid"), str)
        and isinstance(v.get("_content_type_uid"), str)
    ]


def project(
    doc: dict[str, Any], *, only: list[str] | None = None, excepts: list[str] | None = None
) -> dict[str, Any]:
    """`doc` with only the named (dotted) fields (uid and `_content_type_uid` kept); or without the named ones."""
    if only:
        out: dict[str, Any] = {k: doc[k] for k in ("uid", "_content_type_uid") if k in doc}
        for path in only:
            _copy_path(doc, out, path.split("."))
        doc = out
    if excepts:
        doc = _copy(doc)
        for path in excepts:
            if path not in ("uid", "_content_type_uid"):
                _drop_path(doc, path.split("."))
    return doc


def _copy(value: Any) -> Any:
    """A copy of the dicts and lists in `value` (anything else, encoded fragments too, is shared)."""
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copy(v) for v in value]
    return value


def _copy_path(src: Any, dst: dict[str, Any], segs: list[str]) -> None:
    key = segs[0]
    if not isinstance(src, dict) or key not in src:
        return
    value = src[key]
    if len(segs) == 1:
        dst[key] = value
        return
    if isinstance(value, list):
        items = dst.setdefault(key, [{} for _ in value])
        if isinstance(items, list):
            for v, d in zip(value, items, strict=False):
                if isinstance(d, dict):
                    _copy_path(v, d, segs[1:])
    elif isinstance(value, dict):
        inner = dst.setdefault(key, {})
        if isinstance(inner, dict):
            _copy_path(value, inner, segs[1:])


def _drop_path(doc: Any, segs: list[str]) -> None:
    if isinstance(doc, list):
        for v in doc:
            _drop_path(v, segs)
        return
    if not isinstance(doc, dict) or segs[0] not in doc:
        return
    if len(segs) == 1:
        del doc[segs[0]]
    else:
        _drop_path(doc[segs[0]], segs[1:])


def project_references(
    docs: list[dict[str, Any]], only: dict[str, list[str]], excepts: dict[str, list[str]]
) -> None:
    """`only[author][]=name` / `except[author][]=bio`: projections of the entries included at the
    reference field (or dotted path) `author`, in place."""
    for path in {*only, *excepts} - {"BASE"}:
        for holder, key in _holders(docs, path.split(".")):
            holder[key] = [
                project(d, only=only.get(path), excepts=excepts.get(path)) if isinstance(d, dict) else d
                for d in holder[key]
            ]


def _holders(values: list[Any], segs: list[str]) -> Iterator[tuple[dict[str, Any], str]]:
    for v in values:
        if isinstance(v, list):
            yield from _holders(v, segs)
        elif isinstance(v, dict) and segs[0] in v:
            if len(segs) == 1:
                if isinstance(v[segs[0]], list):
                    yield v, segs[0]
            else:
                inner = v[segs[0]]
                yield from _holders(inner if isinstance(inner, list) else [inner], segs[1:])
