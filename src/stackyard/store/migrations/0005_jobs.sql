-- Durable jobs (stackyard.core.jobs): work that happens later or elsewhere, taken by any process with a lease.
-- run_at, lease_expires_at and heartbeat_at are epoch seconds (cheap to compare); the *_at text columns
-- are ISO times as everywhere else. max_attempts NULL: the running process's job_max_attempts setting.
-- api_key / org_uid: optional tenancy scope (no foreign key: a purge may outlive its stack).
CREATE TABLE jobs (
    id {serial},
    kind TEXT NOT NULL,
    payload {json} NOT NULL,
    status TEXT NOT NULL,
    run_at DOUBLE PRECISION NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    max_attempts INTEGER,
    lease_owner TEXT,
    lease_expires_at DOUBLE PRECISION,
    heartbeat_at DOUBLE PRECISION,
    last_error TEXT,
    idempotency_key TEXT,
    api_key TEXT,
    org_uid TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    finished_at TEXT
);
-- NULL keys are distinct on both engines, so only jobs given a key are deduplicated.
CREATE UNIQUE INDEX jobs_idempotency ON jobs(kind, idempotency_key);
CREATE INDEX jobs_claim ON jobs(status, run_at);
