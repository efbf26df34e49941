//! Logins on a hot standby: a real streaming replica (pg_basebackup -R) of the test cluster. Local users log in
//! there, wrong passwords count and lock (per node), writes and first logins of legacy users fail with 25006.

use pg_trickle_e2e::postgres::Client;
use pg_trickle_e2e::{sqlstate, LegacyHttpStore, Standby, TestDb};
use serde_json::json;

fn status(c: &mut Client, email: &str, password: &str) -> Result<String, String> {
    c.query_one("SELECT status FROM auth.login($1, $2)", &[&email, &password])
        .map(|r| r.get(0))
        .map_err(|e| sqlstate(&e))
}

#[test]
fn a_hot_standby_serves_logins_counts_failures_and_refuses_writes() {
    let store = LegacyHttpStore::start(&json!([
        {"user_id": "L-1", "email": "legacy@legacy.test", "password": "legacy-password"}
    ]));
    let db = TestDb::new("standby");
    db.superuser().batch_execute(&format!("ALTER DATABASE {} SET pg_trickle.lockout_threshold = 3", db.name)).unwrap();
    let mut primary_app = db.member_of("trickle_app");
    primary_app.query_one("SELECT auth.signup('local@example.org', 'the-local-password')", &[]).unwrap();
    db.member_of("trickle_admin");
    db.import_from(&store.base_url, "");

    let standby = Standby::start();
    standby.catch_up();
    let mut app = standby.connect_as(&db.name, "e2e_trickle_app_login");
    let mut admin = standby.connect_as(&db.name, "e2e_trickle_admin_login");

    assert_eq!(status(&mut app, "local@example.org", "the-local-password"), Ok("authenticated".into()));
    let profile: serde_json::Value = app.query_one("SELECT auth.get_user('local@example.org')", &[]).unwrap().get(0);
    assert_eq!(profile["email"], "local@example.org");

    for _ in 0..3 {
        assert_eq!(status(&mut app, "local@example.org", "wrong"), Ok("invalid_credentials".into()));
    }
    assert_eq!(status(&mut app, "local@example.org", "the-local-password"), Ok("locked".into()));
    let locked: i64 =
        admin.query_one("SELECT count(*) FROM auth.locked_users() WHERE locked_until IS NOT NULL", &[]).unwrap().get(0);
    assert_eq!(locked, 1, "the standby's own table");
    assert_eq!(
        status(&mut primary_app, "local@example.org", "the-local-password"),
        Ok("authenticated".into()),
        "each node counts the logins it serves"
    );
    admin.execute("SELECT auth.unlock_user('local@example.org')", &[]).unwrap();
    assert_eq!(status(&mut app, "local@example.org", "the-local-password"), Ok("authenticated".into()));

    let signup = app.query_one("SELECT auth.signup('new@example.org', 'a-new-password')", &[]);
    assert_eq!(sqlstate(&signup.unwrap_err()), "25006");
    let change =
        app.query_one("SELECT auth.change_password('local@example.org', 'the-local-password', 'another-one-1')", &[]);
    assert_eq!(sqlstate(&change.unwrap_err()), "25006");
    assert_eq!(
        status(&mut app, "legacy@legacy.test", "legacy-password"),
        Err("25006".into()),
        "migrations go to the primary"
    );
    let hits: i64 = admin.query_one("SELECT hits FROM auth.stats()", &[]).unwrap().get(0);
    assert!(hits >= 2, "auth.stats() works on the standby: {hits}");
}
