-- Import mode stays as it is; only the store goes quiet (and can be restored).
UPDATE auth.import_config
   SET disconnected_store_kind = store_kind, store_kind = 'none', updated_at = pg_catalog.now()
 WHERE store_kind <> 'none'
RETURNING disconnected_store_kind
