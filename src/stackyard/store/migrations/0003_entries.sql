-- Entries: the current state per (stack, branch, uid, locale), every version of it, and the
-- references between entries (for GET .../references and "is this content type in use?").
-- `data` holds all field values of the content type (title included); system fields are columns.
-- `localized` is 1 for a copy made by localizing an entry that first existed in another locale,
-- 0 for the locale the entry was created in (which cannot be unlocalized).
CREATE TABLE entries (
    api_key TEXT NOT NULL REFERENCES stacks(api_key) ON DELETE CASCADE,
    branch TEXT NOT NULL DEFAULT 'main',
    uid TEXT NOT NULL,
    locale TEXT NOT NULL,
    content_type_uid TEXT NOT NULL,
    version INTEGER NOT NULL DEFAULT 1,
    title TEXT NOT NULL DEFAULT '',
    data {json} NOT NULL,
    tags {json} NOT NULL,
    localized INTEGER NOT NULL DEFAULT 0,
    created_by TEXT NOT NULL,
    updated_by TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (api_key, branch, uid, locale)
);
CREATE INDEX entries_content_type ON entries(api_key, branch, content_type_uid, locale);

CREATE TABLE entry_versions (
    api_key TEXT NOT NULL REFERENCES stacks(api_key) ON DELETE CASCADE,
    branch TEXT NOT NULL DEFAULT 'main',
    uid TEXT NOT NULL,
    locale TEXT NOT NULL,
    version INTEGER NOT NULL,
    content_type_uid TEXT NOT NULL,
    title TEXT NOT NULL DEFAULT '',
    data {json} NOT NULL,
    tags {json} NOT NULL,
    version_name TEXT,
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (api_key, branch, uid, locale, version)
);

CREATE TABLE entry_references (
    api_key TEXT NOT NULL REFERENCES stacks(api_key) ON DELETE CASCADE,
    branch TEXT NOT NULL DEFAULT 'main',
    from_uid TEXT NOT NULL,
    from_locale TEXT NOT NULL,
    from_content_type_uid TEXT NOT NULL,
    to_uid TEXT NOT NULL,
    to_content_type_uid TEXT NOT NULL,
    PRIMARY KEY (api_key, branch, from_uid, from_locale, to_uid)
);
CREATE INDEX entry_references_to ON entry_references(api_key, branch, to_uid);
CREATE INDEX entry_references_to_ct ON entry_references(api_key, branch, to_content_type_uid);
