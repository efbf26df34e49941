//! Upgrading: every earlier release (its install script kept in `sql/releases/`) is installed, filled with users
//! of every kind, and updated with `ALTER EXTENSION pg_trickle UPDATE` — and, apart, dumped and restored where this
//! version is installed. Either way every user still logs in, the configuration and history are intact, and the
//! schema is the one a fresh install of this version creates.

use pg_trickle_e2e::postgres::Client;
use pg_trickle_e2e::{reference_vector, LegacyHttpStore, TestDb};
use serde_json::{json, Value};
use std::collections::BTreeSet;

const EXTENSION_CATALOG: &str = include_str!("../sql/extension_catalog.sql");

/// The versions whose install scripts `sql/releases/` keeps, oldest first.
fn released_versions() -> Vec<String> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../sql/releases");
    let mut versions: Vec<String> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("read {dir:?}: {e}"))
        .map(|entry| entry.expect("directory entry").file_name().into_string().expect("utf-8 name"))
        .filter_map(|name| Some(name.strip_prefix("pg_trickle--")?.strip_suffix(".sql")?.to_string()))
        .collect();
    versions.sort_by_key(|v| v.split('.').map(|n| n.parse::<u32>().expect("numeric version")).collect::<Vec<_>>());
    versions
}

fn default_version(c: &mut Client) -> String {
    c.query_one("SELECT default_version FROM pg_available_extensions WHERE name = 'pg_trickle'", &[]).unwrap().get(0)
}

fn installed_version(c: &mut Client) -> String {
    c.query_one("SELECT extversion FROM pg_extension WHERE extname = 'pg_trickle'", &[]).unwrap().get(0)
}

fn catalog(c: &mut Client) -> BTreeSet<String> {
    c.query(EXTENSION_CATALOG, &[]).unwrap().iter().map(|r| r.get(0)).collect()
}

fn login(c: &mut Client, email: &str, password: &str) -> (bool, String) {
    let row = c.query_one("SELECT ok, status FROM auth.login($1, $2)", &[&email, &password]).unwrap();
    (row.get(0), row.get(1))
}

fn password_format(c: &mut Client, email: &str) -> String {
    c.query_one("SELECT password_format FROM auth.users WHERE email = $1", &[&email]).unwrap().get(0)
}

#[test]
fn the_update_chain_reaches_this_version_from_every_release() {
    let fresh = TestDb::new("upgrade_paths");
    let mut su = fresh.superuser();
    let current = default_version(&mut su);
    let releases = released_versions();
    assert!(!releases.is_empty(), "sql/releases/ keeps the install script of every release");
    for old in releases.iter().filter(|v| **v != current) {
        let path: Option<String> = su
            .query_one(
                "SELECT path FROM pg_extension_update_paths('pg_trickle') WHERE source = $1 AND target = $2",
                &[old, &current],
            )
            .unwrap_or_else(|_| panic!("{old} is not installed: run `make install` (it installs sql/releases/)"))
            .get(0);
        assert!(path.is_some(), "no update path from {old} to {current}: add sql/pg_trickle--{old}--{current}.sql");
    }
}

#[test]
fn users_of_every_kind_survive_the_update_from_every_release() {
    let fresh = TestDb::new("upgrade_fresh");
    let current = default_version(&mut fresh.superuser());
    let expected_catalog = catalog(&mut fresh.superuser());
    for old in released_versions().into_iter().filter(|v| *v != current) {
        let store = LegacyHttpStore::start(&json!([
            {"user_id": "1", "email": "ann@legacy.test", "password": "ann-password", "user_metadata": {"plan": "pro"}},
            {"user_id": "2", "email": "bob@legacy.test", "password": "bob-password"}
        ]));
        let filled = fill_release(&old, &store);
        // Moving servers: a dump of the old release restored where this version is installed.
        let restored = TestDb::new("upgrade_restored");
        restored.restore_dump_of(&filled.db);
        filled.db.superuser().batch_execute("ALTER EXTENSION pg_trickle UPDATE").unwrap();
        for (how, db) in [("updated", &filled.db), ("dumped and restored", &restored)] {
            let context = format!("{old} {how} into {current}");
            check_everything_kept(db, &filled, &store, &context);
            assert_same_catalog(&mut db.superuser(), &expected_catalog, &context);
        }
    }
}

/// A database at an earlier release, filled through that release's API.
struct FilledRelease {
    db: TestDb,
    reset_token: String,
    bcrypt_password: String,
    configuration: Value,
    events: i64,
}

fn fill_release(old: &str, store: &LegacyHttpStore) -> FilledRelease {
    let db = TestDb::at_version("upgrade_from", old);
    db.import_from(&store.base_url, "");
    let mut su = db.superuser();
    let mut app = db.member_of("trickle_app");
    let installed = installed_version(&mut su);
    assert_eq!(installed, old);
    let (bcrypt_password, bcrypt_hash, _) = reference_vector("bcrypt", 0);

    app.query_one("SELECT auth.signup('native@example.org', 'native-password')", &[]).unwrap();
    app.query_one("SELECT auth.signup('resets@example.org', 'forgotten-password')", &[]).unwrap();
    let reset_token: String =
        app.query_one("SELECT auth.create_password_reset('resets@example.org')", &[]).unwrap().get(0);
    assert_eq!(login(&mut app, "ann@legacy.test", "ann-password"), (true, "migrated".into()));
    assert_eq!(login(&mut app, "native@example.org", "wrong"), (false, "invalid_credentials".into()));
    // What the release's bulk import wrote (the library installed here refuses to import over older SQL).
    su.execute(
        "INSERT INTO auth.users (email, external_id, password_hash, password_format, source)
         VALUES ('imported@example.org', 'i1', $1, 'bcrypt', 'imported')",
        &[&bcrypt_hash],
    )
    .unwrap();
    // The old definitions of the functions that read caller-named relations ran with the owner's rights: over
    // older SQL, this library refuses them until the update.
    for refused in
        ["SELECT auth.configure_fdw_store('pg_catalog.pg_authid', '{}')", "SELECT * FROM auth.import_users()"]
    {
        let err = su.batch_execute(refused).unwrap_err();
        assert_eq!(err.as_db_error().map(|e| e.code().code()), Some("55000"), "{old}: {refused}");
    }
    let configuration = su.query_one("SELECT to_jsonb(c) FROM auth.import_configuration AS c", &[]).unwrap().get(0);
    let events = su.query_one("SELECT count(*) FROM auth.migration_events", &[]).unwrap().get(0);
    FilledRelease { db, reset_token, bcrypt_password, configuration, events }
}

/// Every user logs in (the migrated one without the legacy store), the token works, configuration and events
/// are kept, and a legacy user not yet migrated still migrates.
fn check_everything_kept(db: &TestDb, filled: &FilledRelease, store: &LegacyHttpStore, context: &str) {
    let mut su = db.superuser();
    let mut app = db.member_of("trickle_app");
    let version = installed_version(&mut su);
    assert_eq!(version, default_version(&mut su), "{context}");
    let configuration: Value =
        su.query_one("SELECT to_jsonb(c) FROM auth.import_configuration AS c", &[]).unwrap().get(0);
    // Later releases add settings; every one the old release had is kept as it was.
    for (key, value) in filled.configuration.as_object().expect("a configuration row") {
        assert_eq!(&configuration[key], value, "{context}: the legacy store setting {key} is kept");
    }

    let store_logins = store.requests("POST login");
    assert_eq!(login(&mut app, "native@example.org", "native-password"), (true, "authenticated".into()), "{context}");
    assert_eq!(login(&mut app, "ann@legacy.test", "ann-password"), (true, "authenticated".into()), "{context}");
    assert_eq!(store.requests("POST login"), store_logins, "{context}: a migrated user stays off the legacy store");
    let ann: Value = app.query_one("SELECT auth.get_user('ann@legacy.test')", &[]).unwrap().get(0);
    assert_eq!(ann["user_metadata"], json!({"plan": "pro"}), "{context}");

    assert_eq!(password_format(&mut su, "imported@example.org"), "bcrypt", "{context}");
    let imported = login(&mut app, "imported@example.org", &filled.bcrypt_password);
    assert_eq!(imported, (true, "authenticated".into()), "{context}");
    assert_eq!(password_format(&mut su, "imported@example.org"), "argon2id", "{context}: rehashed at first login");

    app.execute("SELECT auth.reset_password($1, 'remembered-password')", &[&filled.reset_token]).unwrap();
    let reset = login(&mut app, "resets@example.org", "remembered-password");
    assert_eq!(reset, (true, "authenticated".into()), "{context}");

    assert_eq!(login(&mut app, "bob@legacy.test", "bob-password"), (true, "migrated".into()), "{context}");
    let events: i64 = su.query_one("SELECT count(*) FROM auth.migration_events", &[]).unwrap().get(0);
    assert_eq!(events, filled.events + 1, "{context}: earlier events are kept and new ones recorded");
}

fn assert_same_catalog(c: &mut Client, expected: &BTreeSet<String>, context: &str) {
    let actual = catalog(c);
    let missing: Vec<_> = expected.difference(&actual).collect();
    let unexpected: Vec<_> = actual.difference(expected).collect();
    assert!(
        missing.is_empty() && unexpected.is_empty(),
        "{context}: the schema differs from a fresh install.\nmissing: {missing:#?}\nnot in a fresh install: \
         {unexpected:#?}"
    );
}

/// An update never refuses the logins of users already here: while the update's transaction is open they go on, or
/// (0.3.0 → 0.4.0 alters auth.users: a column and the unique index on legacy ids) wait for its commit and then
/// succeed — never an error.
#[test]
fn logins_go_on_while_an_update_is_in_progress() {
    let current = default_version(&mut TestDb::new("upgrade_locks_version").superuser());
    for old in released_versions().into_iter().filter(|v| *v != current) {
        let db = TestDb::at_version("upgrade_locks", &old);
        let mut app = db.member_of("trickle_app");
        app.query_one("SELECT auth.signup('native@example.org', 'native-password')", &[]).unwrap();
        let mut su = db.superuser();
        let mut update = su.transaction().unwrap();
        update.batch_execute("ALTER EXTENSION pg_trickle UPDATE").unwrap();

        let during = std::thread::spawn(move || {
            let right = login(&mut app, "native@example.org", "native-password");
            let wrong = login(&mut app, "native@example.org", "wrong");
            (right, wrong)
        });
        std::thread::sleep(std::time::Duration::from_millis(500));
        update.commit().unwrap();
        let (right, wrong) = during.join().expect("the login thread");
        assert_eq!(right, (true, "authenticated".into()), "updating from {old}");
        assert_eq!(wrong, (false, "invalid_credentials".into()), "updating from {old}");
    }
}
