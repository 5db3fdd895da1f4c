"""The delivery response cache: whole answers (status, headers, body), per process, kept current to
the event spine, bounded in bytes (`delivery_cache_bytes`).

    cache = of(db)
    cache.catch_up(db)                 # before a lookup: apply what committed since (cheap when nothing did)
    hit = cache.get(key)
    ...
    position = cache.clock(tx)         # a miss: read the clock first, in the read that builds the answer
                                       # (delivery routes: `scope.lookup`, with the stack and environment)
    cache.put(key, answer, position)   # kept only if nothing it is tagged with changed since `position`

**Never stale.** Each answer carries the tags of what is in it (`tags.py`); each event purges the
tags `invalidation.purged` names. Before every lookup the cache learns the event clock: on SQLite
from the database's commit mark (below) and `event_clock` only when that moved; on PostgreSQL by reading
`event_clock` (one primary-key read, on a connection of the cache's own). When the clock moved, the events in between are read and
their tags purged before the lookup answers. So once a publish is acknowledged (its commit came
first), every process's next lookup sees its event: one process, `--workers`, or several servers
on one PostgreSQL alike. An answer built from a snapshot at position P is stored only when no event
after P purged one of its tags (the last `RECENT` purges are remembered for that check).

**The commit mark (SQLite).** In WAL mode every commit, by any connection of any process, rewrites
the header of the WAL index (the `-shm` file every connection shares, sqlite.org/walformat.html)
before the commit returns: its change counter (`iChange`), the last frame, the salts. So the first
48 bytes of that file, read with one `pread` (a quarter of a microsecond, no lock), differ after
every commit; a torn read while a commit writes them differs too, which only costs a clock read.
The cache's own connection keeps the file open and current (SQLite removes or resets it only when
no connection has it open). Where there is no such file (no WAL), `PRAGMA data_version` of that
connection serves instead: it changes whenever another connection commits, but it takes the WAL's
read locks, and with `--workers` the processes queue on them at every lookup.

Keys hold the credentials (api_key, access token, environment, branch), so one token's answers
never reach another; a token or environment change purges the whole stack.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections import OrderedDict, deque
from dataclasses import dataclass, field
from typing import Any
from weakref import WeakKeyDictionary

from stackyard.content.delivery.invalidation import purged
from stackyard.core import events
from stackyard.store.engine import Database, Tx

RECENT = 4096  # purges remembered, for answers built before them
CATCH_UP = 1000  # events read at most to catch up; beyond, the cache starts empty
Key = tuple[str, ...]
_EVERYTHING = "*"


@dataclass
class Answer:
    status: int
    headers: list[tuple[bytes, bytes]]
    body: bytes
    etag: bytes
    tags: tuple[str, ...]

    @property
    def size(self) -> int:
        return len(self.body) + sum(len(k) + len(v) for k, v in self.headers) + 200


@dataclass
class Stats:
    hits: int = 0
    misses: int = 0
    stores: int = 0
    refused: int = 0  # answers not stored: something they hold changed while they were built
    evictions: int = 0  # dropped for room
    purges: int = 0  # dropped by events
    clears: int = 0
    extra: dict[str, Any] = field(default_factory=dict)


class ResponseCache:
    def __init__(self, max_bytes: int = 64 * 1024 * 1024) -> None:
        self.max_bytes = max_bytes
        self._lock = threading.Lock()
        self._entries: OrderedDict[Key, Answer] = OrderedDict()
        self._tagged: dict[str, set[Key]] = {}
        self._bytes = 0
        self.position: int | None = None
        self._recent: deque[tuple[int, frozenset[str]]] = deque(maxlen=RECENT)
        self._floor = 0  # purges at or before this position are no longer remembered
        self.stats = Stats()
        self._probe: sqlite3.Connection | None = None
        self._wal_index: int | None = None  # file descriptor of the WAL index (`-shm`)
        self._probe_version: bytes | int | None = None
        self._probe_lock = threading.Lock()
        self._pg: Any = None

    # -- the clock --------------------------------------------------------------------------------
    def _sqlite_clock(self, db: Database) -> tuple[int | None, bytes | int]:
        """(clock, commit mark) via a private connection; clock None: nothing committed since the
        cache last caught up."""
        with self._probe_lock:
            if self._probe is None:
                self._probe = probe = sqlite3.connect(db.path, isolation_level=None, check_same_thread=False)
                probe.execute("PRAGMA busy_timeout=5000")
                probe.execute("SELECT count(*) FROM sqlite_master").fetchone()  # a read opens the WAL index
                if probe.execute("PRAGMA journal_mode").fetchone()[0] == "wal":
                    try:
                        self._wal_index = os.open(db.path + "-shm", os.O_RDONLY)
                    except OSError:
                        self._wal_index = None
            if self._wal_index is not None:
                version: bytes | int = os.pread(self._wal_index, 48, 0)
            else:
                version = int(self._probe.execute("PRAGMA data_version").fetchone()[0])
            if version == self._probe_version and self.position is not None:
                return None, version
            row = self._probe.execute("SELECT gseq FROM event_clock WHERE id = 1").fetchone()
            return (int(row[0]) if row else 0), version

    def _pg_clock(self, db: Database) -> int:
        """The clock over a connection of the cache's own (one round trip, no pool checkout); on
        any trouble with it, through the pool."""
        with self._probe_lock:
            try:
                if self._pg is None or self._pg.closed:
                    import psycopg

                    self._pg = psycopg.connect(db.url, autocommit=True, connect_timeout=5)
                    self._pg.execute("SET statement_timeout = 2000")
                row = self._pg.execute("SELECT gseq FROM event_clock WHERE id = 1", prepare=True).fetchone()
                return int(row[0]) if row else 0
            except Exception:
                if self._pg is not None:
                    self._pg.close()
                    self._pg = None
        with db.read() as tx:
            return events.last_position(tx)

    def catch_up(self, db: Database) -> None:
        """Bring the cache to the event clock (see the module docstring); a blocking call."""
        version = None
        if db.dialect == "sqlite" and db.path != ":memory:":
            clock, version = self._sqlite_clock(db)
            if clock is None:
                return
        elif db.dialect == "postgresql":
            clock = self._pg_clock(db)
        else:
            with db.read() as tx:
                clock = events.last_position(tx)
        if clock != self.position:
            with db.read() as tx:
                self._advance(tx, clock)
        if version is not None:
            self._probe_version = version  # only once caught up: a failed read looks again

    def _advance(self, tx: Tx, clock: int) -> None:
        known = self.position
        if known is None or clock < known:
            with self._lock:
                self._clear()
                self.position = clock
                self._floor = clock
            return
        rows = events.after(tx, known, limit=CATCH_UP + 1)
        with self._lock:
            if self.position != known:
                return  # another thread moved it meanwhile
            if len(rows) > CATCH_UP or not rows:
                self._clear()
                self._floor = clock
                self.position = clock
                return
            for e in rows:
                found = purged(e)
                tags = frozenset([_EVERYTHING]) if found is None else frozenset(found)
                if not tags:
                    continue
                if len(self._recent) == self._recent.maxlen:
                    self._floor = self._recent[0][0]
                self._recent.append((int(e["gseq"]), tags))
                if _EVERYTHING in tags:
                    self._clear()
                    continue
                for tag in tags:
                    for key in list(self._tagged.get(tag, ())):
                        self._drop(key)
                        self.stats.purges += 1
            self.position = max(clock, int(rows[-1]["gseq"]))

    # -- entries ----------------------------------------------------------------------------------
    def get(self, key: Key, *, count_miss: bool = True) -> Answer | None:
        """The answer kept for `key`; `count_miss=False` for a look that another will follow on a miss."""
        with self._lock:
            answer = self._entries.get(key)
            if answer is None:
                self.stats.misses += count_miss
                return None
            self._entries.move_to_end(key)
            self.stats.hits += 1
            return answer

    def put(self, key: Key, answer: Answer, built_at: int) -> bool:
        """Keep `answer`, built from a snapshot at event position `built_at`, unless an event after
        that purged one of its tags (or the cache cannot tell)."""
        if answer.size > self.max_bytes // 8:
            return False
        with self._lock:
            if self.position is None or built_at < self._floor:
                self.stats.refused += 1
                return False
            if built_at < self.position:
                mine = set(answer.tags)
                for gseq, tags in self._recent:
                    if gseq > built_at and (_EVERYTHING in tags or mine & tags):
                        self.stats.refused += 1
                        return False
            self._drop(key)
            self._entries[key] = answer
            self._bytes += answer.size
            for tag in answer.tags:
                self._tagged.setdefault(tag, set()).add(key)
            self.stats.stores += 1
            while self._bytes > self.max_bytes and self._entries:
                self._drop(next(iter(self._entries)))
                self.stats.evictions += 1
            return True

    def _drop(self, key: Key) -> None:
        answer = self._entries.pop(key, None)
        if answer is None:
            return
        self._bytes -= answer.size
        for tag in answer.tags:
            keys = self._tagged.get(tag)
            if keys is not None:
                keys.discard(key)
                if not keys:
                    del self._tagged[tag]

    def _clear(self) -> None:
        self._entries.clear()
        self._tagged.clear()
        self._bytes = 0
        self.stats.clears += 1

    def snapshot(self) -> dict[str, Any]:
        """Statistics: hits, misses, stores, refusals, evictions, purges, entries and bytes held."""
        s = self.stats
        with self._lock:
            return {
                "hits": s.hits,
                "misses": s.misses,
                "stores": s.stores,
                "refused": s.refused,
                "evictions": s.evictions,
                "purges": s.purges,
                "clears": s.clears,
                "entries": len(self._entries),
                "bytes": self._bytes,
                "max_bytes": self.max_bytes,
                "position": self.position,
            }

    def close(self) -> None:
        with self._probe_lock:
            if self._wal_index is not None:
                os.close(self._wal_index)
                self._wal_index = None
            if self._probe is not None:
                self._probe.close()
                self._probe = None
            if self._pg is not None:
                self._pg.close()
                self._pg = None


def clock(tx: Tx) -> int:
    """The event position a read sees: read it first in the read that builds an answer."""
    return events.last_position(tx)


_CACHES: WeakKeyDictionary[Database, ResponseCache] = WeakKeyDictionary()
_LOCK = threading.Lock()


def of(db: Database) -> ResponseCache:
    cache = _CACHES.get(db)
    if cache is None:
        with _LOCK:
            cache = _CACHES.get(db)
            if cache is None:
                cache = _CACHES[db] = ResponseCache()
                db.on_close(cache.close)
    return cache


def configure(db: Database, max_bytes: int) -> ResponseCache:
    cache = of(db)
    cache.max_bytes = max_bytes
    return cache
