-- Everything pg_trickle owns in this database, one line per fact, free of OIDs and of creation order:
-- a fresh install and an updated older release must give the same lines (tests/upgrade.rs).
WITH members AS (
    SELECT d.classid, d.objid
      FROM pg_catalog.pg_depend AS d
      JOIN pg_catalog.pg_extension AS e ON e.oid = d.refobjid
     WHERE d.refclassid = 'pg_catalog.pg_extension'::pg_catalog.regclass
       AND d.deptype = 'e' AND e.extname = 'pg_trickle'
), relations AS (
    SELECT c.* FROM pg_catalog.pg_class AS c
      JOIN members AS m ON m.classid = 'pg_catalog.pg_class'::pg_catalog.regclass AND m.objid = c.oid
), functions AS (
    SELECT p.* FROM pg_catalog.pg_proc AS p
      JOIN members AS m ON m.classid = 'pg_catalog.pg_proc'::pg_catalog.regclass AND m.objid = p.oid
)
SELECT 'member ' || pg_catalog.pg_describe_object(classid, objid, 0) FROM members
UNION ALL
SELECT pg_catalog.format('function %s acl=%s comment=%s %s', p.oid::pg_catalog.regprocedure,
           (SELECT pg_catalog.string_agg(a::text, ',' ORDER BY a::text) FROM pg_catalog.unnest(p.proacl) AS a),
           pg_catalog.obj_description(p.oid, 'pg_proc'), pg_catalog.pg_get_functiondef(p.oid))
  FROM functions AS p
UNION ALL
SELECT pg_catalog.format('relation %s kind=%s persistence=%s rls=%s options=%s acl=%s comment=%s',
           c.oid::pg_catalog.regclass, c.relkind, c.relpersistence, c.relrowsecurity, c.reloptions,
           (SELECT pg_catalog.string_agg(a::text, ',' ORDER BY a::text) FROM pg_catalog.unnest(c.relacl) AS a),
           pg_catalog.obj_description(c.oid, 'pg_class'))
  FROM relations AS c
UNION ALL
-- Columns in their order: a column an update adds goes last in sql/schema.sql too.
SELECT pg_catalog.format('column %s #%s %s %s notnull=%s default=%s identity=%s generated=%s collation=%s acl=%s',
           a.attrelid::pg_catalog.regclass,
           pg_catalog.row_number() OVER (PARTITION BY a.attrelid ORDER BY a.attnum),
           a.attname, pg_catalog.format_type(a.atttypid, a.atttypmod), a.attnotnull,
           pg_catalog.pg_get_expr(ad.adbin, ad.adrelid), a.attidentity, a.attgenerated, a.attcollation,
           (SELECT pg_catalog.string_agg(x::text, ',' ORDER BY x::text) FROM pg_catalog.unnest(a.attacl) AS x))
  FROM pg_catalog.pg_attribute AS a
  JOIN relations AS c ON c.oid = a.attrelid
  LEFT JOIN pg_catalog.pg_attrdef AS ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum
 WHERE a.attnum > 0 AND NOT a.attisdropped
UNION ALL
SELECT pg_catalog.format('constraint %s %s %s', k.conrelid::pg_catalog.regclass, k.conname,
           pg_catalog.pg_get_constraintdef(k.oid))
  FROM pg_catalog.pg_constraint AS k JOIN relations AS c ON c.oid = k.conrelid
UNION ALL
-- Indexes belong to their table, not to the extension.
SELECT 'index ' || pg_catalog.pg_get_indexdef(i.indexrelid)
  FROM pg_catalog.pg_index AS i JOIN relations AS c ON c.oid = i.indrelid
UNION ALL
SELECT 'trigger ' || pg_catalog.pg_get_triggerdef(t.oid)
  FROM pg_catalog.pg_trigger AS t JOIN relations AS c ON c.oid = t.tgrelid
 WHERE NOT t.tgisinternal
UNION ALL
SELECT pg_catalog.format('policy %s %s %s using=%s check=%s', p.polrelid::pg_catalog.regclass, p.polname, p.polcmd,
           pg_catalog.pg_get_expr(p.polqual, p.polrelid), pg_catalog.pg_get_expr(p.polwithcheck, p.polrelid))
  FROM pg_catalog.pg_policy AS p JOIN relations AS c ON c.oid = p.polrelid
UNION ALL
SELECT 'view ' || c.oid::pg_catalog.regclass || ' ' || pg_catalog.pg_get_viewdef(c.oid)
  FROM relations AS c WHERE c.relkind IN ('v', 'm')
UNION ALL
-- What pg_dump keeps of the extension's tables.
SELECT pg_catalog.format('dumped %s where=%s', x.rel::pg_catalog.regclass, x.condition)
  FROM pg_catalog.pg_extension AS e, ROWS FROM (pg_catalog.unnest(e.extconfig), pg_catalog.unnest(e.extcondition)) AS x(rel, condition)
 WHERE e.extname = 'pg_trickle'
UNION ALL
SELECT pg_catalog.format('schema %s acl=%s comment=%s', n.nspname,
           (SELECT pg_catalog.string_agg(a::text, ',' ORDER BY a::text) FROM pg_catalog.unnest(n.nspacl) AS a),
           pg_catalog.obj_description(n.oid, 'pg_namespace'))
  FROM pg_catalog.pg_namespace AS n WHERE n.nspname = 'auth'
ORDER BY 1
