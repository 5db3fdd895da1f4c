"""Running a program on the host, for the host runners (only with `--allow-local-runners`).

Each run gets a process group of its own (`start_new_session`), a working directory of its own
(removed afterwards), an environment with nothing of the server's but a fixed PATH, a timeout, and
stdout/stderr capped at `max_bytes` each (what is past the cap is read and dropped, so the program
never blocks on a full pipe). With `on_line`, each line is also handed over as it is read (within
the cap), so the caller can stream a running program's output. On timeout or cancel the whole group is killed (SIGKILL), so a
program cannot outlive its execution by forking.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO

SAFE_PATH = "/usr/local/bin:/usr/bin:/bin"


@dataclass
class Outcome:
    stdout: str
    stderr: str
    return_code: int
    timed_out: bool = False
    canceled: bool = False


LineSink = Callable[[str, bytes], None]


def _reader(
    stream: IO[bytes], out: bytearray, cap: int, name: str, on_line: LineSink | None
) -> threading.Thread:
    def pump() -> None:
        while True:
            chunk = stream.readline(65536) if on_line is not None else stream.read(65536)
            if not chunk:
                break
            room = cap - len(out)
            if room > 0:
                kept = chunk[:room]
                out.extend(kept)
                if on_line is not None:
                    on_line(name, kept)

    t = threading.Thread(target=pump, daemon=True)
    t.start()
    return t


def run(
    argv: list[str],
    *,
    workdir: Path,
    env: Mapping[str, str] | None = None,
    cwd: str | None = None,
    timeout: float = 60.0,
    max_bytes: int = 1024 * 1024,
    stdin: bytes | None = None,
    should_stop: Callable[[], bool] = lambda: False,
    on_line: LineSink | None = None,
) -> Outcome:
    workdir.mkdir(parents=True, exist_ok=True)
    environment = {"PATH": SAFE_PATH, "HOME": str(workdir), "LANG": "C.UTF-8", "PWD": cwd or str(workdir)}
    environment.update({str(k): str(v) for k, v in (env or {}).items()})
    try:
        proc = subprocess.Popen(  # noqa: S603 (host runners exist to run what the action says; see the module docstring)
            argv,
            cwd=cwd or str(workdir),
            env=environment,
            stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,
            close_fds=True,
        )
    except OSError as e:
        shutil.rmtree(workdir, ignore_errors=True)
        return Outcome("", f"could not start {argv[0]}: {e}", 127)
    out, err = bytearray(), bytearray()
    assert proc.stdout is not None and proc.stderr is not None
    readers = [
        _reader(proc.stdout, out, max_bytes, "stdout", on_line),
        _reader(proc.stderr, err, max_bytes, "stderr", on_line),
    ]
    if stdin is not None and proc.stdin is not None:
        try:
            proc.stdin.write(stdin)
            proc.stdin.close()
        except OSError:
            pass
    deadline = time.monotonic() + timeout
    timed_out = canceled = False
    last_check = 0.0
    while proc.poll() is None:
        now = time.monotonic()
        if now >= deadline:
            timed_out = True
        elif now - last_check >= 0.2:
            last_check = now
            canceled = should_stop()
        if timed_out or canceled:
            _kill_group(proc)
            break
        try:
            proc.wait(0.02)
        except subprocess.TimeoutExpired:
            pass
    proc.wait()
    _kill_group(proc)  # whatever it left behind in its group
    for t in readers:
        t.join(2)
    for pipe in (proc.stdout, proc.stdin, proc.stderr):
        if pipe is not None:
            with contextlib.suppress(OSError):
                pipe.close()
    shutil.rmtree(workdir, ignore_errors=True)
    return Outcome(
        out.decode("utf-8", "replace"),
        err.decode("utf-8", "replace"),
        -9 if (timed_out or canceled) else proc.returncode,
        timed_out,
        canceled,
    )


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
