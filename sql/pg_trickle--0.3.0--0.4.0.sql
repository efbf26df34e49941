-- pg_trickle 0.3.0 → 0.4.0, run by ALTER EXTENSION pg_trickle UPDATE.
-- A fresh 0.4.0 install and 0.3.0 updated by this script have the same schema: tests/e2e/tests/upgrade.rs
-- compares their catalogs object by object. Takes no lock on pg_trickle's tables.
\echo Use "ALTER EXTENSION pg_trickle UPDATE" to load this file. \quit

-- auth.stats() gains three counters: legacy_rejections (logins the legacy store refused, which no longer write one
-- auth.migration_events row each), rate_limited (calls refused by pg_trickle.legacy_calls_per_second) and lookups
-- (getUser calls of signup, reset, email change and migrate, no longer counted as misses). A new C
-- symbol; the 0.3.0 one stays in the library with its ten columns for databases not yet updated.
DROP FUNCTION auth.stats();
CREATE FUNCTION auth."stats"() RETURNS TABLE (
	"since" timestamp with time zone,  /* TimestampWithTimeZone */
	"hits" bigint,  /* i64 */
	"misses" bigint,  /* i64 */
	"migrations" bigint,  /* i64 */
	"invalid_credentials" bigint,  /* i64 */
	"locked" bigint,  /* i64 */
	"store_errors" bigint,  /* i64 */
	"latency_p50_ms" double precision,  /* Option < f64 > */
	"latency_p95_ms" double precision,  /* Option < f64 > */
	"latency_p99_ms" double precision,  /* Option < f64 > */
	"legacy_rejections" bigint,  /* i64 */
	"rate_limited" bigint,  /* i64 */
	"lookups" bigint  /* i64 */
)
STRICT VOLATILE SECURITY DEFINER PARALLEL UNSAFE 
SET search_path TO pg_catalog, pg_temp
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'login_stats_wrapper';
REVOKE ALL ON FUNCTION auth.stats() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth.stats() TO trickle_admin;

-- New: auth.check_store(), for admins, says what a login and a look-up would meet at the legacy store.
CREATE FUNCTION auth."check_store"(
	"sample_email" TEXT DEFAULT NULL /* Option < & str > */
) RETURNS TABLE (
	"item" TEXT,  /* String */
	"ok" bool,  /* bool */
	"detail" TEXT  /* String */
)
VOLATILE SECURITY DEFINER PARALLEL UNSAFE
SET search_path TO pg_catalog, pg_temp
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'check_store_wrapper';
REVOKE ALL ON FUNCTION auth.check_store(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth.check_store(text) TO trickle_admin;
