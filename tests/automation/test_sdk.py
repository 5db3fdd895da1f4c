"""The automation SDK against a live server: the seed's example with only the import changed,
managers, typed errors, and the async twin."""

from __future__ import annotations

import asyncio

import pytest

from stackyard.client.automation import AsyncClient, Client, errors, models
from tests.automation.conftest import PASSWORD, Auto, unique

SEED = """
from st2client.client import Client
from st2client import models
client = Client(base_url='http://127.0.0.1')
rules = client.rules.get_all()
executions = client.executions.get_all()
key_value_pair = client.keys.update(models.KeyValuePair(name='k1', value='v1'))
"""


def test_seed_example_with_only_the_import_changed(auto: Auto, monkeypatch: pytest.MonkeyPatch) -> None:
    code = SEED.replace(
        "from st2client.client import Client", "from stackyard.client.automation import Client"
    )
    code = code.replace("from st2client import models", "from stackyard.client.automation import models")
    code = code.replace("base_url='http://127.0.0.1'", f"base_url={auto.url!r}")
    monkeypatch.setenv("ST2_AUTH_TOKEN", auto.people["alice"].token)
    scope: dict[str, object] = {}
    exec(code, scope)
    scope["client"].close()  # type: ignore[attr-defined]  # the seed leaves it open; the test does not
    assert isinstance(scope["rules"], list) and isinstance(scope["executions"], list)
    kv = scope["key_value_pair"]
    assert isinstance(kv, models.KeyValuePair) and kv.value == "v1"


def test_managers_and_typed_errors(auto: Auto) -> None:
    with Client(auto.url) as client:
        token = client.auth(auto.people["alice"].email, PASSWORD)
        assert token.user == auto.people["alice"].email
        assert client.get_user_info()["rbac"]["is_admin"] is True
        done = client.executions.run("core.echo", {"message": "sdk"})
        assert done.status == "succeeded" and done.result["stdout"] == "sdk"
        assert client.executions.get_by_id(done.id).id == done.id
        assert client.actions.get_by_id("core.echo").runner_type == "local-shell-cmd"
        assert client.actions.get_by_id("core.missing") is None
        assert client.runners.get_by_name("noop").name == "noop"
        name = unique("sdkrule")
        rule = client.rules.create(
            models.Rule(
                name=name,
                pack="sdk",
                enabled=True,
                trigger={"type": "core.st2.webhook", "parameters": {"url": name}},
                action={"ref": "core.noop"},
            )
        )
        assert client.rules.get_by_name(name).id == rule.id
        rule.enabled = False
        assert client.rules.update(rule).enabled is False
        assert client.rules.delete(rule) is True
        assert client.keys.get_by_name(unique("none")) is None
        with pytest.raises(errors.BadRequest) as bad:
            client.executions.run("core.echo", {})
        assert "message" in bad.value.error_message
        with Client(auto.url, token="nope") as stranger, pytest.raises(errors.Unauthorized):
            stranger.rules.get_all()
        with pytest.raises(errors.NotSupported):
            client._call("GET", f"{client.api_url}/sensortypes", None, None, lambda s, d: d)


def test_async_twin(auto: Auto) -> None:
    async def go() -> tuple[str, int]:
        async with AsyncClient(auto.url, token=auto.people["alice"].token) as client:
            kv = await client.keys.update(models.KeyValuePair(name="ak", value="av"))
            rules = await client.rules.get_all()
            return kv.value, len(rules)

    value, _ = asyncio.run(go())
    assert value == "av"
