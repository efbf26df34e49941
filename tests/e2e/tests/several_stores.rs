//! Several legacy stores at once (companies that merged, or that leave two old systems): an FDW store and an HTTP
//! store configured side by side, asked in order; the first store that knows a user decides, the store a user came
//! from is recorded, legacy ids are unique per store, a store can be limited to email domains, disconnected or
//! removed on its own, and one store that cannot answer fails the logins that reach it — never quietly skipped.

use pg_trickle_e2e::postgres::Client;
use pg_trickle_e2e::{sqlstate, LegacyDb, LegacyHttpStore, TestDb};
use serde_json::json;

/// The FDW store's password for every row: md5_crypt made by `openssl passwd -1 -salt saltsalt`.
const CRM_PASSWORD: &str = "correct horse";

fn login(c: &mut Client, email: &str, password: &str) -> (bool, String) {
    let row = c.query_one("SELECT ok, status FROM auth.login($1, $2)", &[&email, &password]).unwrap();
    (row.get(0), row.get(1))
}

/// The store a local user came from, and their legacy id.
fn origin(c: &mut Client, email: &str) -> (Option<String>, Option<String>) {
    let row = c.query_one("SELECT legacy_store, external_id FROM auth.users WHERE email = $1", &[&email]).unwrap();
    (row.get(0), row.get(1))
}

/// Store 1, "crm": an FDW legacy database with ann, bob and cid. Store 2, "shop": an HTTP store that also has ann
/// (another password, the same legacy id 1 as crm's ann) and zoe, kim and lee, whom crm does not know.
struct TwoStores {
    db: TestDb,
    legacy: LegacyDb,
    shop: LegacyHttpStore,
}

fn two_stores(label: &str, shop_options: &str) -> TwoStores {
    let db = TestDb::new(label);
    let legacy = LegacyDb::create(
        "CREATE TABLE users (uid bigint PRIMARY KEY, mail text, pw text);
         INSERT INTO users VALUES (1, 'ann@legacy.test', '$1$saltsalt$NuzA7WTAelpl95xgBGWN60'),
                                  (2, 'bob@legacy.test', '$1$saltsalt$NuzA7WTAelpl95xgBGWN60'),
                                  (3, 'cid@legacy.test', '$1$saltsalt$NuzA7WTAelpl95xgBGWN60');",
    );
    legacy.attach_to(&db);
    let shop = LegacyHttpStore::start(&json!([
        {"user_id": "1", "email": "zoe@shop.test", "password": "zoe-password"},
        {"user_id": "2", "email": "ann@legacy.test", "password": "ann-shop-password"},
        {"user_id": "3", "email": "kim@shop.test", "password": "kim-password"},
        {"user_id": "4", "email": "lee@shop.test", "password": "lee-password"}
    ]));
    db.superuser()
        .batch_execute(&format!(
            r#"SELECT auth.configure_fdw_store('legacy.users', '{{"email": "mail", "id": "uid", "password_hash": "pw",
                                                                   "hash_format": "md5_crypt"}}', store => 'crm');
               SELECT auth.configure_http_store('{}', store => 'shop'{shop_options});
               SELECT auth.set_import_mode(true);"#,
            shop.base_url
        ))
        .unwrap();
    TwoStores { db, legacy, shop }
}

fn shop_calls(shop: &LegacyHttpStore) -> u64 {
    shop.requests("POST login") + shop.requests("GET users")
}

#[test]
fn stores_are_asked_in_order_and_the_first_that_knows_a_user_decides() {
    let s = two_stores("stores_order", "");
    let mut app = s.db.member_of("trickle_app");
    let mut admin = s.db.member_of("trickle_admin");
    let stores: Vec<(String, i32, String)> = admin
        .query("SELECT store, ask_order, store_kind FROM auth.import_configuration", &[])
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .collect();
    assert_eq!(stores, [("crm".into(), 1, "fdw".into()), ("shop".into(), 2, "http".into())]);

    // Known only to the second store.
    assert_eq!(login(&mut app, "zoe@shop.test", "zoe-password"), (true, "migrated".into()));
    assert_eq!(origin(&mut admin, "zoe@shop.test"), (Some("shop".into()), Some("1".into())));

    // Known to both: the first store decides — its password migrates, the second store's is refused and the second
    // store is not asked.
    let before = shop_calls(&s.shop);
    assert_eq!(login(&mut app, "ann@legacy.test", "ann-shop-password"), (false, "invalid_credentials".into()));
    assert_eq!(shop_calls(&s.shop), before, "crm knows ann: shop is not asked");
    assert_eq!(login(&mut app, "ann@legacy.test", CRM_PASSWORD), (true, "migrated".into()));
    // Legacy ids are unique per store: crm's 1 (ann) and shop's 1 (zoe) are both here.
    assert_eq!(origin(&mut admin, "ann@legacy.test"), (Some("crm".into()), Some("1".into())));
    let events: Vec<(String, String, Option<String>)> = admin
        .query("SELECT email, adapter, store FROM auth.migration_events WHERE outcome = 'migrated' ORDER BY id", &[])
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .collect();
    assert_eq!(
        events,
        [
            ("zoe@shop.test".into(), "http".into(), Some("shop".into())),
            ("ann@legacy.test".into(), "fdw".into(), Some("crm".into()))
        ]
    );

    // getUser goes through both stores too: signup of an email either store holds is refused, as a duplicate.
    for taken in ["cid@legacy.test", "kim@shop.test"] {
        let err = app.query_one("SELECT auth.signup($1, 'a-new-password')", &[&taken]).unwrap_err();
        assert_eq!(sqlstate(&err), "23505", "{taken}");
    }
    app.query_one("SELECT auth.signup('new@example.org', 'a-new-password')", &[]).unwrap();
    admin.query_one("SELECT auth.migrate('kim@shop.test')", &[]).unwrap();
    assert_eq!(origin(&mut admin, "kim@shop.test").0.as_deref(), Some("shop"), "admin migrate records the store");

    // Progress, store by store and over both: crm has 3 rows (ann moved over), shop 4 users (zoe and kim moved over;
    // its ann is another account, still in its count).
    let per_store: Vec<(String, Option<i64>, i64, Option<i64>)> = admin
        .query("SELECT store, legacy_total, migrated, legacy_remaining FROM auth.store_progress()", &[])
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3)))
        .collect();
    assert_eq!(per_store, [("crm".into(), Some(3), 1, Some(2)), ("shop".into(), Some(4), 2, Some(2))]);
    let row = admin.query_one("SELECT legacy_total, legacy_remaining FROM auth.migration_progress()", &[]).unwrap();
    assert_eq!((row.get::<_, Option<i64>>(0), row.get::<_, Option<i64>>(1)), (Some(7), Some(4)));

    // Counters, store by store: crm was asked by three logins (zoe: unknown; ann: wrong password, then migrated)
    // and four look-ups (the signups of cid, kim and new, and the migrate of kim); shop by one login (zoe) and the
    // three look-ups crm could not answer.
    let counters: Vec<(String, i64, i64, i64, i64, i64)> = admin
        .query(
            "SELECT store, logins, lookups, migrations, rejections, store_errors FROM auth.store_stats() ORDER BY 1",
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3), r.get(4), r.get(5)))
        .collect();
    assert_eq!(counters, [("crm".into(), 3, 4, 1, 2, 0), ("shop".into(), 1, 3, 1, 0, 0)]);
    let checked: Vec<Option<String>> = admin
        .query("SELECT DISTINCT store FROM auth.check_store() WHERE ok ORDER BY 1", &[])
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(checked, [Some("crm".into()), Some("shop".into()), None]);
}

#[test]
fn one_store_down_fails_the_logins_that_reach_it_and_no_others() {
    let s = two_stores("stores_down", "");
    let mut app = s.db.member_of("trickle_app");
    s.shop.set_mode(json!({"mode": "status", "status": 503}));
    // crm knows bob: shop is never reached.
    assert_eq!(login(&mut app, "bob@legacy.test", CRM_PASSWORD), (true, "migrated".into()));
    // zoe's search reaches shop, which cannot answer: an error, not a quiet refusal.
    let err = app.query_one("SELECT * FROM auth.login('zoe@shop.test', 'zoe-password')", &[]).unwrap_err();
    assert_eq!(&sqlstate(&err)[..2], "08", "{err}");
    let errors: i64 =
        s.db.member_of("trickle_admin")
            .query_one("SELECT store_errors FROM auth.store_stats() WHERE store = 'shop'", &[])
            .unwrap()
            .get(0);
    assert_eq!(errors, 1, "the failed call is counted against shop, though the login's transaction aborted");

    // The FDW store down: a login that reaches it fails with the legacy database's error.
    s.shop.set_mode(json!({"mode": "normal"}));
    s.legacy.client().batch_execute("ALTER TABLE users RENAME TO users_elsewhere").unwrap();
    let err = app.query_one("SELECT * FROM auth.login('zoe@shop.test', 'zoe-password')", &[]).unwrap_err();
    assert_eq!(sqlstate(&err), "42P01", "{err}");
    s.legacy.client().batch_execute("ALTER TABLE users_elsewhere RENAME TO users").unwrap();
    assert_eq!(login(&mut app, "zoe@shop.test", "zoe-password"), (true, "migrated".into()));
}

#[test]
fn one_store_is_disconnected_limited_to_domains_or_removed_on_its_own() {
    let s = two_stores("stores_one_by_one", ", email_domains => ARRAY['Shop.test']");
    let mut app = s.db.member_of("trickle_app");
    let mut admin = s.db.member_of("trickle_admin");

    // shop serves shop.test emails only: an unknown legacy.test email is never sent there.
    let before = shop_calls(&s.shop);
    assert_eq!(login(&mut app, "nobody@legacy.test", "whatever-pw"), (false, "invalid_credentials".into()));
    assert_eq!(shop_calls(&s.shop), before, "shop is limited to shop.test");
    let domains: Vec<String> = admin
        .query_one("SELECT email_domains FROM auth.import_configuration WHERE store = 'shop'", &[])
        .unwrap()
        .get(0);
    assert_eq!(domains, ["shop.test"]);

    // Disconnecting crm leaves shop answering.
    let names: String = admin.query_one("SELECT auth.disconnect_external_store('crm')", &[]).unwrap().get(0);
    assert_eq!(names, "crm");
    s.legacy.client().batch_execute("ALTER TABLE users RENAME TO users_elsewhere").unwrap();
    assert_eq!(login(&mut app, "cid@legacy.test", CRM_PASSWORD), (false, "invalid_credentials".into()));
    assert_eq!(login(&mut app, "zoe@shop.test", "zoe-password"), (true, "migrated".into()));
    s.legacy.client().batch_execute("ALTER TABLE users_elsewhere RENAME TO users").unwrap();
    let names: String = admin.query_one("SELECT auth.reconnect_external_store('crm')", &[]).unwrap().get(0);
    assert_eq!(names, "crm");
    assert_eq!(login(&mut app, "cid@legacy.test", CRM_PASSWORD), (true, "migrated".into()));

    // Removing shop forgets its settings; its users keep its name.
    admin.query_one("SELECT auth.remove_external_store('shop')", &[]).unwrap();
    assert_eq!(origin(&mut admin, "zoe@shop.test").0.as_deref(), Some("shop"));
    assert_eq!(login(&mut app, "kim@shop.test", "kim-password"), (false, "invalid_credentials".into()));
    let err = admin.query_one("SELECT auth.remove_external_store('shop')", &[]).unwrap_err();
    assert_eq!(sqlstate(&err), "42704");

    // Bad names, positions and domain lists are refused before anything is stored.
    for bad in [
        "SELECT auth.configure_http_store('http://127.0.0.1:9', store => 'Bad Name')",
        "SELECT auth.configure_http_store('http://127.0.0.1:9', store => 'x', ask_order => 0)",
        "SELECT auth.configure_http_store('http://127.0.0.1:9', store => 'x', email_domains => '{}')",
        "SELECT auth.configure_http_store('http://127.0.0.1:9', store => 'x', email_domains => ARRAY['a@b.c'])",
        "SELECT auth.configure_http_store('http://127.0.0.1:9', store => 'x', email_domains => ARRAY[NULL])",
    ] {
        let err = s.db.superuser().query_one(bad, &[]).unwrap_err();
        assert!(["22023", "22004"].contains(&sqlstate(&err).as_str()), "{bad}: {err}");
    }
    let count: i64 = admin.query_one("SELECT count(*) FROM auth.import_configuration", &[]).unwrap().get(0);
    assert_eq!(count, 1, "only crm is left");
    let err = app.query_one("SELECT auth.remove_external_store('crm')", &[]).unwrap_err();
    assert_eq!(sqlstate(&err), "42501", "admins only");
}
