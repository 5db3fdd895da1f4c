-- Secrets at rest (stackyard.identity.purge): activation tokens expire, outbox text expires, and a
-- sign-up keeps the name of the organization its activation opens.
-- Pending activations issued before this migration have no expiry and no longer work: inviting
-- the address again mails a fresh token.
ALTER TABLE users ADD COLUMN activation_expires_at TEXT;
ALTER TABLE users ADD COLUMN signup_org_name TEXT;
-- expires_at: when the body, which may hold a token, is removed (the token's own expiry);
-- redacted_at: when it was (expired, used, or sent over SMTP). The row itself stays as a record.
ALTER TABLE outbox ADD COLUMN expires_at TEXT;
ALTER TABLE outbox ADD COLUMN redacted_at TEXT;
CREATE INDEX outbox_to ON outbox(to_addr);
CREATE INDEX outbox_expires ON outbox(expires_at);
CREATE INDEX sessions_expires ON sessions(expires_at);
-- Messages from before: sent ones lose their text now, unsent ones at the next purge.
UPDATE outbox SET body = '(removed: this message was sent)', redacted_at = sent_at WHERE sent_at IS NOT NULL;
UPDATE outbox SET expires_at = created_at WHERE sent_at IS NULL;
