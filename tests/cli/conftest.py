"""Run the `stackyard` command in-process: `cli("environment", "list", "-j")` answers exit code and output.

Each test gets its own config directory and none of the caller's STACKYARD_* credentials.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from stackyard.cli.main import main

CLI_ENV = (
    "STACKYARD_URL",
    "STACKYARD_AUTHTOKEN",
    "STACKYARD_MANAGEMENT_TOKEN",
    "STACKYARD_API_KEY",
    "STACKYARD_CONFIG_DIR",
    "XDG_CONFIG_HOME",
    "MFA_SECRET",
)


@dataclass
class Result:
    code: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)


Run = Callable[..., Result]


@pytest.fixture
def config_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in CLI_ENV:
        monkeypatch.delenv(name, raising=False)
    path = tmp_path / "config"
    monkeypatch.setenv("STACKYARD_CONFIG_DIR", str(path))
    return path


@pytest.fixture
def cli(config_dir: Path, capsys: pytest.CaptureFixture[str]) -> Run:
    def run(*argv: str) -> Result:
        capsys.readouterr()
        try:
            main(list(argv))
            code = 0
        except SystemExit as e:
            code = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
        out, err = capsys.readouterr()
        return Result(code, out, err)

    return run
