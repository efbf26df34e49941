//! The security boundary, attacked end to end: each test replays an attack seen against 0.2.0 as a trickle_admin
//! member, an application role or the owner of a configured view, and checks that it fails with its documented
//! SQLSTATE, that no role's attributes change, that the backend and a bystander survive, and that nothing secret
//! comes back.

use pg_trickle_e2e::postgres::Client;
use pg_trickle_e2e::{connect_as, server_log, sqlstate, LegacyDb, LegacyHttpStore, TestDb};
use serde_json::{json, Value};

/// A login role of its own for one test (roles are cluster-wide; tests run in parallel).
fn role(db: &TestDb, label: &str, member_of: &str) -> (String, Client) {
    let name = format!("sec_{label}_{}", std::process::id());
    let grant = if member_of.is_empty() { String::new() } else { format!(" IN ROLE {member_of}") };
    db.superuser()
        .batch_execute(&format!(
            "DO $$ BEGIN
               IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{name}') THEN
                 CREATE ROLE {name} LOGIN{grant};
               END IF;
             END $$;
             GRANT CREATE, USAGE ON SCHEMA public TO {name};"
        ))
        .expect("create the test role");
    let client = connect_as(&db.name, &name).expect("connect as the test role");
    (name, client)
}

fn is_superuser(db: &TestDb, role: &str) -> bool {
    db.superuser().query_one("SELECT rolsuper FROM pg_roles WHERE rolname = $1", &[&role]).unwrap().get(0)
}

fn error(result: Result<impl Sized, pg_trickle_e2e::postgres::Error>) -> (String, String) {
    let err = result.err().expect("the attack must fail");
    let message = err.as_db_error().map(|e| e.message().to_string()).unwrap_or_default();
    (sqlstate(&err), message)
}

/// The backend that ran the attack and an unrelated session both still work.
fn both_survive(attacker: &mut Client, db: &TestDb) {
    let one: i32 = attacker.query_one("SELECT 1", &[]).expect("the attacker's backend survives").get(0);
    let two: i32 = db.superuser().query_one("SELECT 2", &[]).expect("a bystander's session works").get(0);
    assert_eq!((one, two), (1, 2));
}

const ESCALATE: &str = "CREATE FUNCTION {schema}.escalate() RETURNS text LANGUAGE plpgsql AS $f$
     BEGIN EXECUTE format('ALTER ROLE %I SUPERUSER', session_user); RETURN 'x@example.org'; END $f$;";

#[test]
fn a_temporary_view_handed_to_import_users_is_refused_and_escalates_nothing() {
    let db = TestDb::new("sec_temp_view");
    let (name, mut admin) = role(&db, "tempview", "trickle_admin");
    admin.batch_execute(&ESCALATE.replace("{schema}", "pg_temp")).unwrap();
    admin
        .batch_execute("CREATE TEMP VIEW hostile AS SELECT pg_temp.escalate() AS mail, '1' AS uid, 'x' AS pw;")
        .unwrap();
    let mapping = json!({"email": "mail", "id": "uid", "password_hash": "pw"});
    let attack = admin.query_one("SELECT * FROM auth.import_users('pg_temp.hostile', $1)", &[&mapping]);
    assert_eq!(error(attack).0, "42809", "a temporary relation is unfit");
    assert!(!is_superuser(&db, &name));
    both_survive(&mut admin, &db);
}

#[test]
fn code_in_an_imported_view_runs_with_the_caller_s_rights_in_a_restricted_operation() {
    let db = TestDb::new("sec_view_import");
    let (name, mut admin) = role(&db, "viewimport", "trickle_admin");
    admin.batch_execute(&ESCALATE.replace("{schema}", "public")).unwrap();
    admin
        .batch_execute("CREATE VIEW public.hostile AS SELECT public.escalate() AS mail, '1' AS uid, 'x' AS pw")
        .unwrap();
    let mapping = json!({"email": "mail", "id": "uid", "password_hash": "pw"});
    let (state, _) = error(admin.query_one("SELECT * FROM auth.import_users('public.hostile', $1)", &[&mapping]));
    assert_eq!(state, "42501", "ALTER ROLE ran as the caller and was refused");
    assert!(!is_superuser(&db, &name));

    // A view that plants a temporary object (to shadow names in pg_temp later) is stopped by the restricted
    // operation, as are changes of role.
    admin
        .batch_execute(
            "CREATE FUNCTION public.plant() RETURNS text LANGUAGE plpgsql AS $f$
               BEGIN CREATE TEMP TABLE planted (x text); RETURN 'a@b.c'; END $f$;
             CREATE VIEW public.planter AS SELECT public.plant() AS mail, '1' AS uid, 'x' AS pw;",
        )
        .unwrap();
    let (state, message) = error(admin.query_one("SELECT * FROM auth.import_users('public.planter', $1)", &[&mapping]));
    assert_eq!(state, "42501", "{message}");
    assert!(message.contains("security-restricted"), "{message}");
    both_survive(&mut admin, &db);
}

#[test]
fn the_owner_of_a_configured_view_gains_nothing_when_any_application_user_logs_in() {
    let legacy = LegacyDb::create("CREATE TABLE users (uid text, mail text, pw text)");
    let db = TestDb::new("sec_view_login");
    legacy.attach_to(&db);
    let (owner, mut view_owner) = role(&db, "viewowner", "");
    db.superuser()
        .batch_execute(&format!("GRANT USAGE ON SCHEMA legacy TO {owner}; GRANT SELECT ON legacy.users TO {owner}"))
        .unwrap();
    view_owner.batch_execute(&ESCALATE.replace("{schema}", "public")).unwrap();
    view_owner
        .batch_execute(
            "CREATE VIEW public.legacy_view AS SELECT uid, mail, pw FROM legacy.users
                 UNION ALL SELECT '1', public.escalate(), 'x';
             GRANT SELECT ON public.legacy_view TO trickle_admin;
             GRANT EXECUTE ON FUNCTION public.escalate() TO trickle_admin;",
        )
        .unwrap();
    db.superuser()
        .batch_execute(
            r#"SELECT auth.configure_fdw_store('public.legacy_view', '{"email": "mail", "id": "uid", "password_hash": "pw"}');
               SELECT auth.set_import_mode(true);"#,
        )
        .unwrap();
    let reader: String =
        db.superuser().query_one("SELECT fdw_reader::text FROM auth.import_configuration", &[]).unwrap().get(0);
    assert_eq!(reader, "trickle_admin", "a superuser's configuration is read as trickle_admin, never as itself");

    let mut app = db.member_of("trickle_app");
    let (state, _) = error(app.query_one("SELECT * FROM auth.login('stranger@example.org', 'pw')", &[]));
    assert_eq!(state, "42501", "the view's ALTER ROLE ran as the reader and was refused");
    assert!(!is_superuser(&db, &owner));
    assert!(!is_superuser(&db, "trickle_admin"));
    both_survive(&mut app, &db);
}

#[test]
fn catalogs_pg_trickle_s_tables_and_unreadable_relations_are_refused_and_rejections_echo_nothing() {
    let db = TestDb::new("sec_catalogs");
    db.superuser()
        .batch_execute(
            "SELECT auth.configure_http_store('http://127.0.0.1:9/', auth_kind => 'bearer', auth_secret => 'store-secret-value');
             CREATE TABLE public.private_users (uid text, mail text, pw text);
             INSERT INTO public.private_users VALUES ('private-id-value', 'not an email', 'x');",
        )
        .unwrap();
    let (_, mut admin) = role(&db, "catalogs", "trickle_admin");
    let mapping = json!({"email": "rolname", "id": "oid", "password_hash": "rolpassword"});
    for relation in ["pg_catalog.pg_authid", "auth.import_config", "auth.users"] {
        let attack = admin.query_one("SELECT * FROM auth.import_users($1, $2)", &[&relation, &mapping]);
        let (state, message) = error(attack);
        assert_eq!(state, "42809", "{relation}: {message}");
        let configure = admin.execute("SELECT auth.configure_fdw_store($1, $2)", &[&relation, &mapping]);
        assert_eq!(error(configure).0, "42809", "{relation}");
    }
    let private = json!({"email": "mail", "id": "uid", "password_hash": "pw"});
    let (state, _) = error(admin.query_one("SELECT * FROM auth.import_users('public.private_users', $1)", &[&private]));
    assert_eq!(state, "42501", "the caller may not SELECT it");

    // A relation the caller may read: rejections name the row and reason, never a source value.
    db.superuser().batch_execute("GRANT SELECT ON public.private_users TO trickle_admin").unwrap();
    let rejections: Value = admin
        .query_one("SELECT rejections FROM auth.import_users('public.private_users', $1)", &[&private])
        .unwrap()
        .get(0);
    assert_eq!(rejections, json!([{"row": 1, "reason": "invalid_email"}]));
    let shown: Value = admin.query_one("SELECT to_jsonb(c) FROM auth.import_configuration AS c", &[]).unwrap().get(0);
    assert!(!shown.to_string().contains("store-secret-value"));
    both_survive(&mut admin, &db);
}

#[test]
fn an_admin_cannot_write_auth_users_or_read_hashes_directly() {
    let db = TestDb::new("sec_admin_tables");
    let mut app = db.member_of("trickle_app");
    app.query_one("SELECT auth.signup('local@example.org', 'a-local-password')", &[]).unwrap();
    let (_, mut admin) = role(&db, "tables", "trickle_admin");
    let attacks = [
        "UPDATE auth.users SET password_hash = NULL, password_format = NULL",
        "SELECT password_hash FROM auth.users",
        "SELECT * FROM auth.password_reset_tokens",
        "INSERT INTO auth.users (email) VALUES ('forged@example.org')",
    ];
    for attack in attacks {
        assert_eq!(error(admin.batch_execute(attack)).0, "42501", "{attack}");
    }
    let n: i64 =
        admin.query_one("SELECT count(*) FROM auth.users WHERE password_format = 'argon2id'", &[]).unwrap().get(0);
    assert_eq!(n, 1, "admins still see who has a local password");
}

#[test]
fn plain_http_stores_off_loopback_need_an_explicit_and_visible_allow_insecure() {
    let db = TestDb::new("sec_http");
    let (_, mut admin) = role(&db, "http", "trickle_admin");
    let refused = admin.execute("SELECT auth.configure_http_store('http://legacy.example.org/api')", &[]);
    assert_eq!(error(refused).0, "22023");
    admin
        .execute("SELECT auth.configure_http_store('http://legacy.example.org/api', allow_insecure => true)", &[])
        .unwrap();
    let shown: bool = admin.query_one("SELECT http_allow_insecure FROM auth.import_configuration", &[]).unwrap().get(0);
    assert!(shown);
    admin.execute("SELECT auth.configure_http_store('http://127.0.0.1:9/')", &[]).unwrap();
    let shown: bool = admin.query_one("SELECT http_allow_insecure FROM auth.import_configuration", &[]).unwrap().get(0);
    assert!(!shown, "loopback needs no exception");

    // A secret given in an enumerated argument is not echoed back.
    let (state, message) = error(admin.execute(
        "SELECT auth.configure_http_store('https://legacy.example.org/', auth_kind => 'sk_live_secret_value')",
        &[],
    ));
    assert_eq!(state, "22023");
    assert!(!message.contains("sk_live_secret_value"), "{message}");
}

/// Hashes whose verification would take minutes or abort the server, each reaching a login by another way.
#[test]
fn hostile_hashes_are_refused_at_import_and_fail_logins_fast_without_hurting_the_server() {
    let db = TestDb::new("sec_hashes");
    let mut su = db.superuser();
    let started: Value = su.query_one("SELECT to_jsonb(pg_postmaster_start_time())", &[]).unwrap().get(0);
    let hostile = [
        ("scrypt@example.org", "$scrypt$ln=22,r=1024,p=1$c2FsdA$aGFzaGhhc2hoYXNo"),
        ("bcrypt@example.org", "$2b$20$abcdefghijklmnopqrstuuabcdefghijklmnopqrstuvwxyz01234"),
        (
            "argon2@example.org",
            "$argon2id$v=19$m=1048576,t=64,p=1$c29tZXNhbHQ$jacJHQ+PoBstB/ZoVNk8re3s1yzVABZujceGiwVNJnk",
        ),
        ("pbkdf2@example.org", "$pbkdf2-sha512$i=10000000,l=1024$c2FsdA$aGFzaA"),
        ("phpass@example.org", "$P$Babcdefé0123456789012345678901"),
    ];
    // Auth0's password_hash is bcrypt: the bcrypt row is too costly, the others are not bcrypt at all.
    let users: Vec<Value> = hostile
        .iter()
        .enumerate()
        .map(|(i, (email, hash))| json!({"email": email, "user_id": format!("u{i}"), "password_hash": hash}))
        .collect();
    let row = su
        .query_one("SELECT inserted, rejected, rejections FROM auth.import_users_json($1)", &[&json!(users)])
        .unwrap();
    let (inserted, rejected, rejections): (i64, i64, Value) = (row.get(0), row.get(1), row.get(2));
    assert_eq!((inserted, rejected), (0, 5), "{rejections}");
    assert!(rejections.to_string().contains("hash_too_costly"), "{rejections}");
    for (_, hash) in &hostile {
        assert!(!rejections.to_string().contains(hash), "rejections never quote a hash");
    }
    // Through a relation, each in its own format: refused for its cost, at import time.
    su.batch_execute("CREATE TABLE public.hostile (uid text, mail text, pw text, algo text)").unwrap();
    for (i, (email, hash)) in hostile.iter().enumerate() {
        let format = ["scrypt", "bcrypt", "argon2", "pbkdf2", "phpass"][i];
        su.execute("INSERT INTO public.hostile VALUES ($1, $2, $3, $4)", &[&format!("h{i}"), email, hash, &format])
            .unwrap();
    }
    su.batch_execute("GRANT SELECT ON public.hostile TO trickle_admin").unwrap();
    let mapping = json!({"email": "mail", "id": "uid", "password_hash": "pw", "hash_format_column": "algo"});
    let rejections: Value =
        su.query_one("SELECT rejections FROM auth.import_users('public.hostile', $1)", &[&mapping]).unwrap().get(0);
    let reasons: Vec<&str> = rejections.as_array().unwrap().iter().map(|r| r["reason"].as_str().unwrap()).collect();
    assert_eq!(reasons, ["hash_too_costly"; 4], "the phpass row imports: {rejections}");
    let mut app = db.member_of("trickle_app");
    // The phpass hash parses (only its salt holds a multi-byte character) and simply never matches.
    let phpass = app.query_one("SELECT status FROM auth.login('phpass@example.org', 'pw')", &[]).unwrap();
    assert_eq!(phpass.get::<_, String>(0), "invalid_credentials");

    // Hashes written around the import (a restored dump, an older release): logins fail, nothing more.
    for (i, (email, hash)) in hostile.iter().take(4).enumerate() {
        let format = ["scrypt", "bcrypt", "argon2", "pbkdf2"][i];
        su.execute(
            "INSERT INTO auth.users (email, password_hash, password_format, source) VALUES ($1, $2, $3, 'imported')",
            &[email, hash, &format],
        )
        .unwrap();
        let status: String = app.query_one("SELECT status FROM auth.login($1, 'pw')", &[email]).unwrap().get(0);
        assert_eq!(status, "invalid_credentials", "{email}");
    }
    su.execute(
        "INSERT INTO auth.users (email, password_hash, password_format) VALUES ('costly@example.org', $1, 'argon2id')",
        &[&"$argon2id$v=19$m=19456,t=1000,p=1$c29tZXNhbHQ$jacJHQ+PoBstB/ZoVNk8re3s1yzVABZujceGiwVNJnk"],
    )
    .unwrap();
    let status: String =
        app.query_one("SELECT status FROM auth.login('costly@example.org', 'pw')", &[]).unwrap().get(0);
    assert_eq!(status, "invalid_credentials", "a local hash beyond the bounds is a failed login");

    let (state, message) =
        error(su.query_one(
            "SELECT auth.verify_legacy_hash('pw', $1)",
            &[&"$scrypt$ln=22,r=1024,p=1$c2FsdA$aGFzaGhhc2hoYXNo"],
        ));
    assert_eq!(state, "22023");
    assert!(!message.contains("c2FsdA"), "{message}");
    let still: Value = su.query_one("SELECT to_jsonb(pg_postmaster_start_time())", &[]).unwrap().get(0);
    assert_eq!(still, started, "no backend crashed (a crash restarts every session)");
    both_survive(&mut app, &db);
}

#[test]
fn oversized_input_is_refused_before_any_work() {
    let db = TestDb::new("sec_input");
    let mut app = db.member_of("trickle_app");
    let huge = format!("{}@example.org", "Ä".repeat(50_000_000));
    let (state, message) = error(app.query_one("SELECT * FROM auth.login($1, 'pw')", &[&huge]));
    assert_eq!(state, "22023", "{}", &message[..message.len().min(200)]);
    let padded = format!("{}ada@example.org", " ".repeat(2000));
    assert_eq!(error(app.query_one("SELECT * FROM auth.login($1, 'pw')", &[&padded])).0, "22023");
    // jsonb that PostgreSQL accepts but no JSON library reads as is: deep nesting, a number beyond a double.
    let deep = format!("{}1{}", "[".repeat(5000), "]".repeat(5000));
    for patch in [format!("{{\"a\": {deep}}}"), r#"{"a": 1e1000}"#.to_string()] {
        let attack = app.query_one("SELECT auth.update_user_metadata('ada@example.org', $1::text::jsonb)", &[&patch]);
        let (state, message) = error(attack);
        assert_eq!(state, "22023", "{message}");
        let signup =
            app.query_one("SELECT auth.signup('ada@example.org', 'a-long-password', $1::text::jsonb)", &[&patch]);
        assert_eq!(error(signup).0, "22023");
    }
    let long_token = "t".repeat(10_000);
    assert_eq!(error(app.execute("SELECT auth.reset_password($1, 'new-password-1')", &[&long_token])).0, "22001");
    both_survive(&mut app, &db);
}

/// PBKDF2 and phpass work is split, so statement_timeout and pg_cancel_backend stop a costly verification.
#[test]
fn a_costly_admitted_hash_gives_way_to_statement_timeout() {
    let db = TestDb::new("sec_cancel");
    let digest = "A".repeat(86); // 64 bytes of base64: a well-formed hash no password matches
    let hash = format!("$pbkdf2-sha512$i=1999999,l=64$c2FsdHNhbHQ${digest}");
    db.superuser()
        .execute(
            "INSERT INTO auth.users (email, password_hash, password_format, source) VALUES ('slow@example.org', $1, 'pbkdf2', 'imported')",
            &[&hash],
        )
        .unwrap();
    let mut app = db.member_of("trickle_app");
    app.batch_execute("SET statement_timeout = '200ms'").unwrap();
    let (state, _) = error(app.query_one("SELECT * FROM auth.login('slow@example.org', 'guess')", &[]));
    assert_eq!(state, "57014", "the verification stopped at the timeout");
    app.batch_execute("RESET statement_timeout").unwrap();
    both_survive(&mut app, &db);
}

/// Secrets passed as bind parameters, as docs/security.md asks of applications, reach no log line: not in
/// pg_trickle's own LOG lines, not in the messages of the errors they cause.
#[test]
fn secrets_reach_no_log_line() {
    let db = TestDb::new("sec_log");
    let mut su = db.superuser();
    let marker = format!("MARKER{}x", std::process::id());
    let secret = format!("secret-{marker}");
    su.execute(
        "SELECT auth.configure_http_store('http://127.0.0.1:9/', auth_kind => 'bearer', auth_secret => $1)",
        &[&secret],
    )
    .unwrap();
    let wrong_place =
        su.execute("SELECT auth.configure_http_store('http://127.0.0.1:9/', auth_kind => $1)", &[&secret]);
    assert!(wrong_place.is_err());
    // An admin in psql writes secrets as literals: pg_trickle's own log line about the configuration must not
    // bring the statement's text into the log (LOG ranks above log_min_error_statement's default).
    su.batch_execute(&format!(
        "SELECT auth.configure_http_store('http://127.0.0.1:9/', auth_kind => 'bearer', auth_secret => 'literal-{marker}');
         SELECT auth.configure_http_store('http://127.0.0.1:9/', contract => 'cognito',
                                          provider => '{{\"client_id\": \"c\"}}', provider_secret => 'literal-{marker}');"
    ))
    .unwrap();
    let hostile = format!("$P$B{marker}ééé");
    su.execute(
        "INSERT INTO auth.users (email, password_hash, password_format, source) VALUES ('logged@example.org', $1, 'phpass', 'imported')",
        &[&hostile],
    )
    .unwrap();
    let mut app = db.member_of("trickle_app");
    let password = format!("password-{marker}");
    app.query_one("SELECT * FROM auth.login('logged@example.org', $1)", &[&password]).unwrap();
    let _ = su.query_one("SELECT auth.verify_legacy_hash($1, $2)", &[&password, &hostile]);
    let _ = app.query_one("SELECT * FROM auth.login($1, $2)", &[&format!("{marker}@"), &password]);
    let log = server_log();
    assert!(log.contains("configured the HTTP legacy store"), "pg_trickle logs store configurations");
    assert!(!log.contains(&marker), "a secret, password or hash reached the server log");
}

/// Legacy stores hold hashes of the empty password (script-made accounts, a blank field) and some stores accept
/// it: nobody takes such an account over by leaving the password blank.
#[test]
fn an_empty_password_never_migrates_or_verifies() {
    let store = LegacyHttpStore::start(&json!([{"user_id": "E-1", "email": "blank@legacy.test", "password": ""}]));
    let db = TestDb::new("sec_empty_password");
    db.import_from(&store.base_url, "");
    let mut app = db.member_of("trickle_app");
    let status: String = app.query_one("SELECT status FROM auth.login('blank@legacy.test', '')", &[]).unwrap().get(0);
    assert_eq!(status, "invalid_credentials");
    assert_eq!(store.requests("POST login"), 0, "an empty password is never sent to the legacy store");

    // An imported hash of the empty password (bcrypt of "", as pyca/bcrypt made it) does not verify either.
    let mut su = db.superuser();
    let (_, empty_bcrypt, _) = pg_trickle_e2e::empty_password_vector("bcrypt");
    let verified: bool =
        su.query_one("SELECT auth.verify_legacy_hash('', $1, 'bcrypt')", &[&empty_bcrypt]).unwrap().get(0);
    assert!(!verified);
    su.execute(
        "INSERT INTO auth.users (email, external_id, password_hash, password_format, source)
         VALUES ('imported@example.org', 'i-1', $1, 'bcrypt', 'imported')",
        &[&empty_bcrypt],
    )
    .unwrap();
    let status: String =
        app.query_one("SELECT status FROM auth.login('imported@example.org', '')", &[]).unwrap().get(0);
    assert_eq!(status, "invalid_credentials");
}

/// A hostile legacy row whose JSON PostgreSQL stores but serde_json cannot read (nested 200 levels) fails that
/// user's login with a clear 08P01, never an internal error, and nobody else's.
#[test]
fn unreadable_json_in_one_legacy_row_affects_that_user_only() {
    let (password, hash, _) = pg_trickle_e2e::reference_vector("md5_crypt", 0);
    let deep = format!("{}1{}", "[".repeat(200), "]".repeat(200));
    let legacy =
        LegacyDb::create("CREATE TABLE users (uid int PRIMARY KEY, mail text, pw text, prefs jsonb, params jsonb);");
    legacy
        .client()
        .execute(
            "INSERT INTO users VALUES (1, 'deep@legacy.test', $1, json_build_object('x', $2::text::jsonb), NULL),
                                      (2, 'fine@legacy.test', $1, '{}', NULL),
                                      (3, 'params@legacy.test', $1, '{}', $2::text::jsonb)",
            &[&hash, &deep],
        )
        .unwrap();
    let db = TestDb::new("sec_deep_legacy_json");
    legacy.attach_to(&db);
    db.superuser()
        .batch_execute(
            r#"SELECT auth.configure_fdw_store('legacy.users', '{"email": "mail", "id": "uid", "password_hash": "pw",
                 "hash_format": "md5_crypt", "user_metadata": "prefs", "hash_params_column": "params"}');
               SELECT auth.set_import_mode(true);"#,
        )
        .unwrap();
    let mut app = db.member_of("trickle_app");
    let err = app.query_one("SELECT status FROM auth.login('deep@legacy.test', $1)", &[&password]).unwrap_err();
    assert_eq!(sqlstate(&err), "08P01", "{err:?}");
    let status: String =
        app.query_one("SELECT status FROM auth.login('params@legacy.test', $1)", &[&password]).unwrap().get(0);
    assert_eq!(status, "invalid_credentials", "unreadable hash parameters: the hash cannot be verified");
    let status: String =
        app.query_one("SELECT status FROM auth.login('fine@legacy.test', $1)", &[&password]).unwrap().get(0);
    assert_eq!(status, "migrated");
}
