"""The process's heap and the cyclic garbage collector: what start-up leaves alive is set aside once.

A Python server keeps tens of thousands of long-lived objects from start-up (modules, functions,
route tables, settings, caches). Every full collection walks all of them again, and one happens
every so many young collections: under load it was a serving process's longest pause (tens of
milliseconds here, 100-200 ms on a busy machine; each is a p99 outlier for every request waiting
then) and some CPU per request besides. `settle` collects once and moves what survives into the
collector's permanent generation (`gc.freeze`), so later collections walk only what was allocated
since. Objects made after it are collected as ever; frozen ones are simply never examined again.
"""

from __future__ import annotations

import gc
import threading

_settled = False
_lock = threading.Lock()


def settle() -> None:
    """Once per process, when it starts serving: collect, then freeze what is still alive."""
    global _settled
    with _lock:
        if _settled:
            return
        _settled = True
    gc.collect()
    gc.freeze()
