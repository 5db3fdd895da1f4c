-- Core: identity, organizations, stacks, roles, environments, locales, tokens, audit log, event log.
-- {json} is TEXT on SQLite and JSONB on PostgreSQL; {serial} an auto-increment primary key.
CREATE TABLE users (
    uid TEXT PRIMARY KEY,
    email TEXT NOT NULL UNIQUE,
    username TEXT NOT NULL,
    first_name TEXT NOT NULL DEFAULT '',
    last_name TEXT NOT NULL DEFAULT '',
    company TEXT NOT NULL DEFAULT '',
    mobile_number TEXT NOT NULL DEFAULT '',
    country_code TEXT NOT NULL DEFAULT '',
    password_hash TEXT,
    active INTEGER NOT NULL DEFAULT 0,
    activation_token_hash TEXT UNIQUE,
    reset_token_hash TEXT UNIQUE,
    reset_expires_at TEXT,
    tfa_secret TEXT,
    tfa_enabled INTEGER NOT NULL DEFAULT 0,
    failed_attempts INTEGER NOT NULL DEFAULT 0,
    locked_until TEXT,
    settings {json} NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,
    user_uid TEXT NOT NULL REFERENCES users(uid) ON DELETE CASCADE,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL
);
CREATE INDEX sessions_user ON sessions(user_uid);

CREATE TABLE organizations (
    uid TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    owner_uid TEXT NOT NULL REFERENCES users(uid),
    plan_id TEXT NOT NULL DEFAULT 'self_hosted',
    enabled INTEGER NOT NULL DEFAULT 1,
    settings {json} NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

CREATE TABLE org_members (
    org_uid TEXT NOT NULL REFERENCES organizations(uid) ON DELETE CASCADE,
    user_uid TEXT NOT NULL REFERENCES users(uid) ON DELETE CASCADE,
    role TEXT NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (org_uid, user_uid)
);
CREATE INDEX org_members_user ON org_members(user_uid);

CREATE TABLE invitations (
    uid TEXT PRIMARY KEY,
    org_uid TEXT NOT NULL REFERENCES organizations(uid) ON DELETE CASCADE,
    email TEXT NOT NULL,
    org_roles {json} NOT NULL,
    stack_roles {json} NOT NULL,
    message TEXT NOT NULL DEFAULT '',
    invited_by TEXT NOT NULL,
    created_at TEXT NOT NULL,
    accepted_at TEXT
);
CREATE INDEX invitations_email ON invitations(email);

CREATE TABLE stacks (
    api_key TEXT PRIMARY KEY,
    uid TEXT NOT NULL UNIQUE,
    org_uid TEXT NOT NULL REFERENCES organizations(uid),
    name TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    master_locale TEXT NOT NULL,
    owner_uid TEXT NOT NULL REFERENCES users(uid),
    settings {json} NOT NULL,
    stack_settings {json} NOT NULL,
    event_seq BIGINT NOT NULL DEFAULT 0,
    created_by TEXT NOT NULL,
    updated_by TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX stacks_org ON stacks(org_uid);

CREATE TABLE stack_members (
    api_key TEXT NOT NULL REFERENCES stacks(api_key) ON DELETE CASCADE,
    user_uid TEXT NOT NULL REFERENCES users(uid) ON DELETE CASCADE,
    invited_by TEXT NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (api_key, user_uid)
);
CREATE INDEX stack_members_user ON stack_members(user_uid);

CREATE TABLE roles (
    api_key TEXT NOT NULL REFERENCES stacks(api_key) ON DELETE CASCADE,
    uid TEXT NOT NULL,
    name TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    kind TEXT NOT NULL,
    rules {json} NOT NULL,
    created_by TEXT NOT NULL,
    updated_by TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (api_key, uid),
    UNIQUE (api_key, name)
);

CREATE TABLE member_roles (
    api_key TEXT NOT NULL,
    user_uid TEXT NOT NULL,
    role_uid TEXT NOT NULL,
    PRIMARY KEY (api_key, user_uid, role_uid),
    FOREIGN KEY (api_key, user_uid) REFERENCES stack_members(api_key, user_uid) ON DELETE CASCADE,
    FOREIGN KEY (api_key, role_uid) REFERENCES roles(api_key, uid) ON DELETE CASCADE
);
CREATE INDEX member_roles_user ON member_roles(user_uid);

CREATE TABLE ownership_transfers (
    token_hash TEXT PRIMARY KEY,
    api_key TEXT NOT NULL REFERENCES stacks(api_key) ON DELETE CASCADE,
    from_uid TEXT NOT NULL,
    to_uid TEXT NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL
);

CREATE TABLE environments (
    api_key TEXT NOT NULL REFERENCES stacks(api_key) ON DELETE CASCADE,
    uid TEXT NOT NULL,
    name TEXT NOT NULL,
    urls {json} NOT NULL,
    version INTEGER NOT NULL DEFAULT 1,
    created_by TEXT NOT NULL,
    updated_by TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (api_key, uid),
    UNIQUE (api_key, name)
);

CREATE TABLE locales (
    api_key TEXT NOT NULL REFERENCES stacks(api_key) ON DELETE CASCADE,
    branch TEXT NOT NULL DEFAULT 'main',
    uid TEXT NOT NULL,
    code TEXT NOT NULL,
    name TEXT NOT NULL,
    fallback_locale TEXT,
    version INTEGER NOT NULL DEFAULT 1,
    created_by TEXT NOT NULL,
    updated_by TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (api_key, branch, code)
);

CREATE TABLE delivery_tokens (
    api_key TEXT NOT NULL REFERENCES stacks(api_key) ON DELETE CASCADE,
    uid TEXT NOT NULL,
    name TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    scope {json} NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    created_by TEXT NOT NULL,
    updated_by TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (api_key, uid)
);

CREATE TABLE management_tokens (
    api_key TEXT NOT NULL REFERENCES stacks(api_key) ON DELETE CASCADE,
    uid TEXT NOT NULL,
    name TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    scope {json} NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    expires_on TEXT,
    is_email_notification_enabled INTEGER NOT NULL DEFAULT 0,
    created_by TEXT NOT NULL,
    updated_by TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (api_key, uid)
);

CREATE TABLE audit_logs (
    seq {serial},
    uid TEXT NOT NULL UNIQUE,
    org_uid TEXT,
    api_key TEXT,
    branch TEXT,
    module TEXT NOT NULL,
    event_type TEXT NOT NULL,
    actor_uid TEXT,
    actor_kind TEXT NOT NULL,
    request_id TEXT NOT NULL,
    remote_addr TEXT NOT NULL DEFAULT '',
    metadata {json} NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX audit_logs_stack ON audit_logs(api_key, seq);
CREATE INDEX audit_logs_org ON audit_logs(org_uid, seq);

CREATE TABLE events (
    api_key TEXT NOT NULL,
    seq BIGINT NOT NULL,
    branch TEXT NOT NULL DEFAULT 'main',
    type TEXT NOT NULL,
    module TEXT NOT NULL,
    object_uid TEXT NOT NULL,
    locale TEXT,
    data {json} NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (api_key, seq)
);

CREATE TABLE outbox (
    seq {serial},
    uid TEXT NOT NULL UNIQUE,
    to_addr TEXT NOT NULL,
    subject TEXT NOT NULL,
    body TEXT NOT NULL,
    created_at TEXT NOT NULL,
    sent_at TEXT
);
