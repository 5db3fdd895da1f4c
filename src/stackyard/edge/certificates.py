"""CDN certificates (StackPath §4.2): PEM certificate, private key and CA bundle, parsed and checked
with `cryptography`.

Adding or updating refuses a certificate that does not parse, a key that does not parse or does
not match the certificate's public key, and a CA bundle that does not parse. The answer shows the
SHA-1 fingerprint (StackPath's), the subject's common name, the SANs, the issuer, the expiry and a
status: ACTIVE, EXPIRED, or PENDING before its notBefore. The key is kept for the data plane, which
serves an assigned certificate by SNI on `--edge-tls-port`, and is never shown.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509.oid import NameOID

from stackyard.core import spine
from stackyard.edge import fanout
from stackyard.edge.access import EdgeCaller, site_row, stack_row
from stackyard.errors import NotFound, invalid
from stackyard.ids import now
from stackyard.store.engine import Row, Tx, jdump, jload

FIELDS = ("id", "fingerprint", "commonName", "issuer", "status", "expirationDate", "trusted")
MAX_PEM = 64 * 1024


def _iso(t: datetime) -> str:
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse(cert_pem: object, key_pem: object, ca_bundle: object) -> dict[str, Any]:
    """The checked certificate's facts; 422 naming the field that is wrong."""
    if not isinstance(cert_pem, str) or not cert_pem.strip() or len(cert_pem) > MAX_PEM:
        raise invalid({"certificate": ["must be a PEM certificate."]})
    if not isinstance(key_pem, str) or not key_pem.strip() or len(key_pem) > MAX_PEM:
        raise invalid({"key": ["must be a PEM private key."]})
    try:
        cert = x509.load_pem_x509_certificate(cert_pem.encode())
    except ValueError:
        raise invalid({"certificate": ["is not a PEM certificate that can be read."]}) from None
    try:
        key = serialization.load_pem_private_key(key_pem.encode(), password=None)
    except (ValueError, TypeError):
        raise invalid({"key": ["is not an unencrypted PEM private key that can be read."]}) from None
    raw = serialization.PublicFormat.SubjectPublicKeyInfo
    enc = serialization.Encoding.DER
    if key.public_key().public_bytes(enc, raw) != cert.public_key().public_bytes(enc, raw):
        raise invalid({"key": ["does not match the certificate's public key."]})
    if ca_bundle not in (None, ""):
        if not isinstance(ca_bundle, str) or len(ca_bundle) > 4 * MAX_PEM:
            raise invalid({"caBundle": ["must be PEM certificates."]})
        try:
            x509.load_pem_x509_certificates(ca_bundle.encode())
        except ValueError:
            raise invalid({"caBundle": ["is not a bundle of PEM certificates that can be read."]}) from None
    cn = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    try:
        sans = [
            str(n)
            for n in cert.extensions.get_extension_for_class(
                x509.SubjectAlternativeName
            ).value.get_values_for_type(x509.DNSName)
        ]
    except x509.ExtensionNotFound:
        sans = []
    return {
        "fingerprint": cert.fingerprint(hashes.SHA1()).hex().upper(),  # noqa: S303 - StackPath's fingerprint, not a signature
        "common_name": str(cn[0].value) if cn else "",
        "issuer": cert.issuer.rfc4514_string(),
        "sans": sans,
        "not_before": _iso(cert.not_valid_before_utc),
        "expires_at": _iso(cert.not_valid_after_utc),
        "self_signed": cert.issuer == cert.subject,
    }


def status_of(row: Row) -> str:
    t = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    if str(row["expires_at"]) <= t:
        return "EXPIRED"
    if str(row["not_before"]) > t:
        return "PENDING"
    return "ACTIVE"


def render(row: Row) -> dict[str, Any]:
    return {
        "id": row["id"],
        "fingerprint": row["fingerprint"],
        "commonName": row["common_name"],
        "issuer": row["issuer"],
        "caBundle": row["ca_bundle"] or "",
        "trusted": row["issuer"] != "" and bool(row["ca_bundle"]),
        "expirationDate": row["expires_at"],
        "createDate": row["created_at"],
        "updateDate": row["updated_at"],
        "subjectAlternativeNames": jload(row["sans"]),
        "providerManaged": False,
        "status": status_of(row),
    }


def _row(tx: Tx, caller: EdgeCaller, stack: str, cert_id: str) -> Row:
    stack_id = stack_row(tx, caller, stack)["id"]
    row = tx.one("SELECT * FROM edge_certificates WHERE stack_id = ? AND id = ?", stack_id, cert_id)
    if row is None:
        raise NotFound(f"Certificate {cert_id!r} was not found.", status=404)
    return row


def find(tx: Tx, caller: EdgeCaller, stack: str) -> list[dict[str, Any]]:
    stack_id = stack_row(tx, caller, stack)["id"]
    rows = tx.all("SELECT * FROM edge_certificates WHERE stack_id = ? ORDER BY created_at, id", stack_id)
    return [render(r) for r in rows]


def fetch(tx: Tx, caller: EdgeCaller, stack: str, cert_id: str) -> dict[str, Any]:
    return render(_row(tx, caller, stack, cert_id))


def add(tx: Tx, caller: EdgeCaller, stack: str, data: dict[str, Any]) -> dict[str, Any]:
    stack_id = stack_row(tx, caller, stack)["id"]
    facts = parse(data.get("certificate"), data.get("key"), data.get("caBundle"))
    cert_id, t = str(uuid.uuid4()), now()
    tx.run(
        "INSERT INTO edge_certificates (id, stack_id, certificate_pem, key_pem, ca_bundle, fingerprint, common_name, "
        "issuer, sans, not_before, expires_at, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        cert_id,
        stack_id,
        data["certificate"],
        data["key"],
        data.get("caBundle") or None,
        facts["fingerprint"],
        facts["common_name"],
        facts["issuer"],
        jdump(facts["sans"]),
        facts["not_before"],
        facts["expires_at"],
        t,
        t,
    )
    spine.record_org(
        tx,
        caller,
        "edge_certificate.create",
        caller.org_uid,
        {"id": cert_id, "common_name": facts["common_name"]},
    )
    return fetch(tx, caller, stack, cert_id)


def update(tx: Tx, caller: EdgeCaller, stack: str, cert_id: str, data: dict[str, Any]) -> dict[str, Any]:
    """Replace what is given (any of certificate, key, caBundle may be null: kept)."""
    row = _row(tx, caller, stack, cert_id)
    cert_pem = data.get("certificate") or row["certificate_pem"]
    key_pem = data.get("key") or row["key_pem"]
    ca = data.get("caBundle") if data.get("caBundle") is not None else row["ca_bundle"]
    facts = parse(cert_pem, key_pem, ca)
    tx.run(
        "UPDATE edge_certificates SET certificate_pem = ?, key_pem = ?, ca_bundle = ?, fingerprint = ?, common_name = ?, "
        "issuer = ?, sans = ?, not_before = ?, expires_at = ?, updated_at = ? WHERE id = ?",
        cert_pem,
        key_pem,
        ca or None,
        facts["fingerprint"],
        facts["common_name"],
        facts["issuer"],
        jdump(facts["sans"]),
        facts["not_before"],
        facts["expires_at"],
        now(),
        cert_id,
    )
    spine.record_org(
        tx,
        caller,
        "edge_certificate.update",
        caller.org_uid,
        {"id": cert_id, "common_name": facts["common_name"]},
    )
    tx.after_commit("edge.sites.changed", fanout.hub().config_changed)
    return fetch(tx, caller, stack, cert_id)


def delete(tx: Tx, caller: EdgeCaller, stack: str, cert_id: str) -> None:
    row = _row(tx, caller, stack, cert_id)
    tx.run("UPDATE edge_sites SET certificate_id = NULL WHERE certificate_id = ?", cert_id)
    tx.run("DELETE FROM edge_certificates WHERE id = ?", cert_id)
    spine.record_org(
        tx,
        caller,
        "edge_certificate.delete",
        caller.org_uid,
        {"id": cert_id, "common_name": row["common_name"]},
    )
    tx.after_commit("edge.sites.changed", fanout.hub().config_changed)


def renew(tx: Tx, caller: EdgeCaller, stack: str, cert_id: str) -> None:
    """Accepted and audited; certificates here are uploaded, not issued, so there is nothing to reissue."""
    row = _row(tx, caller, stack, cert_id)
    spine.record_org(
        tx,
        caller,
        "edge_certificate.renew",
        caller.org_uid,
        {"id": cert_id, "common_name": row["common_name"]},
    )


def assign(tx: Tx, caller: EdgeCaller, stack: str, site_id: str, cert_id: str) -> dict[str, Any]:
    """Serve `cert_id` for the site; valid when it is ACTIVE and names the site's domain."""
    site = site_row(tx, caller, stack, site_id)
    row = _row(tx, caller, stack, cert_id)
    tx.run("UPDATE edge_sites SET certificate_id = ?, updated_at = ? WHERE id = ?", cert_id, now(), site_id)
    spine.record_org(tx, caller, "edge_site.update", caller.org_uid, {"id": site_id, "label": site["label"]})
    tx.after_commit("edge.sites.changed", fanout.hub().config_changed)
    names = [row["common_name"], *jload(row["sans"])]
    valid = status_of(row) == "ACTIVE" and any(covers(n, str(site["label"])) for n in names)
    return {"valid": valid, "certificate": render(row)}


def covers(name: str, domain: str) -> bool:
    name, domain = name.lower(), domain.lower()
    if name.startswith("*."):
        return domain.count(".") == name.count(".") and domain.endswith(name[1:])
    return name == domain
