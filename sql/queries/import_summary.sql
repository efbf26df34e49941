-- Staged rows: how many, how many importable, and every rejection with its reason. A rejection names its row and,
-- when the row's email is a valid address, that address (normalised): never another source value, so an import
-- cannot be used to read columns through its report. The one exception is a row that could not be read at all:
-- its legacy id is the only way to name it (legacy ids are admin-visible anyway, as auth.users.external_id).
SELECT pg_catalog.count(*),
       pg_catalog.count(*) FILTER (WHERE reason IS NULL),
       COALESCE(pg_catalog.jsonb_agg(pg_catalog.jsonb_strip_nulls(pg_catalog.jsonb_build_object(
                    'row', n, 'email', norm, 'reason', reason,
                    'legacy_id', CASE WHEN reason LIKE 'unreadable\_row\_%' THEN legacy_id END)) ORDER BY n)
                FILTER (WHERE reason IS NOT NULL), '[]')
  FROM pg_temp.pg_trickle_import
