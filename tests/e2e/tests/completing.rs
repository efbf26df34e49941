//! Completing the migration: progress, the unmigrated tail, events, disconnecting the legacy store,
//! deleted users coming back (or not), forgetting a user, and dump/restore of everything.

use pg_trickle_e2e::postgres::Client;
use pg_trickle_e2e::{sqlstate, LegacyDb, LegacyHttpStore, TestDb};
use serde_json::{json, Value};

fn login(c: &mut Client, email: &str, password: &str) -> (bool, String) {
    let row = c.query_one("SELECT ok, status FROM auth.login($1, $2)", &[&email, &password]).unwrap();
    (row.get(0), row.get(1))
}

fn http_store() -> LegacyHttpStore {
    LegacyHttpStore::start(&json!([
        {"user_id": "1", "email": "ann@legacy.test", "password": "ann-password"},
        {"user_id": "2", "email": "bob@legacy.test", "password": "bob-password"},
        {"user_id": "3", "email": "cid@legacy.test", "password": "cid-password"}
    ]))
}

/// md5_crypt hashes made by `openssl passwd -1 -salt saltsalt <password>` (the reference implementation).
/// No legacy row has metadata (`prefs`) yet.
fn fdw_legacy(db: &TestDb) -> LegacyDb {
    let legacy = LegacyDb::create(
        "CREATE TABLE users (uid bigint PRIMARY KEY, mail text, pw text, prefs jsonb);
         INSERT INTO users VALUES (1, 'ann@legacy.test', '$1$saltsalt$NuzA7WTAelpl95xgBGWN60'),
                                  (2, 'bob@legacy.test', '$1$saltsalt$NuzA7WTAelpl95xgBGWN60'),
                                  (3, 'cid@legacy.test', '$1$saltsalt$NuzA7WTAelpl95xgBGWN60'),
                                  (4, 'dee@legacy.test', '$1$saltsalt$NuzA7WTAelpl95xgBGWN60');",
    );
    legacy.attach_to(db);
    db.superuser()
        .batch_execute(
            r#"SELECT auth.configure_fdw_store('legacy.users', '{"email": "mail", "id": "uid", "password_hash": "pw",
                                                                "hash_format": "md5_crypt", "user_metadata": "prefs"}');
               SELECT auth.set_import_mode(true);"#,
        )
        .unwrap();
    legacy
}

fn flagged_for_backfill(admin: &mut Client) -> i64 {
    admin.query_one("SELECT count(*) FROM auth.users WHERE metadata_incomplete", &[]).unwrap().get(0)
}

/// auth.backfill_metadata()'s (checked, repaired, still_missing).
fn backfill(admin: &mut Client) -> (i64, i64, i64) {
    let r = admin.query_one("SELECT checked, repaired, still_missing FROM auth.backfill_metadata()", &[]).unwrap();
    (r.get(0), r.get(1), r.get(2))
}

fn event_outcomes(c: &mut Client, email: &str) -> Vec<(String, String)> {
    c.query("SELECT adapter, outcome FROM auth.migration_events WHERE email = $1 ORDER BY id", &[&email])
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect()
}

const FDW_PASSWORD: &str = "correct horse";

type ProgressRow = (i64, i64, i64, i64, i64, Option<i64>, Option<i64>, Option<f64>);

fn progress(c: &mut Client) -> ProgressRow {
    let r = c
        .query_one(
            "SELECT native, migrated, imported_pending, imported_logged_in, migrations_last_day, legacy_total,
                    legacy_remaining, percent_migrated FROM auth.migration_progress()",
            &[],
        )
        .unwrap();
    (r.get(0), r.get(1), r.get(2), r.get(3), r.get(4), r.get(5), r.get(6), r.get(7))
}

#[test]
fn progress_and_the_unmigrated_tail_with_an_fdw_store() {
    let db = TestDb::new("done_fdw_progress");
    let _legacy = fdw_legacy(&db);
    let mut app = db.member_of("trickle_app");
    let mut admin = db.member_of("trickle_admin");
    app.query_one("SELECT auth.signup('native@example.org', 'native-password')", &[]).unwrap();
    assert_eq!(progress(&mut admin), (1, 0, 0, 0, 0, Some(4), Some(4), Some(0.0)));

    assert_eq!(login(&mut app, "ann@legacy.test", FDW_PASSWORD), (true, "migrated".into()));
    let tail: Vec<String> =
        admin.query("SELECT email FROM auth.unmigrated_users(2)", &[]).unwrap().iter().map(|r| r.get(0)).collect();
    assert_eq!(tail.len(), 2);
    assert!(!tail.contains(&"ann@legacy.test".to_string()));
    let (safe, remaining, sample): (Option<bool>, Option<i64>, Value) = {
        let r = admin.query_one("SELECT * FROM auth.disconnect_check()", &[]).unwrap();
        (r.get(0), r.get(1), r.get(2))
    };
    assert_eq!((safe, remaining), (Some(false), Some(3)));
    assert_eq!(sample.as_array().unwrap().len(), 3);

    let imported: i64 = admin.query_one("SELECT inserted FROM auth.import_users()", &[]).unwrap().get(0);
    assert_eq!(imported, 3);
    assert_eq!(progress(&mut admin), (1, 1, 3, 0, 1, Some(4), Some(0), Some(100.0)));
    assert_eq!(login(&mut app, "bob@legacy.test", FDW_PASSWORD), (true, "authenticated".into()));
    let (_, _, imported_pending, imported_logged_in, ..) = progress(&mut admin);
    assert_eq!((imported_pending, imported_logged_in), (2, 1));
    let safe: Option<bool> = admin.query_one("SELECT safe FROM auth.disconnect_check()", &[]).unwrap().get(0);
    assert_eq!(safe, Some(true));
    let err = app.query_one("SELECT * FROM auth.migration_progress()", &[]).unwrap_err();
    assert_eq!(sqlstate(&err), "42501");
}

#[test]
fn progress_with_an_http_store_uses_its_count_and_events_follow_commits() {
    let store = http_store();
    let db = TestDb::new("done_http_progress");
    db.import_from(&store.base_url, "");
    let mut app = db.member_of("trickle_app");
    let mut admin = db.member_of("trickle_admin");
    let mut tx = app.transaction().unwrap();
    tx.query_one("SELECT status FROM auth.login('ann@legacy.test', 'ann-password')", &[]).unwrap();
    tx.rollback().unwrap();
    let events: i64 = admin.query_one("SELECT count(*) FROM auth.migration_events", &[]).unwrap().get(0);
    assert_eq!(events, 0, "a rolled-back migration leaves no event claiming it happened");
    assert_eq!(login(&mut app, "ann@legacy.test", "ann-password"), (true, "migrated".into()));
    assert_eq!(login(&mut app, "bob@legacy.test", "wrong"), (false, "invalid_credentials".into()));
    let (.., total, remaining, percent) = progress(&mut admin);
    assert_eq!((total, remaining), (Some(3), Some(2)));
    assert!((percent.unwrap() - 100.0 / 3.0).abs() < 0.01);
    let failures: Value =
        admin.query_one("SELECT failures_last_day FROM auth.migration_progress()", &[]).unwrap().get(0);
    // The store's refusals are counted in auth.stats().legacy_rejections, not written as events.
    assert_eq!(failures, json!({}));
    let latency: f64 =
        admin.query_one("SELECT latency_ms FROM auth.migration_events WHERE outcome = 'migrated'", &[]).unwrap().get(0);
    assert!(latency > 0.0);
    let err = admin.query("SELECT * FROM auth.unmigrated_users()", &[]).unwrap_err();
    assert_eq!(sqlstate(&err), "22023", "the tail is listed for FDW stores");

    // A store that cannot count: the local half still comes back, the legacy counts are NULL, with a warning.
    store.set_mode(json!({"mode": "status", "status": 503}));
    let (mut su, notices) = db.superuser_with_notices();
    let row =
        su.query_one("SELECT migrated, legacy_total, legacy_remaining FROM auth.migration_progress()", &[]).unwrap();
    assert_eq!((row.get::<_, i64>(0), row.get::<_, Option<i64>>(1), row.get::<_, Option<i64>>(2)), (1, None, None));
    let warned = notices.lock().unwrap().join("\n");
    assert!(warned.contains("user count is unknown") && warned.contains("503"), "{warned}");
}

#[test]
fn disconnecting_the_store_keeps_import_mode_and_is_reversible() {
    let store = http_store();
    let db = TestDb::new("done_disconnect");
    db.import_from(&store.base_url, "");
    let mut app = db.member_of("trickle_app");
    let mut admin = db.member_of("trickle_admin");
    assert_eq!(login(&mut app, "ann@legacy.test", "ann-password"), (true, "migrated".into()));

    // Transactional: a rolled-back disconnect changes nothing.
    let mut tx = admin.transaction().unwrap();
    tx.query_one("SELECT auth.disconnect_external_store()", &[]).unwrap();
    tx.rollback().unwrap();
    let names: String = admin.query_one("SELECT auth.disconnect_external_store()", &[]).unwrap().get(0);
    assert_eq!(names, "default");
    let (import_mode, store_kind, disconnected): (bool, String, bool) = {
        let r = admin
            .query_one("SELECT import_mode, store_kind, disconnected FROM auth.import_configuration", &[])
            .unwrap();
        (r.get(0), r.get(1), r.get(2))
    };
    assert_eq!((import_mode, store_kind.as_str(), disconnected), (true, "http", true));

    let asked = store.requests("POST login") + store.requests("GET users");
    assert_eq!(login(&mut app, "ann@legacy.test", "ann-password"), (true, "authenticated".into()));
    assert_eq!(login(&mut app, "bob@legacy.test", "bob-password"), (false, "invalid_credentials".into()));
    app.query_one("SELECT auth.signup('cid@legacy.test', 'a-new-password')", &[]).unwrap();
    assert_eq!(
        store.requests("POST login") + store.requests("GET users"),
        asked,
        "a disconnected store is never asked"
    );
    let err = admin.query_one("SELECT auth.disconnect_external_store()", &[]).unwrap_err();
    assert_eq!(sqlstate(&err), "22023", "nothing left to disconnect");

    let names: String = admin.query_one("SELECT auth.reconnect_external_store()", &[]).unwrap().get(0);
    assert_eq!(names, "default");
    assert_eq!(login(&mut app, "bob@legacy.test", "bob-password"), (true, "migrated".into()));
    let err = admin.query_one("SELECT auth.reconnect_external_store()", &[]).unwrap_err();
    assert_eq!(sqlstate(&err), "22023");
}

#[test]
fn deleted_migrated_users_come_back_or_not_as_the_setting_says() {
    let store = http_store();
    let db = TestDb::new("done_tombstones");
    db.import_from(&store.base_url, "");
    let mut app = db.member_of("trickle_app");
    let mut admin = db.member_of("trickle_admin");

    // Default: re-migrate cleanly — one user, no duplicate, tombstone cleared.
    assert_eq!(login(&mut app, "ann@legacy.test", "ann-password"), (true, "migrated".into()));
    assert!(app.query_one("SELECT auth.delete_user('ann@legacy.test')", &[]).unwrap().get::<_, bool>(0));
    assert_eq!(login(&mut app, "ann@legacy.test", "ann-password"), (true, "migrated".into()));
    let (users, tombstones): (i64, i64) = {
        let r = admin
            .query_one("SELECT (SELECT count(*) FROM auth.users), (SELECT count(*) FROM auth.deleted_users)", &[])
            .unwrap();
        (r.get(0), r.get(1))
    };
    assert_eq!((users, tombstones), (1, 0));

    // Refuse: the tombstone keeps the legacy store from bringing the user back, in every flow.
    db.superuser()
        .batch_execute(&format!("ALTER DATABASE {} SET pg_trickle.remigrate_deleted_users = off", db.name))
        .unwrap();
    let mut app = db.member_of("trickle_app");
    assert!(app.query_one("SELECT auth.delete_user('ann@legacy.test')", &[]).unwrap().get::<_, bool>(0));
    assert_eq!(login(&mut app, "ann@legacy.test", "ann-password"), (false, "invalid_credentials".into()));
    let token: String = app.query_one("SELECT auth.create_password_reset('ann@legacy.test')", &[]).unwrap().get(0);
    assert!(app.execute("SELECT auth.reset_password($1, 'another-password')", &[&token]).is_err());
    let outcomes: Vec<String> = admin
        .query("SELECT outcome FROM auth.migration_events WHERE email = 'ann@legacy.test' ORDER BY id", &[])
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(outcomes.iter().filter(|o| *o == "tombstoned").count(), 2, "{outcomes:?}");

    // forget_user purges every trace, after which the user may move over again.
    let removed: i64 = admin.query_one("SELECT auth.forget_user('ann@legacy.test')", &[]).unwrap().get(0);
    assert!(removed >= 3, "events and the tombstone: {removed}");
    let left: i64 = admin
        .query_one("SELECT count(*) FROM auth.migration_events WHERE email = 'ann@legacy.test'", &[])
        .unwrap()
        .get(0);
    assert_eq!(left, 0);
    assert_eq!(login(&mut app, "ann@legacy.test", "ann-password"), (true, "migrated".into()));
}

#[test]
fn dump_and_restore_keep_users_configuration_events_and_tokens() {
    let store = http_store();
    let source = TestDb::new("done_dump_src");
    source.import_from(&store.base_url, "auth_kind => 'bearer', auth_secret => 'dump-secret-token'");
    let mut app = source.member_of("trickle_app");
    assert_eq!(login(&mut app, "ann@legacy.test", "ann-password"), (true, "migrated".into()));
    app.query_one("SELECT auth.create_password_reset('ann@legacy.test')", &[]).unwrap();
    app.query_one("SELECT auth.signup('native@example.org', 'native-password')", &[]).unwrap();
    assert!(app.query_one("SELECT auth.delete_user('native@example.org')", &[]).unwrap().get::<_, bool>(0));

    let target = TestDb::new("done_dump_dst");
    target.restore_dump_of(&source);

    let mut su = target.superuser();
    let counts: (i64, i64, i64) = {
        let r = su
            .query_one(
                "SELECT (SELECT count(*) FROM auth.users), (SELECT count(*) FROM auth.migration_events),
                        (SELECT count(*) FROM auth.password_reset_tokens)",
                &[],
            )
            .unwrap();
        (r.get(0), r.get(1), r.get(2))
    };
    assert_eq!(counts, (1, 2, 1), "users, events (migrated + signup look-up), tokens");
    let (mode, secret): (bool, String) = {
        let r = su.query_one("SELECT import_mode, http_auth_secret FROM auth.import_configuration", &[]).unwrap();
        (r.get(0), r.get(1))
    };
    assert_eq!((mode, secret.as_str()), (true, "********"));
    let mut restored_app = target.member_of("trickle_app");
    assert_eq!(login(&mut restored_app, "ann@legacy.test", "ann-password"), (true, "authenticated".into()));
    // New events continue the identity sequence instead of colliding with restored ones.
    assert_eq!(login(&mut restored_app, "bob@legacy.test", "wrong"), (false, "invalid_credentials".into()));
}

#[test]
fn backfill_repairs_metadata_lost_at_migration_without_overwriting_local_changes() {
    let store = LegacyHttpStore::start(&json!([
        {"user_id": "1", "email": "ann@legacy.test", "password": "ann-password",
         "user_metadata": {"theme": "dark", "lang": "en"}, "app_metadata": {"plan": "gold"}},
        {"user_id": "2", "email": "bob@legacy.test", "password": "bob-password",
         "user_metadata": {"theme": "dark"}}
    ]));
    let db = TestDb::new("done_backfill");
    db.import_from(&store.base_url, "");
    let mut app = db.member_of("trickle_app");
    let mut admin = db.member_of("trickle_admin");

    store.set_mode(json!({"mode": "strip_metadata"}));
    assert_eq!(login(&mut app, "ann@legacy.test", "ann-password"), (true, "migrated".into()));
    assert_eq!(login(&mut app, "bob@legacy.test", "bob-password"), (true, "migrated".into()));
    app.query_one("SELECT auth.update_user_metadata('ann@legacy.test', '{\"theme\": \"light\"}')", &[]).unwrap();
    let flagged = flagged_for_backfill(&mut admin);
    assert_eq!(flagged, 2);

    // Still failing: nothing to merge, the flags stay.
    assert_eq!(backfill(&mut admin), (2, 0, 2));

    store.set_mode(json!({"mode": "normal"}));
    let r = admin.query_one("SELECT * FROM auth.backfill_metadata(1)", &[]).unwrap();
    assert_eq!((r.get::<_, i64>(0), r.get::<_, i64>(1)), (1, 1), "one per batch");
    let profile: Value = admin.query_one("SELECT auth.repair_user('bob@legacy.test')", &[]).unwrap().get(0);
    assert_eq!(profile["user_metadata"], json!({"theme": "dark"}));
    let ann: Value = app.query_one("SELECT auth.get_user('ann@legacy.test')", &[]).unwrap().get(0);
    assert_eq!(ann["user_metadata"], json!({"theme": "light", "lang": "en"}), "the application's own write wins");
    assert_eq!(ann["app_metadata"], json!({"plan": "gold"}));
    let flagged = flagged_for_backfill(&mut admin);
    assert_eq!(flagged, 0);
    let err = app.query_one("SELECT * FROM auth.backfill_metadata()", &[]).unwrap_err();
    assert_eq!(sqlstate(&err), "42501");
}

#[test]
fn metadata_a_store_says_is_empty_is_not_asked_for_again() {
    let store = LegacyHttpStore::start(&json!([
        {"user_id": "1", "email": "ann@legacy.test", "password": "ann-password", "user_metadata": {}, "app_metadata": {}},
        {"user_id": "2", "email": "bob@legacy.test", "password": "bob-password"}
    ]));
    let db = TestDb::new("done_known_empty");
    db.import_from(&store.base_url, "");
    let mut app = db.member_of("trickle_app");
    let mut admin = db.member_of("trickle_admin");
    assert_eq!(login(&mut app, "ann@legacy.test", "ann-password"), (true, "migrated".into()));
    assert_eq!(login(&mut app, "bob@legacy.test", "bob-password"), (true, "migrated".into()));
    let flagged: Vec<String> = admin
        .query("SELECT email FROM auth.users WHERE metadata_incomplete", &[])
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(flagged, ["bob@legacy.test"], "only the answer that left the metadata out");
    assert_eq!(backfill(&mut admin), (1, 0, 1), "bob's getUser leaves it out too: still missing, asked again later");
}

#[test]
fn events_older_than_the_retention_go_as_new_ones_arrive() {
    let store = http_store();
    let db = TestDb::new("done_retention");
    db.import_from(&store.base_url, "");
    let mut su = db.superuser();
    su.batch_execute(&format!("ALTER DATABASE {} SET pg_trickle.event_retention = '30d'", db.name)).unwrap();
    let mut app = db.member_of("trickle_app");
    assert_eq!(login(&mut app, "ann@legacy.test", "ann-password"), (true, "migrated".into()));
    assert_eq!(login(&mut app, "bob@legacy.test", "bob-password"), (true, "migrated".into()));
    su.execute("UPDATE auth.migration_events SET at = now() - interval '31 days' WHERE email = 'ann@legacy.test'", &[])
        .unwrap();
    assert_eq!(login(&mut app, "cid@legacy.test", "cid-password"), (true, "migrated".into()));
    let left: Vec<String> = su
        .query("SELECT email FROM auth.migration_events ORDER BY id", &[])
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(left, ["bob@legacy.test", "cid@legacy.test"]);
}

#[test]
fn events_disconnect_and_reconnect_with_an_fdw_store() {
    let db = TestDb::new("done_fdw_disconnect");
    let legacy = fdw_legacy(&db);
    let mut app = db.member_of("trickle_app");
    let mut admin = db.member_of("trickle_admin");
    let mut tx = app.transaction().unwrap();
    let status: String =
        tx.query_one("SELECT status FROM auth.login('ann@legacy.test', $1)", &[&FDW_PASSWORD]).unwrap().get(0);
    assert_eq!(status, "migrated");
    tx.rollback().unwrap();
    assert!(event_outcomes(&mut admin, "ann@legacy.test").is_empty(), "a rolled-back migration leaves no event");
    assert_eq!(login(&mut app, "ann@legacy.test", FDW_PASSWORD), (true, "migrated".into()));
    assert_eq!(event_outcomes(&mut admin, "ann@legacy.test"), [("fdw".to_string(), "migrated".to_string())]);

    let names: String = admin.query_one("SELECT auth.disconnect_external_store()", &[]).unwrap().get(0);
    assert_eq!(names, "default");
    // Were the store still asked, a missing legacy table would be an error; disconnected, nobody reads it.
    legacy.client().batch_execute("ALTER TABLE users RENAME TO users_elsewhere").unwrap();
    assert_eq!(login(&mut app, "ann@legacy.test", FDW_PASSWORD), (true, "authenticated".into()));
    assert_eq!(login(&mut app, "bob@legacy.test", FDW_PASSWORD), (false, "invalid_credentials".into()));
    app.query_one("SELECT auth.signup('cid@legacy.test', 'a-new-password')", &[]).unwrap();
    assert!(event_outcomes(&mut admin, "bob@legacy.test").is_empty());
    legacy.client().batch_execute("ALTER TABLE users_elsewhere RENAME TO users").unwrap();

    let names: String = admin.query_one("SELECT auth.reconnect_external_store()", &[]).unwrap().get(0);
    assert_eq!(names, "default");
    let relation: String =
        admin.query_one("SELECT fdw_relation::text FROM auth.import_configuration", &[]).unwrap().get(0);
    assert_eq!(relation, "legacy.users", "the relation and its mapping come back with the store");
    assert_eq!(login(&mut app, "bob@legacy.test", FDW_PASSWORD), (true, "migrated".into()));
}

#[test]
fn deleted_migrated_users_with_an_fdw_store() {
    let db = TestDb::new("done_fdw_tombstones");
    let _legacy = fdw_legacy(&db);
    let mut app = db.member_of("trickle_app");
    let mut admin = db.member_of("trickle_admin");
    assert_eq!(login(&mut app, "ann@legacy.test", FDW_PASSWORD), (true, "migrated".into()));
    assert!(app.query_one("SELECT auth.delete_user('ann@legacy.test')", &[]).unwrap().get::<_, bool>(0));
    assert_eq!(login(&mut app, "ann@legacy.test", FDW_PASSWORD), (true, "migrated".into()));
    let users: i64 = admin.query_one("SELECT count(*) FROM auth.users", &[]).unwrap().get(0);
    assert_eq!(users, 1, "migrated again, not duplicated");

    db.superuser()
        .batch_execute(&format!("ALTER DATABASE {} SET pg_trickle.remigrate_deleted_users = off", db.name))
        .unwrap();
    let mut app = db.member_of("trickle_app");
    assert!(app.query_one("SELECT auth.delete_user('ann@legacy.test')", &[]).unwrap().get::<_, bool>(0));
    assert_eq!(login(&mut app, "ann@legacy.test", FDW_PASSWORD), (false, "invalid_credentials".into()));
    let last = event_outcomes(&mut admin, "ann@legacy.test").pop().unwrap();
    assert_eq!(last, ("fdw".to_string(), "tombstoned".to_string()));
    admin.query_one("SELECT auth.forget_user('ann@legacy.test')", &[]).unwrap();
    assert!(event_outcomes(&mut admin, "ann@legacy.test").is_empty());
    assert_eq!(login(&mut app, "ann@legacy.test", FDW_PASSWORD), (true, "migrated".into()));
}

#[test]
fn an_fdw_store_never_flags_and_repair_user_rereads_a_row() {
    let db = TestDb::new("done_fdw_backfill");
    let legacy = fdw_legacy(&db);
    let mut app = db.member_of("trickle_app");
    let mut admin = db.member_of("trickle_admin");
    assert_eq!(login(&mut app, "ann@legacy.test", FDW_PASSWORD), (true, "migrated".into()));
    let flagged = flagged_for_backfill(&mut admin);
    assert_eq!(flagged, 0, "the row was read whole: empty metadata is what the legacy database holds");
    assert_eq!(backfill(&mut admin), (0, 0, 0), "nobody to ask again");

    // Metadata added to the legacy row later comes in when an admin asks for it, under the application's own.
    legacy
        .client()
        .batch_execute(r#"UPDATE users SET prefs = '{"theme": "dark", "lang": "en"}' WHERE uid = 1"#)
        .unwrap();
    app.query_one("SELECT auth.update_user_metadata('ann@legacy.test', '{\"theme\": \"light\"}')", &[]).unwrap();
    admin.query_one("SELECT auth.repair_user('ann@legacy.test')", &[]).unwrap();
    let ann: Value = app.query_one("SELECT auth.get_user('ann@legacy.test')", &[]).unwrap().get(0);
    assert_eq!(ann["user_metadata"], json!({"theme": "light", "lang": "en"}), "the application's own write wins");

    let err = admin.query_one("SELECT auth.repair_user('nobody@legacy.test')", &[]).unwrap_err();
    assert_eq!(sqlstate(&err), "P0002");
}
