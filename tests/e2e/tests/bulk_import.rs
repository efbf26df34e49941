//! Hash-preserving bulk import: from the configured FDW store, from any relation, and from an Auth0
//! bulk-import JSON file; idempotent and safe to mix with trickle migration.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use pg_trickle_e2e::postgres::Client;
use pg_trickle_e2e::{reference_vector, sqlstate, LegacyDb, TestDb};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

fn login(c: &mut Client, email: &str, password: &str) -> (bool, String) {
    let row = c.query_one("SELECT ok, status FROM auth.login($1, $2)", &[&email, &password]).unwrap();
    (row.get(0), row.get(1))
}

type Report = (i64, i64, i64, i64, Value);

fn report(c: &mut Client, sql: &str) -> Result<Report, String> {
    c.query_one(sql, &[]).map(|r| (r.get(0), r.get(1), r.get(2), r.get(3), r.get(4))).map_err(|e| sqlstate(&e))
}

// The legacy emails have capitals: the look-up must compare lower(mail).
const MAPPING: &str = r#"{"email": "mail", "email_case_insensitive": true, "id": "uid", "password_hash": "pw", "hash_format_column": "algo",
    "hash_params_column": "params", "name": "full_name", "user_metadata": "prefs"}"#;

/// Legacy rows: four good ones (bcrypt, phpass, salted sha256, no password) and four the import rejects.
fn legacy() -> (LegacyDb, Vec<(String, String)>) {
    let legacy = LegacyDb::create(
        "CREATE TABLE users (uid bigint PRIMARY KEY, mail text, pw text, algo text, params jsonb, full_name text, prefs jsonb)",
    );
    let mut c = legacy.client();
    let mut logins = Vec::new();
    for (i, format) in ["bcrypt", "phpass", "sha256"].iter().enumerate() {
        let (password, hash, params) = reference_vector(format, 1);
        let email = format!("Bulk.{i}@Legacy.test");
        let params = if params.as_object().is_some_and(|o| o.is_empty()) { Value::Null } else { params };
        c.execute(
            "INSERT INTO users VALUES ($1, $2, $3, $4, $5, $6, $7)",
            &[&(i as i64 + 1), &email, &hash, &format.to_string(), &params, &format!("Bulk {i}"), &json!({"i": i})],
        )
        .unwrap();
        logins.push((email.to_lowercase(), password));
    }
    c.batch_execute(
        "INSERT INTO users VALUES
           (4, 'no.password@legacy.test', NULL, NULL, NULL, 'No Password', NULL),
           (5, 'not an email', 'x', 'md5', NULL, NULL, NULL),
           (6, 'dup@legacy.test', 'x', 'md5', NULL, NULL, NULL),
           (7, 'DUP@legacy.test', 'y', 'md5', NULL, NULL, NULL),
           (8, 'weird@legacy.test', 'x', 'rot13', NULL, NULL, NULL),
           (9, 'meta@legacy.test', '0cc175b9c0f1b6a831c399e269772661', 'md5', NULL, NULL, '[1, 2]');",
    )
    .unwrap();
    (legacy, logins)
}

#[test]
fn import_from_the_configured_store_then_rehash_on_login_and_reimport_idempotently() {
    let (legacy, logins) = legacy();
    let db = TestDb::new("bulk_fdw");
    legacy.attach_to(&db);
    let (mut admin, notices) = db.superuser_with_notices();
    admin.batch_execute(&format!("SELECT auth.configure_fdw_store('legacy.users', '{MAPPING}')")).unwrap();

    let before: i64 = admin.query_one("SELECT count(*) FROM auth.users", &[]).unwrap().get(0);
    assert_eq!(report(&mut admin, "SELECT * FROM auth.import_users(all_or_nothing => true)").unwrap_err(), "22023");
    let after: i64 = admin.query_one("SELECT count(*) FROM auth.users", &[]).unwrap().get(0);
    assert_eq!(before, after, "all_or_nothing imports nothing when a row is rejected");

    let settings =
        "SELECT current_setting('jit') || current_setting('work_mem') || current_setting('default_statistics_target')";
    let session: String = admin.query_one(settings, &[]).unwrap().get(0);
    let (inserted, updated, skipped, rejected, rejections) =
        report(&mut admin, "SELECT * FROM auth.import_users(progress_every => 2)").unwrap();
    assert_eq!((inserted, updated, skipped, rejected), (4, 0, 0, 5), "{rejections}");
    let after_import: String = admin.query_one(settings, &[]).unwrap().get(0);
    assert_eq!(session, after_import, "the import's own settings end with it");
    let mut reasons: Vec<&str> = rejections.as_array().unwrap().iter().map(|r| r["reason"].as_str().unwrap()).collect();
    reasons.sort();
    assert_eq!(
        reasons,
        ["duplicate_email", "duplicate_email", "hash_unknown_format", "invalid_email", "user_metadata_not_object"]
    );
    assert!(notices.lock().unwrap().iter().any(|n| n.contains("2 of 9 rows done")), "{:?}", notices.lock().unwrap());

    let row = admin
        .query_one(
            "SELECT source, password_format, external_id, name FROM auth.users WHERE email = $1",
            &[&logins[0].0],
        )
        .unwrap();
    assert_eq!(
        (row.get::<_, String>(0), row.get::<_, String>(1), row.get::<_, String>(2), row.get::<_, String>(3)),
        ("imported".into(), "bcrypt".into(), "1".into(), "Bulk 0".into())
    );

    // First login verifies the legacy hash and replaces it with argon2id, in the same transaction.
    let mut app = db.member_of("trickle_app");
    for (email, password) in &logins {
        assert_eq!(login(&mut app, email, &format!("{password}x")), (false, "invalid_credentials".into()), "{email}");
        assert_eq!(login(&mut app, email, password), (true, "authenticated".into()), "{email}");
        let (format, params): (String, Option<Value>) = {
            let r = admin
                .query_one("SELECT password_format, password_params FROM auth.users WHERE email = $1", &[email])
                .unwrap();
            (r.get(0), r.get(1))
        };
        assert_eq!((format.as_str(), params), ("argon2id", None), "{email}");
        assert_eq!(login(&mut app, email, password), (true, "authenticated".into()));
    }

    // Re-import: the users who logged in are left alone; the untouched one is refreshed; nobody is duplicated.
    let (inserted, updated, skipped, rejected, _) = report(&mut admin, "SELECT * FROM auth.import_users()").unwrap();
    assert_eq!((inserted, updated, skipped, rejected), (0, 1, 3, 5));
    let format: String =
        admin.query_one("SELECT password_format FROM auth.users WHERE email = $1", &[&logins[0].0]).unwrap().get(0);
    assert_eq!(format, "argon2id", "an import never overwrites a user who logged in");
    let n: i64 = admin.query_one("SELECT count(*) FROM auth.users", &[]).unwrap().get(0);
    assert_eq!(n, 4);
}

#[test]
fn import_from_any_relation_and_mix_with_trickle_migration() {
    let (legacy, logins) = legacy();
    let db = TestDb::new("bulk_relation");
    legacy.attach_to(&db);
    let mut admin = db.superuser();
    admin
        .batch_execute(&format!(
            "SELECT auth.configure_fdw_store('legacy.users', '{MAPPING}'); SELECT auth.set_import_mode(true);"
        ))
        .unwrap();
    let mut app = db.member_of("trickle_app");
    assert_eq!(login(&mut app, &logins[1].0, &logins[1].1), (true, "migrated".into()));

    // Any relation with the same mapping: here a local copy; the migrated user is skipped, not overwritten.
    // A superuser's import reads its source as trickle_admin, which must be able to read it.
    admin
        .batch_execute("CREATE TABLE staging AS SELECT * FROM legacy.users WHERE uid <= 4; GRANT SELECT ON staging TO trickle_admin")
        .unwrap();
    let (inserted, updated, skipped, rejected, _) =
        report(&mut admin, &format!("SELECT * FROM auth.import_users('public.staging', '{MAPPING}')")).unwrap();
    assert_eq!((inserted, updated, skipped, rejected), (3, 0, 1, 0));
    let source: String =
        admin.query_one("SELECT source FROM auth.users WHERE email = $1", &[&logins[1].0]).unwrap().get(0);
    assert_eq!(source, "migrated");

    assert_eq!(
        report(&mut admin, r#"SELECT * FROM auth.import_users('public.staging', '{"email": "nope", "id": "uid", "password_hash": "pw"}')"#)
            .unwrap_err(),
        "42703"
    );
    assert_eq!(report(&mut admin, "SELECT * FROM auth.import_users('public.staging')").unwrap_err(), "22023");
    let mut outsider_app = db.member_of("trickle_app");
    assert_eq!(report(&mut outsider_app, "SELECT * FROM auth.import_users()").unwrap_err(), "42501");
}

#[test]
fn auth0_bulk_import_json() {
    let db = TestDb::new("bulk_auth0");
    let mut admin = db.superuser();
    let (bcrypt_pw, bcrypt_hash, _) = reference_vector("bcrypt", 2);
    let sha = "correct horse";
    let salt = [0xfau8, 0x01, 0x02];
    // sha256(salt || password), base64, as an Auth0 export with a binary salt would carry it.
    let salted = STANDARD.encode(Sha256::new().chain_update(salt).chain_update(sha).finalize());
    let salt_b64 = STANDARD.encode(salt);
    // An MD4 digest and a PBKDF2-HMAC-MD4 PHC string, as Auth0's own example export holds them
    // (tests/vectors/auth0_hashes.py).
    let auth0_vectors: Vec<Value> =
        serde_json::from_str(include_str!("../../vectors/auth0_hashes.json")).expect("Auth0 vectors");
    let first = |predicate: &dyn Fn(&Value) -> bool| {
        let v = auth0_vectors.iter().find(|v| v["valid"] == true && predicate(v)).expect("an Auth0 vector");
        (v["password"].as_str().unwrap().to_string(), v["hash"].as_str().unwrap().to_string())
    };
    let (md4_pw, md4_hash) = first(&|v| v["format"] == "md4" && v["hash"].as_str().unwrap().len() == 32);
    let (pbkdf2_pw, pbkdf2_md4) = first(&|v| v["hash"].as_str().unwrap().starts_with("$pbkdf2-md4$"));
    // Auth0's scrypt fields with its default cost, block size and parallelization (tests/vectors/auth0_scrypt_users.py).
    let scrypt_vectors: Vec<Value> =
        serde_json::from_str(include_str!("../../vectors/auth0_scrypt_users.json")).expect("Auth0 scrypt vectors");
    let scrypt = scrypt_vectors.iter().find(|v| v["valid"] == true && v["custom_password_hash"]["cost"].is_null());
    let scrypt = scrypt.expect("a vector with Auth0's defaults");
    let (scrypt_pw, scrypt_hash) = (scrypt["password"].as_str().unwrap(), &scrypt["custom_password_hash"]);
    // PBKDF2 without i= (Auth0's file may omit it) has no iteration count pg_trickle could know.
    let pbkdf2_without_i = pbkdf2_md4.replacen("i=1000,l=64", "l=64", 1);
    let users = json!([
        {"email": "A.One@Example.org", "email_verified": true, "user_id": "a1", "given_name": "A",
         "password_hash": bcrypt_hash, "app_metadata": {"roles": ["x"]}},
        {"email": "b.two@example.org", "user_id": "b2", "custom_password_hash": {
            "algorithm": "sha256", "hash": {"value": salted, "encoding": "base64"},
            "salt": {"value": salt_b64, "encoding": "base64", "position": "prefix"}}},
        {"email": "c.three@example.org", "custom_password_hash": {"algorithm": "scrypt", "hash": {"value": "x"}}},
        {"email": "c.four@example.org", "user_id": "c4", "custom_password_hash": scrypt_hash},
        {"email": "c.five@example.org", "custom_password_hash": {
            "algorithm": "bcrypt", "hash": {"value": bcrypt_hash}, "salt": {"value": "pepper", "position": "suffix"}}},
        {"email": "c.six@example.org", "custom_password_hash": {
            "algorithm": "pbkdf2", "hash": {"value": pbkdf2_without_i, "encoding": "utf8"}}},
        {"email": "d.four@example.org", "blocked": true},
        {"email": "e.five@example.org", "user_id": "e5"},
        {"email": "f.six@example.org", "user_id": "f6", "custom_password_hash": {
            "algorithm": "md4", "hash": {"value": md4_hash, "encoding": "hex"}}},
        {"email": "g.seven@example.org", "user_id": "g7", "custom_password_hash": {
            "algorithm": "pbkdf2", "hash": {"value": pbkdf2_md4, "encoding": "utf8"}}},
        {"email": "h.eight@example.org", "user_id": "h8", "password_hash": bcrypt_hash,
         "mfa_factors": [{"totp": {"secret": "2PRXZWZAYYDAWCDS"}}]}
    ]);
    let row = admin.query_one("SELECT * FROM auth.import_users_json($1)", &[&users]).unwrap();
    let (inserted, updated, skipped, rejected, rejections): (i64, i64, i64, i64, Value) =
        (row.get(0), row.get(1), row.get(2), row.get(3), row.get(4));
    assert_eq!((inserted, updated, skipped, rejected), (6, 0, 0, 5), "{rejections}");
    let reasons: Vec<&str> = rejections.as_array().unwrap().iter().map(|r| r["reason"].as_str().unwrap()).collect();
    assert_eq!(
        reasons,
        [
            "scrypt_hash_not_decodable",        // c.three
            "salt_not_supported_for_algorithm", // c.five
            "hash_malformed",                   // c.six: PBKDF2 without i=
            "blocked",
            "mfa_factors_not_imported"
        ],
        "in the file's order"
    );
    assert_eq!(rejections[0]["row"], 3, "a rejection's row is its position in the file");
    assert!(!rejections.to_string().contains("2PRXZWZAYYDAWCDS"), "an MFA secret is never echoed");

    let mut app = db.member_of("trickle_app");
    assert_eq!(login(&mut app, "a.one@example.org", &bcrypt_pw), (true, "authenticated".into()));
    assert_eq!(login(&mut app, "b.two@example.org", sha), (true, "authenticated".into()));
    assert_eq!(login(&mut app, "e.five@example.org", "anything"), (false, "invalid_credentials".into()));
    assert_eq!(login(&mut app, "f.six@example.org", &md4_pw), (true, "authenticated".into()));
    assert_eq!(login(&mut app, "g.seven@example.org", &pbkdf2_pw), (true, "authenticated".into()));
    assert_eq!(login(&mut app, "c.four@example.org", scrypt_pw), (true, "authenticated".into()));
    let format: String = admin
        .query_one("SELECT password_format FROM auth.users WHERE email = 'c.four@example.org'", &[])
        .unwrap()
        .get(0);
    assert_eq!(format, "argon2id", "the first login replaced the scrypt hash");
    let profile: Value = app.query_one("SELECT auth.get_user('a.one@example.org')", &[]).unwrap().get(0);
    assert_eq!(profile["app_metadata"], json!({"roles": ["x"]}));
    assert_eq!(profile["source"], "imported");
    let err = admin.query_one("SELECT * FROM auth.import_users_json('{}')", &[]).unwrap_err();
    assert_eq!(sqlstate(&err), "22023");
}

/// Legacy ids are unique per store: an imported row (imports carry no store) may share its id with a user another
/// store's migration brought, never with an earlier import's user of another email.
#[test]
fn legacy_ids_are_taken_per_store() {
    let (legacy, _) = legacy();
    let db = TestDb::new("bulk_ids_per_store");
    legacy.attach_to(&db);
    db.superuser()
        .batch_execute(
            "INSERT INTO auth.users (email, external_id, legacy_store, source) VALUES
                 ('from.another.store@x.test', '1', 'other', 'migrated'),
                 ('earlier.import@x.test', '2', NULL, 'imported');",
        )
        .unwrap();
    let mut admin = db.member_of("trickle_admin");
    let sql = format!("SELECT * FROM auth.import_users('legacy.users', '{MAPPING}')");
    let (inserted, _, _, _, rejections) = report(&mut admin, &sql).unwrap();
    let taken: Vec<&Value> =
        rejections.as_array().unwrap().iter().filter(|r| r["reason"] == "legacy_id_taken").collect();
    assert_eq!(taken.len(), 1, "{rejections}");
    assert_eq!(taken[0]["email"], "bulk.1@legacy.test", "id 2 is an earlier import's");
    let first: i64 = admin
        .query_one("SELECT count(*) FROM auth.users WHERE email = 'bulk.0@legacy.test' AND external_id = '1'", &[])
        .unwrap()
        .get(0);
    assert_eq!((first, inserted), (1, 3), "id 1 of another store does not stand in the way");
}
