//! legacy-store: a small legacy user store speaking pg_trickle's HTTP contract (docs/http-contract.md),
//! for the end-to-end tests and the `make run` demo. It is a real HTTP server on 127.0.0.1.
//!
//! Usage: legacy-store --users FILE.json [--port N]
//! Prints `listening on 127.0.0.1:PORT` on stdout once it accepts connections.
//!
//! FILE.json: an array of profiles in contract form plus a `password` field (test fixtures only).

use serde_json::{json, Value};
use std::io::Write;
use tiny_http::{Header, Method, Request, Response, Server};

struct Store {
    users: Vec<Value>,
}

impl Store {
    fn find(&self, email: &str) -> Option<&Value> {
        let wanted = email.trim().to_lowercase();
        self.users
            .iter()
            .find(|u| u["email"].as_str().is_some_and(|e| e.to_lowercase() == wanted))
    }

    /// The profile as the contract returns it: everything but the fixture's password.
    fn profile(user: &Value) -> Value {
        let mut profile = user.clone();
        if let Some(obj) = profile.as_object_mut() {
            obj.remove("password");
        }
        profile
    }
}

fn json_response(status: u16, body: &Value) -> Response<std::io::Cursor<Vec<u8>>> {
    let header = Header::from_bytes("Content-Type", "application/json").expect("static header");
    Response::from_data(body.to_string().into_bytes())
        .with_status_code(status)
        .with_header(header)
}

fn query_param(url: &str, key: &str) -> Option<String> {
    let query = url.split_once('?')?.1;
    form_urlencoded::parse(query.as_bytes())
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.into_owned())
}

fn handle(store: &Store, mut request: Request) {
    let path = request.url().split('?').next().unwrap_or("").to_string();
    let response = match (request.method(), path.as_str()) {
        (Method::Get, "/health") => json_response(200, &json!({"status": "ok"})),
        (Method::Post, "/login") => {
            let mut body = String::new();
            let parsed: Option<Value> = request
                .as_reader()
                .read_to_string(&mut body)
                .ok()
                .and_then(|_| serde_json::from_str(&body).ok());
            match parsed {
                None => json_response(400, &json!({"error": "body must be JSON"})),
                Some(creds) => {
                    let email = creds["email"].as_str().unwrap_or("");
                    let password = creds["password"].as_str().unwrap_or("");
                    match store.find(email) {
                        Some(user) if user["password"].as_str() == Some(password) => {
                            json_response(200, &Store::profile(user))
                        }
                        _ => json_response(401, &json!({"error": "invalid credentials"})),
                    }
                }
            }
        }
        (Method::Get, "/users") => match query_param(request.url(), "email").and_then(|e| store.find(&e)) {
            Some(user) => json_response(200, &Store::profile(user)),
            None => json_response(404, &json!({"error": "not found"})),
        },
        _ => json_response(404, &json!({"error": "no such route"})),
    };
    let _ = request.respond(response);
}

fn main() {
    let mut args = std::env::args().skip(1);
    let mut users_file = None;
    let mut port = 0u16;
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--users" => users_file = args.next(),
            "--port" => port = args.next().and_then(|p| p.parse().ok()).expect("--port takes a number"),
            other => {
                panic!("unknown argument {other}; usage: legacy-store --users FILE.json [--port N]")
            }
        }
    }
    let users_file = users_file.expect("usage: legacy-store --users FILE.json [--port N]");
    let text = std::fs::read_to_string(&users_file).expect("read the users file");
    let users: Vec<Value> = serde_json::from_str(&text).expect("the users file is a JSON array");
    let store = Store { users };

    let server = Server::http(("127.0.0.1", port)).expect("bind 127.0.0.1");
    let addr = server.server_addr().to_ip().expect("an IP listener");
    println!("listening on {addr}");
    std::io::stdout().flush().expect("stdout");
    for request in server.incoming_requests() {
        handle(&store, request);
    }
}
