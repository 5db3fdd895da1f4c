"""Delivery reads: content types, global fields, and entries from the published snapshots.

    body, tags = entries(tx, scope, "article", Ask(query={"rating": {"$gt": 3}}, limit=25))

Entries come only from `published` rows of the scope's stack, branch and environment (see
migration 0009). A locale is served from its own rows; with `include_fallback`, each entry not
published in it comes from the first locale of its fallback chain where it is (§5 item 11).
Every answer also names the cache tags of what it holds (`tags.py`).

An entry fetched with `version=N` is served as version N only if that version was published to the
environment in that locale (now or before, as the event spine records) and the entry is published
there now; any other version is 422/141 with `errors.version`. With `include_embedded_items[]=BASE`
the entries and assets embedded in rich text come along (`embedded.py`).
"""

from __future__ import annotations

import re
from typing import Any

import orjson

from stackyard.content.assets.delivery import shown as shown_asset
from stackyard.content.delivery import embedded, splice
from stackyard.content.delivery import tags as tagging
from stackyard.content.delivery.ask import Ask
from stackyard.content.delivery.scope import Scope
from stackyard.content.delivery.shape import expand, project, project_references, trie
from stackyard.content.entries.entries import render as render_entry
from stackyard.content.model import content_types as model
from stackyard.content.model import global_fields as gf_model
from stackyard.errors import BadRequest, NotFound
from stackyard.stacks import locales
from stackyard.store.engine import Tx, jload
from stackyard.store.query import Where, compile_query, leaf_sql, order_by
from stackyard.store.query_regex import prepare

Body = dict[str, Any]
_TYPEAHEAD = re.compile(r"^[\w ]{1,100}$")


def not_found_entry() -> NotFound:
    return NotFound("The requested object doesn't exist.", error_code=141, errors={"uid": ["is not valid."]})


# -- content types and global fields ---------------------------------------------------------
def _content_type_doc(tx: Tx, row: Any, inline: bool, include_branch: bool) -> dict[str, Any]:
    out = model.render(tx, row, inline=inline)
    if include_branch:
        out["_branch"] = row["branch"]
    return out


def content_types(
    tx: Tx, scope: Scope, *, skip: int, limit: int, count: bool, inline: bool, include_branch: bool
) -> tuple[Body, list[str]]:
    rows, total = tx.page(
        "content_types",
        "api_key = ? AND branch = ?",
        (scope.api_key, scope.branch),
        "created_at, uid",
        skip,
        limit,
        count=count,
    )
    body: Body = {"content_types": [_content_type_doc(tx, r, inline, include_branch) for r in rows]}
    if count:
        body["count"] = total
    # A new content type changes the list: the stack tag covers model changes (see `invalidation`).
    return body, [tagging.stack(scope.api_key), tagging.content_types(scope.api_key)]


def content_type(
    tx: Tx, scope: Scope, uid: str, *, inline: bool, include_branch: bool
) -> tuple[Body, list[str]]:
    row = tx.one(
        "SELECT * FROM content_types WHERE api_key = ? AND branch = ? AND uid = ?",
        scope.api_key,
        scope.branch,
        uid,
    )
    if row is None:
        raise model.not_found(uid)
    body = {"content_type": _content_type_doc(tx, row, inline, include_branch)}
    return body, [tagging.stack(scope.api_key), tagging.content_type(scope.api_key, uid)]


def global_fields(
    tx: Tx, scope: Scope, *, skip: int, limit: int, count: bool, include_branch: bool
) -> tuple[Body, list[str]]:
    rows, total = tx.page(
        "global_fields",
        "api_key = ? AND branch = ?",
        (scope.api_key, scope.branch),
        "created_at, uid",
        skip,
        limit,
        count=count,
    )
    body: Body = {"global_fields": [gf_model.render(tx, r, include_branch=include_branch) for r in rows]}
    if count:
        body["count"] = total
    return body, [tagging.stack(scope.api_key), tagging.content_types(scope.api_key)]


def global_field(tx: Tx, scope: Scope, uid: str, *, include_branch: bool) -> tuple[Body, list[str]]:
    row = tx.one(
        "SELECT * FROM global_fields WHERE api_key = ? AND branch = ? AND uid = ?",
        scope.api_key,
        scope.branch,
        uid,
    )
    if row is None:
        raise gf_model.not_found(uid)
    body = {"global_field": gf_model.render(tx, row, include_branch=include_branch)}
    return body, [tagging.stack(scope.api_key), tagging.content_types(scope.api_key)]


# -- entries --------------------------------------------------------------------------------
class Read:
    """One entry read: the scope, the locales it reads in (in order), schemas, tags collected."""

    def __init__(self, tx: Tx, scope: Scope, ct_uid: str, ask: Ask) -> None:
        self.tx, self.scope, self.ask = tx, scope, ask
        self.ct = model.load(tx, scope.api_key, scope.branch, ct_uid)  # 422/118 when there is none
        self.locale = ask.locale or scope.master_locale
        if ask.include_fallback:
            self.chain = locales.chain(tx, scope.api_key, self.locale, scope.branch) or [self.locale]
        else:
            self.chain = [self.locale]
        self.tags = [tagging.stack(scope.api_key), tagging.content_type(scope.api_key, ct_uid)]
        self._schemas: dict[str, list[dict[str, Any]] | None] = {ct_uid: self.ct["schema"]}

    def schema_of(self, uid: str) -> list[dict[str, Any]] | None:
        if uid not in self._schemas:
            try:
                self._schemas[uid] = model.load(self.tx, self.scope.api_key, self.scope.branch, uid)["schema"]
            except NotFound:
                self._schemas[uid] = None
        return self._schemas[uid]

    def base(self, alias: str) -> tuple[str, list[Any]]:
        s = self.scope
        return (
            f"{alias}.api_key = ? AND {alias}.branch = ? AND {alias}.environment = ? AND {alias}.kind = 'entry'",
            [s.api_key, s.branch, s.environment],
        )

    def ref_join(self, dialect: str, alias: str, uid_sql: str, ct: str) -> tuple[str, str, list[Any]]:
        cond, params = self.base(alias)
        marks = ", ".join("?" * len(self.chain))
        join = f"{cond} AND {alias}.content_type_uid = ? AND {alias}.locale IN ({marks}) AND {alias}.uid = {uid_sql}"
        return f"published AS {alias}", join, [*params, ct, *self.chain]

    def fetch(self, wanted: set[tuple[str, str]]) -> dict[tuple[str, str], Any]:
        """Published documents of (content type, uid) pairs in the read's locales (first found wins),
        as the database answers them (JSON text on SQLite)."""
        out: dict[tuple[str, str], Any] = {}
        uids = sorted({u for _, u in wanted})
        cond, params = self.base("p")
        rank = {code: i for i, code in enumerate(self.chain)}
        for i in range(0, len(uids), 500):
            part = uids[i : i + 500]
            rows = self.tx.all(
                f"SELECT p.uid, p.content_type_uid, p.locale, p.document FROM published p WHERE {cond} "
                f"AND p.uid IN ({', '.join('?' * len(part))}) AND p.locale IN ({', '.join('?' * len(self.chain))})",
                *params,
                *part,
                *self.chain,
            )
            best: dict[tuple[str, str], tuple[int, Any]] = {}
            for r in rows:
                key = (r["content_type_uid"], r["uid"])
                if key in wanted and (key not in best or rank[r["locale"]] < best[key][0]):
                    best[key] = (rank[r["locale"]], r["document"])
            for key, (_, doc) in best.items():
                out[key] = doc
        # Tagged whether found or not: publishing one that is missing now must purge this answer.
        for ct, uid in sorted(wanted):
            self.tags.append(tagging.entry(self.scope.api_key, uid))
            self.tags.append(tagging.content_type(self.scope.api_key, ct))
        return out

    def fetch_assets(self, uids: set[str]) -> dict[str, dict[str, Any]]:
        """Published assets (as the delivery API shows them) in the read's locales, first found wins."""
        wanted = sorted(uids)
        s = self.scope
        rank = {code: i for i, code in enumerate(self.chain)}
        best: dict[str, tuple[int, Any]] = {}
        for i in range(0, len(wanted), 500):
            part = wanted[i : i + 500]
            for r in self.tx.all(
                "SELECT uid, locale, document FROM published WHERE api_key = ? AND branch = ? AND environment = ? "
                f"AND kind = 'asset' AND uid IN ({', '.join('?' * len(part))}) "
                f"AND locale IN ({', '.join('?' * len(self.chain))})",
                s.api_key,
                s.branch,
                s.environment,
                *part,
                *self.chain,
            ):
                if r["uid"] not in best or rank[r["locale"]] < best[r["uid"]][0]:
                    best[r["uid"]] = (rank[r["locale"]], r["document"])
        for uid in wanted:  # found or not, as for entries
            self.tags.append(tagging.asset(s.api_key, uid))
        return {uid: shown_asset(doc, self.ask.base_url, False) for uid, (_, doc) in best.items()}

    def where(self, alias: str) -> Where:
        ask = self.ask
        query = dict(ask.query)
        extra: list[dict[str, Any]] = []
        if ask.tags:
            extra.append({"tags": {"$in": ask.tags}})
        if ask.typeahead is not None:
            if not _TYPEAHEAD.match(ask.typeahead):
                raise BadRequest(
                    "'typeahead' takes up to 100 letters, digits and spaces.",
                    errors={"typeahead": ["is not valid."]},
                )
            extra.append({"title": {"$regex": ask.typeahead, "$options": "i"}})
        if extra:
            query = {"$and": [query, *extra]} if query else {"$and": extra}
        prepare(self.tx)
        return compile_query(
            self.tx.dialect,
            self.ct["schema"],
            query,
            table=alias,
            document="document",
            schemas=self.schema_of,
            refs=self.ref_join,
            limits=ask.limits,
        )

    def shape(self, docs: list[dict[str, Any]]) -> None:
        """include[], only/except and the include_* flags, in place."""
        ask = self.ask
        if ask.include:
            node = trie(ask.include, ask.include_depth, ask.max_includes)
            verbatim = not (set(ask.only) | set(ask.excepts)) - {"BASE"}
            expand(
                docs,
                self.ct["schema"],
                node,
                self.fetch,
                self.schema_of,
                ask.include_depth,
                verbatim=verbatim,
            )
            if ask.only or ask.excepts:
                project_references(docs, ask.only, ask.excepts)
        for i, d in enumerate(docs):
            if ask.include_branch:
                d["_branch"] = self.scope.branch
            if ask.include_metadata:
                d.setdefault("_metadata", {})
            if "BASE" in ask.only or "BASE" in ask.excepts:
                docs[i] = project(d, only=ask.only.get("BASE"), excepts=ask.excepts.get("BASE"))
                if ask.include_branch:
                    docs[i]["_branch"] = self.scope.branch
        if ask.include_embedded_items:
            embedded.attach(docs, self.ct["schema"], self.fetch, self.fetch_assets)

    def spliced(self, rows: list[Any]) -> list[Any] | None:
        """The rows' documents with their references included by splicing the stored texts, when
        that is all the read asks and the rows allow it (`splice`); else None (then `shape`)."""
        if not rows or not self.ask.only_includes:
            return None
        ask = self.ask
        names = splice.reference_fields(
            self.ct["schema"], trie(ask.include, ask.include_depth, ask.max_includes)
        )
        if names is None:
            return None
        return splice.splice([(r["document"], r["spans"]) for r in rows], names, self.fetch)

    def add_content_type(self, body: Body) -> None:
        if self.ask.include_content_type:
            ct = dict(self.ct)
            if not self.ask.include_global_field_schema:
                row = self.tx.one(
                    "SELECT * FROM content_types WHERE api_key = ? AND branch = ? AND uid = ?",
                    self.scope.api_key,
                    self.scope.branch,
                    ct["uid"],
                )
                if row is not None:
                    ct = model.render(self.tx, row, inline=False)
            body["content_type"] = ct


def entry(tx: Tx, scope: Scope, ct_uid: str, uid: str, ask: Ask) -> tuple[Body, list[str]]:
    """One published entry, in the asked locale or (with include_fallback) its fallback's."""
    read = Read(tx, scope, ct_uid, ask)
    cond, params = read.base("p")
    rows = tx.all(
        f"SELECT p.locale, p.version, p.document, p.spans FROM published p WHERE {cond} AND p.content_type_uid = ? "
        f"AND p.uid = ? AND p.locale IN ({', '.join('?' * len(read.chain))})",
        *params,
        ct_uid,
        uid,
        *read.chain,
    )
    read.tags.append(tagging.entry(scope.api_key, uid))
    if not rows:
        raise not_found_entry()
    rank = {code: i for i, code in enumerate(read.chain)}
    row = min(rows, key=lambda r: rank[r["locale"]])
    body: Body
    if ask.version is not None and int(row["version"]) != ask.version:
        shaped = [_earlier(tx, scope, ct_uid, uid, row, ask.version)]
        read.shape(shaped)
        body = {"entry": shaped[0]}
    elif ask.plain and isinstance(row["document"], str | bytes):
        body = {"entry": orjson.Fragment(row["document"])}
    elif (spliced := read.spliced([row])) is not None:
        body = {"entry": spliced[0]}
    else:
        shaped = [jload(row["document"])]
        read.shape(shaped)
        body = {"entry": shaped[0]}
    read.add_content_type(body)
    return body, read.tags


def version_unavailable(version: int) -> NotFound:
    return NotFound(
        f"Version {version} of this entry is not available: only versions published to this "
        "environment are delivered.",
        error_code=141,
        errors={"version": ["is not valid."]},
    )


def _earlier(tx: Tx, scope: Scope, ct_uid: str, uid: str, current: Any, version: int) -> dict[str, Any]:
    """Version `version` of a published entry, as it was published to the scope's environment in
    `current`'s locale (the event spine remembers every publish); 422/141 when it never was."""
    published = tx.one(
        "SELECT created_at, actor_uid FROM events WHERE api_key = ? AND object_uid = ? AND branch = ? "
        "AND type = 'entry.publish' AND environment = ? AND locale = ? AND version = ? "
        "ORDER BY seq DESC LIMIT 1",
        scope.api_key,
        uid,
        scope.branch,
        scope.environment,
        current["locale"],
        version,
    )
    source = jload(current["document"]).get("locale")
    base = tx.one(
        "SELECT * FROM entries WHERE api_key = ? AND branch = ? AND uid = ? AND locale = ? AND content_type_uid = ?",
        scope.api_key,
        scope.branch,
        uid,
        source,
        ct_uid,
    )
    saved = tx.one(
        "SELECT * FROM entry_versions WHERE api_key = ? AND branch = ? AND uid = ? AND locale = ? AND version = ?",
        scope.api_key,
        scope.branch,
        uid,
        source,
        version,
    )
    if published is None or base is None or saved is None:
        raise version_unavailable(version)
    doc = render_entry(base, version=saved)
    doc["publish_details"] = {
        "environment": scope.environment,
        "locale": current["locale"],
        "time": published["created_at"],
        "user": published["actor_uid"],
    }
    return doc


def _sorted_by(tx: Tx, select: str, args: list[Any], leaf: str, ask: Ask) -> list[Any]:
    """A page sorted by one field, as `order_by` sorts (entries with the value first, by it and then
    uid; then those without, by uid), in two range reads an expression index on the field can serve
    (`indexes`): the valued rows, then, if the page is not full, the rest."""
    direction = " DESC" if ask.asc is None else ""
    rows = tx.all(
        f"{select} AND {leaf} IS NOT NULL ORDER BY {leaf}{direction}, p.uid LIMIT ? OFFSET ?",
        *args,
        ask.limit,
        ask.skip,
    )
    if len(rows) >= ask.limit:
        return rows
    if rows or ask.skip == 0:
        valued = ask.skip + len(rows)
    else:
        valued = int(tx.scalar(f"SELECT COUNT(*) FROM ({select} AND {leaf} IS NOT NULL) AS v", *args) or 0)
    rest = tx.all(
        f"{select} AND {leaf} IS NULL ORDER BY p.uid LIMIT ? OFFSET ?",
        *args,
        ask.limit - len(rows),
        max(0, ask.skip - valued),
    )
    return [*rows, *rest]


def entries(tx: Tx, scope: Scope, ct_uid: str, ask: Ask) -> tuple[Body, list[str]]:
    """A page of the content type's published entries matching the query."""
    read = Read(tx, scope, ct_uid, ask)
    cond, params = read.base("x")
    if len(read.chain) > 1:
        rank = " ".join(f"WHEN ? THEN {i}" for i in range(len(read.chain)))
        source = (
            "(SELECT x.*, ROW_NUMBER() OVER (PARTITION BY x.uid ORDER BY CASE x.locale "
            f"{rank} END) AS rn FROM published x WHERE {cond} AND x.content_type_uid = ? "
            f"AND x.locale IN ({', '.join('?' * len(read.chain))})) p"
        )
        src_params: list[Any] = [*read.chain, *params, ct_uid, *read.chain]
        filt = "p.rn = 1"
    else:
        cond, params = read.base("p")
        source = "published p"
        src_params = [*params, ct_uid, read.locale]
        filt = f"{cond} AND p.content_type_uid = ? AND p.locale = ?"
    where = read.where("p")
    select = f"SELECT p.document, p.spans FROM {source} WHERE {filt} AND {where.sql}"
    args = [*src_params, *where.params]
    body: Body = {}
    name = ask.asc or ask.desc
    leaf = leaf_sql(tx.dialect, read.ct["schema"], name, table="p") if name else None
    if leaf is not None:
        rows = _sorted_by(tx, select, args, leaf.sql, ask)
    else:
        if name:
            sort = order_by(
                tx.dialect, read.ct["schema"], name, ask.asc is None, table="p", document="document"
            )
            order_sql, order_params = sort.sql + ", p.uid", sort.params
        else:
            order_sql, order_params = "p.published_at DESC, p.uid DESC", []
        rows = tx.all(
            f"{select} ORDER BY {order_sql} LIMIT ? OFFSET ?", *args, *order_params, ask.limit, ask.skip
        )
    if ask.plain and rows and isinstance(rows[0]["document"], str | bytes):
        body["entries"] = [orjson.Fragment(r["document"]) for r in rows]
    elif (spliced := read.spliced(rows)) is not None:
        body["entries"] = spliced
    else:
        docs = [jload(r["document"]) for r in rows]
        read.shape(docs)
        body["entries"] = docs
    if ask.count:
        body["count"] = int(
            tx.scalar(
                f"SELECT COUNT(*) FROM {source} WHERE {filt} AND {where.sql}", *src_params, *where.params
            )
            or 0
        )
    read.add_content_type(body)
    return body, read.tags
