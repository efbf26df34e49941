-- Import mode and the legacy stores in the order they are asked, as JSON read by column name. regclass and regrole
-- columns come out as their quoted names.
SELECT pg_catalog.jsonb_build_object(
    'import_mode', COALESCE((SELECT c.import_mode FROM auth.import_config AS c), false),
    'stores', COALESCE((SELECT pg_catalog.jsonb_agg(pg_catalog.to_jsonb(s) ORDER BY s.ask_order)
                          FROM auth.legacy_stores AS s), '[]'))
