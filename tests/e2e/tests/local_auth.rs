//! Local identity store over the wire: committed transactions, roles, concurrency, hostile input.

use pg_trickle_e2e::postgres::Client;
use pg_trickle_e2e::{sqlstate, TestDb};
use std::sync::{Arc, Barrier};

fn login(c: &mut Client, email: &str, password: &str) -> (bool, String) {
    let row = c.query_one("SELECT ok, status FROM auth.login($1, $2)", &[&email, &password]).unwrap();
    (row.get(0), row.get(1))
}

/// Returns the new user's id as text.
fn signup(c: &mut Client, email: &str, password: &str) -> String {
    c.query_one("SELECT auth.signup($1, $2)::text", &[&email, &password]).unwrap().get(0)
}

fn stored_hash(db: &TestDb, email: &str) -> String {
    db.superuser().query_one("SELECT password_hash FROM auth.users WHERE email = $1", &[&email]).unwrap().get(0)
}

#[test]
fn signup_then_login_commits_bookkeeping() {
    let db = TestDb::new("signup_login");
    let mut app = db.member_of("trickle_app");
    let id = signup(&mut app, "  Mary.Major@Example.org ", "a long enough secret");
    assert_eq!(login(&mut app, "mary.major@example.org", "a long enough secret"), (true, "authenticated".into()));
    assert_eq!(login(&mut app, "MARY.MAJOR@EXAMPLE.ORG", "wrong secret"), (false, "invalid_credentials".into()));
    assert_eq!(login(&mut app, "nobody@example.org", "a long enough secret"), (false, "invalid_credentials".into()));

    let row = app
        .query_one(
            "SELECT user_id::text, email, profile FROM auth.login('mary.major@example.org', 'a long enough secret')",
            &[],
        )
        .unwrap();
    assert_eq!(row.get::<_, String>(0), id);
    assert_eq!(row.get::<_, String>(1), "mary.major@example.org");
    let profile: serde_json::Value = row.get(2);
    assert_eq!(profile["source"], "native");
    assert!(profile.get("password_hash").is_none());

    // The keeper writes last_login_at within a second or so, for another session to see.
    let mut su = db.superuser();
    assert!(eventually(|| su
        .query_one("SELECT bool_and(last_login_at IS NOT NULL) FROM auth.users", &[])
        .unwrap()
        .get::<_, bool>(0)));
    let failing: i64 = su
        .query_one("SELECT count(*) FROM auth.locked_users() WHERE email = 'mary.major@example.org'", &[])
        .unwrap()
        .get(0);
    assert_eq!(failing, 0, "a success clears the failure counter");
}

#[test]
fn duplicate_signup_is_23505_whatever_the_spelling() {
    let db = TestDb::new("dup_signup");
    let mut app = db.member_of("trickle_app");
    signup(&mut app, "dup@example.org", "password-one");
    let err = app.query_one("SELECT auth.signup(' DUP@example.org', 'password-two')", &[]).unwrap_err();
    assert_eq!(sqlstate(&err), "23505");
}

#[test]
fn rolled_back_signup_leaves_nothing() {
    let db = TestDb::new("rollback_signup");
    let mut app = db.member_of("trickle_app");
    let mut tx = app.transaction().unwrap();
    tx.query_one("SELECT auth.signup('ghost@example.org', 'password-123')", &[]).unwrap();
    tx.rollback().unwrap();
    assert_eq!(login(&mut app, "ghost@example.org", "password-123").1, "invalid_credentials");
    let n: i64 = db.superuser().query_one("SELECT count(*) FROM auth.users", &[]).unwrap().get(0);
    assert_eq!(n, 0);
}

#[test]
fn login_rehashes_when_parameters_change() {
    let db = TestDb::new("rehash");
    let mut su = db.superuser();
    signup(&mut su, "re@example.org", "password-123");
    let before = stored_hash(&db, "re@example.org");
    assert!(before.contains("m=8192,t=1,p=1"), "{before}");
    su.batch_execute("SET pg_trickle.argon2_iterations = 2; SET pg_trickle.argon2_memory_kib = 9216").unwrap();
    assert!(login(&mut su, "re@example.org", "password-123").0);
    let after = stored_hash(&db, "re@example.org");
    assert!(after.starts_with("$argon2id$v=19$m=9216,t=2,p=1$"), "{after}");
    // A wrong password does not rehash, and the upgraded hash keeps working.
    assert!(!login(&mut su, "re@example.org", "password-124").0);
    assert_eq!(stored_hash(&db, "re@example.org"), after);
    assert!(login(&mut su, "re@example.org", "password-123").0);
}

#[test]
fn lockout_counts_committed_failures_and_unlock_restores() {
    let db = TestDb::new("lockout");
    let mut su = db.superuser();
    su.batch_execute(&format!("ALTER DATABASE {} SET pg_trickle.lockout_threshold = 3", db.name)).unwrap();
    let mut app = db.member_of("trickle_app");
    signup(&mut app, "lock@example.org", "right-password");
    // A failure inside a transaction the application then commits still counts.
    let mut tx = app.transaction().unwrap();
    let status: String =
        tx.query_one("SELECT status FROM auth.login('lock@example.org', 'wrong-1')", &[]).unwrap().get(0);
    assert_eq!(status, "invalid_credentials");
    tx.commit().unwrap();
    assert_eq!(login(&mut app, "lock@example.org", "wrong-2").1, "invalid_credentials");
    assert_eq!(login(&mut app, "lock@example.org", "wrong-3").1, "invalid_credentials");
    assert_eq!(login(&mut app, "lock@example.org", "right-password"), (false, "locked".into()));

    let err = app.execute("SELECT auth.unlock_user('lock@example.org')", &[]).unwrap_err();
    assert_eq!(sqlstate(&err), "42501", "unlock is an admin function");
    let mut admin = db.member_of("trickle_admin");
    admin.execute("SELECT auth.unlock_user('lock@example.org')", &[]).unwrap();
    assert_eq!(login(&mut app, "lock@example.org", "right-password"), (true, "authenticated".into()));
}

#[test]
fn expired_lock_gives_a_fresh_count() {
    let db = TestDb::new("lock_expiry");
    let mut su = db.superuser();
    su.batch_execute(&format!(
        "ALTER DATABASE {0} SET pg_trickle.lockout_threshold = 2; ALTER DATABASE {0} SET pg_trickle.lockout_duration = 1",
        db.name
    ))
    .unwrap();
    let mut app = db.member_of("trickle_app");
    signup(&mut app, "exp@example.org", "right-password");
    login(&mut app, "exp@example.org", "wrong");
    login(&mut app, "exp@example.org", "wrong");
    assert_eq!(login(&mut app, "exp@example.org", "right-password").1, "locked");
    // Locks are counted in whole seconds: two of them pass a one-second lock.
    std::thread::sleep(std::time::Duration::from_millis(2100));
    assert_eq!(login(&mut app, "exp@example.org", "wrong").1, "invalid_credentials");
    assert_eq!(login(&mut app, "exp@example.org", "right-password").1, "authenticated");
}

#[test]
fn change_and_admin_set_password() {
    let db = TestDb::new("change_pw");
    let mut app = db.member_of("trickle_app");
    signup(&mut app, "cp@example.org", "old-password");
    let changed: bool = app
        .query_one("SELECT auth.change_password('cp@example.org', 'not-the-old', 'new-password')", &[])
        .unwrap()
        .get(0);
    assert!(!changed);
    let changed: bool = app
        .query_one("SELECT auth.change_password('cp@example.org', 'old-password', 'new-password')", &[])
        .unwrap()
        .get(0);
    assert!(changed);
    assert!(!login(&mut app, "cp@example.org", "old-password").0);
    assert!(login(&mut app, "cp@example.org", "new-password").0);
    let err = app.query_one("SELECT auth.change_password('cp@example.org', 'new-password', 'short')", &[]).unwrap_err();
    assert_eq!(sqlstate(&err), "22023");

    let err = app.execute("SELECT auth.set_password('cp@example.org', 'admin-chosen')", &[]).unwrap_err();
    assert_eq!(sqlstate(&err), "42501");
    let mut admin = db.member_of("trickle_admin");
    admin.execute("SELECT auth.set_password('cp@example.org', 'admin-chosen')", &[]).unwrap();
    assert!(login(&mut app, "cp@example.org", "admin-chosen").0);
    let err = admin.execute("SELECT auth.set_password('nobody@example.org', 'admin-chosen')", &[]).unwrap_err();
    assert_eq!(sqlstate(&err), "P0002");
}

#[test]
fn password_reset_is_single_use_and_expires() {
    let db = TestDb::new("reset");
    let mut app = db.member_of("trickle_app");
    signup(&mut app, "rs@example.org", "forgotten-password");
    let token: String = app.query_one("SELECT auth.create_password_reset('RS@example.org')", &[]).unwrap().get(0);
    // The token is stored only as a digest.
    let raw_present: bool = db
        .superuser()
        .query_one("SELECT count(*) > 0 FROM auth.password_reset_tokens WHERE encode(token_digest, 'escape') LIKE '%' || $1 || '%'", &[&token])
        .unwrap()
        .get(0);
    assert!(!raw_present);

    let err = app.execute("SELECT auth.reset_password($1, 'short')", &[&token]).unwrap_err();
    assert_eq!(sqlstate(&err), "22023", "policy is checked before the token is spent");
    app.execute("SELECT auth.reset_password($1, 'brand-new-password')", &[&token]).unwrap();
    assert!(login(&mut app, "rs@example.org", "brand-new-password").0);
    assert!(!login(&mut app, "rs@example.org", "forgotten-password").0);
    let err = app.execute("SELECT auth.reset_password($1, 'another-password')", &[&token]).unwrap_err();
    assert_eq!(sqlstate(&err), "28000", "a token works once");

    // Unknown email: same kind of answer, but the token never works.
    let bogus: String = app.query_one("SELECT auth.create_password_reset('nobody@example.org')", &[]).unwrap().get(0);
    assert_eq!(bogus.len(), token.len());
    let err = app.execute("SELECT auth.reset_password($1, 'another-password')", &[&bogus]).unwrap_err();
    assert_eq!(sqlstate(&err), "28000");

    // Expired tokens are refused.
    let late: String = app.query_one("SELECT auth.create_password_reset('rs@example.org')", &[]).unwrap().get(0);
    db.superuser()
        .execute("UPDATE auth.password_reset_tokens SET expires_at = now() - interval '1 second'", &[])
        .unwrap();
    let err = app.execute("SELECT auth.reset_password($1, 'another-password')", &[&late]).unwrap_err();
    assert_eq!(sqlstate(&err), "28000");
}

#[test]
fn profile_metadata_email_and_delete() {
    let db = TestDb::new("profile");
    let mut app = db.member_of("trickle_app");
    let mut admin = db.member_of("trickle_admin");
    app.query_one(
        "SELECT auth.signup('pm@example.org', 'password-123', '{\"theme\": \"dark\", \"lang\": \"en\"}')",
        &[],
    )
    .unwrap();
    let merged: serde_json::Value = app
        .query_one("SELECT auth.update_user_metadata('pm@example.org', '{\"lang\": null, \"tz\": \"UTC\"}')", &[])
        .unwrap()
        .get(0);
    assert_eq!(merged, serde_json::json!({"theme": "dark", "tz": "UTC"}));
    let err = app.execute("SELECT auth.update_user_metadata('pm@example.org', '[1]')", &[]).unwrap_err();
    assert_eq!(sqlstate(&err), "22023");
    let err =
        app.execute("SELECT auth.update_app_metadata('pm@example.org', '{\"role\": \"admin\"}')", &[]).unwrap_err();
    assert_eq!(sqlstate(&err), "42501", "applications cannot grant themselves roles");
    admin.execute("SELECT auth.update_app_metadata('pm@example.org', '{\"role\": \"editor\"}')", &[]).unwrap();

    app.execute("SELECT auth.set_email_verified('pm@example.org', true)", &[]).unwrap();
    app.query_one("SELECT auth.signup('taken@example.org', 'password-123')", &[]).unwrap();
    let err = app.execute("SELECT auth.change_email('pm@example.org', 'Taken@example.org')", &[]).unwrap_err();
    assert_eq!(sqlstate(&err), "23505");
    app.execute("SELECT auth.change_email('pm@example.org', 'New.Address@example.org')", &[]).unwrap();
    let profile: serde_json::Value =
        app.query_one("SELECT auth.get_user('new.address@example.org')", &[]).unwrap().get(0);
    assert_eq!(profile["app_metadata"]["role"], "editor");
    assert_eq!(profile["email_verified"], false, "a new address must be verified again");
    let gone: Option<serde_json::Value> = app.query_one("SELECT auth.get_user('pm@example.org')", &[]).unwrap().get(0);
    assert!(gone.is_none());
    assert!(login(&mut app, "new.address@example.org", "password-123").0);

    let deleted: bool = app.query_one("SELECT auth.delete_user('new.address@example.org')", &[]).unwrap().get(0);
    assert!(deleted);
    let deleted: bool = app.query_one("SELECT auth.delete_user('new.address@example.org')", &[]).unwrap().get(0);
    assert!(!deleted);
    let err = app.execute("SELECT auth.set_email_verified('new.address@example.org', true)", &[]).unwrap_err();
    assert_eq!(sqlstate(&err), "P0002");
}

#[test]
fn application_role_cannot_read_tables_or_call_admin_functions() {
    let db = TestDb::new("privileges");
    let mut app = db.member_of("trickle_app");
    signup(&mut app, "priv@example.org", "password-123");
    for sql in [
        "SELECT * FROM auth.users",
        "SELECT * FROM auth.password_reset_tokens",
        "SELECT auth.update_app_metadata('priv@example.org', '{}')",
        "SELECT auth.set_password('priv@example.org', 'password-456')",
        "SELECT auth.unlock_user('priv@example.org')",
    ] {
        let err = app.execute(sql, &[]).unwrap_err();
        assert_eq!(sqlstate(&err), "42501", "{sql}");
    }
    let mut outsider = db.outsider();
    for sql in
        ["SELECT * FROM auth.login('priv@example.org', 'password-123')", "SELECT auth.get_user('priv@example.org')"]
    {
        let err = outsider.execute(sql, &[]).unwrap_err();
        assert_eq!(sqlstate(&err), "42501", "{sql}");
    }
    let mut admin = db.member_of("trickle_admin");
    let n: i64 = admin.query_one("SELECT count(*) FROM auth.users", &[]).unwrap().get(0);
    assert_eq!(n, 1);
}

#[test]
fn search_path_objects_cannot_hijack_the_functions() {
    let db = TestDb::new("hijack");
    let mut su = db.superuser();
    su.batch_execute("GRANT CREATE ON SCHEMA public TO trickle_app").unwrap();
    let mut app = db.member_of("trickle_app");
    signup(&mut app, "victim@example.org", "password-123");
    // Lookalikes of what the functions use, in schemas the caller controls; each would betray itself.
    app.batch_execute(
        "CREATE TABLE public.users (email text, password_hash text);
         CREATE FUNCTION public.now() RETURNS timestamptz LANGUAGE plpgsql AS
             $$ BEGIN RAISE EXCEPTION 'hijacked now()'; END $$;
         CREATE FUNCTION public.jsonb_each(jsonb, OUT key text, OUT value jsonb) RETURNS SETOF record
             LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'hijacked jsonb_each()'; END $$;
         CREATE FUNCTION public.jsonb_build_object(VARIADIC text[]) RETURNS jsonb
             LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'hijacked jsonb_build_object()'; END $$;
         CREATE FUNCTION pg_temp.gen_random_uuid() RETURNS uuid LANGUAGE plpgsql AS
             $$ BEGIN RAISE EXCEPTION 'hijacked gen_random_uuid()'; END $$;
         CREATE FUNCTION public.text_eq_hijack(text, text) RETURNS boolean LANGUAGE plpgsql AS
             $$ BEGIN RAISE EXCEPTION 'hijacked ='; END $$;
         CREATE OPERATOR public.= (LEFTARG = text, RIGHTARG = text, FUNCTION = public.text_eq_hijack);
         SET search_path = public, pg_temp, pg_catalog;",
    )
    .unwrap();
    assert!(login(&mut app, "victim@example.org", "password-123").0);
    assert!(!login(&mut app, "victim@example.org", "password-124").0);
    signup(&mut app, "second@example.org", "password-123");
    app.query_one("SELECT auth.update_user_metadata('victim@example.org', '{\"a\": 1}')", &[]).unwrap();
    let token: String = app.query_one("SELECT auth.create_password_reset('victim@example.org')", &[]).unwrap().get(0);
    app.execute("SELECT auth.reset_password($1, 'password-789')", &[&token]).unwrap();
    let profile: serde_json::Value = app.query_one("SELECT auth.get_user('victim@example.org')", &[]).unwrap().get(0);
    assert_eq!(profile["user_metadata"]["a"], 1);
}

#[test]
fn concurrent_signups_of_one_email_have_exactly_one_winner() {
    let db = Arc::new(TestDb::new("concurrent_signup"));
    const SESSIONS: usize = 8;
    let barrier = Arc::new(Barrier::new(SESSIONS));
    let handles: Vec<_> = (0..SESSIONS)
        .map(|i| {
            let (db, barrier) = (db.clone(), barrier.clone());
            std::thread::spawn(move || {
                let mut app = db.member_of("trickle_app");
                barrier.wait();
                app.query_one("SELECT auth.signup('race@example.org', $1)", &[&format!("password-{i}")])
                    .map(|_| ())
                    .map_err(|e| sqlstate(&e))
            })
        })
        .collect();
    let results: Vec<_> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    assert_eq!(results.iter().filter(|r| r.is_ok()).count(), 1, "{results:?}");
    assert!(results.iter().filter_map(|r| r.as_ref().err()).all(|code| code == "23505"), "{results:?}");
    let n: i64 = db.superuser().query_one("SELECT count(*) FROM auth.users", &[]).unwrap().get(0);
    assert_eq!(n, 1);
}

#[test]
fn hostile_and_unusual_input() {
    let db = TestDb::new("inputs");
    let mut app = db.member_of("trickle_app");
    let null: Option<&str> = None;
    let err = app.query_one("SELECT * FROM auth.login($1, 'x')", &[&null]).unwrap_err();
    assert_eq!(sqlstate(&err), "22004");
    let err = app.query_one("SELECT auth.signup('a@example.org', $1)", &[&null]).unwrap_err();
    assert_eq!(sqlstate(&err), "22004");
    let err = app.query_one("SELECT auth.signup('', 'password-123')", &[]).unwrap_err();
    assert_eq!(sqlstate(&err), "22023");
    let err = app.query_one("SELECT auth.signup('a@example.org', '')", &[]).unwrap_err();
    assert_eq!(sqlstate(&err), "22023");

    // 1 MB password: refused before hashing, and never echoed back.
    let huge = "p".repeat(1 << 20);
    let started = std::time::Instant::now();
    let err = app.query_one("SELECT * FROM auth.login('a@example.org', $1)", &[&huge]).unwrap_err();
    assert_eq!(sqlstate(&err), "22023");
    assert!(!err.to_string().contains("pppppppp"));
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
    let err = app.query_one("SELECT auth.signup('a@example.org', $1)", &[&huge]).unwrap_err();
    assert_eq!(sqlstate(&err), "22023");
    let huge_email = format!("{}@example.org", "e".repeat(1 << 20));
    let err = app.query_one("SELECT * FROM auth.login($1, 'password-123')", &[&huge_email]).unwrap_err();
    assert_eq!(sqlstate(&err), "22023");

    // Unicode email (NFD in, NFC stored) and a non-ASCII password round-trip.
    signup(&mut app, "Jose\u{0301}@Exa\u{0301}mple.org", "пароль-密码-🔑");
    assert!(login(&mut app, "jos\u{00e9}@ex\u{00e1}mple.org", "пароль-密码-🔑").0);
    assert!(!login(&mut app, "jos\u{00e9}@ex\u{00e1}mple.org", "пароль-密码-🔐").0);

    // A wrong password never shows up in any error text.
    let err = app.query_one("SELECT auth.signup('b@example.org', 'tiny')", &[]).unwrap_err();
    assert!(!err.to_string().contains("tiny"), "{err}");
}

#[test]
fn read_only_transaction_logs_in_but_cannot_sign_up() {
    let db = TestDb::new("read_only");
    let mut app = db.member_of("trickle_app");
    signup(&mut app, "ro@example.org", "password-123");
    let mut tx = app.build_transaction().read_only(true).start().unwrap();
    let status: String =
        tx.query_one("SELECT status FROM auth.login('ro@example.org', 'password-123')", &[]).unwrap().get(0);
    assert_eq!(status, "authenticated");
    let status: String =
        tx.query_one("SELECT status FROM auth.login('ro@example.org', 'wrong-password')", &[]).unwrap().get(0);
    assert_eq!(status, "invalid_credentials");
    let err = tx.query_one("SELECT auth.signup('new@example.org', 'password-123')", &[]).unwrap_err();
    assert_eq!(sqlstate(&err), "25006");
}

#[test]
fn dump_and_restore_keep_users_who_can_still_log_in() {
    let source = TestDb::new("dump_src");
    let mut app = source.member_of("trickle_app");
    signup(&mut app, "kept@example.org", "password-123");
    app.query_one("SELECT auth.create_password_reset('kept@example.org')", &[]).unwrap();
    let target = TestDb::new("dump_dst");
    target.restore_dump_of(&source);

    let mut restored = target.member_of("trickle_app");
    assert!(login(&mut restored, "kept@example.org", "password-123").0);
    let tokens: i64 =
        target.superuser().query_one("SELECT count(*) FROM auth.password_reset_tokens", &[]).unwrap().get(0);
    assert_eq!(tokens, 1);
}

/// Reset tokens cannot pile up (at most three live per user), stop working when the email changes, and a signup
/// conflict reads the same wherever the account lives.
#[test]
fn reset_tokens_are_capped_and_voided_by_an_email_change() {
    let db = TestDb::new("reset_hygiene");
    let mut app = db.member_of("trickle_app");
    signup(&mut app, "tokens@example.org", "right-password");
    let tokens: Vec<String> = (0..5)
        .map(|_| app.query_one("SELECT auth.create_password_reset('tokens@example.org')", &[]).unwrap().get(0))
        .collect();
    let live: i64 = db.superuser().query_one("SELECT count(*) FROM auth.password_reset_tokens", &[]).unwrap().get(0);
    assert_eq!(live, 3);
    let oldest = app.execute("SELECT auth.reset_password($1, 'new-password-1')", &[&tokens[0]]).unwrap_err();
    assert_eq!(sqlstate(&oldest), "28000", "the oldest tokens were dropped");

    app.execute("SELECT auth.change_email('tokens@example.org', 'moved@example.org')", &[]).unwrap();
    let stale = app.execute("SELECT auth.reset_password($1, 'new-password-1')", &[&tokens[4]]).unwrap_err();
    assert_eq!(sqlstate(&stale), "28000", "a token mailed to the old address no longer works");
}

/// Polls `check` for up to ten seconds.
fn eventually(mut check: impl FnMut() -> bool) -> bool {
    (0..100).any(|_| {
        check() || {
            std::thread::sleep(std::time::Duration::from_millis(100));
            false
        }
    })
}

#[test]
fn a_successful_login_is_a_pure_read_and_its_last_login_is_written_later() {
    let db = TestDb::new("pure_read_login");
    let mut app = db.member_of("trickle_app");
    signup(&mut app, "reader@example.org", "a long enough secret");
    let mut tx = app.transaction().unwrap();
    let ok: bool =
        tx.query_one("SELECT ok FROM auth.login('reader@example.org', 'a long enough secret')", &[]).unwrap().get(0);
    assert!(ok);
    let xid: Option<String> = tx.query_one("SELECT pg_current_xact_id_if_assigned()::text", &[]).unwrap().get(0);
    assert_eq!(xid, None, "a successful login takes no transaction id: no WAL, no commit flush");
    tx.rollback().unwrap();
    // Outside the transaction: the login happened, whatever the application did with its transaction, and in a
    // read-only transaction too.
    let mut su = db.superuser();
    let last_login = |su: &mut Client| -> Option<std::time::SystemTime> {
        su.query_one("SELECT last_login_at FROM auth.users WHERE email = 'reader@example.org'", &[]).unwrap().get(0)
    };
    assert!(eventually(|| last_login(&mut su).is_some()), "the keeper writes last_login_at");
    let first = last_login(&mut su).unwrap();
    std::thread::sleep(std::time::Duration::from_millis(20));
    let mut ro = app.build_transaction().read_only(true).start().unwrap();
    let ok: bool =
        ro.query_one("SELECT ok FROM auth.login('reader@example.org', 'a long enough secret')", &[]).unwrap().get(0);
    assert!(ok);
    ro.commit().unwrap();
    assert!(eventually(|| last_login(&mut su).is_some_and(|t| t > first)), "a read-only login is recorded too");
}

/// A user deleted by a concurrent transaction while their login is between the password check and its write (a
/// rehash of an imported hash) fails like a wrong password, never with an internal error.
#[test]
fn a_user_deleted_while_logging_in_gets_invalid_credentials() {
    let db = std::sync::Arc::new(TestDb::new("login_vs_delete"));
    let (password, bcrypt_hash, _) = pg_trickle_e2e::reference_vector("bcrypt", 0);
    db.superuser()
        .execute(
            "INSERT INTO auth.users (email, external_id, password_hash, password_format, source)
             VALUES ('leaving@example.org', 'x-1', $1, 'bcrypt', 'imported')",
            &[&bcrypt_hash],
        )
        .unwrap();
    let mut admin = db.member_of("trickle_admin");
    let mut deleting = admin.transaction().unwrap();
    let deleted: bool = deleting.query_one("SELECT auth.delete_user('leaving@example.org')", &[]).unwrap().get(0);
    assert!(deleted);
    let login = {
        let db = db.clone();
        std::thread::spawn(move || {
            // Sees the row (the delete is not committed), verifies, then waits on the row for its rehash.
            db.member_of("trickle_app")
                .query_one("SELECT status FROM auth.login('leaving@example.org', $1)", &[&password])
        })
    };
    std::thread::sleep(std::time::Duration::from_millis(700));
    deleting.commit().unwrap();
    let status: String = login.join().unwrap().expect("a result, not an error").get(0);
    assert_eq!(status, "invalid_credentials");
}

/// A backend keeps the plans of pg_trickle's queries: they follow the tables when the extension is dropped and
/// created again under it (new tables, new OIDs), and the one session goes on logging users in.
#[test]
fn kept_plans_follow_a_recreated_extension() {
    let db = TestDb::new("local_kept_plans");
    let mut su = db.superuser();
    for round in 0..2 {
        signup(&mut su, "kept@example.org", "a-long-password");
        assert_eq!(login(&mut su, "kept@example.org", "a-long-password"), (true, "authenticated".into()), "{round}");
        assert_eq!(login(&mut su, "kept@example.org", "wrong-password"), (false, "invalid_credentials".into()));
        su.batch_execute("DROP EXTENSION pg_trickle CASCADE; CREATE EXTENSION pg_trickle;").unwrap();
    }
}
