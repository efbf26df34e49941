//! auth.verify_legacy_hash and auth.legacy_hash_formats over the wire (the formats themselves are
//! covered by reference vectors in src/domain/legacy_hash/tests.rs).

use pg_trickle_e2e::{sqlstate, TestDb};

#[test]
fn admins_verify_legacy_hashes_in_sql() {
    let db = TestDb::new("legacy_hashes");
    let mut admin = db.member_of("trickle_admin");
    let verify = |c: &mut pg_trickle_e2e::postgres::Client, pw: &str, hash: &str, format: &str, params: &str| {
        c.query_one("SELECT auth.verify_legacy_hash($1, $2, $3, $4::text::jsonb)", &[&pw, &hash, &format, &params])
            .map(|r| r.get::<_, bool>(0))
            .map_err(|e| sqlstate(&e))
    };
    // `openssl passwd -1 -salt saltsalt "correct horse"`.
    let md5_crypt = "$1$saltsalt$NuzA7WTAelpl95xgBGWN60";
    assert_eq!(verify(&mut admin, "correct horse", md5_crypt, "auto", "{}"), Ok(true));
    assert_eq!(verify(&mut admin, "correct horsE", md5_crypt, "md5_crypt", "{}"), Ok(false));
    // sha256("x")
    let salted = "2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881";
    assert_eq!(verify(&mut admin, "x", salted, "sha256", "{}"), Ok(true));
    assert_eq!(
        verify(&mut admin, "x", salted, "sha256", r#"{"salt": "s"}"#),
        Err("22023".into()),
        "missing salt_position"
    );
    assert_eq!(verify(&mut admin, "x", "garbage", "auto", "{}"), Err("22023".into()));
    assert_eq!(verify(&mut admin, "x", "abc", "rot13", "{}"), Err("22023".into()));
    assert_eq!(
        verify(&mut admin, "x", "$2b$31$abcdefghijklmnopqrstuuabcdefghijklmnopqrstuvwxyz01234", "auto", "{}"),
        Err("22023".into())
    );

    let err = admin.query_one("SELECT auth.verify_legacy_hash('my-secret-pw', 'garbage')", &[]).unwrap_err();
    assert!(!format!("{err:?}").contains("my-secret-pw"));

    let formats: Vec<String> =
        admin.query("SELECT name FROM auth.legacy_hash_formats()", &[]).unwrap().iter().map(|r| r.get(0)).collect();
    for name in ["bcrypt", "argon2", "phpass", "drupal7", "wordpress", "ldap", "aspnet_identity", "keycloak", "hmac"] {
        assert!(formats.iter().any(|f| f == name), "{name} missing from {formats:?}");
    }

    let mut app = db.member_of("trickle_app");
    let err = app.query_one("SELECT auth.verify_legacy_hash('x', $1)", &[&md5_crypt]).unwrap_err();
    assert_eq!(sqlstate(&err), "42501", "verify_legacy_hash is for trickle_admin");
}
