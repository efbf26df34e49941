-- Staged rows: how many, how many importable, and every rejection with its reason.
SELECT pg_catalog.count(*),
       pg_catalog.count(*) FILTER (WHERE reason IS NULL),
       COALESCE(pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object('row', n, 'legacy_id', legacy_id, 'email', email,
                                                                   'reason', reason) ORDER BY n)
                FILTER (WHERE reason IS NOT NULL), '[]')
  FROM pg_temp.pg_trickle_import
