-- Users migrated from each legacy store (by login, reset, signup look-up or admin migrate).
SELECT legacy_store, pg_catalog.count(*) FROM auth.users WHERE source = 'migrated' AND legacy_store IS NOT NULL
 GROUP BY legacy_store
