"""Built-in runner types, the `core` pack's actions and the built-in trigger types (st2 3.9 shapes).

Runner types and the core pack are the same in every organization and are not stored: they are
answered from these tables. Host runners (`HOST_RUNNERS`) run programs on the server's host and
are refused unless the server runs with `--allow-local-runners`; remote and WinRM runners (other
hosts over SSH/WinRM) and sudo variants are always refused.
"""

from __future__ import annotations

import hashlib
from typing import Any


def _stable(prefix: str, name: str) -> str:
    """A 24-hex id that is the same in every process (built-ins are not stored)."""
    return prefix + hashlib.sha256(name.encode()).hexdigest()[:21]


_S = {"type": "string"}
_TIMEOUT = {"type": "integer", "default": 60, "description": "Action timeout in seconds."}
_ENV = {"type": "object", "description": "Environment variables to set for the command."}
_CWD = {"type": "string", "description": "Working directory (default: one of its own per execution)."}
_SHELL = {
    "cwd": _CWD,
    "env": _ENV,
    "kwarg_op": {"type": "string", "default": "--"},
    "sudo": {"type": "boolean", "default": False, "immutable": True},
    "sudo_password": {"type": "string", "secret": True},
    "timeout": _TIMEOUT,
}


def _runner(name: str, description: str, params: dict[str, Any], output_key: str = "") -> dict[str, Any]:
    doc = {
        "id": _stable("5e0", name),
        "uid": f"runner_type:{name}",
        "name": name,
        "description": description,
        "enabled": True,
        "runner_package": name.replace("-", "_"),
        "runner_module": name.replace("-", "_"),
        "runner_parameters": params,
        "output_schema": {},
    }
    if output_key:
        doc["output_key"] = output_key
    return doc


RUNNERS: dict[str, dict[str, Any]] = {
    r["name"]: r
    for r in [
        _runner(
            "local-shell-cmd", "A runner to execute local actions as a fixed user.", {"cmd": _S, **_SHELL}
        ),
        _runner("local-shell-script", "A runner to execute local actions as a fixed user.", dict(_SHELL)),
        _runner(
            "python-script",
            "A runner for launching python actions.",
            {"env": _ENV, "timeout": {"type": "integer", "default": 600}, "debug": {"type": "boolean"}},
            "result",
        ),
        _runner(
            "http-request",
            "A HTTP client for running HTTP actions (through Stackyard's hardened outbound client).",
            {
                "url": {"type": "string", "required": True},
                "headers": {"type": "object"},
                "cookies": {"type": "object"},
                "username": _S,
                "password": {"type": "string", "secret": True},
                "allow_redirects": {"type": "boolean", "default": False},
                "verify_ssl_cert": {"type": "boolean", "default": True},
            },
            "body",
        ),
        _runner("noop", "A runner which does nothing.", {}),
        _runner(
            "action-chain",
            "A runner for launching linear action chains.",
            {"display_published": {"type": "boolean", "default": True}},
            "published",
        ),
        _runner(
            "announcement",
            "A runner for emitting an announcement event on the stream.",
            {"route": {"type": "string", "default": "general"}},
        ),
        _runner("inquirer", "A runner to pause a workflow and wait for a response (not supported here).", {}),
        _runner(
            "remote-shell-cmd",
            "Runs commands on remote hosts over SSH (not supported here).",
            {"hosts": _S, "cmd": _S},
        ),
        _runner(
            "remote-shell-script",
            "Runs scripts on remote hosts over SSH (not supported here).",
            {"hosts": _S},
        ),
        _runner("orquesta", "Orquesta workflows (not supported here).", {}),
    ]
}
HOST_RUNNERS = {"local-shell-cmd", "local-shell-script", "python-script"}
REFUSED_RUNNERS = {
    "remote-shell-cmd": "runs commands on other hosts over SSH, which this server does not do",
    "remote-shell-script": "runs scripts on other hosts over SSH, which this server does not do",
    "orquesta": "Orquesta workflows are not supported by this server yet",
    "inquirer": "inquiries are not supported by this server yet",
    "announcement": "announcements run only as core.announcement",
}
WORKFLOW_RUNNERS = {"action-chain", "orquesta"}


def _action(name: str, runner: str, description: str, params: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "id": _stable("5e1", "core." + name),
        "uid": f"action:core:{name}",
        "ref": f"core.{name}",
        "name": name,
        "pack": "core",
        "description": description,
        "enabled": True,
        "runner_type": runner,
        "entry_point": extra.pop("entry_point", ""),
        "parameters": params,
        "output_schema": {},
        "tags": [],
        "notify": {},
        "metadata_file": f"actions/{name}.yaml",
        **extra,
    }


_REQ_MSG = {"message": {"type": "string", "required": True, "description": "The message to print."}}
CORE_ACTIONS: dict[str, dict[str, Any]] = {
    a["ref"]: a
    for a in [
        _action(
            "local",
            "local-shell-cmd",
            "Action that executes an arbitrary Linux command on the localhost.",
            {
                "cmd": {
                    "type": "string",
                    "required": True,
                    "description": "Arbitrary Linux command to be executed on the local host.",
                },
                "sudo": {"type": "boolean", "immutable": True},
            },
        ),
        _action(
            "local_sudo",
            "local-shell-cmd",
            "Action that executes an arbitrary Linux command on the localhost with sudo (refused here).",
            {
                "cmd": {"type": "string", "required": True},
                "sudo": {"type": "boolean", "default": True, "immutable": True},
            },
        ),
        _action(
            "remote",
            "remote-shell-cmd",
            "Action to execute arbitrary linux command remotely (refused here).",
            {"cmd": {"type": "string", "required": True}, "hosts": {"type": "string", "required": True}},
        ),
        _action(
            "remote_sudo",
            "remote-shell-cmd",
            "Action to execute arbitrary linux command remotely with sudo (refused here).",
            {"cmd": {"type": "string", "required": True}, "hosts": {"type": "string", "required": True}},
        ),
        _action(
            "echo",
            "local-shell-cmd",
            "Action that executes the Linux echo command on the localhost.",
            {
                **_REQ_MSG,
                "cmd": {"type": "string", "immutable": True, "default": 'echo "{{message}}"'},
                "sudo": {"type": "boolean", "immutable": True},
            },
        ),
        _action(
            "error",
            "local-shell-cmd",
            "Action that executes the Linux echo command (to stderr) on the localhost.",
            {
                **_REQ_MSG,
                "cmd": {"type": "string", "immutable": True, "default": 'echo "{{message}}" >&2; exit 1'},
                "sudo": {"type": "boolean", "immutable": True},
            },
        ),
        _action("noop", "noop", "Action that does nothing", {}),
        _action(
            "http",
            "http-request",
            "Action that performs an http request.",
            {
                "url": {"type": "string", "required": True},
                "method": {
                    "type": "string",
                    "default": "GET",
                    "enum": ["HEAD", "GET", "POST", "PUT", "DELETE", "OPTIONS", "TRACE", "PATCH", "PURGE"],
                },
                "body": {"type": "string"},
                "headers": {"type": "object"},
                "params": {"type": "object"},
                "auth": {"type": "string"},
                "file_path": {"type": "string"},
                "file_content": {"type": "string"},
                "file_name": {"type": "string"},
                "file_content_type": {"type": "string"},
                "timeout": {"type": "number", "default": 50},
            },
        ),
        _action(
            "pause",
            "python-script",
            "Action to pause current thread of workflow/sub-workflow.",
            {
                "max_pause": {"type": "integer", "default": 5, "required": True},
                "random": {"type": "boolean", "default": False},
            },
            entry_point="pause.py",
        ),
        _action(
            "inject_trigger",
            "python-script",
            "Action which injects a new trigger in the system.",
            {
                "trigger": {"type": "string", "required": True},
                "trigger_name": {"type": "string"},
                "payload": {"type": "object"},
                "trace_tag": {"type": "string"},
            },
            entry_point="inject_trigger.py",
        ),
        _action(
            "uuid",
            "python-script",
            "Generate a new UUID (default uuid4)",
            {"uuid_type": {"type": "string", "default": "uuid4", "enum": ["uuid1", "uuid4"]}},
            entry_point="generate_uuid.py",
        ),
        _action(
            "sendmail",
            "local-shell-script",
            "This sends an email (to the Stackyard mail outbox, or by SMTP when configured)",
            {
                "to": {"type": "string", "required": True},
                "subject": {"type": "string", "required": True},
                "body": {"type": "string", "required": True},
                "from": {"type": "string", "default": "stanley"},
                "content_type": {"type": "string", "default": "text/html"},
            },
            entry_point="send_mail/send_mail",
        ),
        _action(
            "ask",
            "inquirer",
            "Action for initiating an Inquiry (usually in a workflow); refused here: no inquiries yet.",
            {
                "schema": {"type": "object"},
                "roles": {"type": "array", "default": []},
                "users": {"type": "array", "default": []},
                "route": {"type": "string", "default": ""},
                "ttl": {"type": "integer", "default": 1440},
            },
        ),
        _action(
            "announcement",
            "announcement",
            "Action that broadcasts the announcement to all stream consumers.",
            {
                "message": {"type": "object"},
                "experimental": {"type": "boolean", "default": True, "immutable": True},
            },
        ),
    ]
}
# st2's `st2` pack action that writes the key-value store (a rule's usual way to remember something).
CORE_ACTIONS["st2.kv.set"] = {
    **_action(
        "kv.set",
        "python-script",
        "Set a value in the key-value store (system scope).",
        {
            "key": {"type": "string", "required": True},
            "value": {"type": "string", "required": True},
            "ttl": {"type": "integer"},
        },
    ),
    "id": _stable("5e1", "st2.kv.set"),
    "uid": "action:st2:kv.set",
    "ref": "st2.kv.set",
    "pack": "st2",
}
# st2's `packs.install` (an Orquesta workflow there): here it copies a pack from a directory on the
# server's host and registers it (`packs.install_local`); it reads the host, so it is a host runner's.
CORE_ACTIONS["packs.install"] = {
    **_action(
        "install",
        "python-script",
        "Install a pack from a directory on the server's host and register its content.",
        {
            "packs": {"type": "array", "items": {"type": "string"}, "required": True},
            "force": {"type": "boolean", "default": False},
            "skip_dependencies": {"type": "boolean", "default": False},
        },
    ),
    "id": _stable("5e1", "packs.install"),
    "uid": "action:packs:install",
    "ref": "packs.install",
    "pack": "packs",
}
# Core actions this server runs itself (no program on the host), whatever their declared runner.
NATIVE = {
    "st2.kv.set",
    "core.echo",
    "core.error",
    "core.noop",
    "core.pause",
    "core.inject_trigger",
    "core.uuid",
    "core.sendmail",
    "core.http",
    "core.announcement",
}
# Finished within the request that creates them, in the same transaction (no job, no thread).
INSTANT = {
    "st2.kv.set",
    "core.noop",
    "core.echo",
    "core.error",
    "core.uuid",
    "core.inject_trigger",
    "core.announcement",
    "core.sendmail",
    "packs.install",
}

CORE_PACK = {
    "id": "5e2000000000000000000001",
    "uid": "pack:core",
    "ref": "core",
    "name": "core",
    "description": "Basic core actions.",
    "version": "3.9.0",
    "author": "StackStorm, Inc.",
    "email": "info@stackstorm.com",
    "keywords": ["core"],
    "system": {},
    "files": [],
}

_TIMER = {"executed_at": {"type": "string", "format": "date-time"}, "schedule": {"type": "object"}}


def _ttype(
    name: str, description: str, parameters: dict[str, Any], payload: dict[str, Any]
) -> dict[str, Any]:
    pack, _, short = name.partition(".")
    return {
        "id": _stable("5e3", name),
        "uid": f"trigger_type:{pack}:{short}",
        "ref": name,
        "name": short,
        "pack": pack,
        "description": description,
        "parameters_schema": {"type": "object", "properties": parameters, "additionalProperties": False}
        if parameters
        else {},
        "payload_schema": {"type": "object", "properties": payload},
        "tags": [],
    }


TRIGGER_TYPES: dict[str, dict[str, Any]] = {
    t["ref"]: t
    for t in [
        _ttype(
            "core.st2.webhook",
            "Trigger type for registering webhooks that can consume arbitrary payload.",
            {"url": {"type": "string", "required": True}},
            {"headers": {"type": "object"}, "body": {"anyOf": [{"type": "object"}, {"type": "array"}]}},
        ),
        _ttype(
            "core.st2.IntervalTimer",
            "Triggers on specified intervals. e.g. every 30s, 1week etc.",
            {
                "unit": {"enum": ["weeks", "days", "hours", "minutes", "seconds"], "required": True},
                "delta": {"type": "integer", "required": True},
                "timezone": {"type": "string"},
            },
            _TIMER,
        ),
        _ttype(
            "core.st2.DateTimer",
            "Triggers exactly once when the current time matches the specified time.",
            {
                "date": {"type": "string", "format": "date-time", "required": True},
                "timezone": {"type": "string"},
            },
            _TIMER,
        ),
        _ttype(
            "core.st2.CronTimer",
            "Triggers whenever current time matches the specified time constaints like a UNIX cron scheduler.",
            {
                k: {"anyOf": [{"type": "string"}, {"type": "integer"}]}
                for k in ("year", "month", "day", "week", "day_of_week", "hour", "minute", "second")
            }
            | {"timezone": {"type": "string"}},
            _TIMER,
        ),
        _ttype(
            "core.st2.generic.actiontrigger",
            "Trigger encapsulating the completion of an action execution.",
            {},
            {
                k: {}
                for k in (
                    "execution_id",
                    "status",
                    "start_timestamp",
                    "action_name",
                    "action_ref",
                    "runner_ref",
                    "parameters",
                    "result",
                )
            },
        ),
    ]
}
TIMER_TYPES = ("core.st2.IntervalTimer", "core.st2.DateTimer", "core.st2.CronTimer")
WEBHOOK_TYPE = "core.st2.webhook"
ACTION_TRIGGER = "core.st2.generic.actiontrigger"
