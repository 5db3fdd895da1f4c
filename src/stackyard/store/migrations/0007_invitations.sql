-- Invitations wait for consent (stackyard.identity.invitations): an existing user joins a stack or
-- an organization only when they accept with the token mailed to them.
-- token_hash: SHA-256 of that token; expires_at: when it stops working; user_uid: the invited account.
-- Rows from before were applied when they were made and have no token.
ALTER TABLE invitations ADD COLUMN token_hash TEXT;
ALTER TABLE invitations ADD COLUMN expires_at TEXT;
ALTER TABLE invitations ADD COLUMN user_uid TEXT;
CREATE UNIQUE INDEX invitations_token ON invitations(token_hash);
CREATE INDEX invitations_user ON invitations(user_uid);
