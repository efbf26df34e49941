-- Staged rows: how many, how many importable, and every rejection with its reason. A rejection names its row and,
-- when the row's email is a valid address, that address (normalised): never another source value, so an import
-- cannot be used to read columns through its report.
SELECT pg_catalog.count(*),
       pg_catalog.count(*) FILTER (WHERE reason IS NULL),
       COALESCE(pg_catalog.jsonb_agg(pg_catalog.jsonb_strip_nulls(pg_catalog.jsonb_build_object(
                    'row', n, 'email', norm, 'reason', reason)) ORDER BY n)
                FILTER (WHERE reason IS NOT NULL), '[]')
  FROM pg_temp.pg_trickle_import
