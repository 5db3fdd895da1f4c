-- Publishing (content/publishing): the publish queue, bulk jobs and releases. Snapshots are in
-- `published` (0009). Environments are stored by uid; JSON lists are arrays of strings.

-- Every publish, unpublish and release deployment: done at once (status success) or scheduled
-- (pending until its job runs it; `job_id` is that job). `action` publish | unpublish | deploy;
-- `type` entry | asset | release. `item_*` name the entry or asset (for a release: the release).
CREATE TABLE publish_queue (
    api_key TEXT NOT NULL REFERENCES stacks(api_key) ON DELETE CASCADE,
    branch TEXT NOT NULL DEFAULT 'main',
    uid TEXT NOT NULL,
    type TEXT NOT NULL,
    action TEXT NOT NULL,
    item_uid TEXT NOT NULL,
    content_type_uid TEXT NOT NULL DEFAULT '',
    title TEXT,
    locale TEXT,
    version INTEGER,
    environments {json} NOT NULL,
    locales {json} NOT NULL,
    with_references INTEGER NOT NULL DEFAULT 0,
    status TEXT NOT NULL,
    details {json} NOT NULL,
    scheduled_at TEXT,
    job_id BIGINT,
    bulk_job TEXT,
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (api_key, uid)
);
CREATE INDEX publish_queue_recent ON publish_queue(api_key, branch, created_at);
CREATE INDEX publish_queue_item ON publish_queue(api_key, branch, item_uid);

-- Bulk operations: accepted at once, run as the durable job `publishing.bulk` in chunks. `done`
-- is how many items have been applied (each chunk moves it in the chunk's transaction, so a job
-- that resumes after a crash starts where the last commit left it). `idempotency_key`: a repeated
-- request with the same key answers the same job.
CREATE TABLE bulk_jobs (
    api_key TEXT NOT NULL REFERENCES stacks(api_key) ON DELETE CASCADE,
    branch TEXT NOT NULL DEFAULT 'main',
    uid TEXT NOT NULL,
    operation TEXT NOT NULL,
    status TEXT NOT NULL,
    request {json} NOT NULL,
    total INTEGER NOT NULL,
    done INTEGER NOT NULL DEFAULT 0,
    succeeded INTEGER NOT NULL DEFAULT 0,
    failed INTEGER NOT NULL DEFAULT 0,
    idempotency_key TEXT,
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (api_key, uid)
);
CREATE UNIQUE INDEX bulk_jobs_idempotency ON bulk_jobs(api_key, idempotency_key);

-- One row per item of a bulk job, in order (`n` from 0): what to do and how it went.
CREATE TABLE bulk_job_items (
    api_key TEXT NOT NULL REFERENCES stacks(api_key) ON DELETE CASCADE,
    job_uid TEXT NOT NULL,
    n INTEGER NOT NULL,
    item {json} NOT NULL,
    status TEXT NOT NULL,
    error TEXT,
    PRIMARY KEY (api_key, job_uid, n)
);

CREATE TABLE releases (
    api_key TEXT NOT NULL REFERENCES stacks(api_key) ON DELETE CASCADE,
    branch TEXT NOT NULL DEFAULT 'main',
    uid TEXT NOT NULL,
    name TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    locked INTEGER NOT NULL DEFAULT 0,
    archived INTEGER NOT NULL DEFAULT 0,
    status {json} NOT NULL,
    created_by TEXT NOT NULL,
    updated_by TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (api_key, uid)
);

-- `action` publish | unpublish; `kind` entry | asset. One row per (item, locale) in a release.
CREATE TABLE release_items (
    api_key TEXT NOT NULL REFERENCES stacks(api_key) ON DELETE CASCADE,
    release_uid TEXT NOT NULL,
    kind TEXT NOT NULL,
    uid TEXT NOT NULL,
    locale TEXT NOT NULL,
    content_type_uid TEXT NOT NULL DEFAULT '',
    version INTEGER,
    action TEXT NOT NULL,
    title TEXT,
    added_at TEXT NOT NULL,
    PRIMARY KEY (api_key, release_uid, uid, locale)
);
