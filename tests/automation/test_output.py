"""A running execution's output, line by line: `st2 execution tail` prints each line as the program
prints it, and the output endpoint holds the lines printed so far."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from stackyard.automation import bus
from tests.automation.conftest import Auto, st2
from tests.conftest import wait_for


def _started(auto: Auto, st2venv: Path, cmd: str) -> str:
    printed = st2(auto, st2venv, "run", "core.local", f"cmd={cmd}", "-a").stdout
    return re.search(r"st2 execution get ([0-9a-f]{24})", printed).group(1)  # type: ignore[union-attr]


def _tail(auto: Auto, st2venv: Path, eid: str) -> subprocess.Popen[str]:
    env = {**auto.env(), "PYTHONUNBUFFERED": "1"}  # the CLI's prints reach the pipe as it makes them
    return subprocess.Popen(
        [str(st2venv.parent / "st2"), "execution", "tail", eid],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _await(path: Path) -> str:
    return f"while [ ! -e {path} ]; do sleep 0.05; done"


def test_tail_and_output_show_lines_while_the_program_runs(auto: Auto, st2venv: Path, tmp_path: Path) -> None:
    ready, go = tmp_path / "ready", tmp_path / "go"
    eid = _started(auto, st2venv, f"{_await(ready)}; echo one; echo warn >&2; {_await(go)}; echo two")
    with auto.http() as c:
        wait_for(lambda: c.get(f"/api/v1/executions/{eid}").json()["status"] == "running", what="running")
    tail = _tail(auto, st2venv, eid)
    try:
        # `tail` shows what is printed once it listens (as st2's does): start printing then
        wait_for(bus.has_subscribers, what="the tail's stream")
        ready.touch()
        assert tail.stdout is not None
        seen = []
        for line in tail.stdout:
            seen.append(line)
            if line.strip() == "one":
                break
        assert "one\n" in seen, seen
        with auto.http() as c:
            assert c.get(f"/api/v1/executions/{eid}").json()["status"] == "running"
            assert c.get(f"/api/v1/executions/{eid}/output", params={"output_type": "stdout"}).text == "one\n"
            wait_for(
                lambda: (
                    c.get(f"/api/v1/executions/{eid}/output", params={"output_type": "stderr"}).text
                    == "warn\n"
                ),
                what="stderr so far",
            )
        go.touch()
        rest = tail.communicate(timeout=60)[0]
    finally:
        if tail.poll() is None:
            tail.kill()
            tail.communicate()
    assert "two" in rest and f"Execution {eid} has completed (status=succeeded)" in rest
    with auto.http() as c:
        done = c.get(f"/api/v1/executions/{eid}").json()
        assert done["result"]["stdout"] == "one\ntwo" and done["result"]["stderr"] == "warn"
        # each line was written once: as it came, not again at the end
        assert c.get(f"/api/v1/executions/{eid}/output").text.count("one") == 1


def test_output_is_capped(auto: Auto, st2venv: Path) -> None:
    cap = auto.settings.automation_max_output_bytes
    eid = _started(auto, st2venv, f"yes abcdefghi | head -c {cap * 2}")
    with auto.http() as c:
        done = wait_for(
            lambda: (s := c.get(f"/api/v1/executions/{eid}").json())["status"] == "succeeded" and s,
            what="done",
        )
        text = c.get(f"/api/v1/executions/{eid}/output").text
    assert len(text) == cap and text.startswith("abcdefghi\n")
    assert done["result"]["stdout"] == text.rstrip("\n")
