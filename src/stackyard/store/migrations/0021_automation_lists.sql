-- `execution list`: its pages come newest first with the id breaking ties, and the st2 CLI asks for
-- top-level executions (parent=null) by default; both orders and their counts read an index.
DROP INDEX st2_executions_org;
CREATE INDEX st2_executions_org ON st2_executions(org_uid, start_timestamp, id);
CREATE INDEX st2_executions_top ON st2_executions(org_uid, start_timestamp, id) WHERE parent IS NULL;
