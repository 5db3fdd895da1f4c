-- Published snapshots: what the delivery API serves, one row per (stack, branch, environment, locale,
-- item). Publishing writes them (DESIGN §4: delivery never reassembles drafts); unpublishing, and
-- deleting what a row came from, removes them. Generic over entries and assets (`kind`).
--   environment      the environment's uid (delivery resolves the request's name to it)
--   locale           the locale it is published in, as delivery is asked for it
--   source_locale    the locale whose content it holds: `locale` itself, or the fallback it came
--                    from when the entry was not localized there (Contentstack §5 item 11)
--   content_type_uid '' for assets
--   document         the item as delivery serves it (the CMA shape of that version, system fields
--                    and `publish_details` for this environment and locale included), ready to send
CREATE TABLE published (
    api_key TEXT NOT NULL REFERENCES stacks(api_key) ON DELETE CASCADE,
    branch TEXT NOT NULL DEFAULT 'main',
    environment TEXT NOT NULL,
    locale TEXT NOT NULL,
    kind TEXT NOT NULL,
    uid TEXT NOT NULL,
    content_type_uid TEXT NOT NULL DEFAULT '',
    source_locale TEXT NOT NULL,
    version INTEGER NOT NULL,
    document {json} NOT NULL,
    published_at TEXT NOT NULL,
    published_by TEXT NOT NULL,
    PRIMARY KEY (api_key, branch, environment, kind, uid, locale)
);
CREATE INDEX published_content_type ON published(api_key, branch, environment, kind, content_type_uid, locale);
CREATE INDEX published_item ON published(api_key, branch, kind, uid);
