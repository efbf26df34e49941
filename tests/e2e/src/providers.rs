//! The identity providers the provider presets are tested against: real servers from the package registries
//! (`scripts/providers.sh` installs them on first use), each started on 127.0.0.1 with the test's users:
//! django-oauth-toolkit (OAuth 2.0 password grant + OpenID Connect), Google's Firebase Authentication emulator, and
//! moto's Amazon Cognito.

use crate::{spawn_announcing, TempFile};
use std::path::PathBuf;
use std::process::{Child, Command};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// The OIDC server's admin client (client-credentials grant): id and secret.
pub const OIDC_ADMIN: (&str, &str) = ("pg_trickle_admin", "admin-secret-1");

/// Where scripts/providers.sh keeps the servers' tools; installs them the first time.
fn tools() -> &'static PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../../scripts/providers.sh");
        let out = Command::new("bash").arg(script).output().expect("run scripts/providers.sh");
        assert!(out.status.success(), "scripts/providers.sh failed:\n{}", String::from_utf8_lossy(&out.stderr));
        PathBuf::from(String::from_utf8_lossy(&out.stdout).trim().lines().last().expect("it prints its directory"))
    })
}

fn python() -> PathBuf {
    tools().join("venv/bin/python")
}

fn script(name: &str) -> String {
    format!("{}/../providers/{name}", env!("CARGO_MANIFEST_DIR"))
}

/// One provider server, stopped (SIGTERM, so it stops what it started) when dropped.
pub struct ProviderServer {
    child: Child,
    /// What the server announced after its address (Cognito: the app client's id and secret).
    pub announced: Vec<String>,
    pub address: String,
    _users: TempFile,
}

impl ProviderServer {
    fn start(command: &mut Command, what: &str, users: &serde_json::Value) -> Self {
        let users_file = TempFile::with_contents("provider-users", &users.to_string());
        let (child, line) = spawn_announcing(command.arg(&users_file.path), what);
        let mut words = line.split_whitespace().map(str::to_string);
        let address = words.next().expect("an address");
        ProviderServer { child, announced: words.collect(), address, _users: users_file }
    }

    /// django-oauth-toolkit with OIDC; one confidential client allowed the password grant, and the admin client
    /// `OIDC_ADMIN` allowed the client-credentials grant. The issuer is `http://ADDRESS/realms/acme`. `users`:
    /// `[{"email", "password", "first_name", "last_name", "active", "claims", "user_metadata", "app_metadata"}]`.
    pub fn oidc(users: &serde_json::Value, client_id: &str, client_secret: &str) -> Self {
        let mut command = Command::new(python());
        command.arg(script("oidc_server.py")).args([client_id, client_secret, OIDC_ADMIN.0, OIDC_ADMIN.1]);
        // The users file comes last (`start` appends it).
        Self::start(&mut command, "the OIDC server", users)
    }

    /// Token requests the OIDC server answered, by grant type.
    pub fn token_requests(&self, grant_type: &str) -> u64 {
        let mut stream = std::net::TcpStream::connect(&self.address).expect("connect to the OIDC server");
        use std::io::{Read, Write};
        write!(stream, "GET /__stats HTTP/1.0\r\nHost: {}\r\n\r\n", self.address).unwrap();
        let mut answer = String::new();
        stream.read_to_string(&mut answer).unwrap();
        let body = answer.split("\r\n\r\n").nth(1).unwrap_or("{}");
        serde_json::from_str::<serde_json::Value>(body).unwrap()[grant_type].as_u64().unwrap_or(0)
    }

    /// Firebase's Authentication emulator; the base URL is `http://ADDRESS/identitytoolkit.googleapis.com`.
    /// `users`: `[{"email", "password", "displayName", "photoUrl", "emailVerified", "customAttributes", "disabled"}]`.
    pub fn firebase(users: &serde_json::Value) -> Self {
        let firebase = tools().join("npm/node_modules/.bin/firebase");
        Self::start(
            Command::new(python()).arg(script("firebase_server.py")).arg(firebase),
            "the Firebase emulator",
            users,
        )
    }

    /// moto's Cognito user pool with one app client (with a secret or not): `announced` is [client id, secret or
    /// "-"]. `users`: `[{"email", "password", "attributes", "enabled", "confirmed"}]`.
    pub fn cognito(users: &serde_json::Value, with_secret: bool) -> Self {
        let mode = if with_secret { "with-secret" } else { "without-secret" };
        let mut command = Command::new(python());
        command.arg(script("cognito_server.py")).arg(mode);
        Self::start(&mut command, "the Cognito emulator", users)
    }

    pub fn base_url(&self, path: &str) -> String {
        format!("http://{}{path}", self.address)
    }
}

impl Drop for ProviderServer {
    fn drop(&mut self) {
        let _ = Command::new("kill").arg("-TERM").arg(self.child.id().to_string()).status();
        let deadline = Instant::now() + Duration::from_secs(15);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
