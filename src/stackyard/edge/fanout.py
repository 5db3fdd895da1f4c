"""How purges and configuration changes reach every data-plane node, and how nodes confirm them.

    hub().publish_purge({"id": ..., "sites": [...], "items": [...]})
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
  it reaches 1.0 only when every live node applied it (a node that died stops counting);
- a node that was away (its heartbeat lapsed, or its subscription broke) may have missed purges: it
  serves nothing from its cache until it is subscribed again, and then drops what it had cached.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import json
import logging
import threading
import time
from typing import Any, Protocol

log = logging.getLogger("stackyard.edge")

PREFIX = "stackyard:edge"
APPLY_TIMEOUT = 5.0
KEEP_SECONDS = 86400


class Node(Protocol):
    """What a hub needs of a data-plane node (`edge.proxy.plane.DataPlane`)."""

    node_id: str

    def apply_purge(self, message: dict[str, Any]) -> concurrent.futures.Future[None]: ...

    def reload(self) -> None: ...

    def set_trusted(self, trusted: bool) -> None: ...

    def flush_metrics(self) -> None: ...


class Hub:
    def register(self, node: Node) -> None:
        raise NotImplementedError

    def unregister(self, node: Node, *, crashed: bool = False) -> None:
        raise NotImplementedError

    def publish_purge(self, message: dict[str, Any]) -> None:
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

    def publish_purge(self, message: dict[str, Any]) -> None:
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
        self.purge_key = f"{prefix}:purge:"
        self._redis = redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5)
        self._threads: dict[str, tuple[threading.Thread, threading.Event, Node]] = {}
        self._lock = threading.Lock()

    # -- the sending side (any process) ---------------------------------------------------------
    def live_nodes(self) -> set[str]:
        """Nodes whose heartbeat has not lapsed (a sorted set scored by each one's deadline)."""
        return {_text(m) for m in self._redis.zrangebyscore(self.nodes_key, time.time(), "+inf")}

    def publish_purge(self, message: dict[str, Any]) -> None:
        purge_id = str(message["id"])
        live = self.live_nodes()
        pipe = self._redis.pipeline()
        key = f"{self.purge_key}{purge_id}"
        pipe.sadd(key + ":expected", "", *live)  # "" marks a purge sent to no node
        pipe.expire(key + ":expected", KEEP_SECONDS)
        pipe.publish(self.purge_channel, json.dumps(message, separators=(",", ":")))
        pipe.execute()

    def progress(self, purge_id: str) -> float:
        key = f"{self.purge_key}{purge_id}"
        expected = {_text(m) for m in self._redis.smembers(key + ":expected")} - {""}
        if not expected:
            return 1.0
        live = expected & self.live_nodes()
        if not live:
            return 1.0
        acks = {_text(m) for m in self._redis.smembers(key + ":acks")}
        return len(live & acks) / len(live)

    def config_changed(self) -> None:
        try:
            self._redis.publish(self.config_channel, b"1")
        except Exception:
            log.exception("edge: could not announce a configuration change through Redis")
            for node in self.local_nodes():
                node.reload()

    # -- the node side --------------------------------------------------------------------------
    def register(self, node: Node) -> None:
        stop = threading.Event()
        thread = threading.Thread(
            target=self._run, args=(node, stop), name=f"stackyard-edge-{node.node_id}", daemon=True
        )
        with self._lock:
            self._threads[node.node_id] = (thread, stop, node)
        node.set_trusted(False)
        thread.start()

    def unregister(self, node: Node, *, crashed: bool = False) -> None:
        with self._lock:
            found = self._threads.pop(node.node_id, None)
        if found is None:
            return
        thread, stop, _ = found
        stop.set()
        thread.join(5)
        if not crashed:
            self._redis.zrem(self.nodes_key, node.node_id)

    def local_nodes(self) -> list[Node]:
        with self._lock:
            return [n for _, _, n in self._threads.values()]

    def _run(self, node: Node, stop: threading.Event) -> None:
        import redis

        client = redis.Redis.from_url(
            self.url, socket_timeout=max(1.0, self.node_ttl), socket_connect_timeout=2
        )
        beat = self.node_ttl / 3
        while not stop.is_set():
            pubsub = client.pubsub(ignore_subscribe_messages=True)
            try:
                pubsub.subscribe(self.purge_channel, self.config_channel)
                # Subscribed: whatever was cached before may have missed purges, so drop it first.
                node.set_trusted(True)
                node.reload()
                last = 0.0
                while not stop.is_set():
                    t = time.monotonic()
                    if t - last >= beat:
                        if last and t - last > self.node_ttl:
                            raise ConnectionError("the heartbeat lapsed: this node was away")
                        pipe = client.pipeline()
                        pipe.zadd(self.nodes_key, {node.node_id: time.time() + self.node_ttl})
                        pipe.zremrangebyscore(self.nodes_key, "-inf", time.time() - KEEP_SECONDS)
                        pipe.execute()
                        last = t
                    message = pubsub.get_message(timeout=min(beat, 0.2))
                    if message is None or message.get("type") != "message":
                        continue
                    if message["channel"] == self.config_channel.encode():
                        node.reload()
                        continue
                    data = json.loads(message["data"])
                    node.apply_purge(data).result(APPLY_TIMEOUT)
                    key = f"{self.purge_key}{data['id']}:acks"
                    pipe = client.pipeline()
                    pipe.sadd(key, node.node_id)
                    pipe.expire(key, KEEP_SECONDS)
                    pipe.execute()
            except (redis.RedisError, ConnectionError, OSError) as e:
                if stop.is_set():
                    break
                log.warning(
                    "edge node %s lost Redis (%s); serving nothing cached until it is back", node.node_id, e
                )
                node.set_trusted(False)
                stop.wait(0.5)
            finally:
                with contextlib.suppress(Exception):
                    pubsub.close()
        client.close()

    def close(self) -> None:
        for node in self.local_nodes():
            self.unregister(node)
        self._redis.close()


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
