-- The st2 stream across processes (`automation.relay`): events of executions that a process without
-- the stream's subscribers committed (a `stackyard worker`, another API process), kept a minute,
-- and the processes whose subscribers want them (each refreshes its row while it has some).
CREATE TABLE st2_stream (
    seq {serial},
    org_uid TEXT NOT NULL,
    origin TEXT NOT NULL,
    name TEXT NOT NULL,
    data TEXT NOT NULL,
    created_at DOUBLE PRECISION NOT NULL
);
CREATE INDEX st2_stream_created ON st2_stream(created_at);
CREATE TABLE st2_stream_readers (
    process TEXT PRIMARY KEY,
    expires_at DOUBLE PRECISION NOT NULL
);
