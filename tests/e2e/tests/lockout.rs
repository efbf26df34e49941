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
