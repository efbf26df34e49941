INSERT INTO auth.import_config AS c (import_mode) VALUES ($1)
ON CONFLICT (singleton) DO UPDATE SET import_mode = $1, updated_at = pg_catalog.now()
