-- The columns of the legacy relation and whether each holds json/jsonb, for validating a mapping.
SELECT a.attname::text,
       a.atttypid IN ('pg_catalog.json'::pg_catalog.regtype, 'pg_catalog.jsonb'::pg_catalog.regtype)
  FROM pg_catalog.pg_attribute AS a
 WHERE a.attrelid = $1 AND a.attnum > 0 AND NOT a.attisdropped
