"""Edge identity: client credentials for bearer tokens (never a 401 from the token route), credentials
created by owners and admins only, secrets shown once and stored hashed, tokens that expire."""

from __future__ import annotations

from typing import Any

from stackyard.ids import digest
from tests.conftest import Live, User, make_user
from tests.edge.conftest import Credential, create_credential


def _token(live: Live, cred: Credential, **extra: Any) -> Any:
    with live.client(authorization="Bearer") as c:
        return c.post(
            "/identity/v1/oauth2/token",
            json={
                "grant_type": "client_credentials",
                "client_id": cred.client_id,
                "client_secret": cred.client_secret,
                **extra,
            },
        )


def test_client_credentials_give_a_bearer_token_that_opens_the_api(
    live: Live, credential: Credential
) -> None:
    r = _token(live, credential)
    assert r.status_code == 200
    body = r.json()
    assert body["token_type"] == "bearer" and body["expires_in"] == live.settings.edge_token_ttl_seconds
    with live.client(authorization=f"Bearer {body['access_token']}") as c:
        assert c.get("/stack/v1/stacks").status_code == 200
    with live.client(authorization="Bearer") as c:
        r = c.get("/stack/v1/stacks")
        assert r.status_code == 401 and r.json()["code"] == 16


def test_the_token_route_never_answers_401(live: Live, credential: Credential) -> None:
    bad = Credential(credential.client_id, "0" * 64, credential.account_id)
    for cred in (bad, Credential("nobody", "x", "")):
        r = _token(live, cred)
        assert r.status_code == 400 and r.json()["code"] == 3
    with live.client(authorization="Bearer garbage") as c:
        assert c.post("/identity/v1/oauth2/token", content=b"not json").status_code == 400


def test_secret_is_shown_once_and_stored_hashed(live: Live, owner: User, credential: Credential) -> None:
    with live.db.read() as tx:
        row = tx.one("SELECT * FROM edge_credentials WHERE client_id = ?", credential.client_id)
    assert row is not None and row["secret_hash"] == digest(credential.client_secret)
    assert credential.client_secret not in str(row)
    assert len(credential.client_id) == 32 and len(credential.client_secret) == 64
    with live.client(authtoken=owner.authtoken) as c:
        listed = c.get(f"/identity/v1/accounts/{owner.org_uid}/credentials").json()["results"]
    assert [x["client_id"] for x in listed] == [credential.client_id]
    assert "client_secret" not in listed[0]


def test_revoked_credentials_and_their_tokens_stop_working(
    live: Live, owner: User, credential: Credential
) -> None:
    token = _token(live, credential).json()["access_token"]
    with live.client(authtoken=owner.authtoken) as c:
        r = c.delete(f"/identity/v1/accounts/{owner.org_uid}/credentials/{credential.client_id}")
        assert r.status_code == 204
    with live.client(authorization=f"Bearer {token}") as c:
        assert c.get("/stack/v1/stacks").status_code == 401
    assert _token(live, credential).status_code == 400


def test_expired_tokens_answer_401(live: Live, credential: Credential) -> None:
    token = _token(live, credential).json()["access_token"]
    with live.db.write() as tx:
        tx.run("UPDATE edge_tokens SET expires_at = '2000-01-01T00:00:00.000Z'")
    with live.client(authorization=f"Bearer {token}") as c:
        assert c.get("/stack/v1/stacks").status_code == 401


def test_only_owners_and_admins_create_credentials(live: Live, owner: User) -> None:
    outsider = make_user(live, "outsider@example.com")
    with live.client(authtoken=outsider.authtoken) as c:
        r = c.post(f"/identity/v1/accounts/{owner.org_uid}/credentials", json={"name": "x"})
        assert r.status_code == 404
    with live.db.write() as tx:
        tx.run(
            "INSERT INTO org_members (org_uid, user_uid, role, created_at) VALUES (?, ?, 'member', 'x')",
            owner.org_uid,
            outsider.uid,
        )
    with live.client(authtoken=outsider.authtoken) as c:
        r = c.post(f"/identity/v1/accounts/{owner.org_uid}/credentials", json={"name": "x"})
        assert r.status_code == 403 and r.json()["code"] == 7
    with live.db.write() as tx:
        tx.run("UPDATE org_members SET role = 'admin' WHERE user_uid = ?", outsider.uid)
    assert create_credential(live, outsider, org_uid=owner.org_uid).account_id == owner.org_uid


def test_one_account_never_sees_another(live: Live, owner: User, credential: Credential) -> None:
    other = create_credential(live, make_user(live, "other@example.com"))
    tokens = [_token(live, c).json()["access_token"] for c in (credential, other)]
    with live.client(authorization=f"Bearer {tokens[0]}") as c:
        stack = c.post("/stack/v1/stacks", json={"accountId": owner.org_uid, "name": "mine"}).json()["stack"]
    with live.client(authorization=f"Bearer {tokens[1]}") as c:
        assert c.get(f"/stack/v1/stacks/{stack['id']}").status_code == 404
        assert c.get("/stack/v1/stacks").json()["results"] == []
        r = c.post("/stack/v1/stacks", json={"accountId": owner.org_uid, "name": "theirs"})
        assert r.status_code == 403
