-- Content model: content types, global fields, labels, extensions, metadata.
-- Content types and global fields are keyed by (stack, branch, uid) (DESIGN §4). A content type
-- stores a global field by reference; reads inline the field's current schema.
CREATE TABLE content_types (
    api_key TEXT NOT NULL REFERENCES stacks(api_key) ON DELETE CASCADE,
    branch TEXT NOT NULL DEFAULT 'main',
    uid TEXT NOT NULL,
    title TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    schema {json} NOT NULL,
    options {json} NOT NULL,
    field_rules {json} NOT NULL,
    version INTEGER NOT NULL DEFAULT 1,
    created_by TEXT NOT NULL,
    updated_by TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (api_key, branch, uid)
);

CREATE TABLE global_fields (
    api_key TEXT NOT NULL REFERENCES stacks(api_key) ON DELETE CASCADE,
    branch TEXT NOT NULL DEFAULT 'main',
    uid TEXT NOT NULL,
    title TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    schema {json} NOT NULL,
    options {json} NOT NULL,
    field_rules {json} NOT NULL,
    version INTEGER NOT NULL DEFAULT 1,
    created_by TEXT NOT NULL,
    updated_by TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (api_key, branch, uid)
);

-- Which content model objects use which: refreshed on every write of the user, so "is this
-- global field in use?" and "which content types refer to this one?" are one indexed query.
CREATE TABLE content_model_refs (
    api_key TEXT NOT NULL REFERENCES stacks(api_key) ON DELETE CASCADE,
    branch TEXT NOT NULL DEFAULT 'main',
    user_kind TEXT NOT NULL,
    user_uid TEXT NOT NULL,
    target_kind TEXT NOT NULL,
    target_uid TEXT NOT NULL,
    PRIMARY KEY (api_key, branch, user_kind, user_uid, target_kind, target_uid)
);
CREATE INDEX content_model_refs_target ON content_model_refs(api_key, branch, target_kind, target_uid);

CREATE TABLE labels (
    api_key TEXT NOT NULL REFERENCES stacks(api_key) ON DELETE CASCADE,
    branch TEXT NOT NULL DEFAULT 'main',
    uid TEXT NOT NULL,
    name TEXT NOT NULL,
    parent {json} NOT NULL,
    content_types {json} NOT NULL,
    version INTEGER NOT NULL DEFAULT 1,
    created_by TEXT NOT NULL,
    updated_by TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (api_key, branch, uid)
);

CREATE TABLE extensions (
    api_key TEXT NOT NULL REFERENCES stacks(api_key) ON DELETE CASCADE,
    uid TEXT NOT NULL,
    title TEXT NOT NULL,
    type TEXT NOT NULL,
    data_type TEXT,
    tags {json} NOT NULL,
    src TEXT,
    srcdoc TEXT,
    multiple INTEGER NOT NULL DEFAULT 0,
    config {json} NOT NULL,
    scope {json} NOT NULL,
    extra {json} NOT NULL,
    version INTEGER NOT NULL DEFAULT 1,
    created_by TEXT NOT NULL,
    updated_by TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (api_key, uid)
);

CREATE TABLE metadata (
    api_key TEXT NOT NULL REFERENCES stacks(api_key) ON DELETE CASCADE,
    uid TEXT NOT NULL,
    entity_uid TEXT NOT NULL,
    entity_type TEXT NOT NULL,
    content_type_uid TEXT,
    locale TEXT,
    extension_uid TEXT,
    data {json} NOT NULL,
    version INTEGER NOT NULL DEFAULT 1,
    created_by TEXT NOT NULL,
    updated_by TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (api_key, uid)
);
CREATE INDEX metadata_entity ON metadata(api_key, entity_uid);
