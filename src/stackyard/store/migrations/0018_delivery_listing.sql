-- Content delivery: entry lists in the default order (newest publish first, then uid, both
-- descending) read straight off one index, however deep the page (`skip`); replaces the listing
-- index of 0010, which left ties on published_at to a sort.
DROP INDEX IF EXISTS published_listing;
CREATE INDEX published_listing_uid ON published(api_key, branch, environment, kind, content_type_uid, locale, published_at, uid);
