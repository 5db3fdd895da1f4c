"""CMA routes for locales (catalogue §2.8); paths name a locale by its code."""

from __future__ import annotations

from typing import Any

from stackyard.api.routing import Req, Router
from stackyard.content.publishing import snapshots
from stackyard.core.readonly import writable
from stackyard.stacks import locales

router = Router()


@router.get("/v3/locales")
def find(r: Req) -> Any:
    with r.db.read() as tx:
        items = locales.find(tx, r.access(tx))
    out: dict[str, Any] = {"locales": items}
    if r.flag("include_count"):
        out["count"] = len(items)
    return out


@router.get("/v3/locales/{code}")
def fetch(r: Req) -> Any:
    with r.db.read() as tx:
        return {"locale": locales.fetch(tx, r.access(tx), r.path["code"])}


@router.post("/v3/locales")
def create(r: Req) -> Any:
    data = r.envelope("locale")
    with r.db.write() as tx:
        locale = locales.create(tx, r.access(tx), data)
    return 201, {"notice": "Language added successfully.", "locale": locale}


@router.put("/v3/locales/{code}")
def update(r: Req) -> Any:
    data = writable("locale", r.envelope("locale"))
    with r.db.write() as tx:
        locale = locales.update(tx, r.access(tx), r.path["code"], data)
    return {"notice": "Language updated successfully.", "locale": locale}


@router.delete("/v3/locales/{code}")
def delete(r: Req) -> Any:
    code = r.path["code"].lower()
    with r.db.write() as tx:
        access = r.access(tx)
        locales.delete(tx, access, code)
        # Nothing stays published in the language, nor from its copies into other languages.
        snapshots.withdraw(tx, access, locales=[code])
        snapshots.withdraw(tx, access, source_locale=code)
    return {"notice": "Language removed successfully."}
