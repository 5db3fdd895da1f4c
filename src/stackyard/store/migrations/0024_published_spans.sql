-- Published entries keep where each top-level array of their document lies in its text
-- (`store/json_spans.py`): `{"author":[812,870]}` says document[812:870] is the author array. A
-- delivery read that includes references replaces those arrays by slicing the stored text instead
-- of decoding and encoding the document (`content/delivery/splice.py`). NULL where the database
-- does not keep the text as written (PostgreSQL's JSONB), and on rows published before this
-- migration: those take the general path.
ALTER TABLE published ADD COLUMN spans TEXT;
