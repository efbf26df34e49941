-- Local side of auth.migration_progress(): users by source and recent migration outcomes.
SELECT pg_catalog.count(*) FILTER (WHERE source = 'native'),
       pg_catalog.count(*) FILTER (WHERE source = 'migrated'),
       pg_catalog.count(*) FILTER (WHERE source = 'imported' AND last_login_at IS NULL),
       pg_catalog.count(*) FILTER (WHERE source = 'imported' AND last_login_at IS NOT NULL),
       (SELECT pg_catalog.count(*) FROM auth.migration_events
         WHERE outcome IN ('migrated', 'profile_migrated') AND at > pg_catalog.now() - interval '1 hour'),
       (SELECT pg_catalog.count(*) FROM auth.migration_events
         WHERE outcome IN ('migrated', 'profile_migrated') AND at > pg_catalog.now() - interval '1 day'),
       (SELECT COALESCE(pg_catalog.jsonb_object_agg(outcome, n), '{}')
          FROM (SELECT outcome, pg_catalog.count(*) AS n FROM auth.migration_events
                 WHERE at > pg_catalog.now() - interval '1 day'
                   AND outcome NOT IN ('migrated', 'profile_migrated', 'exists_in_legacy_store', 'not_in_legacy_store')
                 GROUP BY outcome) AS failures)
  FROM auth.users
