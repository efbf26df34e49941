-- The FDW store's reader as auth.import_config prints it (a quoted name, or the bare oid of a dropped role):
-- its oid and whether it is a superuser; no row when the role no longer exists.
SELECT r.oid, r.rolsuper
  FROM pg_catalog.pg_roles AS r
 WHERE pg_catalog.quote_ident(r.rolname) OPERATOR(pg_catalog.=) $1 OR r.oid::pg_catalog.text OPERATOR(pg_catalog.=) $1
