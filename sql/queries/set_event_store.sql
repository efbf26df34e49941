-- The legacy store an event is about (a separate statement: SQL objects before 0.4.0 have no such column).
UPDATE auth.migration_events SET store = $2 WHERE id = $1
