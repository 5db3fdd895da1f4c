"""Where the CLI finds its server and credentials, and the login session it caches.

Precedence, highest first: command-line flags (`--url`, `--api-key`), environment variables
(`STACKYARD_URL`, `STACKYARD_AUTHTOKEN`, `STACKYARD_MANAGEMENT_TOKEN`, `STACKYARD_API_KEY`), then the
session `stackyard login` saved. Secrets have no flags so they never show up in `ps` or shell history.
A management token, when set, is sent instead of any authtoken; a cached authtoken is sent only to the
URL it was issued by.

The session file holds a live authtoken, so it is written owner-only (0600) inside an owner-only
directory, atomically, and re-chmodded if it already existed with looser bits.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

DEFAULT_URL = "http://127.0.0.1:8080"
SESSION_FILE = "session.json"


def config_dir(env: Mapping[str, str] | None = None) -> Path:
    """$STACKYARD_CONFIG_DIR, else $XDG_CONFIG_HOME/stackyard, else ~/.config/stackyard."""
    env = os.environ if env is None else env
    if env.get("STACKYARD_CONFIG_DIR"):
        return Path(env["STACKYARD_CONFIG_DIR"]).expanduser()
    base = env.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base).expanduser() / "stackyard"


def session_path(env: Mapping[str, str] | None = None) -> Path:
    return config_dir(env) / SESSION_FILE


def load_session(env: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The cached session, or {} when there is none. A corrupt file is an error, not an empty session."""
    path = session_path(env)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    from stackyard.cli.errors import CLIError

    try:
        data = json.loads(text)
    except ValueError:
        raise CLIError(f"{path} is not valid JSON; remove it and log in again") from None
    if not isinstance(data, dict):
        raise CLIError(f"{path} does not hold a session object; remove it and log in again")
    return data


def save_session(data: Mapping[str, Any], env: Mapping[str, str] | None = None) -> Path:
    """Write the session owner-only (0600) and atomically; answer its path."""
    path = session_path(env)
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".session-", dir=path.parent)  # mkstemp creates it 0600
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(dict(data), f, indent=2)
            f.write("\n")
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def remove_session(env: Mapping[str, str] | None = None) -> bool:
    """Delete the cached session; answer whether there was one."""
    try:
        session_path(env).unlink()
    except FileNotFoundError:
        return False
    return True


@dataclass(frozen=True)
class Credentials:
    """What one invocation will send: server URL, user or management token, stack api_key."""

    url: str
    authtoken: str | None = None
    management_token: str | None = None
    api_key: str | None = None

    @classmethod
    def resolve(
        cls, url: str | None, api_key: str | None, env: Mapping[str, str] | None = None
    ) -> Credentials:
        env = os.environ if env is None else env
        session = load_session(env)
        resolved = (url or env.get("STACKYARD_URL") or session.get("url") or DEFAULT_URL).rstrip("/")
        management_token = env.get("STACKYARD_MANAGEMENT_TOKEN") or None
        # A cached authtoken goes only to the server that issued it, never to another --url.
        cached = session.get("authtoken") if session.get("url") == resolved else None
        authtoken = None if management_token else (env.get("STACKYARD_AUTHTOKEN") or cached)
        return cls(
            url=resolved,
            authtoken=authtoken or None,
            management_token=management_token,
            api_key=api_key or env.get("STACKYARD_API_KEY") or None,
        )
