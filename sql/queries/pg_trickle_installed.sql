-- Whether this database (still) has pg_trickle: the login writer connects to databases by oid.
SELECT EXISTS (SELECT FROM pg_catalog.pg_extension WHERE extname = 'pg_trickle')
