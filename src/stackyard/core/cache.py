"""Per-process caches of what requests keep rebuilding, invalidated from the event spine (DESIGN §8).

| key | value | dropped by events |
|---|---|---|
| `("session", sha256)` | a live session's user, email and expiry (`resolve.authenticate`) | user.* of its user |
| `("stack_row", api_key, user_uid)` | the stack row and the user's organization role (`resolve.stack_access`) | stack.update, role, membership and ownership events of the stack; organization.* of its organization |
| `("schema", api_key, branch, uid)` | a content type, global fields inlined (`content_types.load`) | content_type.*, global_field.* (same branch) |
| `("member_roles", api_key, user_uid)` | the roles a user holds in a stack (`resolve.stack_access`) | role.*, membership and ownership events |
| `("delivery_token" or "management_token", sha256)` | a token's uid, stack, scope, expiry (`resolve.authenticate`) | that token's events |
| `("locales", api_key, branch)` | the codes of a stack's locales (`locales.exists`) | locale.* (same branch) |
| any of the stack's above | | stack.create, stack.delete |

Changes of sessions and organization members belong to no stack: they are events of the log's
stackless scope (`events.NO_STACK`), `user.logout` and `user.reset_password` (every change that
ends a session must record one: a deactivation or password change, when they come, too) and
`organization.share`, `organization.accept_invitation`, `organization.transfer_ownership`.
An expired session is refused from the cache as from the table (its expiry is part of the value);
an account's email never changes, and only active accounts' sessions are cached (no account is
ever deactivated today; one that is must record a `user.*` event).

**Never stale.** Every change to a cached value is written together with its event, and events
get dense global positions in commit order (`core.events`), so a reader that sees the event clock
at N sees every change up to N. The cache remembers the position it is current to. The first
lookup of each read transaction syncs it: it reads the clock (one primary-key read, or the clock
a delivery request reads along with its token, `synced`) and, if the clock moved, reads the events in
between and drops the entries they affect (`affected`, a pure function of one event) before
answering. A change acknowledged to anyone, by any process on the same database, is therefore
seen by the next request of every process, with `--workers` or with servers sharing PostgreSQL.
What keeps it so:

- only `Database.read()` transactions use the cache: a write reads its own uncommitted changes,
  which may still roll back, so it neither reads nor fills it;
- a value a transaction loaded is stored only if no event that drops anything was applied since
  that transaction synced: the value might predate it, and nothing would drop it again;
- a transaction that sees an older clock than the cache (an older snapshot, or a log that was
  reset) does without the cache;
- the cache remembers which event is at its position; if that event is gone or another when the
  clock next moves (the log was reset, restored or pruned), the cache starts empty, as it does
  when more than `catch_up` events are to be read or an event type has no rule.

Values are shared between requests: callers treat them as read-only. SQL run by hand against
cached tables (or a migration rewriting them) bypasses the spine: restart the servers after it.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar
from weakref import WeakKeyDictionary

from stackyard.core import events
from stackyard.core.event_types import EVENT_TYPES

if TYPE_CHECKING:
    from stackyard.store.engine import Database, Tx

V = TypeVar("V")
Key = tuple[str, ...]
Tag = tuple[str, ...]
Rule = Callable[[Mapping[str, Any]], set[Tag]]
DEFAULT_ENTRIES = 5000  # settings.cache_entries
DEFAULT_CATCH_UP = 1000  # settings.cache_catch_up_events
_VIEW = "cache.view"
_OF = "cache.of"


# -- invalidation rules: which cached values an event affects ----------------------------------
def _schemas(e: Mapping[str, Any]) -> set[Tag]:
    # A global field is inlined into every content type embedding it, directly or through other
    # global fields: any model change drops the schemas of the whole branch.
    return {("schemas", e["api_key"], e["branch"])}


def _access(e: Mapping[str, Any]) -> set[Tag]:
    # A role change reaches every member holding the role: drop the stack's memberships.
    return {("access", e["api_key"])}


def _token(e: Mapping[str, Any]) -> set[Tag]:
    return {("token", e["api_key"], e["object_uid"])}


def _locales(e: Mapping[str, Any]) -> set[Tag]:
    return {("locales", e["api_key"], e["branch"])}


def _stack(e: Mapping[str, Any]) -> set[Tag]:
    return {("stack", e["api_key"])}


def _user(e: Mapping[str, Any]) -> set[Tag]:
    return {("user", e["object_uid"])}


def _organization(e: Mapping[str, Any]) -> set[Tag]:
    # A member's organization role decides their standing in every stack of the organization.
    return {("org", e["org_uid"])}


def _nothing(e: Mapping[str, Any]) -> set[Tag]:
    return set()


def _each(module: str, actions: Iterable[str], rule: Rule) -> dict[str, Rule]:
    return {f"{module}.{a}": rule for a in actions}


_CRUD = ("create", "update", "delete")
# One rule per event type of `core.event_types` (a test fails when one is missing).
RULES: dict[str, Rule] = {
    "stack.create": _stack,
    "stack.delete": _stack,
    "stack.update": _access,  # the name: in the cached stack rows
    "stack.settings": _nothing,
    "stack.reset_settings": _nothing,
    **_each("stack", ("share", "unshare", "update_user_roles"), _access),
    **_each("stack", ("transfer_ownership", "accept_ownership"), _access),
    "stack.invite": _nothing,  # nobody's standing changes until the invitation is accepted
    **_each("role", _CRUD, _access),
    **_each("content_type", _CRUD, _schemas),
    **_each("global_field", _CRUD, _schemas),
    **_each("delivery_token", _CRUD, _token),
    **_each("management_token", _CRUD, _token),
    # Token scopes name environments by uid: nothing cached.
    **_each("environment", _CRUD, _nothing),
    **_each("locale", _CRUD, _locales),
    # Extensions are referenced from schemas by uid, never inlined.
    **_each("extension", _CRUD, _nothing),
    **_each("label", _CRUD, _nothing),
    **_each("metadata", (*_CRUD, "publish", "unpublish"), _nothing),
    **_each(
        "entry",
        ("create", "update", "localize", "unlocalize", "delete", "import", "version_name", "version_unname"),
        _nothing,
    ),
    # Published snapshots are not cached here (delivery's response cache follows its own rules).
    **_each("entry", ("publish", "unpublish"), _nothing),
    # Assets and folders: file lookups and derived images are not cached here (derived images are
    # keyed by the stored file's hash, so a change of file is a new key).
    **_each(
        "asset",
        (
            "create",
            "update",
            "replace",
            "restore",
            "delete",
            "version_name",
            "version_unname",
            "publish",
            "unpublish",
        ),
        _nothing,
    ),
    **_each("folder", _CRUD, _nothing),
    # Events without a stack (`events.NO_STACK`): sessions and organization roles.
    **_each("user", ("logout", "reset_password"), _user),
    **_each("organization", ("share", "accept_invitation", "transfer_ownership"), _organization),
    # Automation and edge configuration is organization-level: audited only, never in the event log.
    **{name: _nothing for name, kind in EVENT_TYPES.items() if not kind.logged},
}


def affected(event: Mapping[str, Any]) -> set[Tag] | None:
    """The tags of the cached values `event` (a row of `events.after`) may have changed; None for an
    event type without a rule (a newer server's, say), after which nothing cached can be trusted."""
    rule = RULES.get(event["type"])
    return None if rule is None else rule(event)


def schema_tags(api_key: str, branch: str) -> tuple[Tag, ...]:
    return (("schemas", api_key, branch), ("stack", api_key))


def access_tags(api_key: str) -> tuple[Tag, ...]:
    return (("access", api_key), ("stack", api_key))


def locale_tags(api_key: str, branch: str) -> tuple[Tag, ...]:
    return (("locales", api_key, branch), ("stack", api_key))


def token_tags(api_key: str, token_uid: str) -> tuple[Tag, ...]:
    return (("token", api_key, token_uid), ("stack", api_key))


def session_tags(user_uid: str) -> tuple[Tag, ...]:
    return (("user", user_uid),)


def stack_row_tags(api_key: str, org_uid: str) -> tuple[Tag, ...]:
    return (("access", api_key), ("org", org_uid), ("stack", api_key))


# -- the cache ---------------------------------------------------------------------------------
class _View:
    """What one transaction may do with the cache: the `generation` it synced at; None, do without."""

    __slots__ = ("generation",)

    def __init__(self, generation: int | None) -> None:
        self.generation = generation


_WITHOUT = _View(None)


def _identity(event: Mapping[str, Any]) -> tuple[Any, ...]:
    """What tells one event from another that later took its position (after a reset)."""
    return (
        event["gseq"],
        event["api_key"],
        event["seq"],
        event["type"],
        event["object_uid"],
        event["created_at"],
    )


class SpineCache:
    """A bounded LRU map of values, each with the tags `affected` drops it by, kept current to the
    event log's global position (see the module docstring). Thread-safe."""

    def __init__(self, max_entries: int = DEFAULT_ENTRIES, catch_up: int = DEFAULT_CATCH_UP) -> None:
        self.max_entries = max_entries
        self.catch_up = catch_up
        self._lock = threading.Lock()
        self._entries: OrderedDict[Key, tuple[Any, tuple[Tag, ...]]] = OrderedDict()
        self._tagged: dict[Tag, set[Key]] = {}
        self._position: int | None = None  # None: not synced yet
        self._stamp: tuple[Any, ...] | None = None  # the event at `_position`
        self._generation = 0  # bumped whenever values are (or might be) dropped
        self.hits = self.misses = self.clears = 0

    def __len__(self) -> int:
        return len(self._entries)

    def resize(self, max_entries: int, catch_up: int) -> None:
        with self._lock:
            self.max_entries, self.catch_up = max_entries, catch_up
            while len(self._entries) > max(max_entries, 0):
                self._drop(next(iter(self._entries)))

    # -- syncing --------------------------------------------------------------------------------
    def view(self, tx: Tx, clock: int | None = None) -> _View:
        """Sync for `tx` (once per transaction); `clock`: the event clock, if the caller read it."""
        found: _View | None = tx.state.get(_VIEW)
        if found is None:
            found = tx.state[_VIEW] = (
                self._sync(tx, clock) if tx.reading and self.max_entries > 0 else _WITHOUT
            )
        return found

    def _sync(self, tx: Tx, clock: int | None) -> _View:
        if clock is None:
            clock = events.last_position(tx)
        for _ in range(3):  # another thread moving the cache meanwhile makes us look again
            with self._lock:
                known, generation = self._position, self._generation
            if known == clock:
                return _View(generation)
            if known is not None and clock < known:
                return _WITHOUT
            if known is None:
                rows = events.after(tx, clock - 1, limit=1) if clock > 0 else []
            else:
                rows = events.after(tx, max(known - 1, 0), limit=self.catch_up + 2)
            with self._lock:
                if self._position != known:
                    continue
                self._apply(known, clock, rows)
                return _View(self._generation)
        return _WITHOUT

    def _apply(self, known: int | None, clock: int, rows: list[dict[str, Any]]) -> None:
        """Move to the newest of `rows` (read after `known`, with the event at `known`), dropping
        what they affect. Under the lock.

        The generation moves only when something was or might have been dropped: values loaded
        meanwhile can be stale only then, so a stream of events that touch nothing cached (entry
        saves) does not keep loads in flight from being stored.
        """
        if known is None:  # first sync: the cache is empty
            self._generation += 1
            self._position = clock
            self._stamp = _identity(rows[0]) if rows and rows[0]["gseq"] == clock else None
            return
        new = [r for r in rows if r["gseq"] > known]
        if not new:
            # The clock moved, but its events are gone (the log was pruned or emptied): what
            # changed cannot be told, so nothing cached can be trusted.
            self._clear()
            self._position, self._stamp = clock, None
            return
        # The event at `known` must still be the one seen there (unknown after an empty start).
        same_log = self._stamp is not None and rows[0]["gseq"] == known and _identity(rows[0]) == self._stamp
        if not same_log or len(new) > self.catch_up:
            self._clear()
        else:
            for event in new:
                tags = affected(event)
                if tags is None:
                    self._clear()
                    break
                if tags:
                    self._generation += 1
                for tag in tags:
                    for key in list(self._tagged.get(tag, ())):
                        self._drop(key)
        self._position = new[-1]["gseq"]
        self._stamp = _identity(new[-1])

    def _clear(self) -> None:
        self._generation += 1
        self._entries.clear()
        self._tagged.clear()
        self.clears += 1

    def _drop(self, key: Key) -> None:
        entry = self._entries.pop(key, None)
        if entry is None:
            return
        for tag in entry[1]:
            keys = self._tagged.get(tag)
            if keys is not None:
                keys.discard(key)
                if not keys:
                    del self._tagged[tag]

    # -- lookups --------------------------------------------------------------------------------
    def get(self, tx: Tx, key: Key, load: Callable[[], V], tags: Callable[[V], Iterable[Tag]]) -> V:
        """The value of `key`: cached, or `load()`ed and cached with `tags(value)` (a None value
        is answered, never cached)."""
        view = self.view(tx)
        if view.generation is None:
            return load()
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None:
                self._entries.move_to_end(key)
                self.hits += 1
                return entry[0]
            self.misses += 1
        value = load()
        if value is None:
            return value
        entry_tags = tuple(tags(value))
        with self._lock:
            if self._generation != view.generation:
                return value  # an invalidation ran since `tx` synced: `value` may predate it
            self._drop(key)
            self._entries[key] = (value, entry_tags)
            for tag in entry_tags:
                self._tagged.setdefault(tag, set()).add(key)
            while len(self._entries) > self.max_entries:
                self._drop(next(iter(self._entries)))
        return value


# -- one cache per Database handle (per process and database) ------------------------------------
_CACHES: WeakKeyDictionary[Database, SpineCache] = WeakKeyDictionary()
_CACHES_LOCK = threading.Lock()


def of(db: Database) -> SpineCache:
    """The cache of `db` (made on first use, with the default size)."""
    cache = _CACHES.get(db)
    if cache is None:
        with _CACHES_LOCK:
            cache = _CACHES.get(db)
            if cache is None:
                cache = _CACHES[db] = SpineCache()
    return cache


def configure(db: Database, *, max_entries: int, catch_up: int = DEFAULT_CATCH_UP) -> SpineCache:
    """Size `db`'s cache from the settings (`cache_entries`, `cache_catch_up_events`)."""
    cache = of(db)
    cache.resize(max_entries, catch_up)
    return cache


def synced(tx: Tx, clock: int) -> None:
    """Hand over the event clock a query of `tx` read anyway, sparing the cache its own read."""
    if tx.db is not None and tx.reading:
        of(tx.db).view(tx, clock)


def cached(tx: Tx, key: Key, load: Callable[[], V], tags: Callable[[V], Iterable[Tag]]) -> V:
    """`load()`'s value for `key`, from the cache of `tx`'s database when `tx` may use it."""
    if tx.db is None or not tx.reading:
        return load()
    spine: SpineCache | None = tx.state.get(_OF)  # a request looks up several values: find it once
    if spine is None:
        spine = tx.state[_OF] = of(tx.db)
    return spine.get(tx, key, load, tags)
