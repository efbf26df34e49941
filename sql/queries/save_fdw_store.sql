-- Validated by the caller (crate::legacy_store::fdw, the relation's columns, the reader's rights) before it is stored.
INSERT INTO auth.import_config AS c (store_kind, fdw_relation, fdw_mapping, fdw_reader)
VALUES ('fdw', $1, $2, $3)
ON CONFLICT (singleton) DO UPDATE SET
    store_kind = 'fdw', fdw_relation = $1, fdw_mapping = $2, fdw_reader = $3, updated_at = pg_catalog.now()
