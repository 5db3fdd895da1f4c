"""Running executions: native core actions inside the creating transaction (`run_instant`), and
everything else as the `automation.execution` job (`run_job`) in any process that runs jobs.

A job runs an execution at most once: an attempt that finds the execution already `running` (the
process that started it died, and its lease lapsed) marks it `abandoned` instead of running the
action a second time; one that finds it still `scheduled` (the process died before starting it)
runs it. Cancellation is seen by the running attempt within 0.2 s (it reads the status), which
then kills the program's process group.
"""

from __future__ import annotations

import json
import random
import sys
import time
from pathlib import Path
from typing import Any

from stackyard.automation import catalogue, chain, executions, host, output, packs
from stackyard.automation.executions import KIND
from stackyard.automation.instant import finish, shell_result
from stackyard.core import jobs
from stackyard.core.job_runner import handler
from stackyard.core.jobs import Job
from stackyard.core.outbound import OutboundClient, OutboundError, OutboundPolicy
from stackyard.settings import Settings
from stackyard.store.engine import Database, Row, jdump

_SETTINGS: dict[str, Settings] = {}


def configure(db: Database, settings: Settings) -> None:
    """Job handlers get the database only: the settings they run with are registered per database."""
    _SETTINGS[db.url] = settings


def _settings_for(db: Database) -> Settings:
    return _SETTINGS.get(db.url) or Settings()


# -- the job ----------------------------------------------------------------------------------------


@handler(KIND)
def run_job(db: Database, job: Job) -> None:
    settings = _settings_for(db)
    execution_id = job.payload["id"]
    with db.write() as tx:
        row = executions.load(tx, execution_id, lock=True)
        if row is None or row["status"] in executions.COMPLETED:
            return
        if row["status"] in ("canceling", "canceled"):
            executions.set_status(tx, row, "canceled", result={})
            return
        if row["status"] == "running":
            # the attempt that started it lost its process (or its lease): never run an action twice
            executions.set_status(
                tx,
                row,
                "abandoned",
                result={"error": "The process running this execution stopped before it finished."},
            )
            return
        jobs.fence(tx, job)
        executions.set_status(tx, row, "running")

    def should_stop() -> bool:
        with db.read() as rtx:
            status = rtx.scalar("SELECT status FROM st2_executions WHERE id = ?", execution_id)
        return status in ("canceling", "canceled")

    try:
        if row["doc"]["action"]["runner_type"] == "action-chain":
            status, result, out, err = chain.run(db, settings, row, should_stop)
        else:
            status, result, out, err = _run(db, settings, row, should_stop)
    except Exception as e:  # an action's own failure is its execution's result, not a job failure
        status, result, out, err = "failed", {"error": f"{type(e).__name__}: {e}"}, "", ""
    with db.write() as tx:
        jobs.fence(tx, job)
        current = executions.load(tx, execution_id, lock=True)
        if current is None or current["status"] in executions.COMPLETED:
            return
        if current["status"] in ("canceling", "canceled"):
            status = "canceled"
        finish(tx, current, status, result, out, err)


def _run(db: Database, settings: Settings, row: Row, should_stop: Any) -> tuple[str, Any, str, str]:
    """Run an execution's action: (status, result, stdout, stderr). A host program's output is
    written line by line while it runs (`output.LiveOutput`), so it answers no stdout/stderr."""
    action = row["doc"]["action"]
    values = executions.values_of(settings, row["doc"])
    ref, runner = action["ref"], action["runner_type"]
    workdir = Path(settings.data_dir) / "runs" / row["id"]
    if ref == "core.pause":
        seconds = float(values.get("max_pause", 5))
        if values.get("random"):
            seconds = random.uniform(0, seconds)
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if should_stop():
                return "canceled", {}, "", ""
            time.sleep(min(0.1, max(0.0, deadline - time.monotonic())))
        return "succeeded", {"result": None}, "", ""
    if runner == "http-request":
        return _http(settings, values)
    if runner == "noop":
        return "succeeded", shell_result("", "", 0), "", ""
    timeout = float(values.get("timeout") or (600 if runner == "python-script" else 60))
    env = values.get("env") or {}
    common = {
        "workdir": workdir,
        "env": env,
        "cwd": values.get("cwd") or None,
        "timeout": timeout,
        "max_bytes": settings.automation_max_output_bytes,
        "should_stop": should_stop,
    }
    with output.LiveOutput(db, row, python=runner == "python-script") as live:
        common["on_line"] = live.line
        outcome = _host(settings, row, runner, values, common)
    if outcome is None:
        return "failed", {"error": f"Runner {runner} is not supported by this server."}, "", ""
    if outcome.canceled:
        return "canceled", shell_result(outcome.stdout, outcome.stderr, outcome.return_code), "", ""
    result = shell_result(outcome.stdout, outcome.stderr, outcome.return_code)
    if outcome.timed_out:
        result["error"] = f"Action failed to complete in {timeout:g} seconds"
        return "timeout", result, "", ""
    if runner == "python-script":
        result = _python_result(outcome)
    return ("succeeded" if outcome.return_code == 0 else "failed"), result, "", ""


def _host(
    settings: Settings, row: Row, runner: str, values: dict[str, Any], common: dict[str, Any]
) -> host.Outcome | None:
    if runner == "local-shell-cmd":
        return host.run(["/bin/sh", "-c", str(values.get("cmd") or "")], **common)
    if runner == "local-shell-script":
        script = packs.entry_point(settings, row)
        args = [
            f"--{k}={v}"
            for k, v in values.items()
            if k not in catalogue.RUNNERS[runner]["runner_parameters"] and v is not None
        ]
        return host.run(["/bin/sh", str(script), *args], **common)
    if runner == "python-script":
        script = packs.entry_point(settings, row)
        spec = {k: v for k, v in values.items() if k not in catalogue.RUNNERS[runner]["runner_parameters"]}
        wrapper = str(Path(__file__).with_name("python_wrapper.py"))
        env = {"PYTHONUNBUFFERED": "1", **common["env"]}  # its lines as it prints them
        return host.run(
            [sys.executable, wrapper, str(script)], stdin=json.dumps(spec).encode(), **{**common, "env": env}
        )
    return None


def _python_result(outcome: host.Outcome) -> dict[str, Any]:
    marker = "\n__stackyard_result__ "
    text = "\n" + outcome.stdout
    value: Any = None
    if marker in text:
        text, _, tail = text.rpartition(marker)
        try:
            value = json.loads(tail)
        except ValueError:
            value = tail
    return {
        "result": value,
        "stdout": text[1:].rstrip("\n"),
        "stderr": outcome.stderr.rstrip("\n"),
        "exit_code": outcome.return_code,
    }


def _http(settings: Settings, values: dict[str, Any]) -> tuple[str, Any, str, str]:
    client = OutboundClient(OutboundPolicy.from_settings(settings))
    method = str(values.get("method") or "GET").upper()
    url = str(values["url"])
    params = values.get("params") or {}
    if params:
        from urllib.parse import urlencode

        url += ("&" if "?" in url else "?") + urlencode(params)
    headers = {str(k): str(v) for k, v in (values.get("headers") or {}).items()}
    body = values.get("body")
    try:
        response = client.request(
            method, url, headers=headers, content=body.encode() if isinstance(body, str) else None
        )
    except OutboundError as e:
        return "failed", {"error": f"{type(e).__name__}: {e}", "status_code": None}, "", ""
    text = response.body.decode("utf-8", "replace")
    parsed: Any = text
    if "json" in response.headers.get("content-type", ""):
        try:
            parsed = json.loads(text)
        except ValueError:
            pass
    result = {
        "status_code": response.status,
        "body": parsed,
        "parsed": parsed is not text,
        "headers": dict(response.headers),
    }
    return ("succeeded" if response.status < 400 else "failed"), result, "", ""


def dumps(value: Any) -> str:
    return jdump(value)
