//! The FDW adapter end to end: a legacy users table in a second database, reached through a real
//! postgres_fdw server and user mapping; hashes of several formats made by their reference implementations.

use pg_trickle_e2e::postgres::Client;
use pg_trickle_e2e::{event_outcomes, reference_vector, sqlstate, try_login, LegacyDb, TestDb};
use serde_json::{json, Value};
use std::sync::{Arc, Barrier};

const MAPPING: &str = r#"{"email": "mail", "email_case_insensitive": true, "id": "uid", "password_hash": "pw",
    "hash_format_column": "algo", "hash_params_column": "params", "email_verified": "verified",
    "name": "full_name", "user_metadata": "prefs", "app_metadata_columns": ["role", "plan"]}"#;

struct Fixture {
    legacy: LegacyDb,
    db: TestDb,
    /// (email, password) per format, in the legacy table.
    users: Vec<(String, String, String)>,
}

fn fixture(label: &str) -> Fixture {
    let legacy = LegacyDb::create(
        "CREATE TABLE users (uid bigint PRIMARY KEY, mail text NOT NULL, pw text, algo text, params jsonb,
                             verified boolean, full_name text, prefs jsonb, role text, plan text);
         CREATE INDEX users_lower_mail_idx ON users (lower(mail));",
    );
    let mut c = legacy.client();
    let mut users = Vec::new();
    let formats = ["bcrypt", "phpass", "django_pbkdf2_sha256", "md5_crypt", "sha256", "drupal7", "ldap"];
    for (i, format) in formats.iter().enumerate() {
        let (password, hash, params) = reference_vector(format, 0);
        let format = format.to_string();
        let email = format!("User.{i}@Legacy.test");
        c.execute(
            "INSERT INTO users VALUES ($1, $2, $3, $4, $5, true, $6, $7, 'member', 'gold')",
            &[&(i as i64 + 1), &email, &hash, &format, &params, &format!("User {i}"), &json!({"lang": "en", "n": i})],
        )
        .unwrap();
        users.push((format, email.to_lowercase(), password));
    }
    c.batch_execute(
        "INSERT INTO users VALUES (100, 'unknown.format@legacy.test', 'abc', 'rot13', NULL, true, NULL, NULL, NULL, NULL),
                                  (101, 'no.password@legacy.test', NULL, 'bcrypt', NULL, true, NULL, NULL, NULL, NULL),
                                  (102, 'twice@legacy.test', 'x', 'md5', NULL, true, NULL, NULL, NULL, NULL),
                                  (103, 'TWICE@legacy.test', 'y', 'md5', NULL, true, NULL, NULL, NULL, NULL);",
    )
    .unwrap();
    let db = TestDb::new(label);
    legacy.attach_to(&db);
    db.superuser()
        .batch_execute(&format!(
            "SELECT auth.configure_fdw_store('legacy.users', '{MAPPING}'); SELECT auth.set_import_mode(true);"
        ))
        .unwrap();
    Fixture { legacy, db, users }
}

#[test]
fn first_login_verifies_each_legacy_format_and_migrates() {
    let f = fixture("fdw_login");
    let mut app = f.db.member_of("trickle_app");
    for (format, email, password) in &f.users {
        assert_eq!(
            try_login(&mut app, email, &format!("not-{password}")),
            Ok((false, "invalid_credentials".into())),
            "{format}"
        );
        assert_eq!(try_login(&mut app, email, password), Ok((true, "migrated".into())), "{format}");
        assert_eq!(try_login(&mut app, email, password), Ok((true, "authenticated".into())), "{format}");
        assert_eq!(event_outcomes(&f.db, email), ["migrated"], "{format}: a wrong password is counted, not an event");
    }
    let row =
        f.db.superuser()
            .query_one(
                "SELECT source, external_id, name, email_verified, user_metadata, app_metadata, password_format
               FROM auth.users WHERE email = $1",
                &[&f.users[0].1],
            )
            .unwrap();
    assert_eq!(row.get::<_, String>(0), "migrated");
    assert_eq!(row.get::<_, String>(1), "1");
    assert_eq!(row.get::<_, String>(2), "User 0");
    assert!(row.get::<_, bool>(3));
    assert_eq!(row.get::<_, Value>(4), json!({"lang": "en", "n": 0}));
    assert_eq!(row.get::<_, Value>(5), json!({"role": "member", "plan": "gold"}));
    assert_eq!(row.get::<_, String>(6), "argon2id");

    // Unusable legacy rows are wrong credentials to the application, and recorded for the admin.
    assert_eq!(try_login(&mut app, "unknown.format@legacy.test", "abc"), Ok((false, "invalid_credentials".into())));
    assert_eq!(event_outcomes(&f.db, "unknown.format@legacy.test"), ["unverifiable_hash"]);
    assert_eq!(try_login(&mut app, "no.password@legacy.test", "x"), Ok((false, "invalid_credentials".into())));
    assert_eq!(event_outcomes(&f.db, "no.password@legacy.test"), ["no_legacy_password"]);
    assert_eq!(try_login(&mut app, "twice@legacy.test", "x"), Ok((false, "invalid_credentials".into())));
    assert_eq!(event_outcomes(&f.db, "twice@legacy.test"), ["ambiguous_legacy_rows"]);
    let error_class: Option<String> =
        f.db.superuser()
            .query_one("SELECT error_class FROM auth.migration_events WHERE email = 'unknown.format@legacy.test'", &[])
            .unwrap()
            .get(0);
    assert_eq!(error_class.as_deref(), Some("unknown_format"));
}

#[test]
fn mapping_is_validated_against_the_relation() {
    let f = fixture("fdw_mapping");
    let mut admin = f.db.member_of("trickle_admin");
    let configure = |c: &mut Client, relation: &str, mapping: &str| {
        c.execute("SELECT auth.configure_fdw_store($1, $2::text::jsonb)", &[&relation, &mapping])
            .map_err(|e| sqlstate(&e))
    };
    assert_eq!(configure(&mut admin, "legacy.users", MAPPING), Ok(1));
    assert_eq!(configure(&mut admin, "legacy.nosuch", MAPPING), Err("42P01".into()));
    let missing = r#"{"email": "mail", "id": "uid", "password_hash": "password"}"#;
    assert_eq!(configure(&mut admin, "legacy.users", missing), Err("42703".into()));
    let not_json = r#"{"email": "mail", "id": "uid", "password_hash": "pw", "user_metadata": "role"}"#;
    assert_eq!(configure(&mut admin, "legacy.users", not_json), Err("42804".into()));
    let hostile = r#"{"email": "mail\"; DROP TABLE auth.users; --", "id": "uid", "password_hash": "pw"}"#;
    assert_eq!(configure(&mut admin, "legacy.users", hostile), Err("42703".into()));
    assert_eq!(configure(&mut admin, "legacy.users", r#"{"email": "mail"}"#), Err("22023".into()));
    let bad_cast = r#"{"email": "mail", "id": "uid", "password_hash": "pw", "email_verified": "full_name"}"#;
    assert!(configure(&mut admin, "legacy.users", bad_cast).is_ok(), "text to boolean casts at run time");
    let mut app = f.db.member_of("trickle_app");
    assert_eq!(configure(&mut app, "legacy.users", MAPPING), Err("42501".into()));
    let n: i64 = f.db.superuser().query_one("SELECT count(*) FROM auth.users", &[]).unwrap().get(0);
    assert_eq!(n, 0);
}

#[test]
fn lookup_predicate_is_pushed_to_the_legacy_database() {
    let f = fixture("fdw_pushdown");
    let plan: Vec<String> =
        f.db.superuser()
            .query("EXPLAIN (VERBOSE) SELECT mail FROM legacy.users WHERE pg_catalog.lower(mail) = $1", &[&"a@b.c"])
            .unwrap()
            .iter()
            .map(|r| r.get(0))
            .collect();
    let remote = plan.iter().find(|l| l.contains("Remote SQL")).expect("a postgres_fdw plan");
    assert!(remote.contains("WHERE ((lower(mail) = "), "{plan:?}");
}

#[test]
fn injection_through_emails_finds_nobody() {
    let f = fixture("fdw_injection");
    let mut app = f.db.member_of("trickle_app");
    for email in ["x'or'1'='1@legacy.test", "\"mail\"@legacy.test", "a@b.c' UNION SELECT 1 --x"] {
        match try_login(&mut app, email, "x") {
            Ok(result) => assert_eq!(result, (false, "invalid_credentials".to_string()), "{email}"),
            Err(code) => assert_eq!(code, "22023", "{email}"),
        }
    }
    let n: i64 = f.legacy.client().query_one("SELECT count(*) FROM users", &[]).unwrap().get(0);
    assert_eq!(n, 11);
}

#[test]
fn legacy_database_down_spares_local_users() {
    let f = fixture("fdw_down");
    let mut app = f.db.member_of("trickle_app");
    let (_, email, password) = f.users[0].clone();
    assert_eq!(try_login(&mut app, &email, &password), Ok((true, "migrated".into())));
    f.db.superuser().batch_execute("ALTER SERVER legacy_server OPTIONS (SET port '1')").unwrap();
    let (_, other, other_password) = f.users[1].clone();
    let err = try_login(&mut app, &other, &other_password).unwrap_err();
    assert!(err.starts_with("08"), "a clear connection error, got {err}");
    assert_eq!(try_login(&mut app, &email, &password), Ok((true, "authenticated".into())));
}

#[test]
fn concurrent_first_logins_and_read_only() {
    let f = Arc::new(fixture("fdw_concurrent"));
    let (_, email, password) = f.users[3].clone();
    let barrier = Arc::new(Barrier::new(8));
    let handles: Vec<_> = (0..8)
        .map(|_| {
            let (f, barrier, email, password) = (f.clone(), barrier.clone(), email.clone(), password.clone());
            std::thread::spawn(move || {
                let mut app = f.db.member_of("trickle_app");
                barrier.wait();
                try_login(&mut app, &email, &password)
            })
        })
        .collect();
    let results: Vec<_> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    assert!(results.iter().all(|r| matches!(r, Ok((true, _)))), "{results:?}");
    assert_eq!(results.iter().filter(|r| matches!(r, Ok((_, s)) if s == "migrated")).count(), 1);

    let mut app = f.db.member_of("trickle_app");
    let (_, email, password) = f.users[4].clone();
    let mut tx = app.build_transaction().read_only(true).start().unwrap();
    let err = tx.query_one("SELECT ok FROM auth.login($1, $2)", &[&email, &password]).unwrap_err();
    assert_eq!(sqlstate(&err), "25006");
}

#[test]
fn get_user_flows_read_the_legacy_row() {
    let f = fixture("fdw_get_user");
    let mut app = f.db.member_of("trickle_app");
    let (_, email, password) = f.users[2].clone();
    let err = app.query_one("SELECT auth.signup($1, 'a-brand-new-password')", &[&email]).unwrap_err();
    assert_eq!(sqlstate(&err), "23505");
    let mut admin = f.db.member_of("trickle_admin");
    let profile: Value = admin.query_one("SELECT auth.migrate($1)", &[&email]).unwrap().get(0);
    assert_eq!(profile["external_id"], "3");
    assert_eq!(try_login(&mut app, &email, &password), Ok((true, "migrated".into())));
    // The signup's own event went with its failed transaction; the rest are committed.
    assert_eq!(event_outcomes(&f.db, &email), ["profile_migrated", "migrated"]);
}

/// A Django `auth_user` table as Django 4.2's own hashers left it, one user per hasher, mapped with
/// `hash_format: auto`: every encoded form is recognised, and users log in with their Django passwords.
#[test]
fn django_users_of_every_hasher_migrate_with_auto_detection() {
    let legacy = LegacyDb::create(
        "CREATE TABLE auth_user (id integer PRIMARY KEY, username varchar(150) NOT NULL UNIQUE, email varchar(254),
                                 password varchar(128) NOT NULL, is_active boolean NOT NULL);",
    );
    let formats = [
        "django_pbkdf2_sha256",
        "django_argon2",
        "django_bcrypt_sha256",
        "django_bcrypt",
        "django_scrypt",
        "django_md5",
        "django_sha1",
        "django_crypt",
        "md5",
    ];
    let mut users = Vec::new();
    for (i, format) in formats.iter().enumerate() {
        let (password, hash, _) = reference_vector(format, 0);
        let email = format!("{format}@django.test");
        legacy
            .client()
            .execute(
                "INSERT INTO auth_user VALUES ($1, $2, $3, $4, true)",
                &[&(i as i32 + 1), &format!("u{i}"), &email, &hash],
            )
            .unwrap();
        users.push((email, password));
    }
    let db = TestDb::new("fdw_django");
    legacy.attach_to(&db);
    db.superuser()
        .batch_execute(
            r#"SELECT auth.configure_fdw_store('legacy.auth_user', '{"email": "email", "id": "id", "password_hash": "password",
                                                                    "hash_format": "auto", "username": "username"}');
               SELECT auth.set_import_mode(true);"#,
        )
        .unwrap();
    let mut app = db.member_of("trickle_app");
    for (email, password) in &users {
        assert_eq!(
            try_login(&mut app, email, &format!("not-{password}")),
            Ok((false, "invalid_credentials".into())),
            "{email}"
        );
        assert_eq!(try_login(&mut app, email, password), Ok((true, "migrated".into())), "{email}");
        assert_eq!(try_login(&mut app, email, password), Ok((true, "authenticated".into())), "{email}");
    }
}

/// A WordPress `wp_users` table mapped with `hash_format: wordpress`: users log in with what they type on WordPress —
/// passwords with quotes or backslashes (stored slashed by wp-login.php, or unslashed by the REST API), typed with
/// surrounding spaces, MD5 hashes from before WordPress 2.5, WordPress 6.8's `$wp$`, a bcrypt plugin's `$2y$`.
#[test]
fn wordpress_users_log_in_with_what_they_type_on_wordpress() {
    let vectors: Vec<Value> =
        serde_json::from_str(include_str!("../../vectors/wordpress_hashes.json")).expect("WordPress vectors");
    let legacy = LegacyDb::create(
        "CREATE TABLE wp_users (\"ID\" bigint PRIMARY KEY, user_login varchar(60) NOT NULL, user_pass varchar(255) NOT NULL,
                                user_email varchar(100) NOT NULL, display_name varchar(250) NOT NULL);",
    );
    let mut hashes: Vec<&str> = vectors.iter().map(|v| v["hash"].as_str().unwrap()).collect();
    hashes.dedup();
    for (i, hash) in hashes.iter().enumerate() {
        legacy
            .client()
            .execute(
                "INSERT INTO wp_users VALUES ($1, $2, $3, $4, $5)",
                &[&(i as i64 + 1), &format!("wp{i}"), hash, &format!("wp{i}@wordpress.test"), &format!("User {i}")],
            )
            .unwrap();
    }
    let db = TestDb::new("fdw_wordpress");
    legacy.attach_to(&db);
    db.superuser()
        .batch_execute(
            r#"SELECT auth.configure_fdw_store('legacy.wp_users', '{"email": "user_email", "id": "ID",
                   "password_hash": "user_pass", "hash_format": "wordpress", "username": "user_login",
                   "name": "display_name"}');
               SELECT auth.set_import_mode(true);"#,
        )
        .unwrap();
    let mut app = db.member_of("trickle_app");
    for (i, hash) in hashes.iter().enumerate() {
        let email = format!("wp{i}@wordpress.test");
        let of_this_user = vectors.iter().filter(|v| v["hash"] == *hash);
        // Refusals first: a refused login migrates nobody.
        for v in of_this_user.clone().filter(|v| v["valid"] == false) {
            let typed = v["password"].as_str().unwrap();
            assert_eq!(try_login(&mut app, &email, typed), Ok((false, "invalid_credentials".into())), "{typed:?}");
        }
        if let Some(v) = of_this_user.clone().find(|v| v["valid"] == true) {
            let typed = v["password"].as_str().unwrap();
            assert_eq!(
                try_login(&mut app, &email, typed),
                Ok((true, "migrated".into())),
                "{}: {typed:?}",
                v["stored_by"]
            );
            assert_eq!(try_login(&mut app, &email, typed), Ok((true, "authenticated".into())), "{typed:?}");
        }
    }
}

/// Django's `is_active = false` (mapping key `enabled`; `blocked` is its opposite): such a user never gets a local
/// account — not by logging in with the right password, not through a reset or `auth.migrate`, not by bulk import —
/// and their email stays taken for signups.
#[test]
fn inactive_django_users_never_get_a_local_account() {
    let (password, hash, _) = reference_vector("django_pbkdf2_sha256", 0);
    let legacy = LegacyDb::create(
        "CREATE TABLE auth_user (id integer PRIMARY KEY, username varchar(150) NOT NULL UNIQUE, email varchar(254),
                                 password varchar(128) NOT NULL, is_active boolean NOT NULL, banned boolean);",
    );
    for (id, email, active, banned) in [
        (1, "active@django.test", true, None),
        (2, "gone@django.test", false, None),
        (3, "banned@django.test", true, Some(true)),
    ] {
        legacy
            .client()
            .execute(
                "INSERT INTO auth_user VALUES ($1, $2, $3, $4, $5, $6)",
                &[&id, &format!("u{id}"), &email, &hash, &active, &banned],
            )
            .unwrap();
    }
    let db = TestDb::new("fdw_django_inactive");
    legacy.attach_to(&db);
    db.import_from_fdw(
        "auth_user",
        r#"{"email": "email", "id": "id", "password_hash": "password", "enabled": "is_active", "blocked": "banned"}"#,
    );
    let mut app = db.member_of("trickle_app");
    for inactive in ["gone@django.test", "banned@django.test"] {
        assert_eq!(try_login(&mut app, inactive, &password), Ok((false, "invalid_credentials".into())), "{inactive}");
        assert_eq!(event_outcomes(&db, inactive), ["disabled"], "{inactive}: the admin sees why");
        let err = db.superuser().query_one("SELECT auth.migrate($1)", &[&inactive]).unwrap_err();
        assert_eq!(sqlstate(&err), "P0002", "{inactive}");
        let err = app.query_one("SELECT auth.signup($1, 'a-new-password')", &[&inactive]).unwrap_err();
        assert_eq!(sqlstate(&err), "23505", "{inactive}: the email stays taken");
    }
    assert_eq!(try_login(&mut app, "active@django.test", &password), Ok((true, "migrated".into())));

    let report =
        db.superuser().query_one("SELECT inserted, rejected, rejections FROM auth.import_users()", &[]).unwrap();
    let (inserted, rejected, rejections): (i64, i64, serde_json::Value) = (report.get(0), report.get(1), report.get(2));
    assert_eq!((inserted, rejected), (0, 2), "{rejections}");
    let reasons: Vec<&str> = rejections.as_array().unwrap().iter().map(|r| r["reason"].as_str().unwrap()).collect();
    assert_eq!(reasons, ["disabled", "disabled"]);
}

#[test]
fn check_store_reads_the_relation_as_its_reader_and_names_a_sample_hash_format() {
    let f = fixture("fdw_check_store");
    let lines: Vec<(String, bool, String)> =
        f.db.member_of("trickle_admin")
            .query("SELECT item, ok, detail FROM auth.check_store() WHERE store = 'default'", &[])
            .unwrap()
            .iter()
            .map(|r| (r.get(0), r.get(1), r.get(2)))
            .collect();
    let items: Vec<&str> = lines.iter().map(|(item, ..)| item.as_str()).collect();
    assert_eq!(items, ["configuration", "reader role", "relation", "hash format"], "{lines:?}");
    assert!(lines.iter().all(|(_, ok, _)| *ok), "{lines:?}");
    assert!(lines.iter().any(|(item, _, detail)| item == "reader role" && detail == "trickle_admin"), "{lines:?}");
    assert!(lines.iter().any(|(item, _, detail)| item == "relation" && detail.ends_with("11 rows")), "{lines:?}");
}

/// Django identifies users by username: `auth.login` takes one (no '@') and finds its user's email — locally, or in
/// a store whose mapping names the username column — then goes on as a login by that email: same lockout, same
/// migration. Usernames compare exactly (as Django's do); users without an email or sharing one cannot move over.
#[test]
fn django_users_log_in_by_username() {
    let (password, hash, _) = reference_vector("django_pbkdf2_sha256", 0);
    let legacy = LegacyDb::create(
        "CREATE TABLE auth_user (id integer PRIMARY KEY, username varchar(150) NOT NULL UNIQUE, email varchar(254),
                                 password varchar(128) NOT NULL, is_active boolean NOT NULL);",
    );
    let users = [
        (1, "ann", Some("Ann@Django.test")),
        (2, "Bob", Some("bob@django.test")),
        (3, "noemail", None),
        (4, "dup1", Some("dup@django.test")),
        (5, "dup2", Some("dup@django.test")),
        (6, "locked", Some("locked@django.test")),
    ];
    for (id, username, email) in users {
        legacy
            .client()
            .execute("INSERT INTO auth_user VALUES ($1, $2, $3, $4, true)", &[&id, &username, &email, &hash])
            .unwrap();
    }
    let db = TestDb::new("fdw_django_username");
    legacy.attach_to(&db);
    let mapping = r#"{"email": "email", "id": "id", "password_hash": "password", "username": "username",
                      "enabled": "is_active", "email_case_insensitive": true}"#;
    db.import_from_fdw("auth_user", mapping);
    db.superuser().batch_execute(&format!("ALTER DATABASE {} SET pg_trickle.lockout_threshold = 3", db.name)).unwrap();
    let mut app = db.member_of("trickle_app");
    let refused = Ok((false, "invalid_credentials".to_string()));

    assert_eq!(try_login(&mut app, "ann", &format!("{password}x")), refused);
    assert_eq!(try_login(&mut app, " ann ", &password), Ok((true, "migrated".into())));
    let row = app.query_one("SELECT email, profile ->> 'username' FROM auth.login('ann', $1)", &[&password]).unwrap();
    let (email, username): (String, Option<String>) = (row.get(0), row.get(1));
    assert_eq!((email.as_str(), username.as_deref()), ("ann@django.test", Some("ann")), "the migrated user");
    assert_eq!(try_login(&mut app, "ann@django.test", &password), Ok((true, "authenticated".into())));

    // Exactly this username: Bob is not bob (PostgreSQL compares as Django does).
    assert_eq!(try_login(&mut app, "bob", &password), refused);
    assert_eq!(try_login(&mut app, "Bob", &password), Ok((true, "migrated".into())));
    // No email, or one shared by two rows: refused, as by email.
    assert_eq!(try_login(&mut app, "noemail", &password), refused);
    assert_eq!(try_login(&mut app, "dup1", &password), refused);
    assert_eq!(try_login(&mut app, "nobody", &password), refused);

    // A wrong password by username counts towards the email's lockout.
    for _ in 0..3 {
        assert_eq!(try_login(&mut app, "locked", "wrong-password"), refused);
    }
    assert_eq!(try_login(&mut app, "locked@django.test", &password), Ok((false, "locked".into())));
    assert_eq!(try_login(&mut app, "locked", &password), Ok((false, "locked".into())));

    // A user without an email moves over through a view that gives them a placeholder address under the reserved
    // .invalid domain (RFC 2606): they log in by username; nothing is ever sent there.
    legacy
        .client()
        .batch_execute(
            "CREATE VIEW auth_user_with_email AS
                 SELECT id, username, COALESCE(email, username || '@no-email.invalid') AS email, password, is_active
                   FROM auth_user",
        )
        .unwrap();
    db.superuser()
        .batch_execute(
            "IMPORT FOREIGN SCHEMA public LIMIT TO (auth_user_with_email) FROM SERVER legacy_server INTO legacy;
             GRANT SELECT ON legacy.auth_user_with_email TO trickle_admin;",
        )
        .unwrap();
    db.import_from_fdw("auth_user_with_email", mapping);
    assert_eq!(try_login(&mut app, "noemail", &password), Ok((true, "migrated".into())));
    let email: String = app.query_one("SELECT email FROM auth.login('noemail', $1)", &[&password]).unwrap().get(0);
    assert_eq!(email, "noemail@no-email.invalid");

    // Migrated users keep logging in by username once the legacy store is gone.
    db.superuser().batch_execute("SELECT auth.disconnect_external_store()").unwrap();
    assert_eq!(try_login(&mut app, "ann", &password), Ok((true, "authenticated".into())));
    assert_eq!(try_login(&mut app, "Bob", &password), Ok((true, "authenticated".into())));
    let err = app.query_one("SELECT * FROM auth.login(E'a\\u0001b', 'x')", &[]).unwrap_err();
    assert_eq!(sqlstate(&err), "22023");
}

/// Django does not make emails unique. With `last_active` mapped (its `last_login`), several rows of one email
/// resolve to the most recently active one — at login, in getUser flows and in bulk import — and the admin's event
/// says so; a tie for the latest activity, or none known, is refused as without it.
#[test]
fn duplicate_django_emails_resolve_to_the_most_recently_active_row() {
    let (password, hash, _) = reference_vector("django_pbkdf2_sha256", 0);
    let (_, other_hash, _) = reference_vector("django_pbkdf2_sha256", 1);
    let legacy = LegacyDb::create(
        "CREATE TABLE auth_user (id integer PRIMARY KEY, username varchar(150) NOT NULL UNIQUE, email varchar(254),
                                 password varchar(128) NOT NULL, last_login timestamptz);",
    );
    let rows: [(i32, &str, &str, &str, Option<&str>); 6] = [
        (1, "ann-old", "ann@django.test", other_hash.as_str(), Some("2019-05-01 10:00+00")),
        (2, "ann-new", "ann@django.test", hash.as_str(), Some("2024-05-01 10:00+00")),
        (3, "ann-never", "ann@django.test", other_hash.as_str(), None),
        (4, "tie-1", "tie@django.test", hash.as_str(), Some("2024-01-01 00:00+00")),
        (5, "tie-2", "tie@django.test", hash.as_str(), Some("2024-01-01 00:00+00")),
        (6, "solo", "solo@django.test", hash.as_str(), None),
    ];
    for (id, username, email, pw, last_login) in rows {
        legacy
            .client()
            .execute(
                "INSERT INTO auth_user VALUES ($1, $2, $3, $4, $5::text::timestamptz)",
                &[&id, &username, &email, &pw, &last_login],
            )
            .unwrap();
    }
    let db = TestDb::new("fdw_django_most_recent");
    legacy.attach_to(&db);
    db.import_from_fdw(
        "auth_user",
        r#"{"email": "email", "id": "id", "password_hash": "password", "username": "username", "last_active": "last_login"}"#,
    );
    let mut app = db.member_of("trickle_app");
    assert_eq!(try_login(&mut app, "ann@django.test", &password), Ok((true, "migrated".into())));
    let (external_id, username): (String, String) = {
        let row = db
            .superuser()
            .query_one("SELECT external_id, username FROM auth.users WHERE email = 'ann@django.test'", &[])
            .unwrap();
        (row.get(0), row.get(1))
    };
    assert_eq!((external_id.as_str(), username.as_str()), ("2", "ann-new"));
    let note: Option<String> = db
        .superuser()
        .query_one("SELECT error_class FROM auth.migration_events WHERE email = 'ann@django.test'", &[])
        .unwrap()
        .get(0);
    assert_eq!(note.as_deref(), Some("most_recent_of_duplicates"), "the admin sees the choice");

    assert_eq!(try_login(&mut app, "tie@django.test", &password), Ok((false, "invalid_credentials".into())));
    assert_eq!(event_outcomes(&db, "tie@django.test"), ["ambiguous_legacy_rows"]);

    // Bulk import chooses the same way.
    db.superuser().batch_execute("DELETE FROM auth.migration_events").unwrap();
    let report =
        db.superuser().query_one("SELECT inserted, rejected, rejections FROM auth.import_users()", &[]).unwrap();
    let (inserted, rejected, rejections): (i64, i64, Value) = (report.get(0), report.get(1), report.get(2));
    assert_eq!((inserted, rejected), (1, 4), "solo imports; ann is already local: {rejections}");
    let reasons: Vec<(&str, &str)> = rejections
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["email"].as_str().unwrap(), r["reason"].as_str().unwrap()))
        .collect();
    assert_eq!(
        reasons,
        [
            ("ann@django.test", "duplicate_email_not_most_recent"),
            ("ann@django.test", "duplicate_email_not_most_recent"),
            ("tie@django.test", "duplicate_email"),
            ("tie@django.test", "duplicate_email")
        ]
    );
}

/// Two applications' users in one database: a legacy user whose username another local user already holds moves
/// over without it (a login by email finds them; the username keeps naming its holder), and the admin sees
/// `username_taken` in the event, instead of every login of that user failing with 23505.
#[test]
fn a_username_held_locally_moves_over_without_it() {
    let (password, hash, _) = reference_vector("django_pbkdf2_sha256", 0);
    let legacy = LegacyDb::create(
        "CREATE TABLE auth_user (id integer PRIMARY KEY, username varchar(150) NOT NULL UNIQUE, email varchar(254),
                                 password varchar(128) NOT NULL);",
    );
    legacy.client().execute("INSERT INTO auth_user VALUES (1, 'ann', 'ann@django.test', $1)", &[&hash]).unwrap();
    let db = TestDb::new("fdw_username_taken");
    legacy.attach_to(&db);
    db.import_from_fdw(
        "auth_user",
        r#"{"email": "email", "id": "id", "password_hash": "password", "username": "username"}"#,
    );
    db.superuser()
        .batch_execute(
            "INSERT INTO auth.users (email, username, source) VALUES ('ann@other-app.test', 'ann', 'native')",
        )
        .unwrap();
    let mut app = db.member_of("trickle_app");
    assert_eq!(try_login(&mut app, "ann@django.test", &password), Ok((true, "migrated".into())));
    let row = db
        .superuser()
        .query_one(
            "SELECT u.username, e.error_class FROM auth.users u, auth.migration_events e
              WHERE u.email = 'ann@django.test' AND e.email = u.email AND e.outcome = 'migrated'",
            &[],
        )
        .unwrap();
    let (username, note): (Option<String>, Option<String>) = (row.get(0), row.get(1));
    assert_eq!((username, note.as_deref()), (None, Some("username_taken")));
    assert_eq!(try_login(&mut app, "ann@django.test", &password), Ok((true, "authenticated".into())));
    assert_eq!(
        try_login(&mut app, "ann", &password),
        Ok((false, "invalid_credentials".into())),
        "ann names its holder"
    );
}
