//! A WordPress database on a real MariaDB, read through a real mysql_fdw (Debian's packages): the look-up is
//! shipped to MariaDB, whose case-insensitive collation finds a mixed-case email; collation twins (`josé` = `jose`)
//! each move over as themselves; true duplicates are refused for that email only; a MySQL zero date breaks the one
//! row that holds it, never the others; the WordPress format verifies what WordPress stored.

use pg_trickle_e2e::{event_outcomes, reference_vector, try_login, LegacyMariaDb, TestDb};

/// WordPress's own table definition (wp-admin/includes/schema.php), utf8mb4_unicode_ci as WordPress creates it.
const WP_USERS: &str = "CREATE TABLE wp_users (
    ID bigint(20) unsigned NOT NULL AUTO_INCREMENT,
    user_login varchar(60) NOT NULL DEFAULT '',
    user_pass varchar(255) NOT NULL DEFAULT '',
    user_nicename varchar(50) NOT NULL DEFAULT '',
    user_email varchar(100) NOT NULL DEFAULT '',
    user_url varchar(100) NOT NULL DEFAULT '',
    user_registered datetime NOT NULL DEFAULT '0000-00-00 00:00:00',
    user_activation_key varchar(255) NOT NULL DEFAULT '',
    user_status int(11) NOT NULL DEFAULT '0',
    display_name varchar(250) NOT NULL DEFAULT '',
    PRIMARY KEY (ID), KEY user_login_key (user_login), KEY user_nicename (user_nicename), KEY user_email (user_email)
) DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;";

fn wordpress_on_mariadb(label: &str, mapping_extra: &str) -> (LegacyMariaDb, TestDb, String) {
    let (password, hash, _) = reference_vector("phpass", 0);
    let maria = LegacyMariaDb::create(WP_USERS);
    // Old WordPress installs hold zero dates: MariaDB accepts them only with a lax sql_mode.
    maria.sql(&format!(
        "SET SESSION sql_mode = '';
         INSERT INTO wp_users (user_login, user_pass, user_email, display_name, user_registered) VALUES
             ('ann', '{hash}', 'Ann@WP.test', 'Ann', '2020-01-01'),
             ('jose1', '{hash}', 'josé@wp.test', 'José', '2020-01-01'),
             ('jose2', '{hash}', 'jose@wp.test', 'Jose', '2020-01-01'),
             ('zero', '{hash}', 'zero@wp.test', 'Zero', '0000-00-00 00:00:00'),
             ('bob', '{hash}', 'bob@wp.test', 'Bob', '2021-02-03');"
    ));
    let db = TestDb::new(label);
    maria.attach_to(&db);
    db.superuser()
        .batch_execute(&format!(
            r#"SELECT auth.configure_fdw_store('legacy.wp_users', '{{"email": "user_email", "id": "ID",
                   "password_hash": "user_pass", "hash_format": "wordpress", "username": "user_login",
                   "name": "display_name"{mapping_extra}}}');
               SELECT auth.set_import_mode(true);"#
        ))
        .unwrap();
    (maria, db, password)
}

/// Adds two rows with one email.
fn add_duplicate(maria: &LegacyMariaDb) {
    let (_, hash, _) = reference_vector("phpass", 0);
    maria.sql(&format!(
        "INSERT INTO wp_users (user_login, user_pass, user_email, display_name, user_registered) VALUES
             ('dup1', '{hash}', 'dup@wp.test', 'Dup 1', '2020-01-01'), ('dup2', '{hash}', 'Dup@WP.test', 'Dup 2', '2020-01-01');"
    ));
}

#[test]
fn wordpress_users_migrate_from_mariadb_and_twins_stay_apart() {
    let (maria, db, password) = wordpress_on_mariadb("maria_wp", "");
    let mut app = db.member_of("trickle_app");

    // The look-up runs in MariaDB (pushed down), so its utf8mb4_unicode_ci finds the mixed-case email.
    let plan: Vec<String> = db
        .superuser()
        .query("EXPLAIN VERBOSE SELECT \"ID\" FROM legacy.wp_users WHERE user_email = 'ann@wp.test'", &[])
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert!(plan.iter().any(|l| l.contains("Remote query") && l.contains("WHERE")), "{plan:?}");
    assert_eq!(try_login(&mut app, "ann@wp.test", &format!("{password}x")), Ok((false, "invalid_credentials".into())));
    assert_eq!(try_login(&mut app, "ann@wp.test", &password), Ok((true, "migrated".into())));
    let name: String = app.query_one("SELECT auth.get_user('ann@wp.test') ->> 'name'", &[]).unwrap().get(0);
    assert_eq!(name, "Ann");

    // The collation makes josé and jose one email to MariaDB, which answers both rows for either: each still moves
    // over as themselves, never as the other.
    for (twin, name) in [("jose@wp.test", "Jose"), ("josé@wp.test", "José")] {
        assert_eq!(try_login(&mut app, twin, &password), Ok((true, "migrated".into())), "{twin}");
        let got: String = app.query_one("SELECT auth.get_user($1) ->> 'name'", &[&twin]).unwrap().get(0);
        assert_eq!(got, name, "{twin}");
    }

    // Two rows of one email (WordPress does not forbid it) are refused for that email, and the admin sees why.
    add_duplicate(&maria);
    assert_eq!(try_login(&mut app, "dup@wp.test", &password), Ok((false, "invalid_credentials".into())));
    assert_eq!(event_outcomes(&db, "dup@wp.test"), ["ambiguous_legacy_rows"]);
    let listed: Vec<(String, String, Vec<Option<String>>)> = db
        .member_of("trickle_admin")
        .query("SELECT store, email, legacy_ids FROM auth.duplicate_legacy_users()", &[])
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .collect();
    assert_eq!(
        listed,
        [("default".into(), "dup@wp.test".into(), vec![Some("6".into()), Some("7".into())])],
        "the admin sees the rows to fix; the twins are not duplicates"
    );

    // A zero date in a column the mapping does not read harms nobody.
    assert_eq!(try_login(&mut app, "zero@wp.test", &password), Ok((true, "migrated".into())));

    // WordPress logs users in by user_login too, compared by MariaDB's collation: BOB is bob's login there.
    assert_eq!(try_login(&mut app, "BOB", &password), Ok((true, "migrated".into())));
    let email: String = app.query_one("SELECT email FROM auth.login('bob@wp.test', $1)", &[&password]).unwrap().get(0);
    assert_eq!(email, "bob@wp.test");
}

#[test]
fn a_zero_date_in_a_mapped_column_breaks_that_user_only() {
    let (maria, db, password) =
        wordpress_on_mariadb("maria_wp_zero", r#", "user_metadata_columns": ["user_registered"]"#);
    let mut app = db.member_of("trickle_app");
    // mysql_fdw cannot turn 0000-00-00 into a timestamp: that user's first login fails with its error (22008)...
    assert_eq!(try_login(&mut app, "zero@wp.test", &password), Err("22008".into()));
    // ... and everyone else is unaffected.
    assert_eq!(try_login(&mut app, "bob@wp.test", &password), Ok((true, "migrated".into())));
    let registered: String = app
        .query_one("SELECT auth.get_user('bob@wp.test') -> 'user_metadata' ->> 'user_registered'", &[])
        .unwrap()
        .get(0);
    assert!(registered.starts_with("2021-02-03"), "{registered}");

    // A bulk import reads the table again one legacy id at a time and rejects that row alone, with its SQLSTATE.
    let mut admin = db.superuser();
    let row = admin.query_one("SELECT * FROM auth.import_users()", &[]).unwrap();
    let (inserted, rejected, rejections): (i64, i64, serde_json::Value) = (row.get(0), row.get(3), row.get(4));
    assert_eq!((inserted, rejected), (3, 1), "{rejections}");
    let zero_id: i64 =
        maria.sql("SELECT ID FROM wp_users WHERE user_login = 'zero'").lines().last().unwrap().trim().parse().unwrap();
    assert_eq!(rejections[0]["reason"], "unreadable_row_22008");
    assert_eq!(rejections[0]["legacy_id"], zero_id.to_string());
    for email in ["ann@wp.test", "josé@wp.test", "jose@wp.test"] {
        let found: i64 = admin.query_one("SELECT count(*) FROM auth.users WHERE email = $1", &[&email]).unwrap().get(0);
        assert_eq!(found, 1, "{email}");
    }
    // So does the list of duplicates: nothing to list, and no error.
    let duplicates: i64 = admin.query_one("SELECT count(*) FROM auth.duplicate_legacy_users()", &[]).unwrap().get(0);
    assert_eq!(duplicates, 0);
}
