//! A small token server for docker-registry's `auth: token:` mode, on a loopback thread.
//! It checks credentials the ways real clients send them (GET with Basic, OAuth2 POST with
//! `grant_type=password` or `grant_type=refresh_token`) and issues RS256 JWTs carrying the
//! granted `access`, signed with a key made by the openssl CLI whose self-signed certificate
//! is both the registry's `rootcertbundle` and the JWT's `x5c` header.

use base64::Engine;
use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};

const SERVICE: &str = "berth-test-registry";
const ISSUER: &str = "berth-test-token-issuer";

#[derive(Clone, Debug)]
pub struct TokenOptions {
    /// Accepted (user, password) pairs.
    pub users: Vec<(String, String)>,
    /// Give anonymous clients pull access (else they get 401).
    pub anonymous_pull: bool,
    /// Answer OAuth2 POSTs (else 405, so clients must fall back to GET).
    pub offer_post: bool,
    /// Grant users pull only (a read-only account): pushes are refused by the registry.
    pub pull_only: bool,
}

impl TokenOptions {
    pub fn user(user: &str, password: &str) -> TokenOptions {
        TokenOptions {
            users: vec![(user.to_string(), password.to_string())],
            anonymous_pull: false,
            offer_post: true,
            pull_only: false,
        }
    }
}

pub struct TokenServer {
    pub port: u16,
    /// One line per token request: `GET anonymous`, `GET basic USER`, `POST password USER`,
    /// `POST refresh_token USER`, `POST 405`, or `... denied`.
    pub requests: Arc<Mutex<Vec<String>>>,
    cert: PathBuf,
    _dir: tempfile::TempDir,
}

struct Shared {
    opts: TokenOptions,
    key: PathBuf,
    x5c: String,
    refresh: Mutex<HashMap<String, String>>,
    log: Arc<Mutex<Vec<String>>>,
}

impl TokenServer {
    pub fn start(opts: TokenOptions) -> TokenServer {
        let dir = tempfile::tempdir().unwrap();
        let (key, cert) = (dir.path().join("key.pem"), dir.path().join("cert.pem"));
        let st = Command::new("openssl")
            .args([
                "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
            ])
            .args(["-subj", "/CN=berth-test-token-signer", "-keyout"])
            .arg(&key)
            .arg("-out")
            .arg(&cert)
            .stderr(Stdio::null())
            .status()
            .expect("openssl must be installed");
        assert!(st.success(), "openssl req failed");
        let der = Command::new("openssl")
            .args(["x509", "-outform", "DER", "-in"])
            .arg(&cert)
            .output()
            .unwrap();
        assert!(der.status.success());
        let x5c = base64::engine::general_purpose::STANDARD.encode(&der.stdout);
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let requests = Arc::new(Mutex::new(Vec::new()));
        let shared = Arc::new(Shared {
            opts,
            key,
            x5c,
            refresh: Mutex::new(HashMap::new()),
            log: requests.clone(),
        });
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                let Ok(conn) = conn else { continue };
                let shared = shared.clone();
                std::thread::spawn(move || {
                    let _ = serve(&shared, conn);
                });
            }
        });
        TokenServer {
            port,
            requests,
            cert,
            _dir: dir,
        }
    }

    pub fn realm(&self) -> String {
        format!("http://127.0.0.1:{}/token", self.port)
    }

    /// The `auth:` section of a registry config that trusts this server.
    pub fn registry_config(&self) -> String {
        format!(
            "auth:\n  token:\n    realm: {}\n    service: {SERVICE}\n    issuer: {ISSUER}\n    rootcertbundle: {}\n",
            self.realm(),
            self.cert.display()
        )
    }

    pub fn log(&self) -> Vec<String> {
        self.requests.lock().unwrap().clone()
    }
}

fn url_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < b.len() => {
                match std::str::from_utf8(&b[i + 1..i + 3])
                    .ok()
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
                {
                    Some(v) => {
                        out.push(v);
                        i += 2;
                    }
                    None => out.push(b'%'),
                }
            }
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn pairs(s: &str) -> Vec<(String, String)> {
    s.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (url_decode(k), url_decode(v))
        })
        .collect()
}

fn respond(conn: &mut TcpStream, status: &str, body: &str) -> std::io::Result<()> {
    write!(
        conn,
        "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
}

fn serve(sh: &Shared, mut conn: TcpStream) -> std::io::Result<()> {
    let mut rd = BufReader::new(conn.try_clone()?);
    let mut line = String::new();
    rd.read_line(&mut line)?;
    let mut parts = line.split_whitespace();
    let (method, target) = (
        parts.next().unwrap_or("").to_string(),
        parts.next().unwrap_or("").to_string(),
    );
    let mut headers = HashMap::new();
    loop {
        let mut h = String::new();
        if rd.read_line(&mut h)? == 0 || h.trim().is_empty() {
            break;
        }
        if let Some((k, v)) = h.split_once(':') {
            headers.insert(k.trim().to_ascii_lowercase(), v.trim().to_string());
        }
    }
    let len: usize = headers
        .get("content-length")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0u8; len];
    rd.read_exact(&mut body)?;
    let query = target.split_once('?').map_or("", |(_, q)| q);
    let log = |s: String| sh.log.lock().unwrap().push(s);
    let check = |u: &str, p: &str| sh.opts.users.iter().any(|(a, b)| a == u && b == p);
    let denied = |conn: &mut TcpStream, what: String| {
        log(format!("{what} denied"));
        respond(
            conn,
            "401 Unauthorized",
            r#"{"errors":[{"code":"UNAUTHORIZED","message":"access denied"}]}"#,
        )
    };

    let (user, scopes, offline, what) = match method.as_str() {
        "GET" => {
            let q = pairs(query);
            let scopes: Vec<String> = q
                .iter()
                .filter(|(k, _)| k == "scope")
                .map(|(_, v)| v.clone())
                .collect();
            let offline = q.iter().any(|(k, v)| k == "offline_token" && v == "true");
            match headers
                .get("authorization")
                .and_then(|a| a.strip_prefix("Basic "))
            {
                Some(b64) => {
                    let raw = base64::engine::general_purpose::STANDARD
                        .decode(b64)
                        .unwrap_or_default();
                    let raw = String::from_utf8_lossy(&raw).into_owned();
                    let (u, p) = raw.split_once(':').unwrap_or((&raw, ""));
                    let what = format!("GET basic {u}");
                    if !check(u, p) {
                        return denied(&mut conn, what);
                    }
                    (Some(u.to_string()), scopes, offline, what)
                }
                None if sh.opts.anonymous_pull => (None, scopes, false, "GET anonymous".into()),
                None => return denied(&mut conn, "GET anonymous".into()),
            }
        }
        "POST" if !sh.opts.offer_post => {
            log("POST 405".into());
            return respond(&mut conn, "405 Method Not Allowed", "{}");
        }
        "POST" => {
            let f: HashMap<String, String> =
                pairs(&String::from_utf8_lossy(&body)).into_iter().collect();
            let get = |k: &str| f.get(k).map(String::as_str).unwrap_or("");
            let scopes = get("scope")
                .split_whitespace()
                .map(str::to_string)
                .collect();
            match get("grant_type") {
                "password" => {
                    let what = format!("POST password {}", get("username"));
                    if !check(get("username"), get("password")) {
                        return denied(&mut conn, what);
                    }
                    let offline = get("access_type") == "offline";
                    (Some(get("username").to_string()), scopes, offline, what)
                }
                "refresh_token" => {
                    let u = sh
                        .refresh
                        .lock()
                        .unwrap()
                        .get(get("refresh_token"))
                        .cloned();
                    let Some(u) = u else {
                        return denied(&mut conn, "POST refresh_token ?".into());
                    };
                    (
                        Some(u.clone()),
                        scopes,
                        false,
                        format!("POST refresh_token {u}"),
                    )
                }
                other => return denied(&mut conn, format!("POST {other}")),
            }
        }
        _ => return respond(&mut conn, "405 Method Not Allowed", "{}"),
    };
    log(what);
    let access: Vec<serde_json::Value> = scopes
        .iter()
        .flat_map(|s| s.split_whitespace())
        .filter_map(|s| {
            let mut it = s.splitn(3, ':');
            let (kind, name, actions) = (it.next()?, it.next()?, it.next()?);
            let actions: Vec<&str> = actions
                .split(',')
                .filter(|a| (user.is_some() && !sh.opts.pull_only) || *a == "pull")
                .collect();
            Some(serde_json::json!({"type": kind, "name": name, "actions": actions}))
        })
        .collect();
    let token = sign(sh, user.as_deref().unwrap_or(""), &access);
    let mut answer = serde_json::json!({"token": token, "access_token": token, "expires_in": 300});
    if let (true, Some(u)) = (offline, &user) {
        let mut known = sh.refresh.lock().unwrap();
        let r = format!("refresh-{u}-{}", known.len() + 1);
        known.insert(r.clone(), u.clone());
        answer["refresh_token"] = r.into();
    }
    respond(&mut conn, "200 OK", &answer.to_string())
}

fn b64url(data: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(data)
}

fn sign(sh: &Shared, sub: &str, access: &[serde_json::Value]) -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let header = serde_json::json!({"typ": "JWT", "alg": "RS256", "x5c": [sh.x5c]});
    let claims = serde_json::json!({
        "iss": ISSUER, "sub": sub, "aud": SERVICE, "exp": now + 300, "nbf": now - 10,
        "iat": now, "jti": format!("{now}-{}", access.len()), "access": access,
    });
    let input = format!(
        "{}.{}",
        b64url(header.to_string().as_bytes()),
        b64url(claims.to_string().as_bytes())
    );
    format!(
        "{input}.{}",
        b64url(&openssl_sign(&sh.key, input.as_bytes()))
    )
}

/// RSASSA-PKCS1-v1_5 with SHA-256 (RS256), by the openssl CLI.
fn openssl_sign(key: &Path, data: &[u8]) -> Vec<u8> {
    let mut c = Command::new("openssl")
        .args(["dgst", "-sha256", "-sign"])
        .arg(key)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    c.stdin.take().unwrap().write_all(data).unwrap();
    let out = c.wait_with_output().unwrap();
    assert!(out.status.success(), "openssl dgst -sign failed");
    out.stdout
}
