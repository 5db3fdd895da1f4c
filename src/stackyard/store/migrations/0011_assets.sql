-- Assets and asset folders (Contentstack keeps both in one collection: a folder is an asset with
-- is_dir = 1, so `GET /assets?include_folders=true` lists both from one table).
--   parent_uid    the folder holding it ('' at the top level)
--   storage_key   where the current file's bytes are kept: its SHA-256, as the storage backend
--                 names it (content-addressed, so a client's file name never becomes a path)
--   upload_uid    a random uid per uploaded file, the third segment of its public URL
--   filename      the client's file name, kept only as text (URL segment, download name)
--   width/height  pixel dimensions of images (NULL for other files)
CREATE TABLE assets (
    api_key TEXT NOT NULL REFERENCES stacks(api_key) ON DELETE CASCADE,
    branch TEXT NOT NULL DEFAULT 'main',
    uid TEXT NOT NULL,
    is_dir INTEGER NOT NULL DEFAULT 0,
    parent_uid TEXT NOT NULL DEFAULT '',
    version INTEGER NOT NULL DEFAULT 1,
    title TEXT NOT NULL DEFAULT '',
    description TEXT NOT NULL DEFAULT '',
    tags {json} NOT NULL,
    filename TEXT NOT NULL DEFAULT '',
    content_type TEXT NOT NULL DEFAULT '',
    file_size BIGINT NOT NULL DEFAULT 0,
    storage_key TEXT NOT NULL DEFAULT '',
    upload_uid TEXT NOT NULL DEFAULT '',
    width INTEGER,
    height INTEGER,
    created_by TEXT NOT NULL,
    updated_by TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (api_key, branch, uid)
);
CREATE INDEX assets_parent ON assets(api_key, branch, parent_uid, is_dir);
CREATE INDEX assets_storage ON assets(storage_key);

-- Every saved version of an asset (folders have none): the file and the metadata it had.
CREATE TABLE asset_versions (
    api_key TEXT NOT NULL REFERENCES stacks(api_key) ON DELETE CASCADE,
    branch TEXT NOT NULL DEFAULT 'main',
    uid TEXT NOT NULL,
    version INTEGER NOT NULL,
    title TEXT NOT NULL DEFAULT '',
    description TEXT NOT NULL DEFAULT '',
    tags {json} NOT NULL,
    filename TEXT NOT NULL DEFAULT '',
    content_type TEXT NOT NULL DEFAULT '',
    file_size BIGINT NOT NULL DEFAULT 0,
    storage_key TEXT NOT NULL DEFAULT '',
    upload_uid TEXT NOT NULL DEFAULT '',
    width INTEGER,
    height INTEGER,
    version_name TEXT,
    version_named_by TEXT,
    version_named_at TEXT,
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (api_key, branch, uid, version)
);
CREATE INDEX asset_versions_upload ON asset_versions(api_key, uid, upload_uid);
CREATE INDEX asset_versions_storage ON asset_versions(storage_key);
