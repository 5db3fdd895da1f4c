"""Every server setting and limit, each with a default and a line of help.

A setting is read from the command line (`--name-with-dashes`), then from the environment
(`STACKYARD_NAME`), then falls back to its default. Nothing in a handler hard-codes a limit.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


def _setting(default: Any, help: str) -> Any:
    return field(default=default, metadata={"help": help})


@dataclass(frozen=True)
class Settings:
    host: str = _setting("127.0.0.1", "Address to listen on.")
    port: int = _setting(8080, "Port to listen on.")
    data_dir: str = _setting("./.stackyard", "Directory for the SQLite database and other local state.")
    database_url: str = _setting(
        "", "Database URL: sqlite:///path or postgresql://...; default a SQLite file in the data dir."
    )
    tls_cert: str = _setting("", "PEM certificate file; with --tls-key the server speaks HTTPS.")
    tls_key: str = _setting("", "PEM private key file for --tls-cert.")
    admin_email: str = _setting(
        "", "On first start with an empty database, create the owner with this email."
    )
    admin_password: str = _setting("", "Password for the first owner (with --admin-email).")
    admin_password_file: str = _setting(
        "", "File holding the first owner's password (keeps it out of `ps` and the environment)."
    )
    demo: bool = _setting(
        False, "Create a demo organization, stack, environments, locales, token and content."
    )
    max_body_bytes: int = _setting(10 * 1024 * 1024, "Largest request body accepted; larger ones get 413.")
    max_upload_bytes: int = _setting(
        1024**3,
        "Largest body a streaming route (uploads) accepts, spooled to disk under the data dir; larger get 413.",
    )
    max_url_bytes: int = _setting(
        32 * 1024, "Longest request target (path and query string) accepted; longer ones get 414."
    )
    max_header_bytes: int = _setting(
        64 * 1024, "Largest total size of a request's header names and values; larger heads get 431."
    )
    max_headers: int = _setting(100, "Most header lines one request may have; more get 431.")
    request_receive_timeout_seconds: float = _setting(
        10.0,
        "Seconds a client has to send a request's line and headers, and the longest it may pause "
        "while sending the body; slower clients get 408 and are disconnected.",
    )
    max_json_depth: int = _setting(
        64, "Deepest nesting of arrays and objects in a JSON body or query parameter; deeper get 400."
    )
    rate_limit_enabled: bool = _setting(True, "Apply per-organization rate limits.")
    rate_limit_reads: int = _setting(
        250,
        "Read requests per second allowed per organization, across all processes. One process "
        "answers 950-1,400 authenticated reads/s on PostgreSQL and 2,600-5,000 on SQLite "
        "(bench/README.md): 250 is about a quarter of the slower one, so that one organization "
        "cannot take a process from the others.",
    )
    rate_limit_writes: int = _setting(
        60,
        "Write requests per second allowed per organization, across all processes. One process "
        "creates 240-275 entries/s on PostgreSQL and 1,100 on SQLite (bench/README.md): 60 is "
        "about a quarter of the slower one.",
    )
    rate_limit_burst_seconds: float = _setting(2.0, "Seconds of traffic a bucket can hold as burst.")
    auth_attempts_per_minute: int = _setting(
        30,
        "Logins, password resets and activations allowed per minute from one client address (0: no limit).",
    )
    failed_auth_per_minute: int = _setting(
        60,
        "Requests with a bad credential (unknown or expired authtoken or token) allowed per minute "
        "from one client address; past it, every request from there carrying a credential gets 429 "
        "before any database work, until the bucket refills (0: no limit).",
    )
    rate_limit_hold_seconds: float = _setting(
        0.5,
        "Seconds a request refused with 429 waits before its answer is sent (costing the server "
        "nothing meanwhile), so a client that ignores Retry-After cannot turn cheap refusals into "
        "a flood that slows everyone else (0: answer at once).",
    )
    session_ttl_seconds: int = _setting(14 * 24 * 3600, "Lifetime of a login authtoken.")
    max_failed_logins: int = _setting(5, "Failed logins in a row before an account is locked.")
    lockout_seconds: int = _setting(900, "How long a locked account stays locked.")
    password_hash_time_cost: int = _setting(
        3, "argon2id passes per password hash (new hashes; stored ones keep the cost they were made with)."
    )
    password_hash_memory_kib: int = _setting(65536, "argon2id memory per password hash, in KiB.")
    reset_token_ttl_seconds: int = _setting(3600, "Lifetime of a password reset token.")
    activation_token_ttl_seconds: int = _setting(
        7 * 24 * 3600, "Lifetime of a mailed account activation token (invitation, sign-up, new owner)."
    )
    purge_interval_seconds: int = _setting(
        3600,
        "Seconds between purges of expired sessions, expired or used tokens and expired outbox text.",
    )
    allow_signup: bool = _setting(
        False,
        "Let anyone open an account (POST /v3/user): an inactive user and an activation mail, and on "
        "activation an organization of their own.",
    )
    ownership_token_ttl_seconds: int = _setting(
        7 * 24 * 3600, "Lifetime of a mailed stack ownership transfer token."
    )
    invitation_ttl_seconds: int = _setting(
        7 * 24 * 3600, "Lifetime of a mailed invitation to join a stack or an organization."
    )
    page_size_default: int = _setting(100, "Items per page when a list request gives no limit.")
    page_size_max: int = _setting(1000, "Largest limit a list request may ask for.")
    query_timeout_ms: int = _setting(
        2000,
        "Milliseconds one database statement of a request may run before it is stopped and answers "
        "503 (error_code 503); migrations and background jobs have no limit. 0 turns it off.",
    )
    max_field_items: int = _setting(
        1000,
        "Most items one multiple field of an entry may hold (a field's max_instance can only lower it).",
    )
    max_response_bytes: int = _setting(
        16 * 1024 * 1024,
        "Largest JSON answer sent at once; a page that would be larger answers 413 (error_code 413): "
        "ask for a lower limit.",
    )
    cache_entries: int = _setting(
        5000,
        "Values (content type schemas, stack roles, token scopes) each process keeps cached, least "
        "recently used dropped first; changes reach every process through the event log. 0 turns it off.",
    )
    cache_catch_up_events: int = _setting(
        1000,
        "Most new events a process's cache reads to drop what they changed; behind by more, it starts empty.",
    )
    smtp_url: str = _setting("", "smtp://user:pass@host:port to send mail; empty keeps mail in the outbox.")
    mail_from: str = _setting("stackyard@localhost", "From address of outgoing mail.")
    public_url: str = _setting("", "Base URL users reach the server at (used in mail links).")
    db_pool_size: int = _setting(16, "PostgreSQL connections kept open per process.")
    jobs_enabled: bool = _setting(
        True, "Run background jobs inside this server process; `stackyard worker` runs only jobs."
    )
    job_threads: int = _setting(4, "Threads running job handlers in each process that runs jobs.")
    job_lease_seconds: float = _setting(
        30.0,
        "How long a claimed job stays reserved without a heartbeat; the jobs of a process that died "
        "are taken over by another once it lapses.",
    )
    job_poll_seconds: float = _setting(
        1.0, "Seconds between looks for due jobs when no enqueue wakes the job runner."
    )
    job_max_attempts: int = _setting(
        5, "Attempts before a failing job is given up (unless the job sets its own)."
    )
    bulk_chunk_items: int = _setting(
        200, "Items of a bulk job applied per transaction (a job resumes after its last committed chunk)."
    )
    bulk_max_items: int = _setting(10_000, "Most entries and assets one bulk request may list.")
    job_batch: int = _setting(32, "Most jobs one process claims in one transaction.")
    access_log: bool = _setting(True, "Write one structured (JSON) access log line per request.")
    allow_private_outbound: bool = _setting(
        False,
        "Let the outbound client (webhooks, automation http actions, edge origin fetches) reach "
        "loopback and private addresses.",
    )
    allow_local_runners: bool = _setting(
        False,
        "Let automation runners execute programs on this host (core.local, local-shell-*, python-script); "
        "without it they are refused with a clear faultstring.",
    )
    automation_token_ttl_seconds: int = _setting(86400, "Default lifetime of an automation (st2) token.")
    automation_token_max_ttl_seconds: int = _setting(
        7 * 86400, "Longest lifetime an automation token may ask for; longer requests get 400."
    )
    automation_secret_key: str = _setting(
        "",
        "Key encrypting automation secrets (key-value store): 32 url-safe base64 bytes (Fernet); "
        "empty keeps a generated one in <data dir>/automation.key.",
    )
    automation_inline_wait_ms: int = _setting(
        1500,
        "Milliseconds POST /executions waits for a short action to finish before answering (so the "
        "st2 CLI, which polls every 2 s, sees it finished at once); 0 answers at once.",
    )
    automation_max_output_bytes: int = _setting(
        1024 * 1024, "Most bytes of stdout (and of stderr) an automation execution keeps."
    )
    automation_max_page_size: int = _setting(100, "Largest page an automation list answers a non-admin.")
    automation_webhook_batch: int = _setting(
        64,
        "Most webhooks whose trigger instances, enforcements and executions one write transaction "
        "records when they arrive together (each is answered once it is durable); 1 writes each alone.",
    )
    automation_packs_dir: str = _setting(
        "", "Directory holding registered packs' files; empty means <data dir>/packs."
    )
    outbound_connect_timeout_seconds: float = _setting(
        5.0, "Seconds an outbound HTTP call may take to connect."
    )
    outbound_read_timeout_seconds: float = _setting(
        10.0, "Seconds an outbound HTTP call may wait for the next bytes of the response."
    )
    outbound_total_timeout_seconds: float = _setting(
        30.0, "Seconds an outbound HTTP call may take in all, redirects included."
    )
    outbound_max_response_bytes: int = _setting(
        10 * 1024 * 1024, "Largest outbound HTTP response body read; larger ones fail the call."
    )
    outbound_max_redirects: int = _setting(
        0, "Redirects an outbound HTTP call follows (each hop checked again); 0 follows none."
    )
    workers: int = _setting(
        1,
        "Server processes sharing the port (use the cores; SQLite still has one writer at a time, "
        "other processes wait up to the busy timeout). Rate limits are split evenly between them.",
    )
    sqlite_group_commit: int = _setting(
        32,
        "Most SQLite write transactions that may share one commit (fsync) when they queue up; "
        "each still succeeds or fails alone and is acknowledged only once durable. 1 turns it off.",
    )
    inline_reads: bool = _setting(
        True,
        "On SQLite, run GET handlers on the event loop instead of a worker thread (short reads are "
        "faster without the thread hop; a GET that writes is re-run on a thread).",
    )
    sqlite_change_check_ms: int = _setting(
        5,
        "On SQLite, milliseconds between checks for events committed by other processes (one "
        "PRAGMA data_version each; the event clock is read only when it changed).",
    )
    event_check_seconds: float = _setting(
        10.0,
        "Seconds without a wake-up after which event consumers look at the log anyway (a safety "
        "net; commits wake them at once).",
    )
    event_listen_retry_seconds: float = _setting(
        1.0, "Seconds before a lost PostgreSQL LISTEN connection for event wake-ups is opened again."
    )
    consumer_batch: int = _setting(100, "Most events an event consumer handles and acknowledges at once.")
    consumer_retry_seconds: float = _setting(
        1.0,
        "Seconds before a consumer retries a batch its handler failed on (doubling each time, up to "
        "event_check_seconds).",
    )
    # -- content delivery (CDA) --
    delivery_max_limit: int = _setting(250, "Largest `limit` a delivery list request may ask for.")
    delivery_include_depth: int = _setting(
        3, "How many references deep `include[]` paths of a delivery request may reach."
    )
    delivery_max_includes: int = _setting(100, "Most `include[]` paths one delivery request may give.")
    delivery_query_max_depth: int = _setting(
        8, "Deepest nesting of $and/$or/$in_query in a delivery `query`; deeper get 400."
    )
    delivery_query_max_conditions: int = _setting(
        200, "Most conditions one delivery `query` may hold; more get 400."
    )
    delivery_query_max_in: int = _setting(1000, "Most values one $in/$nin list may hold; more get 400.")
    delivery_query_max_regex: int = _setting(
        1000, "Longest $regex pattern of a delivery `query` (at most 1000); longer get 400."
    )
    delivery_cache_bytes: int = _setting(
        64 * 1024 * 1024,
        "Memory the delivery response cache may hold per process (bodies and headers), in bytes; 0 turns it off.",
    )
    delivery_cache_control: str = _setting(
        "public, max-age=0, must-revalidate",
        "Cache-Control of delivery answers: shared caches revalidate with the ETag (304) unless purged by tag.",
    )
    delivery_indexes_max: int = _setting(
        32,
        "Most expression indexes on published documents (one per top-level number or date field name) "
        "kept for delivery filters and sorts; each costs every publish a little. 0: none.",
    )
    cache_tag_header: str = _setting(
        "X-Tag",
        "Header naming the cache tags of a delivery answer (X-Tag for StackPath; Surrogate-Key or Cache-Tag for other CDNs).",
    )
    # -- the edge (StackPath-compatible CDN) ------------------------------------------------------
    edge_port: int = _setting(
        0, "Serve the edge data plane (the caching proxy) on this port; 0: off (--demo turns it on at 8081)."
    )
    edge_tls_port: int = _setting(
        0, "Also serve the data plane over TLS on this port, with each site's assigned certificate (SNI)."
    )
    edge_host: str = _setting("", "Address the data plane listens on (default: --host).")
    redis_url: str = _setting(
        "",
        "redis://host:port: edge purges and configuration changes fan out to every data-plane node "
        "through Redis pub/sub (needed once nodes run in more than one process).",
    )
    edge_token_ttl_seconds: int = _setting(3600, "Lifetime of an edge API bearer token (expires_in).")
    edge_memory_cache_bytes: int = _setting(
        256 * 1024 * 1024,
        "Bytes of responses each data-plane node keeps in memory (least recently used dropped).",
    )
    edge_disk_cache_bytes: int = _setting(
        1024**3,
        "Bytes of responses each node keeps on disk under the data dir once memory is full (0: none).",
    )
    edge_max_object_bytes: int = _setting(
        64 * 1024 * 1024, "Largest response the edge caches; larger ones are passed through uncached."
    )
    edge_origin_connect_timeout_seconds: float = _setting(
        5.0, "Seconds the edge may take to connect to an origin."
    )
    edge_origin_read_timeout_seconds: float = _setting(
        30.0, "Seconds the edge waits for the next bytes of an origin's response."
    )
    edge_origin_total_timeout_seconds: float = _setting(60.0, "Seconds one origin fetch may take in all.")
    edge_origin_keepalive_connections: int = _setting(
        64, "Idle connections each node keeps open to each origin for the next fetches (0: none)."
    )
    edge_tag_header: str = _setting(
        "X-Tag",
        "Response header whose comma-separated values TAG purges match (delivery responses carry it).",
    )
    edge_node_ttl_seconds: float = _setting(
        3.0,
        "Seconds a data-plane node stays live in Redis without a heartbeat; purge progress counts live nodes.",
    )
    edge_config_refresh_seconds: float = _setting(
        30.0, "Seconds between reloads of the sites by each node (changes also reach them at once)."
    )
    edge_metrics_flush_seconds: float = _setting(
        5.0, "Seconds between writes of each node's traffic counters."
    )

    # -- assets and image delivery -------------------------------------------------------------
    asset_storage: str = _setting(
        "",
        "Where asset files are stored: empty for <data-dir>/assets, or s3://bucket/prefix for an "
        "S3-compatible object store (with --asset-s3-endpoint and credentials).",
    )
    asset_s3_endpoint: str = _setting("", "Base URL of the S3-compatible server (e.g. http://minio:9000).")
    asset_s3_access_key: str = _setting("", "Access key id for --asset-storage s3://...")
    asset_s3_secret_key: str = _setting("", "Secret access key for --asset-storage s3://...")
    asset_s3_region: str = _setting("us-east-1", "Region named in the S3 request signatures.")
    image_max_input_bytes: int = _setting(
        50 * 1024 * 1024, "Largest image file transformed (Contentstack's limit: 50 MB); larger answer 422."
    )
    image_max_input_pixels: int = _setting(
        144_000_000,
        "Most pixels (width x height, read from the header before decoding) of an image transformed "
        "(Contentstack: 12,000 x 12,000); more answer 422, so a decompression bomb is never decoded.",
    )
    image_max_output_side: int = _setting(
        8192, "Largest width or height of a transformed image (Contentstack: 8,192); larger asks answer 422."
    )
    image_transform_concurrency: int = _setting(
        2, "Image transforms run at once per process; more wait (up to the time limit) for a turn."
    )
    image_transform_timeout_seconds: float = _setting(
        20.0, "Seconds one image transform (waiting for a turn included) may take before it answers 503."
    )
    image_cache_entries: int = _setting(
        512, "Transformed images each process keeps in memory (least recently used dropped first)."
    )
    image_max_variants: int = _setting(
        200,
        "Transformed images kept on disk (under <data-dir>/derived) per stored file; further ones "
        "are made and kept in memory only, so public URLs cannot be used to fill the disk.",
    )
    image_disk_cache_bytes: int = _setting(
        1024**3,
        "Bytes of transformed images kept on disk under <data-dir>/derived, all files and processes "
        "together; past it the least recently used are deleted first (0: kept in memory only).",
    )

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return "sqlite:///" + str(Path(self.data_dir).resolve() / "stackyard.db")

    @classmethod
    def from_sources(
        cls, overrides: dict[str, Any] | None = None, env: dict[str, str] | None = None
    ) -> Settings:
        """Build settings from explicit overrides, then STACKYARD_* environment variables, then defaults."""
        env = dict(os.environ) if env is None else env
        overrides = {k: v for k, v in (overrides or {}).items() if v is not None}
        values: dict[str, Any] = {}
        for f in dataclasses.fields(cls):
            if f.name in overrides:
                values[f.name] = overrides[f.name]
                continue
            raw = env.get("STACKYARD_" + f.name.upper())
            if raw is not None:
                values[f.name] = _parse(raw, type(f.default))
        return cls(**values)

    def replace(self, **changes: Any) -> Settings:
        return dataclasses.replace(self, **changes)


def _parse(raw: str, kind: type) -> Any:
    if kind is bool:
        return raw.strip().lower() in ("1", "true", "yes", "on")
    if kind is int:
        return int(raw)
    if kind is float:
        return float(raw)
    return raw


def describe() -> list[tuple[str, Any, str]]:
    """(name, default, help) for every setting, for --help texts and the README."""
    return [(f.name, f.default, f.metadata["help"]) for f in dataclasses.fields(Settings)]
