-- Validated by the caller (crate::legacy_store::fdw, the relation's columns, the reader's rights,
-- legacy_store::routing) before it is stored. Positions as in save_http_store.sql.
INSERT INTO auth.legacy_stores AS s (name, ask_order, email_domains, store_kind, fdw_relation, fdw_mapping, fdw_reader)
VALUES ($1, COALESCE($2, (SELECT COALESCE(pg_catalog.max(ask_order), 0) + 1 FROM auth.legacy_stores)), $3, 'fdw',
        $4, $5, $6)
ON CONFLICT (name) DO UPDATE SET
    ask_order = COALESCE($2, s.ask_order), email_domains = $3, store_kind = 'fdw', fdw_relation = $4,
    fdw_mapping = $5, fdw_reader = $6, http_base_url = NULL, http_auth_secret = NULL, http_hmac_secret = NULL,
    http_ca_bundle = NULL, http_provider = NULL, http_provider_secret = NULL,
    http_provider_admin_secret = NULL, updated_at = pg_catalog.now()
