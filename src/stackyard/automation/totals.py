"""X-Total-Count of execution lists without counting every stored execution on each request.

An execution's organization, action, user, parent, rule and trigger instance never change, and
executions are never deleted, so the count of a filter on those columns over the executions that
started before a settled horizon only grows as later rows settle. The horizon is SETTLED_SECONDS
ago: an execution is committed within seconds of its start timestamp (it is stamped just before
its write), never that long after. Each process keeps, per filter, the count up to the horizon it
last reached; a total is that count, plus the rows that settled since (which moves it forward),
plus the rows started after the current horizon, counted exactly. Filters on anything else
(status, time, ids) are counted in full.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Sequence
from typing import Any

from stackyard.automation.common import iso
from stackyard.store.engine import Tx

SETTLED_SECONDS = 60.0
MAX_FILTERS = 1024
_MEMO: OrderedDict[tuple[Any, ...], tuple[str, int]] = OrderedDict()
_LOCK = threading.Lock()


def executions(tx: Tx, clause: str, args: Sequence[Any], key: tuple[Any, ...] | None) -> int:
    """COUNT(*) of `st2_executions WHERE clause`; `key` names the filter when it is on columns that
    never change (None: count in full)."""

    def count(extra: str, *more: Any) -> int:
        return int(tx.scalar(f"SELECT COUNT(*) FROM st2_executions WHERE {clause}{extra}", *args, *more))

    if key is None or not tx.reading:
        return count("")
    key = (tx.db.url if tx.db is not None else "", *key)
    horizon = iso(time.time() - SETTLED_SECONDS)
    with _LOCK:
        memo = _MEMO.get(key)
    if memo is None:
        settled = count(" AND start_timestamp < ?", horizon)
    elif memo[0] < horizon:
        settled = memo[1] + count(" AND start_timestamp >= ? AND start_timestamp < ?", memo[0], horizon)
    else:
        horizon, settled = memo
    with _LOCK:
        _MEMO[key] = (horizon, settled)
        _MEMO.move_to_end(key)
        while len(_MEMO) > MAX_FILTERS:
            _MEMO.popitem(last=False)
    return settled + count(" AND start_timestamp >= ?", horizon)
