//! legacy-store: a small legacy user store speaking pg_trickle's HTTP contracts (docs/http-contract.md),
//! for the end-to-end tests and the `make run` demo. A real HTTP server on 127.0.0.1.
//!
//! Usage: legacy-store --users FILE.json [--port N] [--bearer TOKEN] [--hmac-secret SECRET]
//! Prints `listening on 127.0.0.1:PORT` once it accepts connections.
//!
//! FILE.json: an array of profiles in pg_trickle contract form, each with the `password` the store
//! accepts (test fixtures only) and optionally `"enabled": false`.
//!
//! Routes: pg_trickle contract at `/login` and `/users?email=`; Keycloak contract at `/keycloak/{user}`.
//! Test control (never part of the contract): `POST /__control/mode` with {"mode": ..., ...} to make it
//! misbehave (hang, slow, status, malformed, huge, wrong_content_type, email_mismatch, redirect,
//! strip_metadata, normal), and `GET /__control/stats` for the number of contract requests served per route
//! (and `connections`: how many TCP connections they came over).

use serde_json::{json, Value};
use std::collections::HashMap;
use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tiny_http::{Header, Method, Request, Response, Server};

#[derive(Clone, Debug)]
enum Mode {
    Normal,
    Hang,
    Slow(u64),
    Status(u16),
    Malformed,
    Huge,
    WrongContentType,
    EmailMismatch,
    Redirect,
    /// Answers without any metadata, as a legacy store whose metadata service failed would.
    StripMetadata,
}

struct State {
    users: Vec<Value>,
    mode: Mode,
    stats: HashMap<String, u64>,
    /// Client addresses (IP and source port) of contract requests: one per TCP connection used.
    peers: std::collections::HashSet<String>,
    bearer: Option<String>,
    hmac_secret: Option<String>,
}

type Shared = Arc<Mutex<State>>;
type Reply = Response<std::io::Cursor<Vec<u8>>>;

fn header(name: &str, value: &str) -> Header {
    Header::from_bytes(name, value).expect("valid header")
}

/// A JSON answer; `null` is an empty body (as the Keycloak plugin's reference server sends with its 400).
fn json_reply(status: u16, body: &Value) -> Reply {
    if body.is_null() {
        return Response::from_data(Vec::new()).with_status_code(status);
    }
    Response::from_data(body.to_string().into_bytes())
        .with_status_code(status)
        .with_header(header("Content-Type", "application/json"))
}

fn find<'a>(users: &'a [Value], email: &str) -> Option<&'a Value> {
    let wanted = email.trim().to_lowercase();
    users.iter().find(|u| u["email"].as_str().is_some_and(|e| e.to_lowercase() == wanted))
}

fn trickle_profile(user: &Value) -> Value {
    let mut profile = user.clone();
    if let Some(obj) = profile.as_object_mut() {
        obj.remove("password");
    }
    profile
}

fn keycloak_user(user: &Value) -> Value {
    json!({
        "id": user["user_id"], "username": user["username"], "email": user["email"],
        "emailVerified": user["email_verified"].as_bool().unwrap_or(false),
        "firstName": user["given_name"], "lastName": user["family_name"],
        "enabled": user["enabled"].as_bool().unwrap_or(true),
        "attributes": user.get("user_metadata").cloned().unwrap_or(json!({})),
        "roles": user["app_metadata"].get("roles").cloned().unwrap_or(json!([])),
        "groups": user["app_metadata"].get("groups").cloned().unwrap_or(json!([])),
        "requiredActions": []
    })
}

fn query_param(url: &str, key: &str) -> Option<String> {
    let query = url.split_once('?')?.1;
    form_urlencoded::parse(query.as_bytes()).find(|(k, _)| k == key).map(|(_, v)| v.into_owned())
}

fn header_value(request: &Request, name: &'static str) -> Option<String> {
    request.headers().iter().find(|h| h.field.equiv(name)).map(|h| h.value.as_str().to_string())
}

/// Checks the request's own authentication (bearer token, HMAC signature) as a legacy endpoint would.
fn request_authenticated(state: &State, request: &Request, body: &str) -> bool {
    if let Some(token) = &state.bearer {
        if header_value(request, "Authorization").as_deref() != Some(&format!("Bearer {token}")) {
            return false;
        }
    }
    if let Some(secret) = &state.hmac_secret {
        let (Some(ts), Some(sig)) =
            (header_value(request, "X-Trickle-Timestamp"), header_value(request, "X-Trickle-Signature"))
        else {
            return false;
        };
        let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs();
        let Ok(ts_num) = ts.parse::<u64>() else { return false };
        if now.abs_diff(ts_num) > 300 {
            return false;
        }
        use hmac::Mac;
        let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).unwrap();
        mac.update(format!("{ts}.{}.{}.{body}", request.method().as_str().to_uppercase(), request.url()).as_bytes());
        let expected = format!("v1={}", hex::encode(mac.finalize().into_bytes()));
        if sig != expected {
            return false;
        }
    }
    true
}

/// Applies the current fault mode to what would have been a normal JSON answer.
fn misbehave(mode: &Mode, status: u16, body: Value) -> Option<Reply> {
    match mode {
        Mode::Normal | Mode::Slow(_) | Mode::Hang => Some(json_reply(status, &body)),
        Mode::Status(code) => Some(json_reply(*code, &json!({"error": "injected"}))),
        Mode::Malformed => Some(
            Response::from_data(b"{\"user_id\": ".to_vec())
                .with_status_code(status)
                .with_header(header("Content-Type", "application/json")),
        ),
        Mode::Huge => {
            let mut big = body;
            big["padding"] = json!("x".repeat(4 << 20));
            Some(json_reply(status, &big))
        }
        Mode::WrongContentType => Some(
            Response::from_data(body.to_string().into_bytes())
                .with_status_code(status)
                .with_header(header("Content-Type", "text/html")),
        ),
        Mode::EmailMismatch => {
            let mut other = body;
            other["email"] = json!("someone.else@legacy.test");
            Some(json_reply(status, &other))
        }
        Mode::StripMetadata => {
            let mut bare = body;
            if let Some(obj) = bare.as_object_mut() {
                for key in ["user_metadata", "app_metadata", "attributes", "roles", "groups"] {
                    obj.remove(key);
                }
            }
            Some(json_reply(status, &bare))
        }
        Mode::Redirect => Some(
            Response::from_data(Vec::new())
                .with_status_code(302)
                .with_header(header("Location", "http://127.0.0.1:1/elsewhere")),
        ),
    }
}

fn control(shared: &Shared, request: &mut Request, path: &str) -> Reply {
    let mut state = shared.lock().unwrap();
    match path {
        "/__control/stats" => {
            let mut stats = json!(state.stats);
            stats["connections"] = json!(state.peers.len());
            json_reply(200, &stats)
        }
        "/__control/mode" => {
            let mut body = String::new();
            let _ = request.as_reader().read_to_string(&mut body);
            let v: Value = serde_json::from_str(&body).unwrap_or(json!({}));
            state.mode = match v["mode"].as_str().unwrap_or("normal") {
                "hang" => Mode::Hang,
                "slow" => Mode::Slow(v["delay_ms"].as_u64().unwrap_or(1000)),
                "status" => Mode::Status(v["status"].as_u64().unwrap_or(503) as u16),
                "malformed" => Mode::Malformed,
                "huge" => Mode::Huge,
                "wrong_content_type" => Mode::WrongContentType,
                "email_mismatch" => Mode::EmailMismatch,
                "redirect" => Mode::Redirect,
                "strip_metadata" => Mode::StripMetadata,
                _ => Mode::Normal,
            };
            json_reply(200, &json!({"mode": format!("{:?}", state.mode)}))
        }
        _ => json_reply(404, &json!({"error": "no such control"})),
    }
}

fn handle(shared: Shared, mut request: Request) {
    let path = request.url().split('?').next().unwrap_or("").to_string();
    if path.starts_with("/__control/") {
        let reply = control(&shared, &mut request, &path);
        let _ = request.respond(reply);
        return;
    }
    if path == "/health" {
        let _ = request.respond(json_reply(200, &json!({"status": "ok"})));
        return;
    }
    let mut body = String::new();
    let _ = request.as_reader().read_to_string(&mut body);
    let (mode, answer) = {
        let mut state = shared.lock().unwrap();
        let route = format!("{} {}", request.method(), path.split('/').nth(1).unwrap_or(""));
        *state.stats.entry(route).or_default() += 1;
        if let Some(peer) = request.remote_addr() {
            state.peers.insert(peer.to_string());
        }
        if !request_authenticated(&state, &request, &body) {
            let reply = json_reply(401, &json!({"error": "request authentication failed"}))
                .with_header(header("WWW-Authenticate", "Bearer realm=\"legacy\""));
            drop(state);
            let _ = request.respond(reply);
            return;
        }
        (state.mode.clone(), answer(&state, request.method(), &path, request.url(), &body))
    };
    match mode {
        Mode::Hang => std::thread::sleep(Duration::from_secs(3600)),
        Mode::Slow(ms) => std::thread::sleep(Duration::from_millis(ms)),
        _ => {}
    }
    let (status, value) = answer;
    let reply = if status == 200 { misbehave(&mode, status, value) } else { Some(json_reply(status, &value)) };
    if let Some(reply) = reply {
        let _ = request.respond(reply);
    }
}

/// The contract's answer before any fault is applied: (status, JSON body).
fn answer(state: &State, method: &Method, path: &str, url: &str, body: &str) -> (u16, Value) {
    let creds: Value = serde_json::from_str(body).unwrap_or(Value::Null);
    let password_ok = |user: &Value| user["password"].as_str() == creds["password"].as_str();
    let not_found = (404, json!({"error": "not found"}));
    match (method, path) {
        (Method::Post, "/login") => match find(&state.users, creds["email"].as_str().unwrap_or("")) {
            Some(user) if password_ok(user) && user["enabled"].as_bool() != Some(false) => (200, trickle_profile(user)),
            _ => (401, json!({"error": "invalid credentials"})),
        },
        (Method::Get, "/users/count") => (200, json!({"count": state.users.len()})),
        (Method::Get, "/users") => match query_param(url, "email").and_then(|e| find(&state.users, &e).cloned()) {
            Some(user) => (200, trickle_profile(&user)),
            None => not_found,
        },
        (_, p) if p.starts_with("/keycloak/") => {
            let name = form_urlencoded::parse(p.trim_start_matches("/keycloak/").as_bytes())
                .next()
                .map(|(k, _)| k.into_owned())
                .unwrap_or_default();
            let user = find(&state.users, &name)
                .or_else(|| state.users.iter().find(|u| u["username"].as_str() == Some(name.as_str())));
            match (method, user) {
                (Method::Get, Some(user)) => (200, keycloak_user(user)),
                (Method::Post, Some(user)) if password_ok(user) => (200, json!({})),
                // As the plugin's reference legacy server: 400 without a body, wrong password or unknown user.
                (Method::Post, _) => (400, Value::Null),
                _ => not_found,
            }
        }
        _ => (404, json!({"error": "no such route"})),
    }
}

fn main() {
    let mut args = std::env::args().skip(1);
    let (mut users_file, mut port, mut bearer, mut hmac_secret) = (None, 0u16, None, None);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--users" => users_file = args.next(),
            "--port" => port = args.next().and_then(|p| p.parse().ok()).expect("--port takes a number"),
            "--bearer" => bearer = args.next(),
            "--hmac-secret" => hmac_secret = args.next(),
            other => panic!("unknown argument {other}; see the usage at the top of legacy_store.rs"),
        }
    }
    let users_file = users_file.expect("--users FILE.json is required");
    let text = std::fs::read_to_string(&users_file).expect("read the users file");
    let users: Vec<Value> = serde_json::from_str(&text).expect("the users file is a JSON array");
    let shared = Arc::new(Mutex::new(State {
        users,
        mode: Mode::Normal,
        stats: HashMap::new(),
        peers: Default::default(),
        bearer,
        hmac_secret,
    }));

    let server = Server::http(("127.0.0.1", port)).expect("bind 127.0.0.1");
    println!("listening on {}", server.server_addr().to_ip().expect("an IP listener"));
    std::io::stdout().flush().expect("stdout");
    for request in server.incoming_requests() {
        let shared = shared.clone();
        std::thread::spawn(move || handle(shared, request));
    }
}
