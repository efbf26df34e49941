-- The one store of 0.3.0 and before, in auth.import_config: what their configure_http_store() wrote, for databases
-- not yet updated (validated by the caller first).
INSERT INTO auth.import_config AS c (
    store_kind, http_base_url, http_contract, http_auth_kind, http_auth_header, http_auth_secret, http_hmac_secret,
    http_connect_timeout_ms, http_timeout_ms, http_lookup_retries, http_max_response_bytes, http_ca_bundle)
VALUES ('http', $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
ON CONFLICT (singleton) DO UPDATE SET
    store_kind = 'http', http_base_url = $1, http_contract = $2, http_auth_kind = $3, http_auth_header = $4,
    http_auth_secret = $5, http_hmac_secret = $6, http_connect_timeout_ms = $7, http_timeout_ms = $8,
    http_lookup_retries = $9, http_max_response_bytes = $10, http_ca_bundle = $11, updated_at = pg_catalog.now()
