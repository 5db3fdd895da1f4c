-- Content delivery: the secret sync tokens are signed with, and indexes for delivery reads.
--   delivery_secrets   one row per purpose ('sync'); made on first use, never rotated (sync tokens
--                      never expire, so they stay verifiable for good)
CREATE TABLE delivery_secrets (
    name TEXT PRIMARY KEY,
    secret TEXT NOT NULL,
    created_at TEXT NOT NULL
);
-- Entry lists in the default order (newest publish first) of one content type and locale.
CREATE INDEX published_listing ON published(api_key, branch, environment, kind, content_type_uid, locale, published_at);
-- Sync: the publish events of one item after a position ("did it change since the token?").
CREATE INDEX events_object ON events(api_key, object_uid, seq);
