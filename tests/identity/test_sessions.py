"""Login, lockout, two-factor login, logout and session expiry over HTTP (catalogue §1.6)."""

from __future__ import annotations

import time

import pyotp

from tests.conftest import Live, ServeFactory, User, make_user

USER_FIELDS = {
    "uid",
    "created_at",
    "updated_at",
    "email",
    "username",
    "first_name",
    "last_name",
    "company",
    "org_uid",
    "shared_org_uid",
    "mobile_number",
    "country_code",
    "tfa_status",
    "authy_id",
    "active",
    "failed_attempts",
    "authtoken",
    "roles",
    "organizations",
    "settings",
}


def login(live: Live, email: str, password: str, **extra: str) -> tuple[int, dict]:
    with live.client() as c:
        r = c.post("/v3/user-session", json={"user": {"email": email, "password": password, **extra}})
    return r.status_code, r.json()


def wrong_code(secret: str) -> str:
    """A six-digit code that no clock step near now accepts."""
    totp, t = pyotp.TOTP(secret), time.time()
    valid = {totp.at(t + step) for step in (-60, -30, 0, 30, 60)}
    return next(c for c in ("000000", "111111", "222222", "333333", "444444", "555555") if c not in valid)


def test_login_answers_the_user_with_an_authtoken(live: Live, owner: User) -> None:
    # when the owner logs in
    status, body = login(live, "OWNER@example.com ", owner.password)
    # then the catalogue's user object comes back, with a working token and no secrets
    assert status == 200, body
    assert body["notice"] == "Login Successful."
    user = body["user"]
    assert set(user) >= USER_FIELDS
    assert user["email"] == "owner@example.com" and user["active"] is True
    assert user["org_uid"] == [owner.org_uid] and user["shared_org_uid"] == []
    assert user["organizations"][0]["uid"] == owner.org_uid and user["organizations"][0]["is_owner"]
    assert user["tfa_status"] == "unverified" and user["failed_attempts"] == 0
    assert not {"password_hash", "tfa_secret", "activation_token_hash", "reset_token_hash"} & set(user)
    with live.client(authtoken=user["authtoken"]) as c:
        assert c.get("/v3/user").json()["user"]["uid"] == owner.uid


def test_bad_password_counts_down_the_attempts_left(live: Live, owner: User) -> None:
    status, body = login(live, owner.email, "not the password")
    assert status == 422
    assert body == {
        "error_message": "Looks like your email or password is invalid. You have 4 login attempt(s) left.",
        "error_code": 104,
        "errors": [],
    }
    assert login(live, owner.email, "still wrong")[1]["error_message"].endswith("3 login attempt(s) left.")
    # an unknown email gets the same answer as a wrong password, so accounts cannot be discovered
    status, body = login(live, "nobody@example.com", "whatever")
    assert (status, body["error_code"]) == (422, 104)
    assert "5 login attempt(s) left" in body["error_message"]
    # a good login resets the count
    assert login(live, owner.email, owner.password)[0] == 200
    assert login(live, owner.email, "wrong")[1]["error_message"].endswith("4 login attempt(s) left.")


def test_login_without_credentials_is_refused(live: Live) -> None:
    with live.client() as c:
        r = c.post("/v3/user-session", json={"user": {"email": "a@example.com"}})
        assert (r.status_code, r.json()["error_code"]) == (422, 104)
        r = c.post("/v3/user-session", json={"email": "a@example.com", "password": "x"})
        assert r.status_code == 422 and "user" in r.json()["errors"]


def test_lockout_refuses_even_the_right_password_until_it_passes(serve: ServeFactory) -> None:
    # given a server that locks after 3 failures for 2 seconds
    live = serve(max_failed_logins=3, lockout_seconds=2)
    user = make_user(live, "locked@example.com")
    assert login(live, user.email, "wrong-1")[1]["error_message"].endswith("2 login attempt(s) left.")
    assert login(live, user.email, "wrong-2")[1]["error_message"].endswith("1 login attempt(s) left.")
    # when the third attempt fails, the account locks
    status, body = login(live, user.email, "wrong-3")
    assert (status, body["error_code"]) == (422, 108)
    # then even the right password is refused while locked
    status, body = login(live, user.email, user.password)
    assert (status, body["error_code"]) == (422, 108)
    assert "authtoken" not in str(body)
    # and accepted once the lockout has passed
    time.sleep(2.2)
    status, body = login(live, user.email, user.password)
    assert status == 200, body
    assert body["user"]["failed_attempts"] == 0


def test_two_factor_login(live: Live, owner: User) -> None:
    with live.client(authtoken=owner.authtoken) as c:
        # given two-factor enrolment
        r = c.post("/v3/user/two_factor")
        assert r.status_code == 200, r.text
        secret = r.json()["tfa"]["secret"]
        assert r.json()["tfa"]["otpauth_uri"].startswith("otpauth://totp/")
        # until confirmed, a password alone still logs in
        assert login(live, owner.email, owner.password)[0] == 200
        r = c.post("/v3/user/two_factor/enable", json={"user": {"tfa_token": wrong_code(secret)}})
        assert (r.status_code, r.json()["error_code"]) == (422, 295)
        r = c.post("/v3/user/two_factor/enable", json={"user": {"tfa_token": pyotp.TOTP(secret).now()}})
        assert r.status_code == 200, r.text
        assert c.get("/v3/user").json()["user"]["tfa_status"] == "verified"
        # a session cannot swap the secret (and so switch the factor off) without a code
        r = c.post("/v3/user/two_factor")
        assert r.status_code == 422 and "secret" not in r.text
    # when logging in without a code
    status, body = login(live, owner.email, owner.password)
    assert status == 422
    assert body == {
        "error_message": "Please login using the Two-Factor verification Token",
        "error_code": 294,
        "errors": [],
        "tfa_type": "totp_authenticator",
    }
    # with a wrong code
    status, body = login(live, owner.email, owner.password, tfa_token=wrong_code(secret))
    assert status == 422
    assert body == {"error_message": "Invalid verification code", "error_code": 295, "errors": []}
    # digits from other scripts are not digits of a code (pyotp would NFKC-normalize them)
    superscript = pyotp.TOTP(secret).now().translate(str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹"))
    assert login(live, owner.email, owner.password, tfa_token=superscript)[1]["error_code"] == 295
    # with the right code
    status, body = login(live, owner.email, owner.password, tfa_token=pyotp.TOTP(secret).now())
    assert status == 200 and body["user"]["tfa_status"] == "verified"
    # and a wrong password with a right code is still a wrong password
    status, body = login(live, owner.email, "wrong", tfa_token=pyotp.TOTP(secret).now())
    assert body["error_code"] == 104
    # disabling needs a current code too
    with live.client(authtoken=body_token(live, owner, secret)) as c:
        r = c.post("/v3/user/two_factor/disable", json={"user": {"tfa_token": wrong_code(secret)}})
        assert r.status_code == 422
        r = c.post("/v3/user/two_factor/disable", json={"user": {"tfa_token": pyotp.TOTP(secret).now()}})
        assert r.status_code == 200
    assert login(live, owner.email, owner.password)[0] == 200


def body_token(live: Live, user: User, secret: str) -> str:
    status, body = login(live, user.email, user.password, tfa_token=pyotp.TOTP(secret).now())
    assert status == 200, body
    return str(body["user"]["authtoken"])


def test_wrong_two_factor_codes_count_towards_the_lockout(serve: ServeFactory) -> None:
    live = serve(max_failed_logins=2, lockout_seconds=60)
    user = make_user(live, "tfa@example.com")
    with live.client(authtoken=user.authtoken) as c:
        secret = c.post("/v3/user/two_factor").json()["tfa"]["secret"]
        c.post("/v3/user/two_factor/enable", json={"user": {"tfa_token": pyotp.TOTP(secret).now()}})
    assert login(live, user.email, user.password, tfa_token=wrong_code(secret))[1]["error_code"] == 295
    assert login(live, user.email, user.password, tfa_token=wrong_code(secret))[1]["error_code"] == 108
    # a guessed code no longer helps once locked
    status, body = login(live, user.email, user.password, tfa_token=pyotp.TOTP(secret).now())
    assert (status, body["error_code"]) == (422, 108)


def test_logout_kills_only_that_session(live: Live, owner: User) -> None:
    _, other = login(live, owner.email, owner.password)
    with live.client(authtoken=owner.authtoken) as c:
        r = c.delete("/v3/user-session")
        assert r.status_code == 200
        assert r.json() == {"notice": "You've logged out successfully!"}
        r = c.get("/v3/user")
        assert r.status_code == 401
        assert r.json()["error_code"] == 105
        assert c.delete("/v3/user-session").status_code == 401
    with live.client(authtoken=other["user"]["authtoken"]) as c:
        assert c.get("/v3/user").status_code == 200


def test_session_expires_after_its_ttl(serve: ServeFactory) -> None:
    live = serve(session_ttl_seconds=2)
    user = make_user(live, "brief@example.com")
    with live.client(authtoken=user.authtoken) as c:
        assert c.get("/v3/user").status_code == 200
        time.sleep(2.2)
        r = c.get("/v3/user")
        assert (r.status_code, r.json()["error_code"]) == (401, 105)
