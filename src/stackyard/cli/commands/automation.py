"""The automation commands, with the st2 CLI's nouns, verbs and flags (`-j -y -a -w`):

    stackyard auth EMAIL [-p PASSWORD] [-l TTL] [-t]     get and keep an automation token
    stackyard run core.echo message=hi [--async]         run an action, waiting with a live status
    stackyard action|rule|execution|key|trigger|trigger-instance|rule-enforcement|webhook|timer|
              runner|pack|apikey|trace  list|get|...

Credentials, highest first: $ST2_AUTH_TOKEN (or $STACKYARD_AUTOMATION_TOKEN), $ST2_API_KEY, then
the token `stackyard auth` kept (owner-only, in the config directory, for the URL it came from).
The server is `--url`, else $STACKYARD_URL, else the server you logged in to. Verbs are built from
the table `NOUNS`; each one only calls the SDK (`stackyard.client.automation`).
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from stackyard.cli import output
from stackyard.cli.config import DEFAULT_URL, config_dir, load_session
from stackyard.cli.errors import CLIError, UsageError

TOKEN_FILE = "automation.json"


def token_path() -> Path:
    return config_dir() / TOKEN_FILE


def server_url(args: argparse.Namespace) -> str:
    url = (
        getattr(args, "url", None)
        or os.environ.get("STACKYARD_URL")
        or load_session().get("url")
        or DEFAULT_URL
    )
    return str(url).rstrip("/")


def save_token(url: str, token: dict[str, Any]) -> Path:
    path = token_path()
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".automation-", dir=path.parent)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump({"url": url, "token": token["token"], "user": token["user"], "expiry": token["expiry"]}, f)
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)
    return path


def client(args: argparse.Namespace) -> Any:
    from stackyard.client.automation import Client

    url = server_url(args)
    token = os.environ.get("ST2_AUTH_TOKEN") or os.environ.get("STACKYARD_AUTOMATION_TOKEN")
    key = os.environ.get("ST2_API_KEY")
    if not token and not key:
        try:
            kept = json.loads(token_path().read_text(encoding="utf-8"))
        except (OSError, ValueError):
            kept = {}
        if kept.get("url") == url:
            token = kept.get("token")
    if not token and not key:
        raise UsageError(
            "no automation credentials: run `stackyard auth EMAIL` or set ST2_AUTH_TOKEN / ST2_API_KEY"
        )
    return Client(base_url=url, token=token, api_key=key)


def _dicts(value: Any) -> Any:
    if isinstance(value, list):
        return [_dicts(v) for v in value]
    return value.to_dict() if hasattr(value, "to_dict") else value


def show(args: argparse.Namespace, value: Any, columns: tuple[str, ...], many: bool) -> None:
    fmt = output.Format.from_args(args)
    data = _dicts(value)
    if many:
        output.show_list(data, fmt, _out(), columns)
    else:
        output.show_one(data, fmt, _out(), columns)


def _out() -> Any:
    import sys

    return sys.stdout


def load_file(path: str) -> Any:
    import yaml

    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as e:
        raise CLIError(f"cannot read {path}: {e}") from None
    try:
        return json.loads(text) if path.endswith(".json") else yaml.safe_load(text)
    except (ValueError, yaml.YAMLError) as e:
        raise CLIError(f"{path} is not valid JSON or YAML: {e}") from None


@dataclass(frozen=True)
class Noun:
    name: str
    help: str
    manager: str
    model: str
    columns: tuple[str, ...]
    verbs: tuple[str, ...] = ("list", "get")
    filters: tuple[tuple[str, str, str], ...] = ()  # (flag, query name, help)
    default_limit: int | None = 50


NOUNS = (
    Noun(
        "action",
        "Actions: what executions run.",
        "actions",
        "Action",
        ("ref", "pack", "description"),
        ("list", "get", "create", "delete"),
        (("-p", "pack", "Only this pack."),),
        None,
    ),
    Noun(
        "execution",
        "Executions of actions.",
        "executions",
        "Execution",
        ("id", "action.ref", "context.user", "status", "start_timestamp", "end_timestamp"),
        ("list", "get", "cancel", "re-run", "tail"),
        (("--action", "action", "Only this action."), ("--status", "status", "Only this status.")),
        50,
    ),
    Noun(
        "rule",
        "Rules: when a trigger fires, run an action.",
        "rules",
        "Rule",
        ("ref", "pack", "description", "enabled"),
        ("list", "get", "create", "delete", "enable", "disable"),
        (("-p", "pack", "Only this pack."),),
        None,
    ),
    Noun(
        "key",
        "The key-value store.",
        "keys",
        "KeyValuePair",
        ("name", "value", "secret", "encrypted", "scope", "user", "expire_timestamp"),
        ("list", "get", "set", "delete", "load"),
        (("--prefix", "prefix", "Only names with this prefix."),),
        50,
    ),
    Noun(
        "trigger",
        "Trigger types.",
        "triggers",
        "Trigger",
        ("ref", "pack", "description"),
        ("list", "get"),
        (("-p", "pack", "Only this pack."),),
        None,
    ),
    Noun(
        "trigger-instance",
        "Trigger instances: each time a trigger fired.",
        "trigger_instances",
        "TriggerInstance",
        ("id", "trigger", "occurrence_time", "status"),
        ("list", "get"),
        (("--trigger", "trigger", "Only this trigger."),),
        50,
    ),
    Noun(
        "rule-enforcement",
        "Rule enforcements: each time a rule matched.",
        "ruleenforcements",
        "RuleEnforcement",
        ("id", "rule.ref", "trigger_instance_id", "execution_id", "enforced_at"),
        ("list", "get"),
        (("--rule", "rule_ref", "Only this rule."),),
        50,
    ),
    Noun(
        "webhook",
        "Webhooks registered by rules.",
        "webhooks",
        "Webhook",
        ("parameters.url", "type", "ref"),
        ("list", "get"),
        (),
        None,
    ),
    Noun(
        "timer",
        "Timers registered by rules.",
        "timers",
        "Timer",
        ("id", "ref", "type", "parameters"),
        ("list", "get"),
        (),
        None,
    ),
    Noun(
        "runner", "Runner types.", "runners", "RunnerType", ("name", "description"), ("list", "get"), (), None
    ),
    Noun(
        "pack",
        "Packs of actions and rules.",
        "packs",
        "Pack",
        ("ref", "name", "description", "version", "author"),
        ("list", "get", "register"),
        (),
        None,
    ),
    Noun(
        "apikey",
        "Automation API keys (the key is shown once, at creation).",
        "apikeys",
        "ApiKey",
        ("id", "user", "metadata", "enabled"),
        ("list", "get", "create", "delete", "enable", "disable"),
        (),
        50,
    ),
    Noun(
        "trace",
        "Traces: trigger instance -> rule -> execution.",
        "traces",
        "Trace",
        ("id", "trace_tag", "start_timestamp"),
        ("list", "get"),
        (("-c", "trace_tag", "Only this trace tag."),),
        50,
    ),
)
HELP = {
    "list": "List them.",
    "get": "Show one or more by id, ref or name.",
    "create": "Create from a JSON or YAML file.",
    "delete": "Delete one.",
    "enable": "Enable one.",
    "disable": "Disable one.",
    "cancel": "Cancel executions.",
    "re-run": "Run an execution again (k=v parameters override).",
    "tail": "Print an execution's output.",
    "set": "Set a key.",
    "load": "Set the keys of a JSON or YAML file (a list of {name, value, ...}).",
    "register": "Register packs from the server's packs directory.",
}


__all__ = ["HELP", "NOUNS", "Noun", "client", "load_file", "save_token", "server_url", "show"]
