-- For make bench: one auth.verify_legacy_hash of a user's argon2id hash per statement, through the same client,
-- protocol and connection as the logins it is compared with (pgbench -M prepared, one client): the bare hash.
SELECT auth.verify_legacy_hash(:password, :hash);
