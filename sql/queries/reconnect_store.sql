UPDATE auth.import_config
   SET store_kind = disconnected_store_kind, disconnected_store_kind = NULL, updated_at = pg_catalog.now()
 WHERE disconnected_store_kind IS NOT NULL
RETURNING store_kind
