"""CMA routes for extensions (catalogue §2.8): JSON bodies, or a multipart upload of the source.

The management SDK's `upload()` sends form fields `extension[title]`, `extension[type]`,
`extension[data_type]`, `extension[tags]` (the Python `str()` of a list or dict),
`extension[multiple]` ('True'/'False') and the file in `extension[upload]`.
"""

from __future__ import annotations

import ast
from typing import Any

from stackyard.api.body import Part, looks_multipart
from stackyard.api.routing import Req, Router
from stackyard.content.model import extensions
from stackyard.core import json_input
from stackyard.core.readonly import writable
from stackyard.errors import invalid

router = Router()
_FORM_PREFIX = "extension["
_TAGS_LIMIT = 10_000


def _tags(raw: str) -> Any:
    """Tags from a form field: JSON, a Python literal as the SDK sends it, or a comma list."""
    raw = raw.strip()
    if not raw:
        return []
    if len(raw) > _TAGS_LIMIT:
        raise invalid({"tags": [f"must be at most {_TAGS_LIMIT} characters."]}, extensions.INVALID)
    for parse in (json_input.loads, ast.literal_eval):
        try:
            value = parse(raw)
        except (ValueError, SyntaxError, MemoryError, RecursionError):
            continue
        if isinstance(value, dict):  # the SDK's docstring sends tags={} for "no tags"
            return []
        if isinstance(value, set | tuple):
            return [str(v) for v in value]
        return [value] if isinstance(value, str) else value
    return [t.strip() for t in raw.split(",") if t.strip()]


def _from_form(parts: list[Part]) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for part in parts:
        if not (part.name.startswith(_FORM_PREFIX) and part.name.endswith("]")):
            continue
        key = part.name[len(_FORM_PREFIX) : -1]
        if key == "upload":
            try:
                data["srcdoc"] = part.data.decode("utf-8")
            except UnicodeDecodeError:
                raise invalid({"upload": ["must be a UTF-8 text (HTML) file."]}, extensions.INVALID) from None
        elif key == "tags":
            data["tags"] = _tags(part.text())
        elif key == "multiple":
            data["multiple"] = part.text().strip().lower() in ("true", "1", "yes")
        elif key in ("config", "scope"):
            try:
                data[key] = json_input.loads(part.text() or "{}")
            except ValueError:
                data[key] = part.text()
        else:
            data[key] = part.text()
    if not data:
        raise invalid({"extension": ["is required: form fields extension[title], extension[upload]..."]})
    return data


def _body(r: Req) -> dict[str, Any]:
    if looks_multipart(r.body):
        return _from_form(r.parts())
    data = r.json()
    if "extension" not in data and "title" in data:  # the SDK's create() docstring shows no envelope
        return data
    return r.envelope("extension")


@router.get("/v3/extensions")
def find(r: Req) -> Any:
    skip, limit = r.page()
    with r.db.read() as tx:
        items, count = extensions.find(tx, r.access(tx), skip, limit, count=r.flag("include_count"))
    out: dict[str, Any] = {"extensions": items}
    if r.flag("include_count"):
        out["count"] = count
    return out


@router.get("/v3/extensions/{uid}")
def fetch(r: Req) -> Any:
    with r.db.read() as tx:
        return {"extension": extensions.fetch(tx, r.access(tx), r.path["uid"])}


@router.post("/v3/extensions")
def create(r: Req) -> Any:
    data = _body(r)
    with r.db.write() as tx:
        ext = extensions.create(tx, r.access(tx), data)
    return 201, {"notice": "Extension created successfully.", "extension": ext}


@router.put("/v3/extensions/{uid}")
def update(r: Req) -> Any:
    data = writable("extension", _body(r))
    with r.db.write() as tx:
        ext = extensions.update(tx, r.access(tx), r.path["uid"], data)
    return {"notice": "Extension updated successfully.", "extension": ext}


@router.delete("/v3/extensions/{uid}")
def delete(r: Req) -> Any:
    with r.db.write() as tx:
        extensions.delete(tx, r.access(tx), r.path["uid"])
    return {"notice": "Extension deleted successfully."}
