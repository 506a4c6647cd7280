-- postgresql only: SQLite serves one process, which hears its own events.
-- Replicas (issue 11): every transaction that writes run events wakes the servers following
-- those runs — NOTIFY crane_events '<run_id>', delivered at COMMIT (never for a rollback),
-- once per run and transaction. The events table stays the source of truth: a listener that
-- was away reads what it missed from it.
CREATE FUNCTION crane_notify_events() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('crane_events', run_id) FROM (SELECT DISTINCT run_id FROM written) AS r;
    RETURN NULL;
END;
$$;
CREATE TRIGGER run_events_notify AFTER INSERT ON run_events
    REFERENCING NEW TABLE AS written FOR EACH STATEMENT EXECUTE FUNCTION crane_notify_events();
