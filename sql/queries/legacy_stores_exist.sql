-- Whether the SQL objects have auth.legacy_stores (0.4.0 on): a library newer than the installed SQL objects (between
-- installing it and ALTER EXTENSION pg_trickle UPDATE) reads the older configuration row instead.
SELECT pg_catalog.to_regclass('auth.legacy_stores') IS NOT NULL
