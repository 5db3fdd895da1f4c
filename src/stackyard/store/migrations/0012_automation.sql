-- Automation (StackStorm v1 compatible, stackyard.automation). Every row belongs to one organization
-- (org_uid) and every query filters by it. Ids are 24-hex, time-ordered (like Mongo ObjectIds);
-- times are ISO strings with microseconds, epoch seconds where they are compared (expiry, TTL).
CREATE TABLE st2_tokens (
    token_hash TEXT PRIMARY KEY,
    id TEXT NOT NULL,
    user_uid TEXT NOT NULL REFERENCES users(uid) ON DELETE CASCADE,
    org_uid TEXT NOT NULL REFERENCES organizations(uid) ON DELETE CASCADE,
    username TEXT NOT NULL,
    expires_at DOUBLE PRECISION NOT NULL,
    metadata {json} NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX st2_tokens_expiry ON st2_tokens(expires_at);
CREATE TABLE st2_api_keys (
    id TEXT PRIMARY KEY,
    org_uid TEXT NOT NULL REFERENCES organizations(uid) ON DELETE CASCADE,
    user_uid TEXT NOT NULL REFERENCES users(uid) ON DELETE CASCADE,
    username TEXT NOT NULL,
    key_hash TEXT NOT NULL UNIQUE,
    metadata {json} NOT NULL,
    enabled INTEGER NOT NULL DEFAULT 1,
    created_at TEXT NOT NULL
);
CREATE INDEX st2_api_keys_org ON st2_api_keys(org_uid, created_at);
CREATE TABLE st2_packs (
    org_uid TEXT NOT NULL REFERENCES organizations(uid) ON DELETE CASCADE,
    ref TEXT NOT NULL,
    id TEXT NOT NULL,
    doc {json} NOT NULL,
    PRIMARY KEY (org_uid, ref)
);
CREATE TABLE st2_actions (
    id TEXT PRIMARY KEY,
    org_uid TEXT NOT NULL REFERENCES organizations(uid) ON DELETE CASCADE,
    ref TEXT NOT NULL,
    pack TEXT NOT NULL,
    doc {json} NOT NULL,
    created_at TEXT NOT NULL
);
CREATE UNIQUE INDEX st2_actions_ref ON st2_actions(org_uid, ref);
CREATE TABLE st2_executions (
    id TEXT PRIMARY KEY,
    org_uid TEXT NOT NULL REFERENCES organizations(uid) ON DELETE CASCADE,
    action_ref TEXT NOT NULL,
    status TEXT NOT NULL,
    username TEXT NOT NULL,
    parent TEXT,
    rule_ref TEXT,
    trigger_instance TEXT,
    start_timestamp TEXT NOT NULL,
    end_timestamp TEXT,
    job_id BIGINT,
    doc {json} NOT NULL
);
CREATE INDEX st2_executions_org ON st2_executions(org_uid, start_timestamp);
CREATE INDEX st2_executions_action ON st2_executions(org_uid, action_ref, start_timestamp);
CREATE INDEX st2_executions_status ON st2_executions(org_uid, status, start_timestamp);
CREATE INDEX st2_executions_parent ON st2_executions(parent);
CREATE TABLE st2_output (
    seq {serial},
    execution_id TEXT NOT NULL REFERENCES st2_executions(id) ON DELETE CASCADE,
    output_type TEXT NOT NULL,
    data TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX st2_output_execution ON st2_output(execution_id, seq);
CREATE TABLE st2_keys (
    org_uid TEXT NOT NULL REFERENCES organizations(uid) ON DELETE CASCADE,
    scope TEXT NOT NULL,
    owner TEXT NOT NULL,
    name TEXT NOT NULL,
    value TEXT NOT NULL,
    secret INTEGER NOT NULL DEFAULT 0,
    expires_at DOUBLE PRECISION,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (org_uid, scope, owner, name)
);
CREATE TABLE st2_trigger_types (
    org_uid TEXT NOT NULL REFERENCES organizations(uid) ON DELETE CASCADE,
    ref TEXT NOT NULL,
    id TEXT NOT NULL,
    doc {json} NOT NULL,
    PRIMARY KEY (org_uid, ref)
);
CREATE TABLE st2_triggers (
    id TEXT PRIMARY KEY,
    org_uid TEXT NOT NULL REFERENCES organizations(uid) ON DELETE CASCADE,
    ref TEXT NOT NULL,
    type TEXT NOT NULL,
    params_key TEXT NOT NULL,
    webhook_url TEXT,
    doc {json} NOT NULL
);
CREATE UNIQUE INDEX st2_triggers_ref ON st2_triggers(org_uid, ref);
CREATE UNIQUE INDEX st2_triggers_params ON st2_triggers(org_uid, type, params_key);
CREATE INDEX st2_triggers_webhook ON st2_triggers(org_uid, webhook_url);
CREATE TABLE st2_trigger_instances (
    id TEXT PRIMARY KEY,
    org_uid TEXT NOT NULL REFERENCES organizations(uid) ON DELETE CASCADE,
    trigger TEXT NOT NULL,
    occurrence_time TEXT NOT NULL,
    status TEXT NOT NULL,
    payload {json} NOT NULL
);
CREATE INDEX st2_trigger_instances_org ON st2_trigger_instances(org_uid, occurrence_time);
CREATE TABLE st2_rules (
    id TEXT PRIMARY KEY,
    org_uid TEXT NOT NULL REFERENCES organizations(uid) ON DELETE CASCADE,
    ref TEXT NOT NULL,
    pack TEXT NOT NULL,
    trigger_type TEXT NOT NULL,
    trigger_ref TEXT NOT NULL,
    enabled INTEGER NOT NULL,
    doc {json} NOT NULL,
    created_at TEXT NOT NULL
);
CREATE UNIQUE INDEX st2_rules_ref ON st2_rules(org_uid, ref);
CREATE INDEX st2_rules_trigger ON st2_rules(org_uid, trigger_ref);
CREATE INDEX st2_rules_type ON st2_rules(trigger_type, enabled);
CREATE TABLE st2_enforcements (
    id TEXT PRIMARY KEY,
    org_uid TEXT NOT NULL REFERENCES organizations(uid) ON DELETE CASCADE,
    rule_ref TEXT NOT NULL,
    rule_id TEXT NOT NULL,
    trigger_instance_id TEXT NOT NULL,
    execution_id TEXT,
    status TEXT NOT NULL,
    failure_reason TEXT,
    enforced_at TEXT NOT NULL
);
CREATE INDEX st2_enforcements_org ON st2_enforcements(org_uid, enforced_at);
CREATE TABLE st2_traces (
    id TEXT PRIMARY KEY,
    org_uid TEXT NOT NULL REFERENCES organizations(uid) ON DELETE CASCADE,
    trace_tag TEXT NOT NULL,
    start_timestamp TEXT NOT NULL,
    doc {json} NOT NULL
);
CREATE INDEX st2_traces_org ON st2_traces(org_uid, start_timestamp);
