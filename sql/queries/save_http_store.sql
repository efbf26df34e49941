-- Validated by the caller (crate::legacy_store::http::config, legacy_store::routing) before it is stored. $1-$11 as
-- in save_http_store_before_0_4.sql; $12 allow_insecure, $13 the name, $14 the ask order, $15 the email domains,
-- $16 the idle-pool lifetime, $17 an identity provider's settings, $18 its secret, $19 its admin secret. A new store without an ask order
-- goes after the others; a store saved again keeps its place unless one is given.
INSERT INTO auth.legacy_stores AS s (
    name, ask_order, email_domains, store_kind, http_base_url, http_contract, http_auth_kind, http_auth_header,
    http_auth_secret, http_hmac_secret, http_connect_timeout_ms, http_timeout_ms, http_lookup_retries,
    http_max_response_bytes, http_ca_bundle, http_allow_insecure, http_pool_idle_ms, http_provider, http_provider_secret,
    http_provider_admin_secret)
VALUES ($13, COALESCE($14, (SELECT COALESCE(pg_catalog.max(ask_order), 0) + 1 FROM auth.legacy_stores)), $15, 'http',
        $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $16, $17, $18, $19)
ON CONFLICT (name) DO UPDATE SET
    ask_order = COALESCE($14, s.ask_order), email_domains = $15, store_kind = 'http', http_base_url = $1,
    http_contract = $2, http_auth_kind = $3, http_auth_header = $4, http_auth_secret = $5, http_hmac_secret = $6,
    http_connect_timeout_ms = $7, http_timeout_ms = $8, http_lookup_retries = $9, http_max_response_bytes = $10,
    http_ca_bundle = $11, http_allow_insecure = $12, http_pool_idle_ms = $16, http_provider = $17,
    http_provider_secret = $18, http_provider_admin_secret = $19, fdw_relation = NULL,
    fdw_mapping = NULL, fdw_reader = NULL, updated_at = pg_catalog.now()
