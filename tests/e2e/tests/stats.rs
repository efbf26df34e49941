//! auth.stats(): shared-memory counters (the e2e cluster preloads pg_trickle). A test binary of its own,
//! so no other test's logins run while it counts.

use pg_trickle_e2e::{sqlstate, LegacyDb, LegacyHttpStore, TestDb};
use serde_json::json;

#[test]
fn counters_follow_logins_and_survive_aborted_transactions() {
    let store = LegacyHttpStore::start(&json!([
        {"user_id": "1", "email": "ann@legacy.test", "password": "ann-password"},
        {"user_id": "2", "email": "bob@legacy.test", "password": "bob-password"}
    ]));
    let db = TestDb::new("stats");
    db.import_from(&store.base_url, "");
    let mut admin = db.member_of("trickle_admin");
    let mut app = db.member_of("trickle_app");
    app.query_one("SELECT auth.signup('local@example.org', 'local-password')", &[]).unwrap();
    admin.execute("SELECT auth.reset_stats()", &[]).unwrap();

    let login = |c: &mut pg_trickle_e2e::postgres::Client, e: &str, p: &str| {
        c.query_one("SELECT ok FROM auth.login($1, $2)", &[&e, &p]).map(|r| r.get::<_, bool>(0))
    };
    assert!(login(&mut app, "local@example.org", "local-password").unwrap());
    assert!(login(&mut app, "local@example.org", "local-password").unwrap());
    assert!(!login(&mut app, "local@example.org", "wrong-password").unwrap());
    assert!(login(&mut app, "ann@legacy.test", "ann-password").unwrap());
    assert!(!login(&mut app, "nobody@legacy.test", "a-guess").unwrap());
    app.query_one("SELECT auth.create_password_reset('zed@legacy.test')", &[]).unwrap();
    store.set_mode(json!({"mode": "status", "status": 503}));
    let mut tx = app.transaction().unwrap();
    assert!(tx.query_one("SELECT ok FROM auth.login('bob@legacy.test', 'bob-password')", &[]).is_err());
    tx.rollback().unwrap();

    let r = admin
        .query_one(
            "SELECT hits, misses, migrations, invalid_credentials, locked, store_errors, latency_p50_ms,
                    since <= now() AND since > now() - interval '1 minute', legacy_rejections, rate_limited, lookups
               FROM auth.stats()",
            &[],
        )
        .unwrap();
    let counts: (i64, i64, i64, i64, i64, i64) = (r.get(0), r.get(1), r.get(2), r.get(3), r.get(4), r.get(5));
    assert_eq!(counts, (2, 2, 1, 2, 0, 1), "hits, misses, migrations, invalid, locked, store errors");
    assert!(r.get::<_, Option<f64>>(6).is_some_and(|ms| ms > 0.0));
    assert!(r.get::<_, bool>(7), "since the reset");
    assert_eq!((r.get::<_, i64>(8), r.get::<_, i64>(9)), (1, 0), "legacy rejections, rate limited");
    assert_eq!(r.get::<_, i64>(10), 1, "the reset's look-up is a look-up, not a login miss");

    let err = app.query_one("SELECT * FROM auth.stats()", &[]).unwrap_err();
    assert_eq!(sqlstate(&err), "42501");

    // The FDW adapter is counted the same way (same binary: nothing else logs in meanwhile).
    let legacy = LegacyDb::create(
        "CREATE TABLE users (uid bigint PRIMARY KEY, mail text, pw text);
         INSERT INTO users VALUES (1, 'ann@legacy.test', '$1$saltsalt$NuzA7WTAelpl95xgBGWN60'),
                                  (2, 'bob@legacy.test', '$1$saltsalt$NuzA7WTAelpl95xgBGWN60');",
    );
    let fdw_db = TestDb::new("stats_fdw");
    legacy.attach_to(&fdw_db);
    let mut fdw_su = fdw_db.superuser();
    fdw_su
        .batch_execute(
            r#"SELECT auth.configure_fdw_store('legacy.users', '{"email": "mail", "id": "uid", "password_hash": "pw",
                                                                "hash_format": "md5_crypt"}');
               SELECT auth.set_import_mode(true);"#,
        )
        .unwrap();
    admin.execute("SELECT auth.reset_stats()", &[]).unwrap();
    let mut fdw_app = fdw_db.member_of("trickle_app");
    assert!(login(&mut fdw_app, "ann@legacy.test", "correct horse").unwrap());
    assert!(login(&mut fdw_app, "ann@legacy.test", "correct horse").unwrap());
    fdw_su.batch_execute("ALTER SERVER legacy_server OPTIONS (SET port '1')").unwrap();
    assert!(login(&mut fdw_app, "bob@legacy.test", "correct horse").is_err());
    let r = admin
        .query_one("SELECT hits, misses, migrations, invalid_credentials, locked, store_errors FROM auth.stats()", &[])
        .unwrap();
    let counts: (i64, i64, i64, i64, i64, i64) = (r.get(0), r.get(1), r.get(2), r.get(3), r.get(4), r.get(5));
    assert_eq!(counts, (1, 1, 1, 0, 0, 1), "FDW store: hits, misses, migrations, invalid, locked, store errors");
}
