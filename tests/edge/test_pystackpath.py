"""The official pystackpath 0.5.0, unchanged but for BASE_URL, performs every call of the seed
(reference/000_*.txt) and the scope, origin and configuration calls, on both databases."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest

from tests.conftest import Live
from tests.edge import certs
from tests.edge.conftest import Credential


def test_seed_stacks(sp: Any, credential: Credential) -> None:
    created = sp.stacks().create(credential.account_id, "my-awesome-stack")
    assert created.name == "my-awesome-stack" and created.slug and created.status == "ACTIVE"
    sp.stacks().create(credential.account_id, "my-second-stack")
    found = sp.stacks().index(filter="name='my-awesome-stack' and status='ACTIVE'")
    assert [s.id for s in found["results"]] == [created.id]
    assert found["pageinfo"].totalCount == "1"
    one = sp.stacks().get(created.id)
    assert one.id == created.id and one.accountId == credential.account_id
    assert sp.stacks().get(created.slug).id == created.id
    # pystackpath's sort_by bug sends the field as page_request.first: still a page, sorted.
    page = sp.stacks().index(first="10", sort_by="name")
    assert [s.name for s in page["results"]] == ["my-awesome-stack", "my-second-stack"]
    first = sp.stacks().index(first="1")
    assert first["pageinfo"].hasNextPage and first["pageinfo"].endCursor == "0"
    rest = sp.stacks().index(first="1", after=first["pageinfo"].endCursor)
    assert [s.name for s in rest["results"]] == ["my-second-stack"] and not rest["pageinfo"].hasNextPage
    one.add_subscriptions(["cdn"])
    sp.stacks().get(created.id).cancel("other", "moving")
    assert sp.stacks().get(created.id).status == "CANCELLED"


def _stack(sp: Any, credential: Credential) -> Any:
    return sp.stacks().get(sp.stacks().create(credential.account_id, "edge").id)


def test_seed_cdn_sites(sp: Any, credential: Credential) -> None:
    stack = _stack(sp, credential)
    site = stack.cdnsites().create(
        domain="cdn.johndoe.com", origin={"hostname": "www.johndoe.com"}, type="CDN"
    )
    assert site.label == "cdn.johndoe.com" and site.enabled and site.status == "ACTIVE"
    w3tc = stack.cdnsites().create(
        domain="static.johndoe.com",
        origin={"path": "/", "hostname": "www.johndoe.com", "port": 80, "securePort": 443},
        features=["CDN"],
    )
    found = stack.cdnsites().index(filter="label='cdn.johndoe.com' and status='ACTIVE'")
    assert [s.id for s in found["results"]] == [site.id]
    got = stack.cdnsites().get(site.id)
    assert got.disable() is got
    assert stack.cdnsites().get(site.id).enabled is False
    got.enable()
    assert stack.cdnsites().get(site.id).enabled is True
    assert got.targets()
    stack.cdnsites().get(w3tc.id).delete()
    assert [s.id for s in stack.cdnsites().index()["results"]] == [site.id]


def test_scopes_origins_and_configuration(sp: Any, credential: Credential) -> None:
    stack = _stack(sp, credential)
    site = stack.cdnsites().create(domain="cdn.example.com", origin={"hostname": "origin.example.com"})
    scopes = site.scopes().index()
    assert [(s.path, s.platform) for s in scopes["results"]] == [("/", "CDS")]  # every site has a root scope
    root = scopes["results"][0]
    origins = root.origins().index()["results"]
    assert origins[0].origin["hostname"] == "origin.example.com" and origins[0].priority == 1
    scope = site.scopes().create(path="/static", platform="CDS")
    added = scope.origins().create(
        origin={"path": "/assets", "hostname": "assets.example.com", "port": 8080, "securePort": 8443},
        priority=1,
    )
    assert added.origin["hostname"] == "assets.example.com" and added.origin["siteId"] == site.id
    config = scope.configuration().update(
        configuration={"cacheControl": [{"maxAge": 600}], "staticHeader": [{"http": "X-Served-By: edge"}]}
    )
    assert config.cacheControl[0]["maxAge"] == 600 and config.cacheControl[0]["id"]
    got = scope.configuration().get()
    assert got.staticHeader[0]["http"] == "X-Served-By: edge"
    scope.origins().delete()
    assert scope.origins().index()["results"] == []
    scope.delete()
    assert len(site.scopes().index()["results"]) == 1


def test_seed_purge_and_status(sp: Any, credential: Credential) -> None:
    stack = _stack(sp, credential)
    stack.cdnsites().create(domain="cdn.example.org", origin={"hostname": "origin.example.org"})
    purge_id = stack.purge(
        [
            {
                "url": "https://cdn.example.org/",
                "recursive": True,
                "invalidateOnly": False,
                "purgeAllDynamic": False,
                "headers": [],
                "purgeSelector": [],
            }
        ]
    )
    assert isinstance(purge_id, str) and purge_id
    assert stack.purge_status(purge_id) == 1


def test_seed_metrics(sp: Any, credential: Credential) -> None:
    stack = _stack(sp, credential)
    m1 = stack.metrics().get()
    assert m1.series == []
    end = datetime.now()
    m2 = stack.metrics().get(
        granularity="PT1H", platforms=["CDO", "CDE"], start_date=end - timedelta(days=7), end_date=end
    )
    assert isinstance(m2.series, list)


def test_seed_certificates(sp: Any, credential: Credential) -> None:
    stack = _stack(sp, credential)
    cert, key = certs.make("cdn.example.net", ["cdn.example.net", "www.example.net"])
    new = stack.certificates().add(cert, key)
    assert new.commonName == "cdn.example.net" and new.status == "ACTIVE"
    assert new.subjectAlternativeNames == ["cdn.example.net", "www.example.net"]
    assert len(new.fingerprint) == 40 and new.issuer == "CN=cdn.example.net"
    listed = stack.certificates().index()
    assert [c.id for c in listed["results"]] == [new.id]
    cert2, key2 = certs.make("cdn2.example.net")
    updated = stack.certificates().get(new.id).update(cert2, key2)
    assert updated.commonName == "cdn2.example.net" and updated.fingerprint != new.fingerprint
    stack.certificates().get(new.id).renew()
    site = stack.cdnsites().create(domain="cdn2.example.net", origin={"hostname": "o.example.net"})
    assigned = site.assign_certificate(updated)
    assert assigned.id == new.id
    stack.certificates().pk(new.id).delete()
    assert stack.certificates().index()["results"] == []


def test_certificates_are_checked(live: Live, sp: Any, credential: Credential) -> None:
    stack = _stack(sp, credential)
    cert, _ = certs.make("a.example.net")
    _, other_key = certs.make("b.example.net")
    token = sp.client._token
    with live.client(authorization=f"Bearer {token}") as c:
        base = f"/cdn/v1/stacks/{stack.id}/certificates"
        r = c.post(base, json={"certificate": cert, "key": other_key, "caBundle": None})
        assert r.status_code == 422 and r.json()["code"] == 3 and "key" in r.text
        r = c.post(base, json={"certificate": "nope", "key": other_key})
        assert r.status_code == 422


@pytest.mark.parametrize(
    "path", ["/waf/v1/stacks/x/sites", "/dns/v1/stacks/x/zones", "/delivery/v1/stacks/x/sites"]
)
def test_waf_dns_and_delivery_sites_answer_unimplemented(live: Live, sp: Any, path: str) -> None:
    r = sp.client.get(path)
    assert r.status_code == 501 and r.json()["code"] == 12
