-- For make bench: the cost of one auth.verify_legacy_hash call, measured in-process like the reference
-- implementation it is compared with (no client round trip per call). The first call warms the backend
-- (library load, catalog caches) and is not timed. Concatenating n * 0 characters keeps the planner from
-- folding the immutable call into a constant.
SELECT auth.verify_legacy_hash(:'pw', :'hash') AS warm \gset
\timing on
SELECT count(*) FILTER (WHERE auth.verify_legacy_hash(:'pw' || repeat('x', n * 0), :'hash')) AS verified
  FROM generate_series(1, :rounds) AS n \gset
\timing off
\echo verified :warm :verified
