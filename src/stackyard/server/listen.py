"""The listening socket of `--workers` > 1: one per worker process, on one port (SO_REUSEPORT).

With one socket shared by every worker (uvicorn's way), all of them wait on it and whichever wakes
first accepts every connection pending: a burst of keep-alive clients lands mostly on one process,
which then runs on one core while the others idle (measured: about 90% of the requests on one of
two workers). With a socket of its own in each process, the kernel spreads new connections over
them evenly.

`PerWorker` is what the supervising process hands uvicorn's worker processes: bound there (so a
port in use fails at start, before any worker exists) but never listening, and when a worker
process unpickles it, it becomes that process's own socket, bound anew to the same address.
"""

from __future__ import annotations

import socket
from typing import Any


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
