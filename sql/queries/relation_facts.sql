-- What decides whether a relation may serve as a legacy users relation, read by role $3 on behalf of role $2:
-- temporary, a system catalog, pg_trickle's own, whether the caller and the reader may SELECT it, whether the
-- caller may act as the reader, and whether the reader is a superuser.
SELECT c.relpersistence OPERATOR(pg_catalog.=) 't',
       n.nspname IN ('pg_catalog', 'information_schema', 'pg_toast')
           OR c.oid OPERATOR(pg_catalog.<) 16384 OR n.nspname OPERATOR(pg_catalog.~) '^pg_(toast_)?temp_',
       n.nspname OPERATOR(pg_catalog.=) 'auth'
           OR EXISTS (SELECT 1 FROM pg_catalog.pg_depend AS d JOIN pg_catalog.pg_extension AS e ON e.oid = d.refobjid
                       WHERE d.classid = 'pg_catalog.pg_class'::pg_catalog.regclass AND d.objid = c.oid
                         AND d.deptype = 'e' AND e.extname = 'pg_trickle'),
       pg_catalog.has_table_privilege($2, c.oid, 'SELECT'),
       pg_catalog.has_table_privilege($3, c.oid, 'SELECT'),
       pg_catalog.pg_has_role($2, $3, 'MEMBER'),
       (SELECT r.rolsuper FROM pg_catalog.pg_roles AS r WHERE r.oid = $3)
  FROM pg_catalog.pg_class AS c
  JOIN pg_catalog.pg_namespace AS n ON n.oid = c.relnamespace
 WHERE c.oid = $1
