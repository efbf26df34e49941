-- The configuration row as JSON, read by column name: a library newer than the installed SQL objects (between
-- installing it and ALTER EXTENSION pg_trickle UPDATE) reads the columns it knows and defaults the others.
-- regclass and regrole columns come out as their quoted names.
SELECT pg_catalog.to_jsonb(c) FROM auth.import_config AS c
