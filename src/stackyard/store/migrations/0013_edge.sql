-- The edge (StackPath-compatible CDN): API credentials and their bearer tokens, stacks, CDN sites
-- with scopes, origins and configuration, certificates, purge requests and traffic counters.
-- An account is an organization (`account_id` = organizations.uid). Secrets are stored as SHA-256.
CREATE TABLE edge_credentials (
    client_id TEXT PRIMARY KEY,
    org_uid TEXT NOT NULL REFERENCES organizations(uid) ON DELETE CASCADE,
    name TEXT NOT NULL,
    secret_hash TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL,
    revoked_at TEXT
);
CREATE INDEX edge_credentials_org ON edge_credentials(org_uid);

CREATE TABLE edge_tokens (
    token_hash TEXT PRIMARY KEY,
    client_id TEXT NOT NULL REFERENCES edge_credentials(client_id) ON DELETE CASCADE,
    org_uid TEXT NOT NULL,
    expires_at TEXT NOT NULL
);
CREATE INDEX edge_tokens_client ON edge_tokens(client_id);

CREATE TABLE edge_stacks (
    id TEXT PRIMARY KEY,
    account_id TEXT NOT NULL REFERENCES organizations(uid) ON DELETE CASCADE,
    slug TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    status TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX edge_stacks_account ON edge_stacks(account_id);

-- label: the site's domain (what the data plane matches the Host header against)
CREATE TABLE edge_sites (
    id TEXT PRIMARY KEY,
    stack_id TEXT NOT NULL REFERENCES edge_stacks(id) ON DELETE CASCADE,
    label TEXT NOT NULL UNIQUE,
    status TEXT NOT NULL,
    enabled INTEGER NOT NULL DEFAULT 1,
    type TEXT NOT NULL,
    features {json} NOT NULL,
    certificate_id TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX edge_sites_stack ON edge_sites(stack_id);

CREATE TABLE edge_scopes (
    id TEXT PRIMARY KEY,
    site_id TEXT NOT NULL REFERENCES edge_sites(id) ON DELETE CASCADE,
    path TEXT NOT NULL,
    platform TEXT NOT NULL,
    configuration {json} NOT NULL,
    created_at TEXT NOT NULL,
    UNIQUE (site_id, path)
);

CREATE TABLE edge_origins (
    id TEXT PRIMARY KEY,
    site_id TEXT NOT NULL REFERENCES edge_sites(id) ON DELETE CASCADE,
    scope_id TEXT NOT NULL REFERENCES edge_scopes(id) ON DELETE CASCADE,
    hostname TEXT NOT NULL,
    port INTEGER NOT NULL,
    secure_port INTEGER NOT NULL,
    path TEXT NOT NULL,
    priority INTEGER NOT NULL,
    dedicated INTEGER NOT NULL DEFAULT 1,
    created_at TEXT NOT NULL
);
CREATE INDEX edge_origins_scope ON edge_origins(scope_id);

-- key_pem: the private key, which the data plane needs to serve the certificate over TLS
CREATE TABLE edge_certificates (
    id TEXT PRIMARY KEY,
    stack_id TEXT NOT NULL REFERENCES edge_stacks(id) ON DELETE CASCADE,
    certificate_pem TEXT NOT NULL,
    key_pem TEXT NOT NULL,
    ca_bundle TEXT,
    fingerprint TEXT NOT NULL,
    common_name TEXT NOT NULL,
    issuer TEXT NOT NULL,
    sans {json} NOT NULL,
    not_before TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX edge_certificates_stack ON edge_certificates(stack_id);

-- nodes: the data-plane nodes that were live when the purge was sent (JSON list); progress is the
-- share of those still live that confirmed it
CREATE TABLE edge_purges (
    id TEXT PRIMARY KEY,
    stack_id TEXT NOT NULL REFERENCES edge_stacks(id) ON DELETE CASCADE,
    items {json} NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX edge_purges_stack ON edge_purges(stack_id);

-- Traffic counted by the data plane, per site, platform (CDE: edge to user, CDO: origin to edge)
-- and five-minute bucket (epoch seconds of its start).
CREATE TABLE edge_metrics (
    site_id TEXT NOT NULL,
    platform TEXT NOT NULL,
    bucket BIGINT NOT NULL,
    requests BIGINT NOT NULL DEFAULT 0,
    hits BIGINT NOT NULL DEFAULT 0,
    misses BIGINT NOT NULL DEFAULT 0,
    bytes BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (site_id, platform, bucket)
);
