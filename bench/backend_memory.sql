-- One backend's anonymous memory (RssAnon, KiB) fresh, after one login and after 1,000, with
-- pg_trickle.keep_hash_memory = :keep. Read from the backend's own /proc/self/status (superuser).
\set QUIET on
SET pg_trickle.keep_hash_memory = :keep;
SELECT pg_catalog.substring(pg_catalog.pg_read_file('/proc/self/status'), 'RssAnon:\s+(\d+)') AS fresh \gset
SELECT ok FROM auth.login('bench1@example.org', :'password') \gset
SELECT pg_catalog.substring(pg_catalog.pg_read_file('/proc/self/status'), 'RssAnon:\s+(\d+)') AS one \gset
SELECT count(*) AS ok_logins FROM generate_series(2, 1000) AS n,
       LATERAL auth.login('bench' || (n % 100 + 1) || '@example.org', :'password') AS l WHERE l.ok \gset
SELECT pg_catalog.substring(pg_catalog.pg_read_file('/proc/self/status'), 'RssAnon:\s+(\d+)') AS thousand \gset
\echo :fresh :one :thousand :ok_logins
