-- A relation name as the admin wrote it, resolved like a regclass (42P01 if it does not exist).
SELECT $1::pg_catalog.regclass::pg_catalog.oid, $1::pg_catalog.regclass::pg_catalog.text
