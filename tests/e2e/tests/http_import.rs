//! Import mode over HTTP, end to end: the real legacy-store server on 127.0.0.1, real transactions.

use pg_trickle_e2e::postgres::Client;
use pg_trickle_e2e::{cancelled_after_300_ms, sqlstate, IdleClosingProxy, LegacyHttpStore, TestDb};
use serde_json::{json, Value};
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

const ADA_PASSWORD: &str = "analytical-engine";

fn legacy_users() -> Value {
    json!([
        {
            "user_id": "L-100", "email": "Ada@Legacy.test", "password": ADA_PASSWORD, "email_verified": true,
            "username": "ada", "name": "Ada Lovelace", "given_name": "Ada", "family_name": "Lovelace",
            "nickname": "countess", "picture": "https://legacy.test/ada.png",
            "user_metadata": {"theme": "dark"}, "app_metadata": {"roles": ["admin"], "groups": ["/math"]}
        },
        {"user_id": "L-101", "email": "grace@legacy.test", "password": "cobol-forever", "given_name": "Grace"},
        {"user_id": "L-102", "email": "gone@legacy.test", "password": "disabled-user", "enabled": false}
    ])
}

fn login(c: &mut Client, email: &str, password: &str) -> Result<(bool, String), String> {
    c.query_one("SELECT ok, status FROM auth.login($1, $2)", &[&email, &password])
        .map(|row| (row.get(0), row.get(1)))
        .map_err(|e| sqlstate(&e))
}

fn setup(label: &str) -> (LegacyHttpStore, TestDb) {
    let store = LegacyHttpStore::start(&legacy_users());
    let db = TestDb::new(label);
    db.import_from(&store.base_url, "");
    (store, db)
}

fn user_count(db: &TestDb) -> i64 {
    db.superuser().query_one("SELECT count(*) FROM auth.users", &[]).unwrap().get(0)
}

#[test]
fn first_login_migrates_and_later_logins_stay_local() {
    let (store, db) = setup("http_first_login");
    let mut app = db.member_of("trickle_app");

    assert_eq!(login(&mut app, "ada@legacy.test", "wrong-password"), Ok((false, "invalid_credentials".into())));
    assert_eq!(user_count(&db), 0, "a rejected login inserts nothing");

    assert_eq!(login(&mut app, " ADA@legacy.test", ADA_PASSWORD), Ok((true, "migrated".into())));
    let row = db
        .superuser()
        .query_one(
            "SELECT source, external_id, password_format, password_hash LIKE '$argon2id$%', migrated_at IS NOT NULL,
                    last_login_at IS NOT NULL, auth.user_profile(u)
               FROM auth.users u WHERE email = 'ada@legacy.test'",
            &[],
        )
        .unwrap();
    assert_eq!(row.get::<_, String>(0), "migrated");
    assert_eq!(row.get::<_, String>(1), "L-100");
    assert_eq!(row.get::<_, String>(2), "argon2id");
    assert!(row.get::<_, bool>(3) && row.get::<_, bool>(4) && row.get::<_, bool>(5));
    let profile: Value = row.get(6);
    assert_eq!(profile["username"], "ada");
    assert_eq!(profile["nickname"], "countess");
    assert_eq!(profile["email_verified"], true);
    assert_eq!(profile["user_metadata"], json!({"theme": "dark"}));
    assert_eq!(profile["app_metadata"], json!({"roles": ["admin"], "groups": ["/math"]}));

    let asked = store.requests("POST login");
    assert_eq!(login(&mut app, "ada@legacy.test", ADA_PASSWORD), Ok((true, "authenticated".into())));
    assert_eq!(login(&mut app, "ada@legacy.test", "wrong-password"), Ok((false, "invalid_credentials".into())));
    assert_eq!(store.requests("POST login"), asked, "a migrated user never touches the legacy store again");

    // Disabled legacy users are not migrated.
    assert_eq!(login(&mut app, "gone@legacy.test", "disabled-user"), Ok((false, "invalid_credentials".into())));
    assert_eq!(user_count(&db), 1);
}

#[test]
fn rolled_back_migration_leaves_nothing_and_the_next_login_migrates() {
    let (_store, db) = setup("http_rollback");
    let mut app = db.member_of("trickle_app");
    let mut tx = app.transaction().unwrap();
    let status: String =
        tx.query_one("SELECT status FROM auth.login('grace@legacy.test', 'cobol-forever')", &[]).unwrap().get(0);
    assert_eq!(status, "migrated");
    tx.rollback().unwrap();
    assert_eq!(user_count(&db), 0);
    assert_eq!(login(&mut app, "grace@legacy.test", "cobol-forever"), Ok((true, "migrated".into())));
    assert_eq!(user_count(&db), 1);
}

#[test]
fn many_concurrent_first_logins_leave_exactly_one_user() {
    let (_store, db) = setup("http_concurrent");
    let db = Arc::new(db);
    const SESSIONS: usize = 32;
    let barrier = Arc::new(Barrier::new(SESSIONS));
    let handles: Vec<_> = (0..SESSIONS)
        .map(|_| {
            let (db, barrier) = (db.clone(), barrier.clone());
            std::thread::spawn(move || {
                let mut app = db.member_of("trickle_app");
                barrier.wait();
                login(&mut app, "ada@legacy.test", ADA_PASSWORD)
            })
        })
        .collect();
    let results: Vec<_> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    assert!(results.iter().all(|r| matches!(r, Ok((true, _)))), "{results:?}");
    let migrated = results.iter().filter(|r| matches!(r, Ok((_, s)) if s == "migrated")).count();
    assert_eq!(migrated, 1, "{results:?}");
    assert_eq!(user_count(&db), 1);
}

#[test]
fn read_only_transaction_refuses_migration_but_logs_local_users_in() {
    let (_store, db) = setup("http_read_only");
    let mut app = db.member_of("trickle_app");
    assert_eq!(login(&mut app, "grace@legacy.test", "cobol-forever"), Ok((true, "migrated".into())));
    let mut tx = app.build_transaction().read_only(true).start().unwrap();
    let ok: bool = tx.query_one("SELECT ok FROM auth.login('grace@legacy.test', 'cobol-forever')", &[]).unwrap().get(0);
    assert!(ok);
    let err = tx.query_one("SELECT ok FROM auth.login('ada@legacy.test', $1)", &[&ADA_PASSWORD]).unwrap_err();
    assert_eq!(sqlstate(&err), "25006");
    assert!(err.as_db_error().unwrap().hint().unwrap_or("").contains("primary"));
}

/// Each fault gives its own SQLSTATE within the timeout plus a margin; local users keep logging in.
#[test]
fn store_faults_are_clear_bounded_and_spare_local_users() {
    let (store, db) = setup("http_faults");
    db.import_from(&store.base_url, "timeout_ms => 400, connect_timeout_ms => 200, lookup_retries => 0");
    let mut app = db.member_of("trickle_app");
    assert_eq!(login(&mut app, "grace@legacy.test", "cobol-forever"), Ok((true, "migrated".into())));

    let cases = [
        (json!({"mode": "hang"}), "08006"),
        (json!({"mode": "status", "status": 503}), "08004"),
        (json!({"mode": "status", "status": 500}), "08004"),
        (json!({"mode": "malformed"}), "08P01"),
        (json!({"mode": "huge"}), "08P01"),
        (json!({"mode": "wrong_content_type"}), "08P01"),
        (json!({"mode": "email_mismatch"}), "08P01"),
        (json!({"mode": "redirect"}), "08P01"),
    ];
    for (mode, expected) in cases {
        store.set_mode(mode.clone());
        let started = Instant::now();
        let err = app.query_one("SELECT ok FROM auth.login('ada@legacy.test', $1)", &[&ADA_PASSWORD]).unwrap_err();
        let elapsed = started.elapsed();
        assert_eq!(sqlstate(&err), expected, "{mode}: {err}");
        assert!(elapsed < Duration::from_millis(400 + 600), "{mode} took {elapsed:?}");
        let text = format!("{err:?}");
        assert!(!text.contains(ADA_PASSWORD), "{mode}: the password leaked into {text}");
        assert_eq!(login(&mut app, "grace@legacy.test", "cobol-forever"), Ok((true, "authenticated".into())));
    }
    assert_eq!(user_count(&db), 1, "no fault may insert anything");

    // Nothing listens on the port any more: connection refused.
    let url = store.base_url.clone();
    drop(store);
    db.import_from(&url, "timeout_ms => 400, connect_timeout_ms => 200");
    let err = app.query_one("SELECT ok FROM auth.login('ada@legacy.test', $1)", &[&ADA_PASSWORD]).unwrap_err();
    assert_eq!(sqlstate(&err), "08001", "{err}");
    assert_eq!(login(&mut app, "grace@legacy.test", "cobol-forever"), Ok((true, "authenticated".into())));

    // A name that cannot resolve (RFC 2606 reserves .invalid): a class 08 error within the timeouts,
    // whether the resolver answers at once or times out (this sandbox may have no DNS at all).
    db.import_from(
        "http://legacy-store.invalid:8080/",
        "timeout_ms => 400, connect_timeout_ms => 200, allow_insecure => true",
    );
    let started = Instant::now();
    let err = app.query_one("SELECT ok FROM auth.login('ada@legacy.test', $1)", &[&ADA_PASSWORD]).unwrap_err();
    assert!(sqlstate(&err).starts_with("08"), "{err}");
    assert!(started.elapsed() < Duration::from_millis(400 + 600), "DNS failure took {:?}", started.elapsed());
}

#[test]
fn lookups_retry_gateway_errors_but_logins_do_not() {
    let (store, db) = setup("http_retries");
    db.import_from(&store.base_url, "lookup_retries => 2");
    let mut app = db.member_of("trickle_app");
    store.set_mode(json!({"mode": "status", "status": 503}));
    let err = app.query_one("SELECT auth.signup('ada@legacy.test', 'new-password-1')", &[]).unwrap_err();
    assert_eq!(sqlstate(&err), "08004");
    assert_eq!(store.requests("GET users"), 3, "one look-up and two retries");
    let err = app.query_one("SELECT ok FROM auth.login('ada@legacy.test', $1)", &[&ADA_PASSWORD]).unwrap_err();
    assert_eq!(sqlstate(&err), "08004");
    assert_eq!(store.requests("POST login"), 1, "the login call is never retried");
}

#[test]
fn statement_timeout_and_cancel_interrupt_a_hanging_call_promptly() {
    let (store, db) = setup("http_cancel");
    store.set_mode(json!({"mode": "hang"}));
    let mut app = db.member_of("trickle_app");

    app.batch_execute("SET statement_timeout = 300").unwrap();
    let started = Instant::now();
    let err = app.query_one("SELECT ok FROM auth.login('ada@legacy.test', $1)", &[&ADA_PASSWORD]).unwrap_err();
    let elapsed = started.elapsed();
    assert_eq!(sqlstate(&err), "57014");
    assert!(elapsed < Duration::from_millis(300 + 100), "statement_timeout honoured after {elapsed:?}");
    app.batch_execute("RESET statement_timeout").unwrap();
    let one: i32 = app.query_one("SELECT 1", &[]).unwrap().get(0);
    assert_eq!(one, 1, "the backend stays usable");

    let (err, after) =
        cancelled_after_300_ms(&db, &mut app, "SELECT ok FROM auth.login('ada@legacy.test', $1)", &[&ADA_PASSWORD]);
    assert_eq!(sqlstate(&err), "57014");
    assert!(after < Duration::from_millis(100), "cancel honoured after {after:?}");
    store.set_mode(json!({"mode": "normal"}));
    assert_eq!(login(&mut app, "ada@legacy.test", ADA_PASSWORD), Ok((true, "migrated".into())));
}

/// A request abandoned at a timeout or cancel does not keep its connection open until the backend's next call:
/// the store (here a bare socket that never answers) sees it closed at once.
#[test]
fn an_abandoned_request_closes_its_connection() {
    use std::io::Read;
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let db = TestDb::new("http_abandoned");
    db.import_from(&format!("http://{}", listener.local_addr().unwrap()), "");
    let mut app = db.member_of("trickle_app");
    for (how, cancel) in [("statement_timeout", false), ("pg_cancel_backend", true)] {
        let pid: i32 = app.query_one("SELECT pg_backend_pid()", &[]).unwrap().get(0);
        let superuser = db.superuser();
        let interrupter = std::thread::spawn(move || {
            let mut superuser = superuser;
            if cancel {
                std::thread::sleep(Duration::from_millis(300));
                superuser.execute("SELECT pg_cancel_backend($1)", &[&pid]).unwrap();
            }
        });
        app.batch_execute(if cancel { "RESET statement_timeout" } else { "SET statement_timeout = 300" }).unwrap();
        let err = app.query_one("SELECT ok FROM auth.login('ada@legacy.test', 'pw')", &[]).unwrap_err();
        assert_eq!(sqlstate(&err), "57014", "{how}");
        interrupter.join().unwrap();
        let (mut socket, _) = listener.accept().unwrap();
        socket.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
        let mut request = Vec::new();
        let read = socket.read_to_end(&mut request);
        assert!(read.is_ok(), "{how}: the connection is still open 2 s after the request was abandoned: {read:?}");
        assert!(request.starts_with(b"POST "), "{how}: it was the login request");
    }
}

#[test]
fn get_user_flows_consult_the_store() {
    let (store, db) = setup("http_get_user");
    let mut app = db.member_of("trickle_app");

    // Signup of a legacy email: 23505 worded exactly as a local duplicate (a signup does not tell where an
    // account lives); nothing inserted.
    let err = app.query_one("SELECT auth.signup('ADA@legacy.test', 'a-new-password')", &[]).unwrap_err();
    assert_eq!(sqlstate(&err), "23505");
    assert_eq!(user_count(&db), 0);
    app.query_one("SELECT auth.signup('new@example.org', 'a-new-password')", &[]).unwrap();
    let local = app.query_one("SELECT auth.signup('new@example.org', 'a-new-password')", &[]).unwrap_err();
    let (legacy, local) = (err.as_db_error().unwrap(), local.as_db_error().unwrap());
    assert_eq!((legacy.message(), legacy.hint()), (local.message(), local.hint()));

    // Email change to an address the legacy store holds.
    let err = app.execute("SELECT auth.change_email('new@example.org', 'grace@legacy.test')", &[]).unwrap_err();
    assert_eq!(sqlstate(&err), "23505");

    // Forgot the legacy password: the profile moves over, then the token sets a local password.
    let token: String = app.query_one("SELECT auth.create_password_reset('grace@legacy.test')", &[]).unwrap().get(0);
    let (source, has_hash): (String, bool) = {
        let row = db
            .superuser()
            .query_one(
                "SELECT source, password_hash IS NOT NULL FROM auth.users WHERE email = 'grace@legacy.test'",
                &[],
            )
            .unwrap();
        (row.get(0), row.get(1))
    };
    assert_eq!((source.as_str(), has_hash), ("migrated", false));
    app.execute("SELECT auth.reset_password($1, 'brand-new-password')", &[&token]).unwrap();
    let before = store.requests("POST login");
    assert_eq!(login(&mut app, "grace@legacy.test", "brand-new-password"), Ok((true, "authenticated".into())));
    assert_eq!(store.requests("POST login"), before);

    // Admin migrate: profile first, password on the first login (which the store checks).
    let mut admin = db.member_of("trickle_admin");
    let profile: Value = admin.query_one("SELECT auth.migrate('ada@legacy.test')", &[]).unwrap().get(0);
    assert_eq!(profile["external_id"], "L-100");
    let err = admin.query_one("SELECT auth.migrate('nobody@legacy.test')", &[]).unwrap_err();
    assert_eq!(sqlstate(&err), "P0002");
    let err = app.query_one("SELECT auth.migrate('ada@legacy.test')", &[]).unwrap_err();
    assert_eq!(sqlstate(&err), "42501");
    assert_eq!(login(&mut app, "ada@legacy.test", "wrong-password"), Ok((false, "invalid_credentials".into())));
    assert_eq!(login(&mut app, "ada@legacy.test", ADA_PASSWORD), Ok((true, "migrated".into())));
    assert_eq!(login(&mut app, "ada@legacy.test", ADA_PASSWORD), Ok((true, "authenticated".into())));
}

#[test]
fn keycloak_contract_maps_roles_groups_and_attributes() {
    let store = LegacyHttpStore::start(&legacy_users());
    let db = TestDb::new("http_keycloak");
    db.import_from(&format!("{}/keycloak", store.base_url), "contract => 'keycloak'");
    let mut app = db.member_of("trickle_app");
    // The store answers 400 with no body for both, as the plugin's reference server does.
    assert_eq!(login(&mut app, "ada@legacy.test", "wrong-password"), Ok((false, "invalid_credentials".into())));
    assert_eq!(login(&mut app, "nobody@legacy.test", "a-guess"), Ok((false, "invalid_credentials".into())));
    assert_eq!(store.requests("POST keycloak"), 2);
    assert_eq!(login(&mut app, "ada@legacy.test", ADA_PASSWORD), Ok((true, "migrated".into())));
    let profile: Value = app.query_one("SELECT auth.get_user('ada@legacy.test')", &[]).unwrap().get(0);
    assert_eq!(profile["external_id"], "L-100");
    assert_eq!(profile["name"], "Ada Lovelace");
    assert_eq!(profile["app_metadata"], json!({"roles": ["admin"], "groups": ["/math"]}));
    assert_eq!(profile["user_metadata"], json!({"theme": "dark"}));
    assert_eq!(login(&mut app, "gone@legacy.test", "disabled-user"), Ok((false, "invalid_credentials".into())));
}

#[test]
fn request_authentication_bearer_and_hmac_signature() {
    let secret = "an-hmac-secret-of-32-bytes-long!";
    let store = LegacyHttpStore::start_with(&legacy_users(), &["--bearer", "s3cret-token", "--hmac-secret", secret]);
    let db = TestDb::new("http_request_auth");
    db.import_from(
        &store.base_url,
        &format!("auth_kind => 'bearer', auth_secret => 'wrong-token', hmac_secret => '{secret}'"),
    );
    let mut app = db.member_of("trickle_app");
    let err = app.query_one("SELECT ok FROM auth.login('ada@legacy.test', $1)", &[&ADA_PASSWORD]).unwrap_err();
    assert_eq!(sqlstate(&err), "08004", "a refused request is a store error, not wrong credentials");
    assert!(!format!("{err:?}").contains("wrong-token"));

    db.import_from(
        &store.base_url,
        "auth_kind => 'bearer', auth_secret => 's3cret-token', hmac_secret => 'not-the-right-secret'",
    );
    let err = app.query_one("SELECT ok FROM auth.login('ada@legacy.test', $1)", &[&ADA_PASSWORD]).unwrap_err();
    assert_eq!(sqlstate(&err), "08004");

    db.import_from(
        &store.base_url,
        &format!("auth_kind => 'bearer', auth_secret => 's3cret-token', hmac_secret => '{secret}'"),
    );
    assert_eq!(login(&mut app, "ada@legacy.test", ADA_PASSWORD), Ok((true, "migrated".into())));
    let err = app.query_one("SELECT auth.signup('grace@legacy.test', 'a-new-password')", &[]).unwrap_err();
    assert_eq!(sqlstate(&err), "23505", "signed look-ups work too");
}

#[test]
fn configuration_is_validated_masked_admin_only_and_transactional() {
    let store = LegacyHttpStore::start(&legacy_users());
    let db = TestDb::new("http_config");
    let mut admin = db.member_of("trickle_admin");
    for bad in [
        "SELECT auth.configure_http_store('file:///etc/passwd')",
        "SELECT auth.configure_http_store('ftp://legacy.test/')",
        "SELECT auth.configure_http_store('http://user:pw@legacy.test/')",
        "SELECT auth.configure_http_store('http://legacy.test/', timeout_ms => 0)",
        "SELECT auth.configure_http_store('http://legacy.test/', timeout_ms => 3600000)",
        "SELECT auth.configure_http_store('http://legacy.test/', contract => 'soap')",
        "SELECT auth.configure_http_store('http://legacy.test/', auth_kind => 'bearer')",
    ] {
        let err = admin.execute(bad, &[]).unwrap_err();
        assert_eq!(sqlstate(&err), "22023", "{bad}");
    }
    let mut app = db.member_of("trickle_app");
    let err = app.execute("SELECT auth.configure_http_store('http://legacy.test/')", &[]).unwrap_err();
    assert_eq!(sqlstate(&err), "42501");
    let err = app.execute("SELECT auth.set_import_mode(true)", &[]).unwrap_err();
    assert_eq!(sqlstate(&err), "42501");
    let err = admin.query("SELECT * FROM auth.import_config", &[]).unwrap_err();
    assert_eq!(sqlstate(&err), "42501", "the table with secrets is for the owner only");

    // Configured in an open transaction: other sessions see nothing until it commits.
    let mut tx = admin.transaction().unwrap();
    tx.execute(
        "SELECT auth.configure_http_store($1, auth_kind => 'bearer', auth_secret => 'very-secret-token')",
        &[&store.base_url],
    )
    .unwrap();
    tx.execute("SELECT auth.set_import_mode(true)", &[]).unwrap();
    assert_eq!(login(&mut app, "ada@legacy.test", ADA_PASSWORD), Ok((false, "invalid_credentials".into())));
    tx.commit().unwrap();
    assert_eq!(login(&mut app, "ada@legacy.test", ADA_PASSWORD), Ok((true, "migrated".into())));

    let row = admin
        .query_one(
            "SELECT import_mode, store_kind, http_auth_secret, http_base_url FROM auth.import_configuration",
            &[],
        )
        .unwrap();
    assert!(row.get::<_, bool>(0));
    assert_eq!(row.get::<_, String>(1), "http");
    assert_eq!(row.get::<_, String>(2), "********");
    assert_eq!(row.get::<_, String>(3), store.base_url);

    // Import mode off: the store is no longer asked.
    admin.execute("SELECT auth.set_import_mode(false)", &[]).unwrap();
    let asked = store.requests("POST login");
    assert_eq!(login(&mut app, "grace@legacy.test", "cobol-forever"), Ok((false, "invalid_credentials".into())));
    assert_eq!(store.requests("POST login"), asked);
}

#[test]
fn https_store_is_trusted_only_through_its_ca_bundle() {
    let store = LegacyHttpStore::start(&legacy_users());
    let tls = pg_trickle_e2e::TlsFront::start(&store);
    let db = TestDb::new("http_tls");
    let mut app = db.member_of("trickle_app");

    // A certificate from a CA the system does not trust: the TLS handshake fails, a class 08 error.
    db.import_from(&tls.base_url, "");
    let err = app.query_one("SELECT ok FROM auth.login('ada@legacy.test', $1)", &[&ADA_PASSWORD]).unwrap_err();
    assert_eq!(sqlstate(&err), "08001", "{err}");

    let mut admin = db.member_of("trickle_admin");
    let err = admin
        .execute("SELECT auth.configure_http_store($1, ca_bundle => 'not a certificate')", &[&tls.base_url])
        .unwrap_err();
    assert_eq!(sqlstate(&err), "22023");
    admin.execute("SELECT auth.configure_http_store($1, ca_bundle => $2)", &[&tls.base_url, &tls.ca_pem]).unwrap();
    assert_eq!(login(&mut app, "ada@legacy.test", ADA_PASSWORD), Ok((true, "migrated".into())));
    let custom: bool = admin.query_one("SELECT http_custom_ca FROM auth.import_configuration", &[]).unwrap().get(0);
    assert!(custom);
}

#[test]
fn one_backend_reuses_its_connection_to_the_store() {
    let (store, db) = setup("http_keep_alive");
    let mut app = db.member_of("trickle_app");
    for i in 0..4 {
        app.query_one("SELECT auth.signup($1, 'a-new-password')", &[&format!("new{i}@example.org")]).unwrap();
    }
    assert_eq!(store.requests("GET users"), 4);
    assert_eq!(store.requests("connections"), 1, "keep-alive: one TCP connection for the backend's calls");
}

#[test]
fn a_kept_alive_connection_closed_by_a_proxy_while_idle_is_not_used_again() {
    let store = LegacyHttpStore::start(&legacy_users());
    // A load balancer that closes kept-alive connections idle for a second.
    let proxy = IdleClosingProxy::start(&store, 1.0);
    let db = TestDb::new("http_idle_closed");
    db.import_from(&proxy.base_url, "allow_insecure => true");
    let mut app = db.member_of("trickle_app");
    for (email, password) in [("ada@legacy.test", ADA_PASSWORD), ("grace@legacy.test", "cobol-forever")] {
        // Same backend each time: its pooled connection to the proxy has been closed meanwhile.
        std::thread::sleep(Duration::from_millis(1500));
        assert_eq!(login(&mut app, email, password), Ok((true, "migrated".into())), "{email}");
    }
    std::thread::sleep(Duration::from_millis(1500));
    assert_eq!(login(&mut app, "nobody@legacy.test", "a-guess"), Ok((false, "invalid_credentials".into())));
    assert_eq!(store.requests("POST login"), 3, "each login reached the store once");
}

/// The idle-pool lifetime is a store setting: by default a backend keeps its connection to the store between calls;
/// with `pool_idle_ms => 0` every call opens a new one (for a proxy that mishandles kept-alive connections), and a
/// lifetime shorter than the pause between calls does the same. Out of range: 22023.
#[test]
fn the_idle_pool_lifetime_is_a_store_setting() {
    let store = LegacyHttpStore::start(&legacy_users());
    // Closes nothing within the test: only pg_trickle's own setting decides whether a connection is reused.
    let proxy = IdleClosingProxy::start(&store, 60.0);
    let db = TestDb::new("http_pool_idle");
    let mut app = db.member_of("trickle_app");
    let mut asked = 0;
    let mut logins = |n: usize| {
        for _ in 0..n {
            // Another email each time: no lockout gets in the way of reaching the store.
            asked += 1;
            let email = format!("nobody{asked}@legacy.test");
            assert_eq!(login(&mut app, &email, "a-guess"), Ok((false, "invalid_credentials".into())));
            std::thread::sleep(Duration::from_millis(300));
        }
    };
    db.import_from(&proxy.base_url, "allow_insecure => true");
    logins(3);
    assert_eq!(proxy.connections(), 1, "kept alive by default");
    db.import_from(&proxy.base_url, "allow_insecure => true, pool_idle_ms => 0");
    logins(3);
    assert_eq!(proxy.connections(), 4, "one new connection per call");
    db.import_from(&proxy.base_url, "allow_insecure => true, pool_idle_ms => 100");
    logins(3);
    assert_eq!(proxy.connections(), 7, "idle longer than the setting: not used again");
    let shown: i32 =
        db.superuser().query_one("SELECT http_pool_idle_ms FROM auth.import_configuration", &[]).unwrap().get(0);
    assert_eq!(shown, 100);
    let err = db
        .superuser()
        .batch_execute(&format!("SELECT auth.configure_http_store('{}', pool_idle_ms => -1)", store.base_url))
        .unwrap_err();
    assert_eq!(sqlstate(&err), "22023");
}

/// A disabled legacy account (`enabled: false` or `blocked: true` in the profile) gets no local account by any
/// path: not by logging in, not through a password reset, not by an admin's migrate.
#[test]
fn a_disabled_legacy_account_never_becomes_a_local_one() {
    let store = LegacyHttpStore::start(&json!([
        {"user_id": "D-1", "email": "off@legacy.test", "password": "its-password", "enabled": false},
        {"user_id": "D-2", "email": "blocked@legacy.test", "password": "its-password", "blocked": true}
    ]));
    let db = TestDb::new("http_disabled");
    db.import_from(&store.base_url, "");
    let mut app = db.member_of("trickle_app");
    let mut admin = db.member_of("trickle_admin");
    for email in ["off@legacy.test", "blocked@legacy.test"] {
        assert_eq!(login(&mut app, email, "its-password"), Ok((false, "invalid_credentials".into())), "{email}");
        let token: String = app.query_one("SELECT auth.create_password_reset($1)", &[&email]).unwrap().get(0);
        let err = app.execute("SELECT auth.reset_password($1, 'a-brand-new-password')", &[&token]).unwrap_err();
        assert_eq!(sqlstate(&err), "28000", "{email}: the token redeems nothing");
        let err = admin.query_one("SELECT auth.migrate($1)", &[&email]).unwrap_err();
        assert_eq!(sqlstate(&err), "P0002", "{email}");
    }
    assert_eq!(user_count(&db), 0);
}

fn check_store(c: &mut Client, sample: Option<&str>) -> Vec<(String, bool, String)> {
    c.query("SELECT item, ok, detail FROM auth.check_store($1) WHERE store = 'default'", &[&sample])
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .collect()
}

fn failing(lines: &[(String, bool, String)]) -> Vec<&str> {
    lines.iter().filter(|(_, ok, _)| !ok).map(|(item, ..)| item.as_str()).collect()
}

/// An admin sees what a wrong address, a wrong service secret or a healthy store looks like, without any login.
#[test]
fn check_store_tells_a_wrong_secret_from_a_dead_store_and_a_healthy_one() {
    let store = LegacyHttpStore::start_with(&legacy_users(), &["--bearer", "the-service-token"]);
    let db = TestDb::new("http_check_store");
    db.import_from(&store.base_url, "auth_kind => 'bearer', auth_secret => 'the-service-token'");
    let mut admin = db.member_of("trickle_admin");
    let healthy = check_store(&mut admin, Some("ada@legacy.test"));
    let items: Vec<&str> = healthy.iter().map(|(item, ..)| item.as_str()).collect();
    assert_eq!(
        items,
        ["configuration", "reachable", "request credentials", "unknown user", "sample user", "user count"]
    );
    assert!(failing(&healthy).is_empty(), "{healthy:?}");
    assert!(healthy.iter().any(|(item, _, detail)| item == "user count" && detail == "3 users"), "{healthy:?}");

    db.import_from(&store.base_url, "auth_kind => 'bearer', auth_secret => 'a-stale-token'");
    let stale = check_store(&mut admin, None);
    assert_eq!(failing(&stale), ["request credentials", "unknown user", "user count"], "{stale:?}");
    assert!(!format!("{stale:?}").contains("stale-token"), "no secret in the report");

    db.import_from("http://127.0.0.1:9", "");
    let dead = check_store(&mut admin, None);
    assert_eq!(failing(&dead), ["reachable", "user count"], "{dead:?}");

    let err = db.member_of("trickle_app").query("SELECT * FROM auth.check_store()", &[]).unwrap_err();
    assert_eq!(sqlstate(&err), "42501");
    assert_eq!(store.requests("POST login"), 0, "checking logs nobody in");
    assert_eq!(user_count(&db), 0, "and migrates nobody");
}
