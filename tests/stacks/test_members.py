"""Stack settings, sharing, members' roles and ownership transfer over HTTP."""

from __future__ import annotations

import re

from stackyard.identity import mail
from tests.access.helpers import accept_invitation, invitation_token, member, role_uid
from tests.conftest import Live, make_user


def _outbox(live: Live, email: str) -> list[dict]:
    with live.db.read() as tx:
        return mail.outbox(tx, email)


def test_settings_merge_and_reset(cma) -> None:
    r = cma.get("/v3/stacks/settings")
    assert r.status_code == 200
    assert r.json()["stack_settings"] == {
        "stack_variables": {},
        "discrete_variables": {},
        "rte": {},
        "live_preview": {},
    }
    # when two sections are set, then later calls merge key by key
    r = cma.post(
        "/v3/stacks/settings",
        json={
            "stack_settings": {
                "stack_variables": {"enforce_unique_urls": "true"},
                "rte": {"cs_only_breakline": "true"},
            }
        },
    )
    assert r.status_code == 201 and r.json()["notice"] == "Stack settings updated successfully."
    cma.post(
        "/v3/stacks/settings", json={"stack_settings": {"stack_variables": {"sys_rte_allowed_tags": "style"}}}
    )
    stored = cma.get("/v3/stacks/settings").json()["stack_settings"]
    assert stored["stack_variables"] == {"enforce_unique_urls": "true", "sys_rte_allowed_tags": "style"}
    assert stored["rte"] == {"cs_only_breakline": "true"}
    # bad sections are refused without a write
    r = cma.post("/v3/stacks/settings", json={"stack_settings": {"nope": {}, "rte": "x"}})
    assert r.status_code == 422 and set(r.json()["errors"]) == {"nope", "rte"}
    assert cma.get("/v3/stacks/settings").json()["stack_settings"] == stored
    # when reset, then the defaults are back
    r = cma.post("/v3/stacks/settings/reset", json={"stack_settings": {}})
    assert r.status_code == 201 and r.json()["stack_settings"]["stack_variables"] == {}
    assert cma.get("/v3/stacks/settings").json()["stack_settings"]["rte"] == {}


def test_share_with_existing_and_unknown_users(live: Live, cma) -> None:
    known = make_user(live, "known@example.com", org=False)
    dev, cm = role_uid(cma, "Developer"), role_uid(cma, "Content Manager")
    # when the stack is shared with a user and with an address nobody has
    r = cma.post(
        "/v3/stacks/share",
        json={
            "emails": ["Known@example.com", "new@example.com"],
            "roles": {"known@example.com": [dev], "NEW@example.com": [cm]},
        },
    )
    assert r.status_code == 200, r.text
    assert r.json()["notice"] == "The invitation has been sent successfully."
    # then both answers say only "pending", whether the address has an account or not
    assert r.json()["shares"] == [
        {"email": "known@example.com", "status": "pending", "roles": [dev]},
        {"email": "new@example.com", "status": "pending", "roles": [cm]},
    ]
    # and the new address has an inactive account and an activation mail
    users = {u["email"]: u for u in cma.get("/v3/stacks/users").json()["users"]}
    assert set(users) == {"owner@example.com", "new@example.com"}
    assert users["new@example.com"]["roles"] == [cm] and users["new@example.com"]["active"] is False
    assert "Activate your account" in _outbox(live, "new@example.com")[0]["body"]
    # and the existing user is not a member until they accept
    with live.client(authtoken=known.authtoken, api_key=cma.headers["api_key"]) as c:
        assert c.get("/v3/stacks").status_code == 412
    assert accept_invitation(live, known)["stacks"] == [cma.headers["api_key"]]
    with live.client(authtoken=known.authtoken, api_key=cma.headers["api_key"]) as c:
        assert c.get("/v3/stacks").json()["stack"]["api_key"] == cma.headers["api_key"]
    users = {u["email"]: u for u in cma.get("/v3/stacks/users").json()["users"]}
    assert users["known@example.com"]["roles"] == [dev] and users["known@example.com"]["uid"] == known.uid
    assert known.uid in cma.get("/v3/stacks").json()["stack"]["user_uids"]
    stack = cma.get("/v3/stacks", params={"include_collaborators": "true"}).json()["stack"]
    assert {u["email"] for u in stack["collaborators"]} == set(users)
    # and sharing again with a member changes their roles at once
    r = cma.post("/v3/stacks/share", json={"emails": [known.email], "roles": {known.email: [cm]}})
    assert r.json()["shares"] == [{"email": known.email, "status": "shared", "roles": [cm]}]


def test_sharing_with_another_organizations_owner_waits_for_their_consent(live: Live, cma, owner) -> None:
    # given the owner of another organization, and a bystander
    other = make_user(live, "other-owner@example.com")
    bystander = make_user(live, "bystander@example.com")
    api_key = cma.headers["api_key"]
    cm = role_uid(cma, "Content Manager")
    # when the stack is shared with them
    r = cma.post("/v3/stacks/share", json={"emails": [other.email], "roles": {other.email: [cm]}})
    assert r.status_code == 200, r.text
    # then the answer shows only the address and "pending": nothing of their account
    assert r.json()["shares"] == [{"email": other.email, "status": "pending", "roles": [cm]}]
    assert other.uid not in r.text and "bystander" not in r.text
    # and they are no member, in no list, and cannot open the stack
    assert [u["email"] for u in cma.get("/v3/stacks/users").json()["users"]] == [owner.email]
    assert other.uid not in cma.get("/v3/stacks").json()["stack"]["user_uids"]
    with live.client(authtoken=other.authtoken, api_key=api_key) as c:
        assert c.get("/v3/stacks").status_code == 412
    with live.client(authtoken=owner.authtoken) as c:
        roles = c.get(f"/v3/organizations/{owner.org_uid}/roles").json()["roles"]
        assert all(other.uid not in role["users"] for role in roles)
    # and the mail carries a token that works only for them, only by POST, once
    token = invitation_token(live, other.email)
    accept = f"/v3/user/invitations/{token}/accept"
    with live.client(authtoken=bystander.authtoken) as c:
        r = c.post(accept)
        assert r.status_code == 422 and r.json()["error_code"] == 111
    with live.client() as c:
        assert c.post(accept).status_code == 401
    with live.client(authtoken=other.authtoken) as c:
        assert c.get(accept).status_code in (404, 405)
        assert c.post(f"/v3/user/invitations/inv{'0' * 32}/accept").status_code == 422
        # when they accept
        r = c.post(accept)
        assert r.status_code == 200, r.text
        assert r.json()["invitation"]["stacks"] == [api_key]
        # then they are a member with the offered roles, and the token is spent
        assert c.get("/v3/stacks", headers={"api_key": api_key}).status_code == 200
        assert c.post(accept).status_code == 422
    users = {u["email"]: u for u in cma.get("/v3/stacks/users").json()["users"]}
    assert users[other.email]["roles"] == [cm]
    assert token not in _outbox(live, other.email)[0]["body"]


def test_an_expired_invitation_cannot_be_accepted(live: Live, cma) -> None:
    late = make_user(live, "late-invitee@example.com", org=False)
    cm = role_uid(cma, "Content Manager")
    cma.post("/v3/stacks/share", json={"emails": [late.email], "roles": {late.email: [cm]}})
    token = invitation_token(live, late.email)
    with live.db.write() as tx:
        tx.run("UPDATE invitations SET expires_at = '2001-01-01T00:00:00.000Z'")
    with live.client(authtoken=late.authtoken) as c:
        r = c.post(f"/v3/user/invitations/{token}/accept")
        assert r.status_code == 422 and r.json()["error_code"] == 111
        assert c.get("/v3/stacks", headers={"api_key": cma.headers["api_key"]}).status_code == 412


def test_share_is_validated_and_all_or_nothing(cma) -> None:
    cm = role_uid(cma, "Content Manager")
    cases = [
        {"emails": [], "roles": {}},
        {"emails": ["not-an-email"], "roles": {"not-an-email": [cm]}},
        {"emails": ["a@example.com"], "roles": {}},
        {
            "emails": ["a@example.com", "b@example.com"],
            "roles": {"a@example.com": [cm], "b@example.com": ["bltnope"]},
        },
        {"emails": ["owner@example.com"], "roles": {"owner@example.com": [cm]}},
    ]
    for body in cases:
        r = cma.post("/v3/stacks/share", json=body)
        assert r.status_code == 422, (body, r.text)
    assert [u["email"] for u in cma.get("/v3/stacks/users").json()["users"]] == ["owner@example.com"]


def test_unshare(live: Live, cma) -> None:
    user = member(live, cma, "leaving@example.com", "Developer")
    r = cma.post("/v3/stacks/unshare", json={"email": "leaving@example.com"})
    assert r.status_code == 200 and r.json()["notice"] == "The stack has been successfully unshared."
    with live.client(authtoken=user.authtoken, api_key=cma.headers["api_key"]) as c:
        assert c.get("/v3/stacks").status_code == 412
    # the owner and strangers cannot be unshared
    assert cma.post("/v3/stacks/unshare", json={"email": "owner@example.com"}).status_code == 422
    assert cma.post("/v3/stacks/unshare", json={"email": "leaving@example.com"}).status_code == 422
    assert cma.post("/v3/stacks/unshare", json={"email": 5}).status_code == 422


def test_update_user_roles(live: Live, cma) -> None:
    user = member(live, cma, "worker@example.com", "Content Manager")
    dev, cm = role_uid(cma, "Developer"), role_uid(cma, "Content Manager")
    # the Python SDK sends PUT
    r = cma.put("/v3/stacks/users/roles", json={"users": {user.uid: [dev, cm]}})
    assert r.status_code == 200 and r.json()["notice"] == "Roles updated successfully"
    worker = next(u for u in r.json()["users"] if u["uid"] == user.uid)
    assert sorted(worker["roles"]) == sorted([dev, cm])
    # the JavaScript SDK sends POST
    assert cma.post("/v3/stacks/users/roles", json={"users": {user.uid: [cm]}}).status_code == 200
    users = {u["uid"]: u["roles"] for u in cma.get("/v3/stacks/users").json()["users"]}
    assert users[user.uid] == [cm]
    # non-members, the owner, unknown roles and empty lists are refused
    owner_uid = cma.get("/v3/stacks").json()["stack"]["owner_uid"]
    for body in (
        {"users": {"bltnobody": [cm]}},
        {"users": {owner_uid: [cm]}},
        {"users": {user.uid: ["bltnope"]}},
        {"users": {user.uid: []}},
        {"users": []},
    ):
        assert cma.put("/v3/stacks/users/roles", json=body).status_code == 422, body
    assert {u["uid"]: u["roles"] for u in cma.get("/v3/stacks/users").json()["users"]}[user.uid] == [cm]


def test_only_owners_and_admins_manage_users(live: Live, cma) -> None:
    api_key = cma.headers["api_key"]
    admin = member(live, cma, "admin@example.com", "Admin")
    dev = member(live, cma, "dev@example.com", "Developer")
    admin_role = role_uid(cma, "Admin")
    with live.client(authtoken=dev.authtoken, api_key=api_key) as c:
        # a developer sees the users but cannot share, re-role or unshare, least of all grant Admin
        assert c.get("/v3/stacks/users").status_code == 200
        body = {"emails": ["x@example.com"], "roles": {"x@example.com": [admin_role]}}
        assert c.post("/v3/stacks/share", json=body).status_code == 403
        assert c.put("/v3/stacks/users/roles", json={"users": {dev.uid: [admin_role]}}).status_code == 403
        assert c.post("/v3/stacks/unshare", json={"email": "admin@example.com"}).status_code == 403
        assert c.post("/v3/stacks/settings", json={"stack_settings": {"rte": {}}}).status_code == 403
    with live.client(authtoken=admin.authtoken, api_key=api_key) as c:
        # an admin may grant Admin, but not transfer the stack or unshare its owner
        assert c.put("/v3/stacks/users/roles", json={"users": {dev.uid: [admin_role]}}).status_code == 200
        assert (
            c.post("/v3/stacks/transfer_ownership", json={"transfer_to": "dev@example.com"}).status_code
            == 403
        )
        assert c.post("/v3/stacks/unshare", json={"email": "owner@example.com"}).status_code == 422


def _transfer_token(live: Live, email: str) -> str:
    body = _outbox(live, email)[0]["body"]
    match = re.search(r"accept_ownership/(own[0-9a-f]+)", body)
    assert match, body
    return match.group(1)


def test_transfer_ownership(live: Live, cma, owner) -> None:
    api_key = cma.headers["api_key"]
    heir = make_user(live, "heir@example.com", org=False)
    # when the owner transfers the stack, then the recipient is mailed a token and nothing changes yet
    r = cma.post("/v3/stacks/transfer_ownership", json={"transfer_to": "heir@example.com"})
    assert r.status_code == 200, r.text
    token = _transfer_token(live, "heir@example.com")
    assert cma.get("/v3/stacks").json()["stack"]["owner_uid"] == owner.uid
    with live.db.read() as tx:
        assert tx.scalar("SELECT COUNT(*) AS n FROM ownership_transfers WHERE token_hash = ?", token) == 0
    with live.client(authtoken=heir.authtoken) as c:
        # a wrong uid, stack or token is refused
        assert (
            c.get(
                f"/v3/stacks/accept_ownership/{token}", params={"api_key": api_key, "uid": owner.uid}
            ).status_code
            == 422
        )
        assert (
            c.get(
                f"/v3/stacks/accept_ownership/{token}", params={"api_key": "bltx", "uid": heir.uid}
            ).status_code
            == 422
        )
        assert (
            c.get(
                f"/v3/stacks/accept_ownership/own{'0' * 32}", params={"api_key": api_key, "uid": heir.uid}
            ).status_code
            == 422
        )
        # when the recipient accepts
        r = c.get(f"/v3/stacks/accept_ownership/{token}", params={"api_key": api_key, "uid": heir.uid})
        assert r.status_code == 200, r.text
        # then they own the stack, and the token is spent
        assert c.get("/v3/stacks", headers={"api_key": api_key}).json()["stack"]["owner_uid"] == heir.uid
        assert (
            c.get(
                f"/v3/stacks/accept_ownership/{token}", params={"api_key": api_key, "uid": heir.uid}
            ).status_code
            == 422
        )
    # and the previous owner keeps Admin
    users = {u["email"]: u for u in cma.get("/v3/stacks/users").json()["users"]}
    assert users["heir@example.com"]["is_owner"] is True
    assert users["owner@example.com"]["roles"] == [role_uid(cma, "Admin")]
    # when the heir hands it back (the organization owner already acts as owner in all its stacks)
    with live.client(authtoken=heir.authtoken, api_key=api_key) as c:
        assert c.post("/v3/stacks/transfer_ownership", json={"transfer_to": owner.email}).status_code == 200
    token = _transfer_token(live, owner.email)
    r = cma.get(f"/v3/stacks/accept_ownership/{token}", params={"api_key": api_key, "uid": owner.uid})
    assert r.status_code == 200, r.text
    # then the heir, now an Admin, manages users but can neither transfer nor delete the stack
    with live.client(authtoken=heir.authtoken, api_key=api_key) as c:
        assert c.get("/v3/stacks/users").status_code == 200
        assert c.post("/v3/stacks/settings", json={"stack_settings": {"rte": {}}}).status_code == 201
        assert c.post("/v3/stacks/transfer_ownership", json={"transfer_to": owner.email}).status_code == 403
        assert c.delete("/v3/stacks").status_code == 403
    assert cma.get("/v3/stacks").json()["stack"]["owner_uid"] == owner.uid


def test_transfer_needs_an_active_other_user(live: Live, cma) -> None:
    for email in ("ghost@example.com", "owner@example.com", "nonsense"):
        r = cma.post("/v3/stacks/transfer_ownership", json={"transfer_to": email})
        assert r.status_code == 422, (email, r.text)


def test_expired_transfer_token_is_refused(live: Live, cma) -> None:
    heir = make_user(live, "late@example.com", org=False)
    cma.post("/v3/stacks/transfer_ownership", json={"transfer_to": "late@example.com"})
    token = _transfer_token(live, "late@example.com")
    with live.db.write() as tx:
        tx.run("UPDATE ownership_transfers SET expires_at = '2001-01-01T00:00:00.000Z'")
    with live.client() as c:
        r = c.get(
            f"/v3/stacks/accept_ownership/{token}",
            params={"api_key": cma.headers["api_key"], "uid": heir.uid},
        )
        assert r.status_code == 422 and r.json()["error_code"] == 111


def test_stack_list_pages(live: Live, owner) -> None:
    with live.client(authtoken=owner.authtoken) as c:
        for name in ("One", "Two", "Three"):
            assert c.post("/v3/stacks", json={"stack": {"name": name}}).status_code == 201
        page = c.get("/v3/stacks", params={"skip": 1, "limit": 1, "include_count": "true"}).json()
        assert [s["name"] for s in page["stacks"]] == ["Two"] and page["count"] == 3
        assert c.get("/v3/stacks", params={"skip": 3}).json()["stacks"] == []
        assert c.get("/v3/stacks", params={"limit": 0}).status_code == 400
