"""The listening socket of `--workers` > 1: one per worker process, on one port (SO_REUSEPORT).

With one socket shared by every worker (uvicorn's way), all of them wait on it and whichever wakes
first accepts every connection pending: a burst of keep-alive clients lands mostly on one process,
which then runs on one core while the others idle (measured: about 90% of the requests on one of
two workers). With a socket of its own in each process, the kernel spreads new connections over
them evenly.

`PerWorker` is what the supervising process hands uvicorn's worker processes: bound there (so a
port in use fails at start, before any worker exists) but never listening, and when a worker
process unpickles it, it becomes that process's own socket, bound anew to the same address.

The workers of one start listen together (`StartGate`): the kernel only spreads connections over
the sockets that listen, so without it every client that connects while the slower workers are
still starting (a second or more on a busy machine) lands on the first, and a kept-alive client
stays there. Each worker waits at the gate, once its app has started, until all have reached it;
a worker started later (uvicorn restarts one that died) finds the gate open.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import socket
import tempfile
import time
from typing import Any

_GATE = "STACKYARD_WORKER_GATE"
GATE_SECONDS = 30.0  # how long the first workers wait for the slowest before listening anyway


def reuse_port_supported() -> bool:
    return hasattr(socket, "SO_REUSEPORT")


class PerWorker(socket.socket):
    """A TCP socket bound to (host, port) with SO_REUSEPORT; a pickled copy binds a new one."""

    def __init__(self, host: str, port: int) -> None:
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
        super().__init__(family, kind, proto)
        self.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        try:
            self.bind(address)
        except OSError:
            self.close()
            raise
        self.address = (host, port)

    def __reduce__(self) -> tuple[Any, ...]:
        return (PerWorker, self.address)


class StartGate:
    """Where the workers of one start meet before they listen: a directory in which each arrival
    leaves a file, named in the environment the worker processes inherit."""

    def __init__(self, workers: int, seconds: float = GATE_SECONDS) -> None:
        self.path = tempfile.mkdtemp(prefix="stackyard-gate-")
        os.environ[_GATE] = f"{workers}:{time.time() + seconds!r}:{self.path}"

    def close(self) -> None:
        os.environ.pop(_GATE, None)
        shutil.rmtree(self.path, ignore_errors=True)


async def wait_at_gate(poll: float = 0.001) -> None:
    """In a worker process: arrive at its start's gate and wait until every worker has, or the
    gate's time is up (then a worker that did not start does not keep the others from serving)."""
    found = os.environ.get(_GATE)
    if not found:
        return
    workers, deadline, path = found.split(":", 2)
    with contextlib.suppress(OSError):
        open(os.path.join(path, str(os.getpid())), "w").close()  # an empty mark: this one is here
    while time.time() < float(deadline):
        try:
            if len(os.listdir(path)) >= int(workers):
                return
        except OSError:
            return  # the supervisor is gone or has closed the gate
        await asyncio.sleep(poll)
