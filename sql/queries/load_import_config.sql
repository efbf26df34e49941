SELECT import_mode, store_kind, http_base_url, http_contract, http_auth_kind, http_auth_header, http_auth_secret,
       http_hmac_secret, http_connect_timeout_ms, http_timeout_ms, http_lookup_retries, http_max_response_bytes,
       http_ca_bundle, fdw_relation::text, fdw_mapping
  FROM auth.import_config
