"""Stack-level CDN calls: purge, purge status, metrics and certificates (`/cdn/v1/stacks/{stack}/...`)."""

from __future__ import annotations

from typing import Any

from stackyard.api.routing import Req, Router
from stackyard.api.stackpath._auth import edge_caller, no_content
from stackyard.edge import certificates, metrics, paging, purges

router = Router(api="stackpath")
STACK = "/cdn/v1/stacks/{stack}"
CERT = STACK + "/certificates/{certificate}"


@router.post(STACK + "/purge")
def purge(r: Req) -> Any:
    body = r.json()
    with r.db.write() as tx:
        return {"id": purges.request(tx, edge_caller(r, tx), r.path["stack"], body)}


@router.get(STACK + "/purge/{purge}")
def purge_status(r: Req) -> Any:
    with r.db.read() as tx:
        return {"progress": purges.progress(tx, edge_caller(r, tx), r.path["stack"], r.path["purge"])}


@router.get(STACK + "/metrics")
def get_metrics(r: Req) -> Any:
    with r.db.read() as tx:
        edge_caller(r, tx)
    metrics.flush()
    with r.db.read() as tx:
        return metrics.get(tx, edge_caller(r, tx), r.path["stack"], r.query)


@router.get(STACK + "/certificates")
def find_certificates(r: Req) -> Any:
    with r.db.read() as tx:
        items = certificates.find(tx, edge_caller(r, tx), r.path["stack"])
    return paging.page(items, r.query, certificates.FIELDS)


@router.post(STACK + "/certificates")
def add_certificate(r: Req) -> Any:
    body = r.json()
    with r.db.write() as tx:
        return {"certificate": certificates.add(tx, edge_caller(r, tx), r.path["stack"], body)}


@router.get(CERT)
def fetch_certificate(r: Req) -> Any:
    with r.db.read() as tx:
        return {
            "certificate": certificates.fetch(tx, edge_caller(r, tx), r.path["stack"], r.path["certificate"])
        }


@router.put(CERT)
def update_certificate(r: Req) -> Any:
    body = r.json()
    with r.db.write() as tx:
        p = r.path
        return {
            "certificate": certificates.update(tx, edge_caller(r, tx), p["stack"], p["certificate"], body)
        }


@router.delete(CERT)
def delete_certificate(r: Req) -> Any:
    with r.db.write() as tx:
        certificates.delete(tx, edge_caller(r, tx), r.path["stack"], r.path["certificate"])
    return no_content()


@router.post(CERT + "/renew")
def renew_certificate(r: Req) -> Any:
    with r.db.write() as tx:
        certificates.renew(tx, edge_caller(r, tx), r.path["stack"], r.path["certificate"])
    return no_content()
