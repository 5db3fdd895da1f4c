"""A running execution's output, line by line: `st2 execution tail` prints each line as the program
prints it, and the output endpoint holds the lines printed so far."""

from __future__ import annotations

from pathlib import Path

from stackyard.automation import bus
from tests.automation.conftest import Auto, await_file, started_local, tailing
from tests.conftest import wait_for


def test_tail_and_output_show_lines_while_the_program_runs(auto: Auto, st2venv: Path, tmp_path: Path) -> None:
    ready, go = tmp_path / "ready", tmp_path / "go"
    eid = started_local(
        auto, st2venv, f"{await_file(ready)}; echo one; echo warn >&2; {await_file(go)}; echo two"
    )
    with auto.http() as c:
        wait_for(lambda: c.get(f"/api/v1/executions/{eid}").json()["status"] == "running", what="running")
    with tailing(auto, st2venv, eid) as tail:
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
    assert "two" in rest and f"Execution {eid} has completed (status=succeeded)" in rest
    with auto.http() as c:
        done = c.get(f"/api/v1/executions/{eid}").json()
        assert done["result"]["stdout"] == "one\ntwo" and done["result"]["stderr"] == "warn"
        # each line was written once: as it came, not again at the end
        assert c.get(f"/api/v1/executions/{eid}/output").text.count("one") == 1


def test_output_is_capped(auto: Auto, st2venv: Path) -> None:
    cap = auto.settings.automation_max_output_bytes
    eid = started_local(auto, st2venv, f"yes abcdefghi | head -c {cap * 2}")
    with auto.http() as c:
        done = wait_for(
            lambda: (s := c.get(f"/api/v1/executions/{eid}").json())["status"] == "succeeded" and s,
            what="done",
        )
        text = c.get(f"/api/v1/executions/{eid}/output").text
    assert len(text) == cap and text.startswith("abcdefghi\n")
    assert done["result"]["stdout"] == text.rstrip("\n")
