"""CDN sites, their scopes, origins and configuration (`/cdn/v1/stacks/{stack}/sites/...`)."""

from __future__ import annotations

from typing import Any

from stackyard.api.routing import Req, Router
from stackyard.api.stackpath._auth import edge_caller, no_content
from stackyard.edge import certificates, configuration, paging, sites

router = Router(api="stackpath")
SITES = "/cdn/v1/stacks/{stack}/sites"
SITE = SITES + "/{site}"
SCOPE = SITE + "/scopes/{scope}"


def _body(r: Req) -> dict[str, Any]:
    return r.json() if r.body.strip() else {}


@router.get(SITES)
def find(r: Req) -> Any:
    with r.db.read() as tx:
        items = sites.find(tx, edge_caller(r, tx), r.path["stack"])
    return paging.page(items, r.query, sites.FIELDS)


@router.post(SITES)
def create(r: Req) -> Any:
    body = r.json()
    with r.db.write() as tx:
        return {"site": sites.create(tx, edge_caller(r, tx), r.path["stack"], body)}


@router.get(SITE)
def fetch(r: Req) -> Any:
    with r.db.read() as tx:
        return {"site": sites.fetch(tx, edge_caller(r, tx), r.path["stack"], r.path["site"])}


@router.delete(SITE)
def delete(r: Req) -> Any:
    with r.db.write() as tx:
        sites.delete(tx, edge_caller(r, tx), r.path["stack"], r.path["site"])
    return no_content()


@router.post(SITE + "/enable")
def enable(r: Req) -> Any:
    with r.db.write() as tx:
        sites.set_enabled(tx, edge_caller(r, tx), r.path["stack"], r.path["site"], True)
    return no_content()


@router.post(SITE + "/disable")
def disable(r: Req) -> Any:
    with r.db.write() as tx:
        sites.set_enabled(tx, edge_caller(r, tx), r.path["stack"], r.path["site"], False)
    return no_content()


@router.get(SITE + "/dns/targets")
def targets(r: Req) -> Any:
    s = r.settings
    host = s.edge_host or s.host
    with r.db.read() as tx:
        return sites.targets(tx, edge_caller(r, tx), r.path["stack"], r.path["site"], host)


@router.put(SITE + "/certificates/{certificate}")
def assign_certificate(r: Req) -> Any:
    with r.db.write() as tx:
        found = certificates.assign(
            tx, edge_caller(r, tx), r.path["stack"], r.path["site"], r.path["certificate"]
        )
    return {"siteCertificate": found}


@router.get(SITE + "/scopes")
def scopes(r: Req) -> Any:
    with r.db.read() as tx:
        items = sites.scopes(tx, edge_caller(r, tx), r.path["stack"], r.path["site"])
    return paging.page(items, r.query, ("id", "path", "platform"))


@router.post(SITE + "/scopes")
def create_scope(r: Req) -> Any:
    body = _body(r)
    with r.db.write() as tx:
        return {"scope": sites.create_scope(tx, edge_caller(r, tx), r.path["stack"], r.path["site"], body)}


@router.delete(SCOPE)
def delete_scope(r: Req) -> Any:
    with r.db.write() as tx:
        sites.delete_scope(tx, edge_caller(r, tx), r.path["stack"], r.path["site"], r.path["scope"])
    return no_content()


@router.get(SCOPE + "/configuration")
def get_configuration(r: Req) -> Any:
    with r.db.read() as tx:
        found = configuration.get(tx, edge_caller(r, tx), r.path["stack"], r.path["site"], r.path["scope"])
    return {"configuration": found}


@router.add("PATCH", SCOPE + "/configuration")
def update_configuration(r: Req) -> Any:
    """pystackpath sends this body with `data=` and no Content-Type: JSON is read regardless."""
    body = r.json()
    with r.db.write() as tx:
        p = r.path
        found = configuration.update(tx, edge_caller(r, tx), p["stack"], p["site"], p["scope"], body)
    return {"configuration": found}


@router.get(SCOPE + "/origins")
def origins(r: Req) -> Any:
    with r.db.read() as tx:
        items = sites.origins(tx, edge_caller(r, tx), r.path["stack"], r.path["site"], r.path["scope"])
    return paging.single_page(items)


@router.post(SCOPE + "/origins")
def add_origin(r: Req) -> Any:
    body = r.json()
    with r.db.write() as tx:
        p = r.path
        return {
            "scopeOrigin": sites.add_origin(tx, edge_caller(r, tx), p["stack"], p["site"], p["scope"], body)
        }


@router.delete(SCOPE + "/origins")
def delete_origins(r: Req) -> Any:
    """pystackpath's `origins().delete()` names no origin: every origin of the scope is detached."""
    with r.db.write() as tx:
        sites.delete_origins(tx, edge_caller(r, tx), r.path["stack"], r.path["site"], r.path["scope"])
    return no_content()


@router.delete(SCOPE + "/origins/{origin}")
def delete_origin(r: Req) -> Any:
    with r.db.write() as tx:
        p = r.path
        sites.delete_origins(tx, edge_caller(r, tx), p["stack"], p["site"], p["scope"], p["origin"])
    return no_content()
