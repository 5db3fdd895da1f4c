"""login / whoami / logout against a live server, and the session file they share."""

from __future__ import annotations

import io
import json
import stat
from pathlib import Path

import pyotp
import pytest

from stackyard.cli import config
from tests.cli.conftest import Run
from tests.conftest import Live, User

PASSWORD = "correct horse battery"


def test_login_whoami_logout(cli: Run, live: Live, owner: User, config_dir: Path) -> None:
    # given a logged-in session
    r = cli("login", "--url", live.url, "--email", owner.email, "--password", PASSWORD, "-j")
    assert r.code == 0, r.err
    shown = r.json()
    assert shown["email"] == owner.email and "authtoken" not in shown
    session = json.loads((config_dir / "session.json").read_text())
    assert session["url"] == live.url and session["email"] == owner.email
    token = session["authtoken"]
    # when whoami runs with no credentials on the command line
    r = cli("whoami", "-a", "email", "uid", "-j")
    # then it answers as the logged-in user
    assert r.code == 0, r.err
    assert r.json() == {"email": owner.email, "uid": owner.uid}
    # when the user logs out
    r = cli("logout")
    assert r.code == 0, r.err
    assert "logged out" in r.out
    # then the cache is gone and the token is dead on the server
    assert not (config_dir / "session.json").exists()
    with live.client(authtoken=token) as c:
        assert c.get("/v3/user").status_code == 401
    r = cli("whoami", "--url", live.url)
    assert r.code == 1 and "not logged in" in r.err


def test_session_file_is_owner_only(cli: Run, live: Live, owner: User, config_dir: Path) -> None:
    # given a session file someone left world-readable
    config_dir.mkdir(mode=0o755)
    (config_dir / "session.json").write_text("{}")
    (config_dir / "session.json").chmod(0o644)
    # when the user logs in
    r = cli("login", "--url", live.url, "--email", owner.email, "--password", PASSWORD)
    assert r.code == 0, r.err
    # then only the owner can read the new file
    mode = stat.S_IMODE((config_dir / "session.json").stat().st_mode)
    assert mode == 0o600
    assert owner.email in r.err and owner.email in r.out
    assert json.loads((config_dir / "session.json").read_text())["authtoken"] not in r.out + r.err


def test_fresh_session_dir_is_owner_only(config_dir: Path) -> None:
    path = config.save_session({"url": "http://x", "authtoken": "t"})
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(config_dir.stat().st_mode) == 0o700
    assert config.load_session() == {"url": "http://x", "authtoken": "t"}
    assert config.remove_session() and not config.remove_session()


def test_login_prompts_for_the_password(
    cli: Run, live: Live, owner: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    prompts: list[str] = []

    def fake_getpass(prompt: str = "") -> str:
        prompts.append(prompt)
        return PASSWORD

    monkeypatch.setattr("getpass.getpass", fake_getpass)
    r = cli("login", "--url", live.url, "--email", owner.email, "-a", "email")
    assert r.code == 0, r.err
    assert prompts == ["Password: "]
    assert owner.email in r.out


def test_wrong_password_exits_1_and_caches_nothing(
    cli: Run, live: Live, owner: User, config_dir: Path
) -> None:
    r = cli("login", "--url", live.url, "--email", owner.email, "--password", "wrong password")
    assert r.code == 1
    assert r.err.startswith("ERROR: 422 Looks like your email or password is invalid")
    assert not (config_dir / "session.json").exists()


def test_dead_token_is_reported_and_logout_still_clears_it(cli: Run, live: Live, config_dir: Path) -> None:
    # given a cached session whose token the server does not know
    config.save_session({"url": live.url, "authtoken": "not-a-real-token"})
    # when whoami runs, then it fails with the server's 401
    r = cli("whoami")
    assert r.code == 1 and r.err.startswith("ERROR: 401")
    # and logout removes the cache anyway
    r = cli("logout")
    assert r.code == 0, r.err
    assert "already ended" in r.out
    assert not (config_dir / "session.json").exists()


def test_cached_token_goes_only_to_its_own_server(config_dir: Path) -> None:
    config.save_session({"url": "http://a.example:8080", "authtoken": "secret"})
    assert config.Credentials.resolve(None, None).authtoken == "secret"
    other = config.Credentials.resolve("http://b.example:8080", None)
    assert other.url == "http://b.example:8080" and other.authtoken is None


def test_environment_beats_the_cache(config_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config.save_session({"url": "http://a.example:8080", "authtoken": "cached"})
    monkeypatch.setenv("STACKYARD_URL", "http://a.example:8080/")
    monkeypatch.setenv("STACKYARD_AUTHTOKEN", "from-env")
    monkeypatch.setenv("STACKYARD_API_KEY", "blt1")
    c = config.Credentials.resolve(None, None)
    assert (c.url, c.authtoken, c.api_key) == ("http://a.example:8080", "from-env", "blt1")
    assert config.Credentials.resolve(None, "blt2").api_key == "blt2"
    # a management token replaces any user token
    monkeypatch.setenv("STACKYARD_MANAGEMENT_TOKEN", "cs-mt")
    c = config.Credentials.resolve(None, None)
    assert (c.management_token, c.authtoken) == ("cs-mt", None)


def test_corrupt_session_file_is_an_error(cli: Run, config_dir: Path) -> None:
    config_dir.mkdir()
    (config_dir / "session.json").write_text("{not json")
    r = cli("whoami")
    assert r.code == 1 and "session.json is not valid JSON" in r.err


def test_forgotten_password_is_reset_through_the_cli(cli: Run, live: Live, owner: User) -> None:
    from stackyard.identity import mail

    # given a user who asks for a reset
    r = cli("user", "forgot-password", owner.email, "--url", live.url)
    assert r.code == 0, r.err
    assert "If this email address exists" in r.out
    # when the token from the mail is used with a new password
    with live.db.read() as tx:
        body = mail.outbox(tx, owner.email, 1)[0]["body"]
    token = next(line.strip() for line in body.splitlines() if line.startswith("    "))
    r = cli("user", "reset-password", token, "--password", "a brand new password", "--url", live.url)
    assert r.code == 0, r.err
    # then the old password fails and the new one logs in
    assert cli("login", "--url", live.url, "--email", owner.email, "--password", PASSWORD).code == 1
    r = cli("login", "--url", live.url, "--email", owner.email, "--password", "a brand new password")
    assert r.code == 0, r.err
    # and a used token is refused
    r = cli("user", "reset-password", token, "--password", "another password 1", "--url", live.url)
    assert r.code == 1 and "reset_password_token" in r.err


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_two_factor_login(cli: Run, live: Live, owner: User, monkeypatch: pytest.MonkeyPatch) -> None:
    # given an account with two-factor login on
    with live.client(authtoken=owner.authtoken) as c:
        secret = c.post("/v3/user/two_factor").json()["tfa"]["secret"]
        code = pyotp.TOTP(secret).now()
        assert c.post("/v3/user/two_factor/enable", json={"user": {"tfa_token": code}}).status_code == 200
    login = ("login", "--url", live.url, "--email", owner.email, "--password", PASSWORD)
    # without a terminal and without a code, the server's demand is the error
    r = cli(*login)
    assert r.code == 1 and "Two-Factor verification Token" in r.err
    # with --tfa-token it logs in
    r = cli(*login, "--tfa-token", pyotp.TOTP(secret).now(), "-j", "-a", "email")
    assert r.code == 0, r.err
    assert r.json() == {"email": owner.email}
    # at a terminal, it asks for the code on stderr and keeps stdout for the result
    monkeypatch.setattr("sys.stdin", _Terminal(pyotp.TOTP(secret).now() + "\n"))
    r = cli(*login, "-j", "-a", "email")
    assert r.code == 0, r.err
    assert "Two-factor code: " in r.err and r.json() == {"email": owner.email}
