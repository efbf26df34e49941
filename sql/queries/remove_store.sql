-- Forgets a store's settings and secrets; its users keep its name in auth.users.legacy_store.
WITH gone AS (DELETE FROM auth.legacy_stores WHERE name = $1 RETURNING 1)
SELECT pg_catalog.count(*) > 0 FROM gone
