-- Live preview: a delivery token may carry a preview token (its SHA-256 only, as for the token
-- itself), which reads the latest drafts of the environments in the token's scope.
ALTER TABLE delivery_tokens ADD COLUMN preview_token_hash TEXT;
CREATE UNIQUE INDEX delivery_tokens_preview ON delivery_tokens(preview_token_hash);
