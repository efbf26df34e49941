-- A role's name as PostgreSQL prints a regrole (quoted where needed), for log lines.
SELECT $1::pg_catalog.regrole::pg_catalog.text
