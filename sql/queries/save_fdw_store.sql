-- Validated by the caller (crate::legacy_store::fdw and the relation's columns) before it is stored.
INSERT INTO auth.import_config AS c (store_kind, fdw_relation, fdw_mapping)
VALUES ('fdw', $1, $2)
ON CONFLICT (singleton) DO UPDATE SET
    store_kind = 'fdw', fdw_relation = $1, fdw_mapping = $2, updated_at = pg_catalog.now()
