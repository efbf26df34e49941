-- A role by name (42704 when there is none).
SELECT $1::pg_catalog.regrole::pg_catalog.oid
