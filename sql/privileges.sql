-- pg_trickle: who may call what. Runs last (finalize), after every function exists.
-- Functions run SECURITY DEFINER, except those that read a relation the caller names (auth.import_users,
-- auth.configure_fdw_store): they run SECURITY INVOKER and take the owner's rights only for pg_trickle's own
-- tables (src/pg/privilege.rs). Callers get nothing by default and one of two roles explicitly.

REVOKE ALL ON ALL FUNCTIONS IN SCHEMA auth FROM PUBLIC;

-- Application functions: what a backend service needs to log users in and manage their own accounts.
GRANT EXECUTE ON FUNCTION
    auth.version(),
    auth.login(text, text),
    auth.signup(text, text, jsonb),
    auth.change_password(text, text, text),
    auth.create_password_reset(text),
    auth.reset_password(text, text),
    auth.get_user(text),
    auth.update_user_metadata(text, jsonb),
    auth.change_email(text, text),
    auth.set_email_verified(text, boolean),
    auth.delete_user(text),
    auth.normalize_email(text)
TO trickle_app, trickle_admin;

-- Admin functions: override what a user proved, or what the application may not decide alone.
GRANT EXECUTE ON FUNCTION
    auth.set_password(text, text),
    auth.update_app_metadata(text, jsonb),
    auth.unlock_user(text),
    auth.locked_users(),
    auth.set_import_mode(boolean),
    auth.configure_http_store(text, text, text, text, text, text, integer, integer, integer, integer, text, boolean,
                              text, integer, text[], integer, jsonb, text, text),
    auth.migrate(text),
    auth.configure_fdw_store(text, jsonb, text, text, integer, text[]),
    auth.import_users(text, jsonb, boolean, integer),
    auth.import_users_json(jsonb, boolean, integer),
    auth.forget_user(text),
    auth.stats(),
    auth.reset_stats(),
    auth.backfill_metadata(bigint),
    auth.repair_user(text),
    auth.migration_progress(),
    auth.store_progress(),
    auth.store_stats(),
    auth.unmigrated_users(bigint),
    auth.duplicate_legacy_users(bigint),
    auth.disconnect_check(),
    auth.check_store(text),
    auth.disconnect_external_store(text),
    auth.reconnect_external_store(text),
    auth.remove_external_store(text),
    auth.verify_legacy_hash(text, text, text, jsonb),
    auth.legacy_hash_formats()
TO trickle_admin;
