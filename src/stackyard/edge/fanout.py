"""How purges and configuration changes reach every data-plane node, and how nodes confirm them.

    hub().publish_purge({"id": ..., "sites": [...], "items": [...]})
    hub().publish_purge(message, wait=1.0)   # and wait up to 1 s for every node: answers the progress
    hub().progress(purge_id)        # 0.0 .. 1.0: the share of live nodes that applied it
    hub().config_changed()          # nodes reload their sites

`LocalHub` (the default) serves the nodes of this process: a purge is applied by each before
`publish_purge` returns, so an acknowledged purge is never followed by a stale read here.

`RedisHub` (`--redis-url`) serves nodes in any number of processes and machines (DESIGN §8):

- a node is live while its heartbeat has not lapsed: its score in the sorted set
  `stackyard:edge:nodes` (the prefix is a parameter) is the time it promised to beat again by,
  refreshed every third of `node_ttl` seconds, and only once it is subscribed (machines' clocks are
  assumed to agree within a fraction of `node_ttl`);
- a purge remembers the nodes live when it was sent; each applies it, then adds itself to the
  purge's acknowledgements. Progress is the share of those nodes still live that acknowledged, so
  it reaches 1.0 only when every live node applied it (a node that died stops counting, and one
  that joined or rejoined since the purge was sent counts as done: it started empty);
- whoever counts the progress to 1.0 (a node's acknowledgement, or a reader) leaves a mark in the
  purge's `:done` list, so a sender that waits (`publish_purge(message, wait=...)`) blocks on it
  in Redis (BLMOVE of the list onto itself: the mark stays for every waiter) and is answered the
  moment the last node confirms, without polling; it counts again every third of `node_ttl`, for
  the nodes whose heartbeat lapsed meanwhile;
- a node that was away (its heartbeat lapsed, or its subscription broke) may have missed purges: it
  serves nothing from its cache until it is subscribed again, and then drops what it had cached.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import json
import logging
import threading
import time
from typing import Any, Protocol

log = logging.getLogger("stackyard.edge")

PREFIX = "stackyard:edge"
# Sending a purge is one script run by Redis, so no node joins or beats in between; sent with a
# wait, the same round trip also counts the progress and blocks on the `:done` mark (see above).
_PUBLISH = """
local live = redis.call('ZRANGEBYSCORE', KEYS[1], ARGV[1], '+inf')
redis.call('SADD', KEYS[2], '', unpack(live))
redis.call('EXPIRE', KEYS[2], ARGV[2])
redis.call('SET', KEYS[3], ARGV[1], 'EX', ARGV[2])
redis.call('PUBLISH', ARGV[3], ARGV[4])
return #live
"""
# The progress of a purge: (done, live) among its expected nodes; ARGV[3], when not empty, is a
# node acknowledging it first. Complete, it marks `:done` (once) for the waiters. Complete stays
# complete: a node leaves the count by dying and comes back into it as done (joined since).
_PROGRESS = """
local now = tonumber(ARGV[1])
if ARGV[3] ~= '' then
  redis.call('SADD', KEYS[3], ARGV[3])
  redis.call('EXPIRE', KEYS[3], ARGV[2])
end
local at = tonumber(redis.call('GET', KEYS[4]) or '0')
local live, done = 0, 0
for _, node in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  local beat = node ~= '' and redis.call('ZSCORE', KEYS[2], node)
  if beat and tonumber(beat) >= now then
    live = live + 1
    if redis.call('SISMEMBER', KEYS[3], node) == 1 then
      done = done + 1
    else
      local joined = redis.call('ZSCORE', KEYS[5], node)
      if joined and tonumber(joined) > at then done = done + 1 end
    end
  end
end
if done == live and redis.call('EXISTS', KEYS[6]) == 0 then
  redis.call('RPUSH', KEYS[6], '1')
  redis.call('EXPIRE', KEYS[6], ARGV[2])
end
return {done, live}
"""
APPLY_TIMEOUT = 5.0
KEEP_SECONDS = 86400


class Node(Protocol):
    """What a hub needs of a data-plane node (`edge.proxy.plane.DataPlane`)."""

    node_id: str
    loop: asyncio.AbstractEventLoop | None

    def purge(self, message: dict[str, Any]) -> int: ...

    def apply_purge(self, message: dict[str, Any]) -> concurrent.futures.Future[None]: ...

    def reload(self) -> None: ...

    def set_trusted(self, trusted: bool) -> None: ...

    def flush_metrics(self) -> None: ...


class Hub:
    def register(self, node: Node) -> None:
        raise NotImplementedError

    def unregister(self, node: Node, *, crashed: bool = False) -> None:
        raise NotImplementedError

    def publish_purge(self, message: dict[str, Any], *, wait: float = 0.0) -> float:
        """Send a purge to every node; with `wait`, wait up to that many seconds for every live
        node to confirm it. Answers its progress then (without `wait`, as it stands on return)."""
        raise NotImplementedError

    def progress(self, purge_id: str) -> float:
        raise NotImplementedError

    def config_changed(self) -> None:
        raise NotImplementedError

    def local_nodes(self) -> list[Node]:
        raise NotImplementedError

    def flush_metrics(self) -> None:
        """Write the traffic counters of this process's nodes now (metrics reads call it)."""
        for node in self.local_nodes():
            try:
                node.flush_metrics()
            except Exception:
                log.exception("edge: flushing metrics of node %s failed", node.node_id)

    def close(self) -> None:
        pass


class LocalHub(Hub):
    def __init__(self) -> None:
        self._nodes: list[Node] = []
        self._lock = threading.Lock()
        self._expected: dict[str, set[str]] = {}
        self._acks: dict[str, set[str]] = {}

    def register(self, node: Node) -> None:
        with self._lock:
            self._nodes.append(node)
        node.set_trusted(True)

    def unregister(self, node: Node, *, crashed: bool = False) -> None:
        with self._lock:
            if node in self._nodes:
                self._nodes.remove(node)

    def local_nodes(self) -> list[Node]:
        with self._lock:
            return list(self._nodes)

    def publish_purge(self, message: dict[str, Any], *, wait: float = 0.0) -> float:
        nodes = self.local_nodes()
        purge_id = str(message["id"])
        with self._lock:
            self._expected[purge_id] = {n.node_id for n in nodes}
            self._acks[purge_id] = set()
            while len(self._expected) > 10000:
                old = next(iter(self._expected))
                self._expected.pop(old)
                self._acks.pop(old, None)
        futures = [(n, n.apply_purge(message)) for n in nodes]
        for node, future in futures:
            try:
                future.result(APPLY_TIMEOUT)
            except Exception:
                log.exception("edge: node %s failed to apply purge %s", node.node_id, purge_id)
                continue
            with self._lock:
                self._acks.setdefault(purge_id, set()).add(node.node_id)
        return self.progress(purge_id)

    def progress(self, purge_id: str) -> float:
        live = {n.node_id for n in self.local_nodes()}
        with self._lock:
            expected = self._expected.get(purge_id, set()) & live
            acks = self._acks.get(purge_id, set())
        return 1.0 if not expected else len(expected & acks) / len(expected)

    def config_changed(self) -> None:
        for node in self.local_nodes():
            node.reload()


class RedisHub(Hub):
    def __init__(self, url: str, *, node_ttl: float = 3.0, prefix: str = PREFIX) -> None:
        """`prefix` names the channels and keys: hubs with the same prefix share nodes and purges."""
        import redis

        self.url = url
        self.node_ttl = node_ttl
        self.purge_channel = f"{prefix}:purge"
        self.config_channel = f"{prefix}:config"
        self.nodes_key = f"{prefix}:nodes"
        self.joined_key = f"{prefix}:joined"
        self.purge_key = f"{prefix}:purge:"
        self._redis = redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5)
        self._tasks: dict[str, tuple[asyncio.Task[None], asyncio.AbstractEventLoop, Node]] = {}
        self._lock = threading.Lock()

    # -- the sending side (any process) ---------------------------------------------------------
    def live_nodes(self) -> set[str]:
        """Nodes whose heartbeat has not lapsed (a sorted set scored by each one's deadline)."""
        return {_text(m) for m in self._redis.zrangebyscore(self.nodes_key, time.time(), "+inf")}

    def publish_purge(self, message: dict[str, Any], *, wait: float = 0.0) -> float:
        """Remember the live nodes as the purge's expected ones ("" marks a purge sent to none),
        its time, and send it. With `wait`, the same round trip counts its progress and blocks in
        Redis until the last node's confirmation marks it done (see the module's docstring)."""
        purge_id = str(message["id"])
        key = f"{self.purge_key}{purge_id}"
        pipe = self._redis.pipeline(transaction=False)
        # EVAL, not EVALSHA: Redis caches the script by its digest all the same, and a pipeline
        # of scripts registered with redis-py would first ask whether they exist (a round trip).
        pipe.eval(
            _PUBLISH,
            3,
            self.nodes_key,
            key + ":expected",
            key + ":at",
            repr(time.time()),
            KEEP_SECONDS,
            self.purge_channel,
            json.dumps(message, separators=(",", ":")),
        )
        return self._wait(pipe, purge_id, time.monotonic() + wait)

    def progress(self, purge_id: str) -> float:
        """Acknowledged by each expected node still live, or (re)joined since the purge was sent
        (it started with an empty cache)."""
        return self.wait_purge(purge_id, 0.0)

    def wait_purge(self, purge_id: str, timeout: float) -> float:
        """Wait up to `timeout` seconds for every live node to confirm the purge; its progress then."""
        return self._wait(self._redis.pipeline(transaction=False), purge_id, time.monotonic() + timeout)

    def progress_call(self, purge_id: str, node: str = "") -> tuple[object, ...]:
        """The command counting a purge's progress (`_PROGRESS`), acknowledging it first for `node`."""
        key = f"{self.purge_key}{purge_id}"
        keys = (key + ":expected", self.nodes_key, key + ":acks", key + ":at", self.joined_key, key + ":done")
        return ("EVAL", _PROGRESS, len(keys), *keys, repr(time.time()), KEEP_SECONDS, node)

    def _wait(self, pipe: Any, purge_id: str, deadline: float) -> float:
        """Count the progress and, while time is left, block on the purge's `:done` mark (a whole
        number of milliseconds: Redis reads a shorter timeout as 0, which would block for ever)."""
        done_key = f"{self.purge_key}{purge_id}:done"
        while True:
            pipe.execute_command(*self.progress_call(purge_id))
            block = min(self.node_ttl / 3, 1.0, deadline - time.monotonic())
            if block < 0.001:
                return _share(pipe.execute()[-1])
            pipe.blmove(done_key, done_key, round(block, 3), "LEFT", "LEFT")
            counted, mark = pipe.execute()[-2:]
            if mark is not None or _share(counted) >= 1.0:
                return 1.0
            pipe = self._redis.pipeline(transaction=False)

    def config_changed(self) -> None:
        try:
            self._redis.publish(self.config_channel, b"1")
        except Exception:
            log.exception("edge: could not announce a configuration change through Redis")
            for node in self.local_nodes():
                node.reload()

    # -- the node side --------------------------------------------------------------------------
    # Each node's subscription runs as a task on the node's own event loop, so a purge is applied
    # and confirmed without a thread hand-off (and its waits on the GIL) while the loop is busy.
    def register(self, node: Node) -> None:
        loop = node.loop
        if loop is None:
            raise RuntimeError("a node registers once its event loop runs")
        node.set_trusted(False)
        made: concurrent.futures.Future[asyncio.Task[None]] = concurrent.futures.Future()

        def begin() -> None:
            made.set_result(loop.create_task(self._subscribe(node)))

        if _running_in(loop):
            begin()
        else:
            loop.call_soon_threadsafe(begin)
        task = made.result(5)
        with self._lock:
            self._tasks[node.node_id] = (task, loop, node)

    def unregister(self, node: Node, *, crashed: bool = False) -> None:
        with self._lock:
            found = self._tasks.pop(node.node_id, None)
        if found is None:
            return
        task, loop, _ = found
        if _running_in(loop):
            task.cancel()
        elif not loop.is_closed():
            done: concurrent.futures.Future[None] = concurrent.futures.Future()

            def cancel() -> None:
                task.cancel()
                task.add_done_callback(lambda _: done.set_result(None))

            loop.call_soon_threadsafe(cancel)
            with contextlib.suppress(Exception):
                done.result(5)
        if not crashed:
            self._redis.zrem(self.nodes_key, node.node_id)

    def local_nodes(self) -> list[Node]:
        with self._lock:
            return [n for _, _, n in self._tasks.values()]

    async def _subscribe(self, node: Node) -> None:
        from stackyard.edge.redis_link import Link

        beat = self.node_ttl / 3
        purge_channel, config_channel = self.purge_channel.encode(), self.config_channel.encode()

        def on_message(channel: bytes, data: bytes) -> None:
            # in the loop's read callback: applied, then acknowledged, before anything else runs
            if channel == config_channel:
                node.reload()
            elif channel == purge_channel:
                message = json.loads(data)
                node.purge(message)
                link.send(*self.progress_call(str(message["id"]), node.node_id))

        while True:
            link: Any = None
            try:
                link = await Link.open(self.url, timeout=max(1.0, self.node_ttl))
                await link.subscribe([self.purge_channel, self.config_channel], on_message)
                # Subscribed: what was cached before may have missed purges, so it goes first.
                node.set_trusted(True)
                node.reload()
                await link.call("ZADD", self.joined_key, repr(time.time()), node.node_id)
                last = 0.0
                while True:
                    t = time.monotonic()
                    if last and t - last > self.node_ttl:
                        raise ConnectionError("the heartbeat lapsed: this node was away")
                    await link.call("ZADD", self.nodes_key, repr(time.time() + self.node_ttl), node.node_id)
                    link.send("ZREMRANGEBYSCORE", self.nodes_key, "-inf", repr(time.time() - KEEP_SECONDS))
                    last = t
                    await link.wait(beat)
            except (ConnectionError, OSError) as e:  # RedisLinkError is a ConnectionError
                log.warning(
                    "edge node %s lost Redis (%s); serving nothing cached until it is back", node.node_id, e
                )
                node.set_trusted(False)
                await asyncio.sleep(0.5)
            finally:
                if link is not None:
                    link.close()

    def close(self) -> None:
        for node in self.local_nodes():
            self.unregister(node)
        self._redis.close()


def _running_in(loop: asyncio.AbstractEventLoop) -> bool:
    try:
        return asyncio.get_running_loop() is loop
    except RuntimeError:
        return False


def _share(counted: Any) -> float:
    done, live = counted
    return 1.0 if not int(live) else int(done) / int(live)


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


_HUB: Hub = LocalHub()


def hub() -> Hub:
    return _HUB


def use(new: Hub) -> Hub:
    """Make `new` this process's hub; answers the previous one (tests put it back)."""
    global _HUB
    old, _HUB = _HUB, new
    return old


def configure(redis_url: str, node_ttl: float = 3.0) -> Hub:
    """The hub the settings ask for: Redis when a URL is given, else this process only."""
    if redis_url and (not isinstance(_HUB, RedisHub) or _HUB.url != redis_url):
        use(RedisHub(redis_url, node_ttl=node_ttl))
    return _HUB
