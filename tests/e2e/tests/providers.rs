//! Identity providers as legacy stores, end to end against the real servers (tests/providers/, installed by
//! scripts/providers.sh): django-oauth-toolkit for the OAuth 2.0 / OpenID Connect preset, Google's Firebase
//! Authentication emulator, and moto's Amazon Cognito. No code on the old side: only the provider's own API.

use pg_trickle_e2e::postgres::Client;
use pg_trickle_e2e::providers::{ProviderServer, OIDC_ADMIN};
use pg_trickle_e2e::{
    answering_anything, cancelled_after_300_ms, event_outcomes, reference_vector, sqlstate, LegacyHttpStore, TempFile,
    TestDb,
};
use serde_json::{json, Value};
use std::time::{Duration, Instant};

const PASSWORD: &str = "Correct-Horse-1";

fn login(c: &mut Client, email: &str, password: &str) -> Result<(bool, String), String> {
    c.query_one("SELECT ok, status FROM auth.login($1, $2)", &[&email, &password])
        .map(|row| (row.get(0), row.get(1)))
        .map_err(|e| sqlstate(&e))
}

/// Points import mode at a provider: `contract`, its base URL, settings and secret.
fn import_from_provider(db: &TestDb, contract: &str, base_url: &str, settings: &Value, secret: Option<&str>) {
    let mut su = db.superuser();
    su.execute(
        "SELECT auth.configure_http_store($1, contract => $2, provider => $3::text::jsonb, provider_secret => $4,
                                          timeout_ms => 3000)",
        &[&base_url, &contract, &settings.to_string(), &secret],
    )
    .expect("configure the provider");
    su.batch_execute("SELECT auth.set_import_mode(true)").unwrap();
}

/// (source, external_id, profile) of a local user.
fn local_user(db: &TestDb, email: &str) -> Option<(String, String, Value)> {
    db.superuser()
        .query_opt(
            "SELECT source, coalesce(external_id, ''), auth.user_profile(u) FROM auth.users u WHERE email = $1",
            &[&email],
        )
        .unwrap()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
}

/// Nothing a provider handed back or was sent (the password) is kept in the events or the server log.
fn assert_nothing_secret_kept(db: &TestDb, secrets: &[&str]) {
    let events: String = db
        .superuser()
        .query_one("SELECT coalesce(string_agg(to_jsonb(e)::text, ' '), '') FROM auth.migration_events e", &[])
        .unwrap()
        .get(0);
    let log = pg_trickle_e2e::server_log();
    for secret in secrets {
        assert!(!events.contains(secret), "{secret} in the events");
        assert!(!log.contains(secret), "{secret} in the server log");
    }
}

fn oidc_users() -> Value {
    json!([
        {"email": "ada@legacy.test", "password": PASSWORD, "first_name": "Ada", "last_name": "Lovelace",
         "claims": {"locale": "en-GB", "roles": ["admin"]}},
        {"email": "off@legacy.test", "password": PASSWORD, "active": false}
    ])
}

#[test]
fn oidc_password_grant_migrates_with_the_userinfo_profile_then_logins_stay_local() {
    let server = ProviderServer::oidc(&oidc_users(), "pg_trickle_app", "client-secret-1");
    let db = TestDb::new("provider_oidc");
    let settings = json!({"client_id": "pg_trickle_app", "user_metadata_claims": ["locale"],
                          "app_metadata_claims": ["roles"]});
    // The issuer's discovery document gives the token and userinfo endpoints.
    import_from_provider(&db, "oidc", &server.base_url("/realms/acme"), &settings, Some("client-secret-1"));
    let mut app = db.member_of("trickle_app");

    assert_eq!(login(&mut app, "ada@legacy.test", "wrong-password"), Ok((false, "invalid_credentials".into())));
    assert_eq!(local_user(&db, "ada@legacy.test"), None, "a refused login inserts nothing");
    assert_eq!(login(&mut app, "Ada@Legacy.test", PASSWORD), Ok((true, "migrated".into())));
    let (source, external_id, profile) = local_user(&db, "ada@legacy.test").expect("migrated");
    assert_eq!(source, "migrated");
    assert!(!external_id.is_empty(), "the provider's sub");
    assert_eq!(profile["name"], "Ada Lovelace");
    assert_eq!((profile["given_name"].clone(), profile["family_name"].clone()), (json!("Ada"), json!("Lovelace")));
    assert_eq!(profile["username"], "ada");
    assert_eq!(profile["email_verified"], true);
    assert_eq!(profile["user_metadata"], json!({"locale": "en-GB"}));
    assert_eq!(profile["app_metadata"], json!({"roles": ["admin"]}));

    // An inactive account is refused by the provider: nothing moves over.
    assert_eq!(login(&mut app, "off@legacy.test", PASSWORD), Ok((false, "invalid_credentials".into())));
    assert_eq!(local_user(&db, "off@legacy.test"), None);

    // The provider gone, a migrated user still logs in: later logins never touch it.
    drop(server);
    assert_eq!(login(&mut app, "ada@legacy.test", PASSWORD), Ok((true, "authenticated".into())));
    assert_nothing_secret_kept(&db, &[PASSWORD, "client-secret-1"]);
}

#[test]
fn oidc_client_secret_post_explicit_endpoints_and_a_wrong_client_secret() {
    let server = ProviderServer::oidc(&oidc_users(), "pg_trickle_app", "client-secret-2");
    let db = TestDb::new("provider_oidc_post");
    let settings = |client_auth: &str| {
        json!({"client_id": "pg_trickle_app", "client_auth": client_auth,
               "token_endpoint": server.base_url("/realms/acme/token/"), "userinfo_endpoint": server.base_url("/realms/acme/userinfo/")})
    };
    let mut app = db.member_of("trickle_app");

    // A wrong client secret is pg_trickle's configuration, not the user's password: a class-08 error naming the
    // settings, never the secret.
    import_from_provider(
        &db,
        "oidc",
        &server.base_url("/realms/acme"),
        &settings("client_secret_basic"),
        Some("not-the-secret"),
    );
    let err = app.query_one("SELECT ok FROM auth.login('ada@legacy.test', $1)", &[&PASSWORD]).unwrap_err();
    assert_eq!(sqlstate(&err), "08004", "{err}");
    let shown = format!("{err:?}");
    assert!(shown.contains("provider_secret") && !shown.contains("not-the-secret") && !shown.contains(PASSWORD));

    import_from_provider(
        &db,
        "oidc",
        &server.base_url("/realms/acme"),
        &settings("client_secret_post"),
        Some("client-secret-2"),
    );
    assert_eq!(login(&mut app, "ada@legacy.test", PASSWORD), Ok((true, "migrated".into())));
}

/// The getUser flows through an OIDC provider's admin API: a client-credentials token from the real
/// django-oauth-toolkit, kept per backend, and the user look-up of Auth0's Management API or Keycloak's admin REST
/// API — RECORDINGS of their documented answers served by tests/providers/oidc_server.py behind that token check
/// (neither vendor's server can run here).
#[test]
fn oidc_admin_look_ups_serve_signup_reset_and_migrate() {
    let users = json!([
        {"email": "ada@legacy.test", "password": PASSWORD, "first_name": "Ada", "last_name": "Lovelace",
         "user_metadata": {"theme": "dark"}, "app_metadata": {"plan": "pro"}},
        {"email": "grace@legacy.test", "password": PASSWORD, "first_name": "Grace"}
    ]);
    for (api, external_id_prefix) in [("auth0", "auth0|"), ("keycloak", "kc-")] {
        let server = ProviderServer::oidc(&users, "pg_trickle_app", "client-secret-3");
        let db = TestDb::new(&format!("provider_lookup_{api}"));
        let settings = json!({"client_id": "pg_trickle_app", "admin_lookup": api, "admin_client_id": OIDC_ADMIN.0});
        let mut su = db.superuser();
        su.execute(
            "SELECT auth.configure_http_store($1, contract => 'oidc', provider => $2::text::jsonb,
                                              provider_secret => 'client-secret-3', provider_admin_secret => $3)",
            &[&server.base_url("/realms/acme"), &settings.to_string(), &OIDC_ADMIN.1],
        )
        .unwrap();
        su.batch_execute("SELECT auth.set_import_mode(true)").unwrap();
        let (looks_up, masked): (bool, String) = su
            .query_one("SELECT looks_up_users, http_provider_admin_secret FROM auth.import_configuration", &[])
            .map(|r| (r.get(0), r.get(1)))
            .unwrap();
        assert!(looks_up, "{api}");
        assert_eq!(masked, "********");

        let mut app = db.member_of("trickle_app");
        let err = app.query_one("SELECT auth.signup('ada@legacy.test', 'a-new-password-1')", &[]).unwrap_err();
        assert_eq!(sqlstate(&err), "23505", "{api}: the provider has ada");
        let mut admin = db.member_of("trickle_admin");
        let profile: Value = admin.query_one("SELECT auth.migrate('ada@legacy.test')", &[]).unwrap().get(0);
        assert!(profile["external_id"].as_str().unwrap().starts_with(external_id_prefix), "{api}: {profile}");
        assert_eq!(profile["name"], "Ada Lovelace", "{api}");
        let before = server.token_requests("client_credentials");
        let err = admin.query_one("SELECT auth.migrate('nobody@legacy.test')", &[]).unwrap_err();
        assert_eq!(sqlstate(&err), "P0002", "{api}");
        let _: Value = admin.query_one("SELECT auth.migrate('grace@legacy.test')", &[]).unwrap().get(0);
        assert_eq!(server.token_requests("client_credentials"), before, "{api}: the backend's token is reused");
        // A migrated profile has no password yet: the first login is checked by the provider's password grant.
        assert_eq!(login(&mut app, "ada@legacy.test", PASSWORD), Ok((true, "migrated".into())), "{api}");
        let (_, _, profile) = local_user(&db, "ada@legacy.test").unwrap();
        match api {
            "auth0" => assert_eq!(
                (profile["user_metadata"].clone(), profile["app_metadata"].clone()),
                (json!({"theme": "dark"}), json!({"plan": "pro"}))
            ),
            _ => assert_eq!(profile["user_metadata"], json!({"theme": ["dark"]})),
        }

        // A wrong admin secret: the look-up fails (08004) rather than answering "nobody".
        su.execute(
            "SELECT auth.configure_http_store($1, contract => 'oidc', provider => $2::text::jsonb,
                                              provider_secret => 'client-secret-3', provider_admin_secret => 'wrong')",
            &[&server.base_url("/realms/acme"), &settings.to_string()],
        )
        .unwrap();
        let err = admin.query_one("SELECT auth.migrate('someone@legacy.test')", &[]).unwrap_err();
        assert_eq!(sqlstate(&err), "08004", "{api}: {err}");
        assert!(!format!("{err:?}").contains("wrong"));
    }
}

fn firebase_users() -> Value {
    json!([
        {"email": "ada@legacy.test", "password": PASSWORD, "displayName": "Ada Lovelace", "emailVerified": true,
         "photoUrl": "https://legacy.test/ada.png", "customAttributes": {"plan": "pro", "admin": true}},
        {"email": "off@legacy.test", "password": PASSWORD, "disabled": true}
    ])
}

#[test]
fn firebase_sign_in_migrates_with_the_account_profile_then_logins_stay_local() {
    let server = ProviderServer::firebase(&firebase_users());
    let db = TestDb::new("provider_firebase");
    let base = server.base_url("/identitytoolkit.googleapis.com");
    import_from_provider(&db, "firebase", &base, &Value::Null, Some("demo-web-api-key"));
    let mut app = db.member_of("trickle_app");

    assert_eq!(login(&mut app, "ada@legacy.test", "wrong-password"), Ok((false, "invalid_credentials".into())));
    assert_eq!(login(&mut app, "nobody@legacy.test", PASSWORD), Ok((false, "invalid_credentials".into())));
    assert_eq!(login(&mut app, "ada@legacy.test", PASSWORD), Ok((true, "migrated".into())));
    let (_, external_id, profile) = local_user(&db, "ada@legacy.test").expect("migrated");
    assert!(external_id.len() >= 20, "Firebase's localId: {external_id}");
    assert_eq!(profile["name"], "Ada Lovelace");
    assert_eq!(profile["picture"], "https://legacy.test/ada.png");
    assert_eq!(profile["email_verified"], true);
    assert_eq!(profile["app_metadata"], json!({"plan": "pro", "admin": true}), "custom claims");

    assert_eq!(login(&mut app, "off@legacy.test", PASSWORD), Ok((false, "invalid_credentials".into())));
    assert_eq!(event_outcomes(&db, "off@legacy.test"), ["disabled"]);

    drop(server);
    assert_eq!(login(&mut app, "ada@legacy.test", PASSWORD), Ok((true, "authenticated".into())));
    assert_nothing_secret_kept(&db, &[PASSWORD, "demo-web-api-key"]);
}

/// Users who never log in come over from a `firebase auth:export` file with the documented script
/// (docs/providers/firebase-export.sql), run as the page says; their Firebase scrypt hashes (Firebase's own published
/// sample) are verified at their first login and replaced with argon2id.
#[test]
fn a_firebase_auth_export_imports_with_its_scrypt_hashes() {
    let (password, hash, params) = reference_vector("firebase_scrypt", 0);
    let export = json!({"users": [
        {"localId": "fb-1", "email": "Ada@Legacy.test", "emailVerified": true, "displayName": "Ada Lovelace",
         "passwordHash": hash, "salt": params["salt"], "customAttributes": "{\"plan\": \"pro\"}",
         "createdAt": "1700000000000", "providerUserInfo": [{"providerId": "password"}]},
        {"localId": "fb-2", "email": "off@legacy.test", "passwordHash": hash, "salt": params["salt"], "disabled": true},
        {"localId": "fb-3", "email": "google-only@legacy.test", "providerUserInfo": [{"providerId": "google.com"}]}
    ]});
    let file = TempFile::with_contents("firebase-export.json", &export.to_string());
    // The server reads it (as the postgres user).
    std::fs::set_permissions(&file.path, std::os::unix::fs::PermissionsExt::from_mode(0o644)).unwrap();
    let db = TestDb::new("provider_firebase_export");
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/providers/firebase-export.sql");
    let arg =
        |name: &str, value: &Value| format!("{name}={}", value.as_str().map_or(value.to_string(), str::to_string));
    let printed = db.psql(&[
        "-v",
        &format!("export_file={}", file.path.display()),
        "-v",
        &arg("signer_key", &params["signer_key"]),
        "-v",
        &arg("salt_separator", &params["salt_separator"]),
        "-v",
        &arg("rounds", &params["rounds"]),
        "-v",
        &arg("mem_cost", &params["mem_cost"]),
        "-f",
        script,
    ]);
    assert!(printed.contains("disabled"), "the disabled user is rejected with its reason: {printed}");

    let mut app = db.member_of("trickle_app");
    assert_eq!(login(&mut app, "ada@legacy.test", "wrong-password"), Ok((false, "invalid_credentials".into())));
    assert_eq!(login(&mut app, "ada@legacy.test", &password), Ok((true, "authenticated".into())));
    let (source, external_id, profile) = local_user(&db, "ada@legacy.test").expect("imported");
    assert_eq!((source.as_str(), external_id.as_str()), ("imported", "fb-1"));
    assert_eq!(profile["app_metadata"], json!({"plan": "pro"}));
    let format: String = db
        .superuser()
        .query_one("SELECT password_format FROM auth.users WHERE email = 'ada@legacy.test'", &[])
        .unwrap()
        .get(0);
    assert_eq!(format, "argon2id", "rehashed at the first login");
    assert_eq!(local_user(&db, "off@legacy.test"), None);
    assert!(local_user(&db, "google-only@legacy.test").is_some(), "no password: moves over by a reset");
    let leftover: i64 = db
        .superuser()
        .query_one("SELECT count(*) FROM pg_class WHERE relname = 'pg_trickle_firebase_export'", &[])
        .unwrap()
        .get(0);
    assert_eq!(leftover, 0, "the staging table with the hashes is gone");
}

/// The getUser flows through Firebase's admin `accounts:lookup`, as a service account: its JWT is signed here with a
/// key made by openssl and exchanged at its `token_uri` — a RECORDING of Google's documented token answer (Google's
/// token service cannot run here), which hands back the emulator's administrator token — and the look-up itself is
/// the real Authentication emulator's.
#[test]
fn firebase_admin_look_ups_serve_signup_and_migrate() {
    let server = ProviderServer::firebase(&firebase_users());
    let db = TestDb::new("provider_firebase_lookup");
    let key = std::process::Command::new("openssl")
        .args(["genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"])
        .output()
        .expect("openssl genpkey");
    let token_uri = answering_anything(
        200,
        "application/json",
        r#"{"access_token": "owner", "expires_in": 3599, "token_type": "Bearer"}"#,
    );
    let service_account = json!({"type": "service_account", "project_id": "demo-trickle",
                                 "client_email": "pg-trickle@demo-trickle.iam.gserviceaccount.com",
                                 "private_key": String::from_utf8(key.stdout).unwrap(), "token_uri": token_uri});
    let mut su = db.superuser();
    su.execute(
        "SELECT auth.configure_http_store($1, contract => 'firebase', provider_secret => 'demo-web-api-key',
                                          provider_admin_secret => $2)",
        &[&server.base_url("/identitytoolkit.googleapis.com"), &service_account.to_string()],
    )
    .unwrap();
    su.batch_execute("SELECT auth.set_import_mode(true)").unwrap();
    let mut app = db.member_of("trickle_app");
    let err = app.query_one("SELECT auth.signup('ada@legacy.test', 'a-new-password-1')", &[]).unwrap_err();
    assert_eq!(sqlstate(&err), "23505", "the emulator has ada");
    let mut admin = db.member_of("trickle_admin");
    let profile: Value = admin.query_one("SELECT auth.migrate('ada@legacy.test')", &[]).unwrap().get(0);
    assert_eq!(profile["name"], "Ada Lovelace");
    assert_eq!(profile["app_metadata"], json!({"plan": "pro", "admin": true}));
    let err = admin.query_one("SELECT auth.migrate('nobody@legacy.test')", &[]).unwrap_err();
    assert_eq!(sqlstate(&err), "P0002");
    assert_eq!(login(&mut app, "ada@legacy.test", PASSWORD), Ok((true, "migrated".into())));

    // Not a service account key: refused when configured, the key never echoed.
    let err = su
        .execute(
            "SELECT auth.configure_http_store('https://identitytoolkit.googleapis.com', contract => 'firebase',
                                              provider_secret => 'k', provider_admin_secret => $1)",
            &[&json!({"type": "service_account", "private_key": "sekrit-pem"}).to_string()],
        )
        .unwrap_err();
    assert_eq!(sqlstate(&err), "22023");
    assert!(!format!("{err:?}").contains("sekrit-pem"));
}

fn cognito_users() -> Value {
    json!([
        {"email": "ada@legacy.test", "password": PASSWORD,
         "attributes": {"name": "Ada Lovelace", "given_name": "Ada", "email_verified": "true", "custom:plan": "pro"}},
        {"email": "off@legacy.test", "password": PASSWORD, "enabled": false},
        {"email": "new@legacy.test", "password": PASSWORD, "confirmed": false}
    ])
}

#[test]
fn cognito_user_password_auth_migrates_with_the_attributes_then_logins_stay_local() {
    let server = ProviderServer::cognito(&cognito_users(), true);
    let (client_id, client_secret) = (server.announced[0].clone(), server.announced[1].clone());
    let db = TestDb::new("provider_cognito");
    import_from_provider(&db, "cognito", &server.base_url("/"), &json!({"client_id": client_id}), Some(&client_secret));
    let mut app = db.member_of("trickle_app");

    assert_eq!(login(&mut app, "ada@legacy.test", "wrong-password"), Ok((false, "invalid_credentials".into())));
    assert_eq!(login(&mut app, "nobody@legacy.test", PASSWORD), Ok((false, "invalid_credentials".into())));
    assert_eq!(login(&mut app, "ada@legacy.test", PASSWORD), Ok((true, "migrated".into())));
    let (_, external_id, profile) = local_user(&db, "ada@legacy.test").expect("migrated");
    assert_eq!(external_id.len(), 36, "Cognito's sub, a UUID: {external_id}");
    assert_eq!((profile["name"].clone(), profile["given_name"].clone()), (json!("Ada Lovelace"), json!("Ada")));
    assert_eq!(profile["email_verified"], true);
    assert_eq!(profile["user_metadata"], json!({"plan": "pro"}), "custom attributes");

    assert_eq!(login(&mut app, "off@legacy.test", PASSWORD), Ok((false, "invalid_credentials".into())));
    assert_eq!(event_outcomes(&db, "off@legacy.test"), ["disabled"]);
    // A user who must set a new password answers a challenge, not tokens: the password grant cannot pass it.
    assert_eq!(login(&mut app, "new@legacy.test", PASSWORD), Ok((false, "invalid_credentials".into())));
    assert_eq!(event_outcomes(&db, "new@legacy.test"), ["provider_step_required"]);
    assert_eq!(local_user(&db, "new@legacy.test"), None);

    drop(server);
    assert_eq!(login(&mut app, "ada@legacy.test", PASSWORD), Ok((true, "authenticated".into())));
    assert_nothing_secret_kept(&db, &[PASSWORD, &client_secret]);
}

/// Each preset, pointed at a provider that is down, hangs, answers 503, garbage or HTML: the same bounded class-08
/// errors as any HTTP store, nothing inserted; a hang is cut by statement_timeout and by a cancel.
#[test]
fn provider_faults_are_bounded_class_08_errors_and_cancel_is_honoured() {
    let db = TestDb::new("provider_faults");
    let mut app = db.member_of("trickle_app");
    let hanging = LegacyHttpStore::start(&json!([]));
    hanging.set_mode(json!({"mode": "hang"}));
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}", listener.local_addr().unwrap())
    };
    let peers = [
        (closed, "08001"),
        (answering_anything(503, "application/json", r#"{"error": "unavailable"}"#), "08004"),
        (answering_anything(200, "application/json", r#"{"access_token": "#), "08P01"),
        (answering_anything(200, "text/html", "<html>sign in</html>"), "08P01"),
        (hanging.base_url.clone(), "08006"),
    ];
    let presets = |base: &str| {
        [
            (
                "oidc",
                json!({"client_id": "c", "token_endpoint": format!("{base}/token"),
                            "userinfo_endpoint": format!("{base}/userinfo")}),
                Some("s"),
            ),
            ("firebase", Value::Null, Some("api-key")),
            ("cognito", json!({"client_id": "c"}), None),
        ]
    };
    for (base, expected) in &peers {
        for (contract, settings, secret) in presets(base) {
            db.superuser()
                .execute(
                    "SELECT auth.configure_http_store($1, contract => $2, provider => $3::text::jsonb,
                                                      provider_secret => $4, timeout_ms => 400, connect_timeout_ms => 200)",
                    &[base, &contract, &settings.to_string(), &secret],
                )
                .unwrap();
            db.superuser().batch_execute("SELECT auth.set_import_mode(true)").unwrap();
            let started = Instant::now();
            let err = app.query_one("SELECT ok FROM auth.login('ada@legacy.test', $1)", &[&PASSWORD]).unwrap_err();
            assert_eq!(sqlstate(&err), *expected, "{contract} at {base}: {err}");
            assert!(started.elapsed() < Duration::from_millis(400 + 600), "{contract}: {:?}", started.elapsed());
            assert!(!format!("{err:?}").contains(PASSWORD));
        }
    }
    let users: i64 = db.superuser().query_one("SELECT count(*) FROM auth.users", &[]).unwrap().get(0);
    assert_eq!(users, 0, "no fault inserts anything");

    // The hanging provider, each preset: statement_timeout, then a cancel, stop the wait promptly.
    for (contract, settings, secret) in presets(&hanging.base_url) {
        db.superuser()
            .execute(
                "SELECT auth.configure_http_store($1, contract => $2, provider => $3::text::jsonb,
                                                  provider_secret => $4, timeout_ms => 60000)",
                &[&hanging.base_url, &contract, &settings.to_string(), &secret],
            )
            .unwrap();
        app.batch_execute("SET statement_timeout = 300").unwrap();
        let started = Instant::now();
        let err = app.query_one("SELECT ok FROM auth.login('ada@legacy.test', $1)", &[&PASSWORD]).unwrap_err();
        assert_eq!(sqlstate(&err), "57014", "{contract}");
        assert!(
            started.elapsed() < Duration::from_millis(400),
            "{contract}: statement_timeout after {:?}",
            started.elapsed()
        );
        app.batch_execute("RESET statement_timeout").unwrap();
        let (err, after) =
            cancelled_after_300_ms(&db, &mut app, "SELECT ok FROM auth.login('ada@legacy.test', $1)", &[&PASSWORD]);
        assert_eq!(sqlstate(&err), "57014", "{contract}");
        assert!(after < Duration::from_millis(100), "{contract}: cancel honoured after {after:?}");
    }
}

/// Settings are checked before they are stored; the secret is masked; without an admin look-up the getUser flows do
/// not ask a provider (signup relies on the local table), and auth.import_configuration says so.
#[test]
fn provider_configuration_is_checked_masked_and_says_getuser_is_local_only() {
    let db = TestDb::new("provider_config");
    let mut su = db.superuser();
    let configure = |su: &mut Client, contract: &str, settings: &str, secret: Option<&str>, extra: &str| {
        su.execute(
            &format!(
                "SELECT auth.configure_http_store('https://id.example.org/', contract => $1,
                                                       provider => $2::text::jsonb, provider_secret => $3 {extra})"
            ),
            &[&contract, &settings, &secret],
        )
        .map(drop)
        .map_err(|e| (sqlstate(&e), format!("{e:?}")))
    };
    let refused = [
        ("oidc", "{}", Some("s"), "", "client_id"),
        ("oidc", r#"{"client_id": "c", "clientsecret": "x"}"#, Some("s"), "", "unknown oidc setting"),
        ("oidc", r#"{"client_id": "c", "token_parameters": {"grant_type": "x"}}"#, None, "", "token_parameters"),
        ("firebase", "null", None, "", "Web API key"),
        (
            "cognito",
            r#"{"client_id": "c"}"#,
            Some("sekrit-value"),
            ", auth_kind => 'bearer', auth_secret => 't'",
            "auth_kind none",
        ),
        ("pg_trickle", r#"{"client_id": "c"}"#, None, "", "identity provider contract only"),
        ("okta", "null", None, "", "unknown contract"),
    ];
    for (contract, settings, secret, extra, says) in refused {
        let (code, message) = configure(&mut su, contract, settings, secret, extra).unwrap_err();
        assert_eq!(code, "22023", "{contract} {settings}: {message}");
        assert!(message.contains(says), "{contract} {settings}: {message}");
        assert!(!message.contains("sekrit-value"));
    }
    configure(
        &mut su,
        "oidc",
        r#"{"client_id": "c", "token_parameters": {"audience": "api"}}"#,
        Some("sekrit-value"),
        "",
    )
    .unwrap();
    let row = su
        .query_one(
            "SELECT http_contract, http_provider, http_provider_secret, looks_up_users FROM auth.import_configuration",
            &[],
        )
        .unwrap();
    assert_eq!(row.get::<_, String>(0), "oidc");
    assert_eq!(row.get::<_, Value>(1)["token_parameters"], json!({"audience": "api"}));
    assert_eq!(row.get::<_, String>(2), "********");
    assert!(!row.get::<_, bool>(3), "no getUser through a provider");

    // Signup for an email only the provider knows goes by the local table: the provider (unreachable here) is
    // not asked.
    su.batch_execute("SELECT auth.set_import_mode(true)").unwrap();
    let mut app = db.member_of("trickle_app");
    let created = app.query_one("SELECT auth.signup('someone@legacy.test', 'a-new-password-1')::text", &[]);
    assert!(created.is_ok(), "{created:?}");
    assert_eq!(local_user(&db, "someone@legacy.test").map(|(source, _, _)| source).as_deref(), Some("native"));
}
