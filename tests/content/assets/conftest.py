"""Every asset test runs with local storage and with S3 storage (a moto S3 server started here,
once per run), on both databases (the `db` fixture)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from stackyard.settings import Settings
from tests.cli.conftest import cli, config_dir  # noqa: F401 - the CLI fixtures, for test_cli_and_sdk


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    port = server._server.server_port  # type: ignore[attr-defined]
    yield f"http://127.0.0.1:{port}"
    server.stop()


@pytest.fixture(params=["local", "s3"])
def storage_kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def settings(tmp_path: Any, storage_kind: str, request: pytest.FixtureRequest) -> Settings:
    base = Settings(
        data_dir=str(tmp_path),
        access_log=False,
        auth_attempts_per_minute=100_000,
        failed_auth_per_minute=100_000,
        password_hash_time_cost=1,
        password_hash_memory_kib=64,
        rate_limit_enabled=False,
    )
    if storage_kind == "local":
        return base
    return base.replace(
        asset_storage=f"s3://stackyard-test/{tmp_path.name}",
        asset_s3_endpoint=request.getfixturevalue("s3_endpoint"),
        asset_s3_access_key="testing",
        asset_s3_secret_key="testing",
    )
