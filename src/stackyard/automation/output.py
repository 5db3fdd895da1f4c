"""An execution's output (st2 `/executions/{id}/output` and `st2.execution.output__create` events).

Each chunk is a row of `st2_output` and a stream event, published once its transaction commits.
Instant actions write theirs with the execution (`write`); host runners deliver each line as the
program prints it (`LiveOutput`: the runner's reader threads hand it lines, a flusher writes what
came in every FLUSH_SECONDS in one transaction, consecutive lines of one stream as one chunk), so `st2 execution tail` and the output endpoint
show a running program's lines while it runs. What passes the runner's cap was never read into it.
"""

from __future__ import annotations

import logging
import threading

from stackyard.automation import bus
from stackyard.automation.common import iso, oid
from stackyard.store.engine import Database, Row, Tx

log = logging.getLogger("stackyard.automation")
FLUSH_SECONDS = 0.1
RESULT_MARKER = "__stackyard_result__ "  # python_wrapper.py's line before an action's result


def write(tx: Tx, row: Row, output_type: str, data: str) -> None:
    """Store one chunk of output and stream it once `tx` commits."""
    if not data:
        return
    at = iso()
    tx.run(
        "INSERT INTO st2_output (execution_id, output_type, data, created_at) VALUES (?, ?, ?, ?)",
        row["id"],
        output_type,
        data,
        at,
    )
    event = {
        "id": oid(),
        "execution_id": row["id"],
        "action_ref": row["doc"]["action"]["ref"],
        "runner_ref": row["doc"]["action"]["runner_type"],
        "timestamp": at,
        "output_type": output_type,
        "data": data,
    }
    bus.publish_after(tx, row["org_uid"], "st2.execution.output__create", event, f"out:{event['id']}")


class LiveOutput:
    """Lines of a running program, written as they come (see the module docstring).

    For python-script actions the wrapper's result (an empty line, then the marker line) is held
    back and never written: it is the execution's result, not its output."""

    def __init__(self, db: Database, row: Row, *, python: bool = False) -> None:
        self.db = db
        self.row = row
        self.python = python
        self._lines: list[tuple[str, str]] = []
        self._held: str | None = None  # a python-script's empty stdout line, until the next one shows
        self._lock = threading.Lock()
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._flusher, name="stackyard-output", daemon=True)

    def __enter__(self) -> LiveOutput:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._done.set()
        self._thread.join()
        with self._lock:
            if self._held is not None:
                self._lines.append(("stdout", self._held))
                self._held = None
        self.flush()

    def line(self, output_type: str, data: bytes) -> None:
        """A line (or the last, unterminated piece) a reader thread read; thread-safe."""
        text = data.decode("utf-8", "replace")
        with self._lock:
            if self.python and output_type == "stdout":
                held, self._held = self._held, None
                if text.startswith(RESULT_MARKER):
                    return
                if held is not None:
                    self._lines.append((output_type, held))
                if text == "\n":
                    self._held = text
                    return
            self._lines.append((output_type, text))

    def flush(self) -> None:
        with self._lock:
            lines, self._lines = self._lines, []
        if not lines:
            return
        chunks: list[tuple[str, list[str]]] = []  # lines that came together are one chunk per type
        for output_type, text in lines:
            if chunks and chunks[-1][0] == output_type:
                chunks[-1][1].append(text)
            else:
                chunks.append((output_type, [text]))
        with self.db.write() as tx:
            for output_type, texts in chunks:
                write(tx, self.row, output_type, "".join(texts))

    def _flusher(self) -> None:
        while not self._done.wait(FLUSH_SECONDS):
            try:
                self.flush()
            except Exception:  # what it held is lost; the next flush writes what comes after
                log.exception("writing the output of execution %s failed", self.row["id"])
