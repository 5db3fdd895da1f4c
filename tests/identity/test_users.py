"""The user profile, activation of invited users, and password reset by mail (catalogue §2.1)."""

from __future__ import annotations

import subprocess
import sys
import time

from tests.conftest import Live, ServeFactory, User
from tests.identity.conftest import mailed_token
from tests.identity.test_sessions import login


def test_profile_fetch_and_update(live: Live, owner: User) -> None:
    with live.client(authtoken=owner.authtoken) as c:
        user = c.get("/v3/user").json()["user"]
        assert user["email"] == owner.email and "authtoken" not in user
        # when profile fields change
        r = c.put("/v3/user", json={"user": {"company": "Acme Inc.", "first_name": "Ada", "last_name": "L"}})
        assert r.status_code == 200, r.text
        assert r.json()["notice"] == "Profile updated successfully."
        assert r.json()["user"]["company"] == "Acme Inc."
        # then a later fetch sees them
        again = c.get("/v3/user").json()["user"]
        assert (again["first_name"], again["last_name"], again["company"]) == ("Ada", "L", "Acme Inc.")


def test_profile_update_refuses_email_password_and_bad_values(live: Live, owner: User) -> None:
    with live.client(authtoken=owner.authtoken) as c:
        r = c.put("/v3/user", json={"user": {"email": "evil@example.com", "first_name": "Eve"}})
        assert r.status_code == 422 and r.json()["errors"] == {"email": ["cannot be changed here."]}
        r = c.put("/v3/user", json={"user": {"password": "new password 123"}})
        assert r.status_code == 422 and "password" in r.json()["errors"]
        r = c.put("/v3/user", json={"user": {"first_name": ["x"], "company": "y" * 201}})
        assert r.status_code == 422 and set(r.json()["errors"]) == {"first_name", "company"}
        # nothing of a refused update is stored
        user = c.get("/v3/user").json()["user"]
        assert user["email"] == owner.email and user["first_name"] == ""
    assert login(live, owner.email, owner.password)[0] == 200
    with live.client() as c:
        assert c.put("/v3/user", json={"user": {"company": "x"}}).status_code == 401


def invite(live: Live, owner: User, email: str, roles: list[str] | None = None) -> dict:
    with live.client(authtoken=owner.authtoken) as c:
        r = c.post(
            f"/v3/organizations/{owner.org_uid}/share",
            json={"share": {"users": {email: roles or ["member"]}, "message": "Welcome aboard"}},
        )
    assert r.status_code == 200, r.text
    return dict(r.json())


def test_invited_user_activates_with_the_mailed_token(live: Live, owner: User) -> None:
    # given an invitation to a new address
    body = invite(live, owner, "New.Person@example.com")
    assert body["notice"] == "The invitation has been sent successfully."
    assert body["shares"][0]["email"] == "new.person@example.com"
    # the account exists but cannot log in yet
    assert login(live, "new.person@example.com", "whatever pass")[0] == 422
    token = mailed_token(live.db, "new.person@example.com", "act")
    # when the token is used with a bad password confirmation, nothing happens
    with live.client() as c:
        r = c.post(
            f"/v3/user/activate/{token}",
            json={"user": {"password": "a new password", "password_confirmation": "other"}},
        )
        assert r.status_code == 422 and "password_confirmation" in r.json()["errors"]
        # when activated properly
        r = c.post(
            f"/v3/user/activate/{token}",
            json={
                "user": {
                    "first_name": "New",
                    "last_name": "Person",
                    "password": "a new password",
                    "password_confirmation": "a new password",
                }
            },
        )
        assert r.status_code == 200, r.text
        assert r.json() == {"notice": "Your account has been activated."}
        # then the token is spent
        r = c.post(
            f"/v3/user/activate/{token}",
            json={"user": {"password": "another pass", "password_confirmation": "another pass"}},
        )
        assert (r.status_code, r.json()["error_code"]) == (422, 111)
    status, body = login(live, "new.person@example.com", "a new password")
    assert status == 200, body
    assert body["user"]["first_name"] == "New"
    assert body["user"]["shared_org_uid"] == [owner.org_uid]


def test_outbox_cli_shows_the_activation_mail(live: Live, owner: User) -> None:
    url = live.db.url if live.db.dialect != "sqlite" else "sqlite:///" + live.db.path
    invite(live, owner, "cli@example.com")
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "stackyard",
            "mail",
            "outbox",
            "--to",
            "cli@example.com",
            "--database-url",
            url,
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout
    assert "cli@example.com" in out and mailed_token(live.db, "cli@example.com", "act") in out


def test_reinviting_an_inactive_user_sends_a_fresh_token(live: Live, owner: User) -> None:
    invite(live, owner, "late@example.com")
    first = mailed_token(live.db, "late@example.com", "act")
    invite(live, owner, "late@example.com")
    second = mailed_token(live.db, "late@example.com", "act")
    assert first != second
    payload = {"user": {"password": "late but here", "password_confirmation": "late but here"}}
    with live.client() as c:
        assert c.post(f"/v3/user/activate/{first}", json=payload).status_code == 422
        assert c.post(f"/v3/user/activate/{second}", json=payload).status_code == 200


def test_forgot_and_reset_password(live: Live, owner: User) -> None:
    forgot = {"user": {"email": owner.email}}
    notice = "If this email address exists, we will send you an email with instructions for resetting your password."
    with live.client() as c:
        # an unknown address gets the same answer and no mail
        r = c.post("/v3/user/forgot_password", json={"user": {"email": "ghost@example.com"}})
        assert r.status_code == 200 and r.json() == {"notice": notice}
        r = c.post("/v3/user/forgot_password", json=forgot)
        assert r.status_code == 200 and r.json() == {"notice": notice}
        token = mailed_token(live.db, owner.email, "rst")
        # a weak password is refused and the token survives
        r = c.post(
            "/v3/user/reset_password",
            json={
                "user": {"reset_password_token": token, "password": "short", "password_confirmation": "short"}
            },
        )
        assert r.status_code == 422 and "password" in r.json()["errors"]
        reset = {
            "user": {
                "reset_password_token": token,
                "password": "brand new password",
                "password_confirmation": "brand new password",
            }
        }
        r = c.post("/v3/user/reset_password", json=reset)
        assert r.status_code == 200, r.text
        assert r.json() == {"notice": "Your password has been reset successfully."}
        # the token is single-use
        r = c.post("/v3/user/reset_password", json=reset)
        assert (r.status_code, r.json()["error_code"]) == (422, 111)
    with live.client() as c:
        assert c.get("/v3/user", headers={"authtoken": owner.authtoken}).status_code == 401
    assert login(live, owner.email, owner.password)[0] == 422
    assert login(live, owner.email, "brand new password")[0] == 200


def test_reset_token_expires(serve: ServeFactory) -> None:
    live = serve(reset_token_ttl_seconds=1)
    from tests.conftest import make_user

    user = make_user(live, "forgetful@example.com")
    with live.client() as c:
        c.post("/v3/user/forgot_password", json={"user": {"email": user.email}})
        token = mailed_token(live.db, user.email, "rst")
        time.sleep(2.1)
        r = c.post(
            "/v3/user/reset_password",
            json={
                "user": {
                    "reset_password_token": token,
                    "password": "too late password",
                    "password_confirmation": "too late password",
                }
            },
        )
        assert (r.status_code, r.json()["error_code"]) == (422, 111)
    assert login(live, user.email, user.password)[0] == 200
