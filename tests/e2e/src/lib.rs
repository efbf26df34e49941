//! End-to-end harness for pg_trickle: tests connect over the wire, as an application would.
//!
//! The PostgreSQL cluster is started by `scripts/cluster.sh` (see `make test-e2e`), which exports
//! `PG_TRICKLE_E2E_PORT`. Each test creates its own database with the extension installed, so tests
//! run in parallel without seeing each other. The harness also starts the auxiliary servers:
//! the legacy HTTP store (`legacy-store`, on 127.0.0.1 and a free port) and a legacy database
//! reached through postgres_fdw.

use postgres::{Client, NoTls};
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};

pub mod providers;

pub use postgres;

/// The port of the test cluster; tests fail loudly when run outside `make test-e2e`.
pub fn cluster_port() -> u16 {
    std::env::var("PG_TRICKLE_E2E_PORT")
        .ok()
        .and_then(|p| p.parse().ok())
        .expect("PG_TRICKLE_E2E_PORT is not set: run the end-to-end tests with `make test-e2e`")
}

pub fn connect_as(dbname: &str, user: &str) -> Result<Client, postgres::Error> {
    let port = cluster_port();
    Client::connect(&format!("host=127.0.0.1 port={port} user={user} dbname={dbname}"), NoTls)
}

fn unique_name(prefix: &str) -> String {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    format!("{prefix}_{}_{}", std::process::id(), COUNTER.fetch_add(1, Ordering::SeqCst))
}

/// `auth.login`'s (ok, status), or the error's SQLSTATE.
pub fn try_login(c: &mut Client, email: &str, password: &str) -> Result<(bool, String), String> {
    c.query_one("SELECT ok, status FROM auth.login($1, $2)", &[&email, &password])
        .map(|r| (r.get(0), r.get(1)))
        .map_err(|e| sqlstate(&e))
}

/// The outcomes auth.migration_events holds for an email, oldest first.
pub fn event_outcomes(db: &TestDb, email: &str) -> Vec<String> {
    db.superuser()
        .query("SELECT outcome FROM auth.migration_events WHERE email = $1 ORDER BY id", &[&email])
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect()
}

/// A streaming hot standby of the test cluster (`scripts/cluster.sh standby`, pg_basebackup -R) on the port after
/// the cluster's, with pg_trickle preloaded; stopped when dropped. One at a time: a test file that needs it uses it
/// in a single test.
pub struct Standby {
    pub port: u16,
    name: String,
}

fn cluster_script(args: &[&str]) {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../../scripts/cluster.sh");
    let ok = Command::new("bash").arg(script).args(args).stdout(Stdio::null()).status().expect("run cluster.sh");
    assert!(ok.success(), "cluster.sh {args:?} failed");
}

impl Standby {
    pub fn start() -> Self {
        let (port, primary) = (cluster_port() + 1, cluster_port().to_string());
        let name = "e2e-standby".to_string();
        // A standby needs at least the primary's max_connections (make test-e2e starts it with 200).
        let options = ["max_connections=200", "shared_preload_libraries=pg_trickle"];
        cluster_script(&[&["standby", &name, &port.to_string(), &primary][..], &options].concat());
        Standby { port, name }
    }

    pub fn connect_as(&self, dbname: &str, user: &str) -> Client {
        Client::connect(&format!("host=127.0.0.1 port={} user={user} dbname={dbname}", self.port), NoTls)
            .expect("connect to the standby")
    }

    /// Waits until the standby has replayed everything the primary has written so far.
    pub fn catch_up(&self) {
        let mut primary = connect_as("postgres", "postgres").expect("connect to the primary");
        let target: String = primary.query_one("SELECT pg_current_wal_lsn()::text", &[]).unwrap().get(0);
        let mut standby = self.connect_as("postgres", "postgres");
        for _ in 0..600 {
            let caught_up: bool =
                standby.query_one("SELECT pg_last_wal_replay_lsn() >= $1::text::pg_lsn", &[&target]).unwrap().get(0);
            if caught_up {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        panic!("the standby did not catch up within 30 s");
    }
}

impl Drop for Standby {
    fn drop(&mut self) {
        cluster_script(&["stop", &self.name]);
    }
}

/// The test cluster's server log so far (scripts/cluster.sh starts the server with `-l <dir>/server.log`, beside
/// its data directory), read through the server as a superuser.
pub fn server_log() -> String {
    let mut su = connect_as("postgres", "postgres").expect("connect to the test cluster");
    su.query_one("SELECT pg_read_file(current_setting('data_directory') || '/../server.log')", &[])
        .expect("read the server log")
        .get(0)
}

/// The SQLSTATE of an error from the server (panics on a client-side error: that is a harness bug).
pub fn sqlstate(err: &postgres::Error) -> String {
    err.as_db_error().map(|e| e.code().code().to_string()).unwrap_or_else(|| panic!("not a server error: {err}"))
}

/// A database of its own with `pg_trickle` installed, dropped when the test ends.
pub struct TestDb {
    pub name: String,
}

impl TestDb {
    /// Fast hashing parameters keep the suite quick; tests about parameters override them.
    pub fn new(label: &str) -> Self {
        Self::create(label, "")
    }

    /// The extension at an earlier release (its install script comes from `sql/releases/`), to update from.
    pub fn at_version(label: &str, version: &str) -> Self {
        Self::create(label, &format!("VERSION '{version}'"))
    }

    fn create(label: &str, version_clause: &str) -> Self {
        let name = unique_name(label);
        let mut admin = connect_as("postgres", "postgres").expect("connect to the test cluster");
        admin.batch_execute(&format!("CREATE DATABASE {name}")).expect("create test database");
        let db = TestDb { name };
        let mut su = db.superuser();
        su.batch_execute(&format!(
            "CREATE EXTENSION pg_trickle {1};
             ALTER DATABASE {0} SET pg_trickle.argon2_memory_kib = 8192;
             ALTER DATABASE {0} SET pg_trickle.argon2_iterations = 1;",
            db.name, version_clause
        ))
        .expect("create extension");
        db
    }

    pub fn superuser(&self) -> Client {
        connect_as(&self.name, "postgres").expect("connect as superuser")
    }

    /// Connects as a login role that is a member of `group` (created once per cluster).
    pub fn member_of(&self, group: &str) -> Client {
        let role = format!("e2e_{group}_login");
        let mut su = self.superuser();
        // Roles are cluster-wide and tests run in parallel: tolerate a concurrent creator.
        let _ = su.batch_execute(&format!(
            "DO $$ BEGIN
               IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{role}') THEN
                 CREATE ROLE {role} LOGIN IN ROLE {group};
               END IF;
             END $$;"
        ));
        connect_as(&self.name, &role).expect("connect as member")
    }

    /// Points import mode at `base_url` (pg_trickle contract unless `extra` says otherwise) and turns it on.
    /// `extra`: further named arguments of auth.configure_http_store, e.g. `timeout_ms => 300`.
    pub fn import_from(&self, base_url: &str, extra: &str) {
        let extra = if extra.is_empty() { String::new() } else { format!(", {extra}") };
        self.superuser()
            .batch_execute(&format!(
                "SELECT auth.configure_http_store('{base_url}'{extra}); SELECT auth.set_import_mode(true);"
            ))
            .expect("configure the HTTP legacy store");
    }

    /// Points import mode at the relation `legacy.{table}` (attached with `LegacyDb::attach_to`) with `mapping`, as the
    /// superuser, and turns it on.
    pub fn import_from_fdw(&self, table: &str, mapping: &str) {
        self.superuser()
            .execute("SELECT auth.configure_fdw_store($1, $2::text::jsonb)", &[&format!("legacy.{table}"), &mapping])
            .expect("configure the FDW legacy store");
        self.superuser().batch_execute("SELECT auth.set_import_mode(true)").expect("import mode on");
    }

    /// A superuser connection that collects the NOTICEs the server sends.
    pub fn superuser_with_notices(&self) -> (Client, std::sync::Arc<std::sync::Mutex<Vec<String>>>) {
        let notices = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let sink = notices.clone();
        let client = postgres::Config::new()
            .host("127.0.0.1")
            .port(cluster_port())
            .user("postgres")
            .dbname(&self.name)
            .notice_callback(move |n| sink.lock().unwrap().push(n.message().to_string()))
            .connect(NoTls)
            .expect("connect as superuser");
        (client, notices)
    }

    /// Connects as a login role with no pg_trickle privileges at all.
    pub fn outsider(&self) -> Client {
        let mut su = self.superuser();
        let _ = su.batch_execute(
            "DO $$ BEGIN
               IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'e2e_outsider') THEN
                 CREATE ROLE e2e_outsider LOGIN;
               END IF;
             END $$;",
        );
        connect_as(&self.name, "e2e_outsider").expect("connect as outsider")
    }
}

/// The PostgreSQL client programs' directory (`pg_config --bindir`).
pub fn pg_bindir() -> String {
    let pg_config = std::env::var("PG_CONFIG").unwrap_or_else(|_| "pg_config".into());
    let bindir = Command::new(pg_config).arg("--bindir").output().expect("pg_config");
    String::from_utf8(bindir.stdout).expect("utf-8 path").trim().to_string()
}

impl TestDb {
    /// Runs psql as the superuser on this database with `args` (a script with `-f`, variables with `-v`); its
    /// output, or a panic with what it printed when it fails.
    pub fn psql(&self, args: &[&str]) -> String {
        let port = cluster_port().to_string();
        let out = Command::new(format!("{}/psql", pg_bindir()))
            .args(["-X", "-q", "-h", "127.0.0.1", "-p", &port, "-U", "postgres", "-d", &self.name])
            .args(args)
            .output()
            .expect("run psql");
        let printed = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        assert!(out.status.success(), "psql {args:?} failed:\n{printed}");
        printed
    }

    /// Replaces this database's contents with a real `pg_dump -Fc` of `source`, restored by `pg_restore`.
    pub fn restore_dump_of(&self, source: &TestDb) {
        self.superuser().batch_execute("DROP EXTENSION pg_trickle CASCADE").expect("empty the target");
        let bindir = pg_bindir();
        let port = cluster_port().to_string();
        let dump = TempFile::with_contents("dump", "");
        let dumped = Command::new(format!("{bindir}/pg_dump"))
            .args(["-h", "127.0.0.1", "-p", &port, "-U", "postgres", "-Fc", "-f"])
            .arg(&dump.path)
            .arg(&source.name)
            .status()
            .expect("run pg_dump");
        assert!(dumped.success(), "pg_dump failed");
        let restored = Command::new(format!("{bindir}/pg_restore"))
            .args(["-h", "127.0.0.1", "-p", &port, "-U", "postgres", "--exit-on-error", "-d", &self.name])
            .arg(&dump.path)
            .status()
            .expect("run pg_restore");
        assert!(restored.success(), "pg_restore failed");
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Ok(mut admin) = connect_as("postgres", "postgres") {
            let _ = admin.batch_execute(&format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name));
        }
    }
}

/// Cargo builds the package's binaries next to the `deps/` folder that holds the test executables.
fn legacy_store_binary() -> std::path::PathBuf {
    let exe = std::env::current_exe().expect("test executable path");
    let profile_dir = exe.parent().and_then(|deps| deps.parent()).expect("target/<profile>/deps/<test>");
    let binary = profile_dir.join("legacy-store");
    assert!(binary.exists(), "{binary:?} is missing: run the tests with `cargo test -p pg_trickle_e2e`");
    binary
}

/// A valid reference vector of a legacy hash format with a non-empty password (tests/vectors/legacy_hashes.json,
/// made by the format's reference implementation): (password, hash, params).
pub fn reference_vector(format: &str, nth: usize) -> (String, String, serde_json::Value) {
    let mut all: Vec<serde_json::Value> =
        serde_json::from_str(include_str!("../../vectors/legacy_hashes.json")).expect("vector file");
    let django: Vec<serde_json::Value> =
        serde_json::from_str(include_str!("../../vectors/django_hashes.json")).expect("Django vector file");
    all.extend(django);
    let v = all
        .iter()
        .filter(|v| {
            v["format"] == format && v["valid"] == true && v["password"].as_str().is_some_and(|p| !p.is_empty())
        })
        .nth(nth)
        .unwrap_or_else(|| panic!("no vector for {format}"));
    (
        v["password"].as_str().unwrap_or_default().into(),
        v["hash"].as_str().unwrap_or_default().into(),
        v["params"].clone(),
    )
}

/// A reference vector whose password is empty and which its implementation accepts: (password, hash, params).
pub fn empty_password_vector(format: &str) -> (String, String, serde_json::Value) {
    let all: Vec<serde_json::Value> =
        serde_json::from_str(include_str!("../../vectors/legacy_hashes.json")).expect("vector file");
    let v = all
        .iter()
        .find(|v| v["format"] == format && v["valid"] == true && v["password"] == "")
        .unwrap_or_else(|| panic!("no empty-password vector for {format}"));
    (String::new(), v["hash"].as_str().unwrap_or_default().into(), v["params"].clone())
}

/// Starts a helper server that announces "listening on HOST:PORT[ more]" as its first line of output; returns it and
/// the rest of that line.
pub fn spawn_announcing(command: &mut Command, what: &str) -> (Child, String) {
    let mut child = command.stdout(Stdio::piped()).spawn().unwrap_or_else(|e| panic!("start {what}: {e}"));
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("piped stdout")).read_line(&mut line).expect("read its address");
    match line.trim().strip_prefix("listening on ") {
        Some(rest) => (child, rest.to_string()),
        None => {
            let _ = child.kill();
            panic!("{what} did not announce its address (it printed {line:?})")
        }
    }
}

/// The project's legacy HTTP store, running as a child process on 127.0.0.1.
pub struct LegacyHttpStore {
    child: Child,
    pub base_url: String,
    _users_file: TempFile,
}

impl LegacyHttpStore {
    /// `users`: profiles in contract form, each with a `password` the store accepts.
    pub fn start(users: &serde_json::Value) -> Self {
        Self::start_with(users, &[])
    }

    /// Like `start`, with extra arguments (`--bearer TOKEN`, `--hmac-secret SECRET`).
    pub fn start_with(users: &serde_json::Value, args: &[&str]) -> Self {
        let users_file = TempFile::with_contents("legacy-users", &users.to_string());
        let (child, addr) = spawn_announcing(
            Command::new(legacy_store_binary()).arg("--users").arg(&users_file.path).args(args),
            "legacy-store",
        );
        LegacyHttpStore { child, base_url: format!("http://{addr}"), _users_file: users_file }
    }
}

impl LegacyHttpStore {
    /// A minimal HTTP/1.1 exchange with the store, for the tests' control calls.
    pub fn raw(&self, method: &str, path: &str, body: &str) -> (u16, String) {
        use std::io::{Read, Write};
        let addr = self.base_url.strip_prefix("http://").expect("http base URL");
        let mut stream = std::net::TcpStream::connect(addr).expect("connect to legacy-store");
        write!(
            stream,
            "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\n\
             Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
        .expect("send");
        let mut response = String::new();
        stream.read_to_string(&mut response).expect("read");
        let status = response.get(9..12).and_then(|s| s.parse().ok()).unwrap_or(0);
        let body = response.split_once("\r\n\r\n").map(|(_, b)| b.to_string()).unwrap_or_default();
        (status, body)
    }

    /// Switches the store's fault mode, e.g. `{"mode": "hang"}` (see legacy_store.rs).
    pub fn set_mode(&self, mode: serde_json::Value) {
        let (status, _) = self.raw("POST", "/__control/mode", &mode.to_string());
        assert_eq!(status, 200, "set legacy-store mode");
    }

    /// Contract requests served so far, by "METHOD route" (e.g. "POST login", "GET users").
    pub fn requests(&self, route: &str) -> u64 {
        let (_, body) = self.raw("GET", "/__control/stats", "");
        let stats: serde_json::Value = serde_json::from_str(&body).expect("stats JSON");
        stats[route].as_u64().unwrap_or(0)
    }
}

/// An https front for a legacy store (tests/e2e/tls_proxy.py) with a certificate for 127.0.0.1 issued by a
/// fresh test CA, both made by the openssl command-line tool.
pub struct TlsFront {
    child: Child,
    pub base_url: String,
    /// The CA certificate (PEM) to trust, as auth.configure_http_store's ca_bundle.
    pub ca_pem: String,
    _dir: TempDir,
}

/// A directory removed on drop.
struct TempDir(std::path::PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn openssl(dir: &std::path::Path, args: &[&str]) {
    let ok = Command::new("openssl").args(args).current_dir(dir).stderr(Stdio::null()).status().expect("run openssl");
    assert!(ok.success(), "openssl {args:?} failed");
}

impl TlsFront {
    pub fn start(backend: &LegacyHttpStore) -> Self {
        let dir = TempDir(std::env::temp_dir().join(unique_name("tls")));
        std::fs::create_dir_all(&dir.0).expect("make the TLS directory");
        std::fs::write(dir.0.join("leaf.ext"), "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\n")
            .expect("write the extensions");
        let days = ["-days", "1"];
        openssl(
            &dir.0,
            &[
                &["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=pg_trickle test CA"][..],
                &days,
                &["-keyout", "ca.key", "-out", "ca.pem"],
            ]
            .concat(),
        );
        openssl(
            &dir.0,
            &[
                "req",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-subj",
                "/CN=legacy-store",
                "-keyout",
                "leaf.key",
                "-out",
                "leaf.csr",
            ],
        );
        openssl(
            &dir.0,
            &[
                &["x509", "-req", "-in", "leaf.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial"][..],
                &days,
                &["-extfile", "leaf.ext", "-out", "leaf.pem"],
            ]
            .concat(),
        );
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tls_proxy.py");
        let (child, addr) = spawn_announcing(
            Command::new("python3")
                .arg(script)
                .arg(dir.0.join("leaf.pem"))
                .arg(dir.0.join("leaf.key"))
                .arg(&backend.base_url),
            "the TLS front",
        );
        let ca_pem = std::fs::read_to_string(dir.0.join("ca.pem")).expect("read the CA certificate");
        TlsFront { child, base_url: format!("https://{addr}"), ca_pem, _dir: dir }
    }
}

/// A TCP front for a legacy store (tests/e2e/idle_proxy.py) that closes client connections idle for longer than
/// `idle_seconds`, as a load balancer does with kept-alive connections, and counts the connections it accepts.
pub struct IdleClosingProxy {
    child: Child,
    pub base_url: String,
    count_file: TempFile,
}

impl IdleClosingProxy {
    pub fn start(backend: &LegacyHttpStore, idle_seconds: f64) -> Self {
        let backend_port = backend.base_url.rsplit(':').next().expect("the store's URL has a port").to_string();
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/idle_proxy.py");
        let count_file = TempFile::with_contents("idle_proxy_connections", "0");
        let (child, addr) = spawn_announcing(
            Command::new("python3").arg(script).arg(backend_port).arg(idle_seconds.to_string()).arg(&count_file.path),
            "the idle-closing proxy",
        );
        IdleClosingProxy { child, base_url: format!("http://{addr}"), count_file }
    }

    /// The connections accepted so far.
    pub fn connections(&self) -> u32 {
        std::fs::read_to_string(&self.count_file.path).ok().and_then(|n| n.trim().parse().ok()).unwrap_or(0)
    }
}

impl Drop for IdleClosingProxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for TlsFront {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for LegacyHttpStore {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A second database on the test cluster holding a legacy `users` table, imported into a test
/// database as foreign table `legacy.users` through a real postgres_fdw server.
pub struct LegacyDb {
    pub name: String,
}

impl LegacyDb {
    /// Creates the legacy database and runs `setup_sql` in it (e.g. CREATE TABLE users ...).
    pub fn create(setup_sql: &str) -> Self {
        let name = unique_name("legacy");
        let mut admin = connect_as("postgres", "postgres").expect("connect to the test cluster");
        admin.batch_execute(&format!("CREATE DATABASE {name}")).expect("create legacy database");
        connect_as(&name, "postgres").expect("connect to legacy db").batch_execute(setup_sql).expect("legacy setup");
        LegacyDb { name }
    }

    pub fn client(&self) -> Client {
        connect_as(&self.name, "postgres").expect("connect to the legacy database")
    }

    /// Makes the legacy tables visible in `db` under schema `legacy` (postgres_fdw, loopback TCP), readable by
    /// trickle_admin, the role a superuser's configuration reads them as.
    pub fn attach_to(&self, db: &TestDb) {
        let port = cluster_port();
        db.superuser()
            .batch_execute(&format!(
                "CREATE EXTENSION IF NOT EXISTS postgres_fdw;
                 CREATE SERVER legacy_server FOREIGN DATA WRAPPER postgres_fdw
                     OPTIONS (host '127.0.0.1', port '{port}', dbname '{name}');
                 CREATE USER MAPPING FOR PUBLIC SERVER legacy_server
                     OPTIONS (user 'postgres', password_required 'false');
                 CREATE SCHEMA legacy;
                 IMPORT FOREIGN SCHEMA public FROM SERVER legacy_server INTO legacy;
                 GRANT USAGE ON SCHEMA legacy TO trickle_admin;
                 GRANT SELECT ON ALL TABLES IN SCHEMA legacy TO trickle_admin;",
                name = self.name
            ))
            .expect("attach legacy database through postgres_fdw");
    }
}

impl Drop for LegacyDb {
    fn drop(&mut self) {
        if let Ok(mut admin) = connect_as("postgres", "postgres") {
            let _ = admin.batch_execute(&format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name));
        }
    }
}

/// A database on the project's throwaway MariaDB server (`scripts/mariadb.sh`, started on first use on
/// `PG_TRICKLE_MARIADB_PORT`), the legacy database of a WordPress-style application, read through a real mysql_fdw.
pub struct LegacyMariaDb {
    pub name: String,
}

/// The MariaDB account mysql_fdw connects as: SELECT on the test databases only.
const MARIADB_READER: (&str, &str) = ("trickle_reader", "reader-pw");

fn mariadb_port() -> u16 {
    std::env::var("PG_TRICKLE_MARIADB_PORT").ok().and_then(|p| p.parse().ok()).unwrap_or(28821)
}

/// Runs SQL as MariaDB's root over its socket; returns what the client printed (tab-separated, no headers).
pub fn mariadb_sql(sql: &str) -> String {
    static STARTED: std::sync::Once = std::sync::Once::new();
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../../scripts/mariadb.sh");
    STARTED.call_once(|| {
        let ok = Command::new("bash").arg(script).arg("start").arg(mariadb_port().to_string()).status();
        assert!(ok.is_ok_and(|s| s.success()), "start MariaDB (scripts/mariadb.sh)");
    });
    let mut child = Command::new("bash")
        .arg(script)
        .arg("sql")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run the MariaDB client");
    use std::io::Write;
    child.stdin.take().expect("stdin").write_all(sql.as_bytes()).expect("send SQL to MariaDB");
    let out = child.wait_with_output().expect("MariaDB client");
    assert!(out.status.success(), "MariaDB: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

impl LegacyMariaDb {
    /// Creates the database and runs `setup_sql` in it (e.g. CREATE TABLE wp_users ...).
    pub fn create(setup_sql: &str) -> Self {
        let name = unique_name("legacy_maria");
        let (user, password) = MARIADB_READER;
        mariadb_sql(&format!(
            "CREATE DATABASE {name};
             CREATE USER IF NOT EXISTS '{user}'@'127.0.0.1' IDENTIFIED BY '{password}';
             GRANT SELECT ON {name}.* TO '{user}'@'127.0.0.1';
             USE {name};
             {setup_sql}"
        ));
        LegacyMariaDb { name }
    }

    /// Runs SQL in this database.
    pub fn sql(&self, sql: &str) -> String {
        mariadb_sql(&format!("USE {};\n{sql}", self.name))
    }

    /// Makes the MariaDB tables visible in `db` under schema `legacy` (mysql_fdw over loopback TCP, as the
    /// SELECT-only MariaDB account), readable by trickle_admin.
    pub fn attach_to(&self, db: &TestDb) {
        let (user, password) = MARIADB_READER;
        db.superuser()
            .batch_execute(&format!(
                "CREATE EXTENSION IF NOT EXISTS mysql_fdw;
                 CREATE SERVER legacy_mariadb FOREIGN DATA WRAPPER mysql_fdw
                     OPTIONS (host '127.0.0.1', port '{port}');
                 CREATE USER MAPPING FOR PUBLIC SERVER legacy_mariadb
                     OPTIONS (username '{user}', password '{password}');
                 CREATE SCHEMA legacy;
                 IMPORT FOREIGN SCHEMA {name} FROM SERVER legacy_mariadb INTO legacy;
                 GRANT USAGE ON SCHEMA legacy TO trickle_admin;
                 GRANT SELECT ON ALL TABLES IN SCHEMA legacy TO trickle_admin;",
                port = mariadb_port(),
                name = self.name
            ))
            .expect("attach the MariaDB database through mysql_fdw");
    }
}

impl Drop for LegacyMariaDb {
    fn drop(&mut self) {
        let _ = std::panic::catch_unwind(|| mariadb_sql(&format!("DROP DATABASE IF EXISTS {}", self.name)));
    }
}

/// A file removed on drop.
pub struct TempFile {
    pub path: std::path::PathBuf,
}

impl TempFile {
    pub fn with_contents(label: &str, contents: &str) -> Self {
        let path = std::env::temp_dir().join(unique_name(label));
        std::fs::write(&path, contents).expect("write temp file");
        TempFile { path }
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// Runs `sql` on `app` and cancels its backend 300 ms in, from another connection of `db`; the error `sql` ended with
/// and how long after the cancel it came back.
pub fn cancelled_after_300_ms(
    db: &TestDb,
    app: &mut Client,
    sql: &str,
    params: &[&(dyn postgres::types::ToSql + Sync)],
) -> (postgres::Error, std::time::Duration) {
    let pid: i32 = app.query_one("SELECT pg_backend_pid()", &[]).unwrap().get(0);
    let mut admin = db.superuser();
    let canceller = std::thread::spawn(move || {
        std::thread::sleep(std::time::Duration::from_millis(300));
        let asked = std::time::Instant::now();
        admin.execute("SELECT pg_cancel_backend($1)", &[&pid]).unwrap();
        asked
    });
    let err = app.query_one(sql, params).expect_err("the statement was cancelled");
    let asked = canceller.join().unwrap();
    (err, asked.elapsed())
}

/// A peer on 127.0.0.1 that answers every request with the same raw HTTP status, content type and body, as a broken
/// server or a misconfigured proxy in front of a legacy store does. Runs until the test process ends.
pub fn answering_anything(status: u16, content_type: &str, body: &str) -> String {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind a local port");
    let addr = listener.local_addr().expect("its address");
    let reply = format!(
        "HTTP/1.1 {status} Whatever\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    std::thread::spawn(move || {
        for mut stream in listener.incoming().flatten() {
            // Read what the request sends at once (headers and a small body), then answer and close.
            let mut buf = [0u8; 65536];
            let _ = stream.set_read_timeout(Some(std::time::Duration::from_millis(200)));
            let _ = stream.read(&mut buf);
            let _ = stream.write_all(reply.as_bytes());
        }
    });
    format!("http://{addr}")
}
