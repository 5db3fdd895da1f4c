-- The event spine (DESIGN §4): every event also gets a global position, dense and in commit order
-- across all stacks (`event_clock` is the counter, taken at the end of each writing transaction),
-- and carries the dimensions consumers filter on. Consumers keep durable cursors.
ALTER TABLE events ADD COLUMN gseq BIGINT;
ALTER TABLE events ADD COLUMN org_uid TEXT;
ALTER TABLE events ADD COLUMN content_type_uid TEXT;
ALTER TABLE events ADD COLUMN environment TEXT;
ALTER TABLE events ADD COLUMN version INTEGER;
ALTER TABLE events ADD COLUMN actor_uid TEXT;
ALTER TABLE events ADD COLUMN actor_kind TEXT;
ALTER TABLE events ADD COLUMN request_id TEXT;
UPDATE events SET gseq = (
    SELECT n FROM (
        SELECT api_key, seq, ROW_NUMBER() OVER (ORDER BY created_at, api_key, seq) AS n FROM events
    ) numbered WHERE numbered.api_key = events.api_key AND numbered.seq = events.seq
);
CREATE UNIQUE INDEX events_global ON events(gseq);
CREATE TABLE event_clock (
    id INTEGER PRIMARY KEY,
    gseq BIGINT NOT NULL
);
INSERT INTO event_clock (id, gseq) SELECT 1, COALESCE(MAX(gseq), 0) FROM events;
CREATE TABLE event_cursors (
    consumer TEXT NOT NULL,
    scope TEXT NOT NULL,
    position BIGINT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (consumer, scope)
);
