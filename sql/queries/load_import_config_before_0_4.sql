-- The configuration row of 0.3.0 and before (one store, in auth.import_config), as JSON read by column name.
SELECT pg_catalog.to_jsonb(c) FROM auth.import_config AS c
