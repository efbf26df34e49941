-- Since 0.3.0 (a database not yet updated has no such column, and no such setting).
UPDATE auth.import_config SET http_allow_insecure = $1
