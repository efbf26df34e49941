//! Lockout that holds whatever the application does: failures counted outside its transaction, in read-only
//! transactions, under concurrent guessing, and for legacy users before they migrate.

use pg_trickle_e2e::postgres::Client;
use pg_trickle_e2e::{sqlstate, LegacyHttpStore, TestDb};
use serde_json::json;
use std::sync::{Arc, Barrier};

fn status(c: &mut Client, email: &str, password: &str) -> String {
    c.query_one("SELECT status FROM auth.login($1, $2)", &[&email, &password]).unwrap().get(0)
}

fn with_threshold(label: &str, threshold: u32) -> TestDb {
    let db = TestDb::new(label);
    db.superuser()
        .batch_execute(&format!("ALTER DATABASE {} SET pg_trickle.lockout_threshold = {threshold}", db.name))
        .unwrap();
    db
}

#[test]
fn failures_count_when_the_application_rolls_back() {
    let db = with_threshold("lock_rollback", 10);
    let mut app = db.member_of("trickle_app");
    app.query_one("SELECT auth.signup('ada@example.org', 'the-right-password')", &[]).unwrap();
    for n in 0..30 {
        let mut tx = app.transaction().unwrap();
        let answer: String = tx
            .query_one("SELECT status FROM auth.login('ada@example.org', $1)", &[&format!("wrong-{n}")])
            .unwrap()
            .get(0);
        assert!(answer == "invalid_credentials" || answer == "locked", "{answer}");
        tx.rollback().unwrap();
    }
    assert_eq!(status(&mut app, "ada@example.org", "the-right-password"), "locked");
    let locked: (String, i32) = {
        let row =
            db.member_of("trickle_admin").query_one("SELECT email, failures FROM auth.locked_users()", &[]).unwrap();
        (row.get(0), row.get(1))
    };
    assert_eq!(locked, ("ada@example.org".to_string(), 10));
    db.member_of("trickle_admin").execute("SELECT auth.unlock_user('ada@example.org')", &[]).unwrap();
    assert_eq!(status(&mut app, "ada@example.org", "the-right-password"), "authenticated");
}

#[test]
fn failures_count_in_read_only_transactions() {
    let db = with_threshold("lock_read_only", 3);
    let mut app = db.member_of("trickle_app");
    app.query_one("SELECT auth.signup('ro@example.org', 'the-right-password')", &[]).unwrap();
    app.batch_execute("SET default_transaction_read_only = on").unwrap();
    for _ in 0..3 {
        assert_eq!(status(&mut app, "ro@example.org", "wrong"), "invalid_credentials");
    }
    assert_eq!(status(&mut app, "ro@example.org", "the-right-password"), "locked");
    let mut tx = app.build_transaction().read_only(true).start().unwrap();
    let answer: String = tx.query_one("SELECT status FROM auth.login('ro@example.org', 'x')", &[]).unwrap().get(0);
    assert_eq!(answer, "locked");
}

#[test]
fn concurrent_guesses_never_verify_more_often_than_the_threshold() {
    let db = Arc::new(with_threshold("lock_concurrent", 10));
    db.member_of("trickle_app").query_one("SELECT auth.signup('many@example.org', 'the-right-password')", &[]).unwrap();
    let sessions = 16;
    let barrier = Arc::new(Barrier::new(sessions));
    let handles: Vec<_> = (0..sessions)
        .map(|n| {
            let (db, barrier) = (db.clone(), barrier.clone());
            std::thread::spawn(move || {
                let mut app = db.member_of("trickle_app");
                barrier.wait();
                (0..3).map(|k| status(&mut app, "many@example.org", &format!("guess-{n}-{k}"))).collect::<Vec<_>>()
            })
        })
        .collect();
    let answers: Vec<String> = handles.into_iter().flat_map(|h| h.join().unwrap()).collect();
    let verified = answers.iter().filter(|a| *a == "invalid_credentials").count();
    assert_eq!(verified, 10, "{answers:?}");
    assert_eq!(answers.iter().filter(|a| *a == "locked").count(), sessions * 3 - 10);
}

#[test]
fn legacy_users_lock_before_they_migrate_and_a_locked_email_never_reaches_the_store() {
    let store = LegacyHttpStore::start(&json!([
        {"user_id": "L-1", "email": "legacy@legacy.test", "password": "legacy-password"}
    ]));
    let db = with_threshold("lock_legacy", 5);
    db.import_from(&store.base_url, "");
    let mut app = db.member_of("trickle_app");
    for n in 0..40 {
        let answer = status(&mut app, "legacy@legacy.test", &format!("wrong-{n}"));
        assert!(answer == "invalid_credentials" || answer == "locked", "{answer}");
    }
    assert_eq!(store.requests("POST login"), 5, "only the attempts below the threshold ask the store");
    assert_eq!(status(&mut app, "legacy@legacy.test", "legacy-password"), "locked", "not migrated while locked");
    assert_eq!(store.requests("POST login"), 5);
    let users: i64 = db.superuser().query_one("SELECT count(*) FROM auth.users", &[]).unwrap().get(0);
    assert_eq!(users, 0);

    // Unknown emails lock the same way: a lock says nothing about whether an account exists.
    for _ in 0..5 {
        assert_eq!(status(&mut app, "nobody@legacy.test", "x"), "invalid_credentials");
    }
    assert_eq!(status(&mut app, "nobody@legacy.test", "x"), "locked");

    // Once unlocked, the user migrates, and a lock carries over to the migrated account.
    db.member_of("trickle_admin").execute("SELECT auth.unlock_user('legacy@legacy.test')", &[]).unwrap();
    assert_eq!(status(&mut app, "legacy@legacy.test", "legacy-password"), "migrated");
    for _ in 0..5 {
        assert_eq!(status(&mut app, "legacy@legacy.test", "wrong"), "invalid_credentials");
    }
    assert_eq!(status(&mut app, "legacy@legacy.test", "legacy-password"), "locked");
}

#[test]
fn lockouts_are_per_database_and_only_for_admins_to_see() {
    let one = with_threshold("lock_db_one", 2);
    let two = with_threshold("lock_db_two", 2);
    for db in [&one, &two] {
        db.member_of("trickle_app")
            .query_one("SELECT auth.signup('same@example.org', 'the-right-password')", &[])
            .unwrap();
    }
    let mut app_one = one.member_of("trickle_app");
    status(&mut app_one, "same@example.org", "wrong");
    status(&mut app_one, "same@example.org", "wrong");
    assert_eq!(status(&mut app_one, "same@example.org", "the-right-password"), "locked");
    assert_eq!(status(&mut two.member_of("trickle_app"), "same@example.org", "the-right-password"), "authenticated");
    let listed: i64 =
        two.member_of("trickle_admin").query_one("SELECT count(*) FROM auth.locked_users()", &[]).unwrap().get(0);
    assert_eq!(listed, 0, "another database's lock is not listed");
    let err = app_one.query("SELECT * FROM auth.locked_users()", &[]).unwrap_err();
    assert_eq!(sqlstate(&err), "42501");
}

#[test]
fn a_flood_of_first_logins_reaches_the_legacy_store_at_the_configured_rate_only() {
    let store = LegacyHttpStore::start(&json!([
        {"user_id": "L-1", "email": "real@legacy.test", "password": "legacy-password"}
    ]));
    let db = with_threshold("rate_limit", 10);
    db.import_from(&store.base_url, "");
    db.superuser()
        .batch_execute(&format!("ALTER DATABASE {} SET pg_trickle.legacy_calls_per_second = 3", db.name))
        .unwrap();
    let mut app = db.member_of("trickle_app");
    app.query_one("SELECT auth.signup('local@example.org', 'the-right-password')", &[]).unwrap();
    let limited_before: i64 =
        db.member_of("trickle_admin").query_one("SELECT rate_limited FROM auth.stats()", &[]).unwrap().get(0);

    // Credential stuffing: a different unknown email each time, so lockout alone would not stop it.
    let mut refused = 0u64;
    for n in 0..20 {
        match app.query_one("SELECT status FROM auth.login($1, 'guess')", &[&format!("victim{n}@legacy.test")]) {
            Ok(row) => assert_eq!(row.get::<_, String>(0), "invalid_credentials"),
            Err(err) => {
                assert_eq!(sqlstate(&err), "53400", "{err}");
                refused += 1;
            }
        }
    }
    let asked = store.requests("POST login");
    assert!(asked <= 4, "the store was asked {asked} times (3 per second, plus one refill at most)");
    assert_eq!(refused, 20 - asked, "every login beyond the limit is refused with 53400, never sent");
    // Signups ask the store too, and share the budget; the application's user is local and unaffected.
    let err = app.query_one("SELECT auth.signup('new@example.org', 'a-new-password')", &[]).unwrap_err();
    assert_eq!(sqlstate(&err), "53400");
    assert_eq!(status(&mut app, "local@example.org", "the-right-password"), "authenticated");
    let limited_after: i64 =
        db.member_of("trickle_admin").query_one("SELECT rate_limited FROM auth.stats()", &[]).unwrap().get(0);
    assert!(limited_after - limited_before > refused as i64, "the signup too: {limited_before} → {limited_after}");

    // A second later the bucket has refilled: the real user migrates.
    std::thread::sleep(std::time::Duration::from_millis(1100));
    assert_eq!(status(&mut app, "real@legacy.test", "legacy-password"), "migrated");
    // Only a superuser sets the limit.
    let err = app.batch_execute("SET pg_trickle.legacy_calls_per_second = 0").unwrap_err();
    assert_eq!(sqlstate(&err), "42501");
}

#[test]
fn failed_first_logins_are_counted_not_written_as_events() {
    let store = LegacyHttpStore::start(&json!([
        {"user_id": "L-1", "email": "real@legacy.test", "password": "legacy-password"}
    ]));
    let db = with_threshold("no_event_rows", 3);
    db.import_from(&store.base_url, "");
    let mut app = db.member_of("trickle_app");
    let mut admin = db.member_of("trickle_admin");
    let rejections = |admin: &mut Client| -> i64 {
        admin.query_one("SELECT legacy_rejections FROM auth.stats()", &[]).unwrap().get(0)
    };
    let before = rejections(&mut admin);
    for n in 0..30 {
        assert_eq!(status(&mut app, &format!("nobody{n}@legacy.test"), "guess"), "invalid_credentials");
    }
    assert_eq!(status(&mut app, "real@legacy.test", "wrong"), "invalid_credentials");
    // Resets of unknown emails leave no trace either.
    for n in 0..10 {
        app.query_one("SELECT auth.create_password_reset($1)", &[&format!("nobody{n}@legacy.test")]).unwrap();
    }
    let events: i64 = admin.query_one("SELECT count(*) FROM auth.migration_events", &[]).unwrap().get(0);
    assert_eq!(events, 0, "nobody can write event rows at will");
    assert!(rejections(&mut admin) - before >= 31, "the store's refusals are counted in auth.stats()");
    // What an admin acts on is still an event: a migration.
    assert_eq!(status(&mut app, "real@legacy.test", "legacy-password"), "migrated");
    let outcome: String = admin.query_one("SELECT outcome FROM auth.migration_events", &[]).unwrap().get(0);
    assert_eq!(outcome, "migrated");
}

#[test]
fn a_reset_asks_the_legacy_store_whoever_the_email_belongs_to() {
    let store = LegacyHttpStore::start(&json!([
        {"user_id": "L-1", "email": "legacy@legacy.test", "password": "legacy-password"}
    ]));
    let db = TestDb::new("reset_same_work");
    let mut app = db.member_of("trickle_app");
    app.query_one("SELECT auth.signup('local@example.org', 'the-right-password')", &[]).unwrap();
    db.import_from(&store.base_url, "");
    for (n, email) in ["local@example.org", "legacy@legacy.test", "nobody@legacy.test"].iter().enumerate() {
        let token: String = app.query_one("SELECT auth.create_password_reset($1)", &[email]).unwrap().get(0);
        assert!(!token.is_empty());
        assert_eq!(store.requests("GET users"), n as u64 + 1, "{email}: one look-up each, local users included");
    }
    let tokens: i64 = db.superuser().query_one("SELECT count(*) FROM auth.password_reset_tokens", &[]).unwrap().get(0);
    assert_eq!(tokens, 2, "tokens only for the local and the legacy user");
}
