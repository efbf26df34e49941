-- The role that owns pg_trickle's objects (who ran CREATE EXTENSION), and the installed SQL version.
SELECT e.extowner, e.extversion FROM pg_catalog.pg_extension AS e WHERE e.extname = 'pg_trickle'
