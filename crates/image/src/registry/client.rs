//! A blocking registry client. Every request (GET, HEAD, POST, PUT, PATCH, with or without a
//! body) goes through [`Client::send`]: authorization from what the registry asked for before
//! (its `WWW-Authenticate` challenge, remembered per registry) and a token cache keyed by
//! scope, one re-negotiation on a 401, and retries with exponential back-off on 5xx answers
//! and connection errors for idempotent requests. Blob bodies resume with `Range` when they
//! break off (see [`super::resume`]). Where requests go (mirrors first, HTTPS or HTTP,
//! which TLS setup) is [`super::route`]'s and [`super::agents`]'s business.

use super::agents::Agents;
use super::auth::{self, Challenge};
use super::config::{Insecure, RegistryConfig};
use super::endpoint::Endpoint;
use super::route::Routes;
use super::token::{self, TokenCache};
use crate::digest::Digest;
use crate::error::{Error, Result};
use crate::manifest::ACCEPTED;
use crate::reference::Reference;
use crate::store::ContentStore;
use base64::Engine;
use std::collections::HashMap;
use std::io::{Read, Seek};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

#[derive(Clone, Debug, Default)]
pub struct Credentials {
    pub username: String,
    pub password: String,
    /// An OAuth2 refresh token a token server gave at `login` (Docker's `identitytoken`);
    /// when present it is used instead of the password.
    pub identity_token: Option<String>,
}

impl Credentials {
    pub(crate) fn basic(&self) -> String {
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD
                .encode(format!("{}:{}", self.username, self.password))
        )
    }
}

#[derive(Clone)]
pub struct Client {
    /// Requests go through the agent of their `host[:port]` (its certs.d TLS setup).
    agent: Agents,
    routes: Arc<Routes>,
    credentials: Option<Credentials>,
    retries: u32,
    auth: Arc<Mutex<AuthState>>,
}

/// What was learnt about each registry's authentication, shared by clones of a client.
#[derive(Default)]
struct AuthState {
    /// The last challenge of each registry (`host:port`).
    challenges: HashMap<String, Challenge>,
    tokens: TokenCache,
}

/// A fetched manifest: its bytes, media type and digest.
pub struct FetchedManifest {
    pub bytes: Vec<u8>,
    pub media_type: Option<String>,
    pub digest: Digest,
}

/// A request body. Every kind can be sent again, so a request can be repeated after a 401
/// or a transient failure without holding a whole blob in memory.
#[derive(Clone, Copy)]
pub(crate) enum Body<'a> {
    Empty,
    Bytes(&'a [u8]),
    /// `len` bytes of a file from `offset` (a blob, or one chunk of it).
    File {
        path: &'a Path,
        offset: u64,
        len: u64,
    },
}

/// One request to a registry.
pub(crate) struct Request<'a> {
    pub method: &'static str,
    pub url: String,
    /// `host:port` of the registry: whose challenge and tokens apply.
    pub registry: String,
    /// Token scopes the request needs (`repository:NAME:pull`), space separated.
    pub scope: Option<String>,
    pub headers: Vec<(&'static str, String)>,
    pub body: Body<'a>,
    /// Ask the token server for a refresh token too (what `login` does).
    pub offline: bool,
}

impl<'a> Request<'a> {
    pub fn new(method: &'static str, url: String, registry: &str) -> Request<'a> {
        Request {
            method,
            url,
            registry: registry.to_string(),
            scope: None,
            headers: Vec::new(),
            body: Body::Empty,
            offline: false,
        }
    }
    pub fn scope(mut self, scope: String) -> Self {
        self.scope = Some(scope);
        self
    }
    pub fn header(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }
    pub fn body(mut self, body: Body<'a>) -> Self {
        self.body = body;
        self
    }
    /// Safe to repeat: retried on 5xx and connection errors. POST and PATCH are not (each
    /// starts or advances an upload).
    fn idempotent(&self) -> bool {
        matches!(self.method, "GET" | "HEAD" | "PUT" | "DELETE")
    }
}

pub(crate) fn net(what: String, e: impl std::fmt::Display) -> Error {
    Error::Registry(format!("{what}: {e}"))
}

/// `repository:NAME:pull`
pub(crate) fn pull_scope(r: &Reference) -> String {
    format!("repository:{}:pull", r.path())
}

/// `repository:NAME:pull,push`
pub(crate) fn push_scope(r: &Reference) -> String {
    format!("repository:{}:pull,push", r.path())
}

/// The registry's own words for a failed request: the `errors` array of the distribution
/// spec when there is one, else the start of the body.
fn error_message(resp: ureq::Response) -> String {
    let mut body = String::new();
    let _ = resp.into_reader().take(4096).read_to_string(&mut body);
    if let Ok(v) = serde_json::from_str::<serde_json::Value>(&body) {
        if let Some(errs) = v["errors"].as_array() {
            let parts: Vec<String> = errs
                .iter()
                .map(|e| {
                    format!(
                        "{}: {}",
                        e["code"].as_str().unwrap_or("ERROR"),
                        e["message"].as_str().unwrap_or("")
                    )
                })
                .collect();
            if !parts.is_empty() {
                return parts.join("; ");
            }
        }
    }
    body.trim().chars().take(200).collect()
}

impl Client {
    /// A client with the default config directory's certs.d, no mirrors, and `insecure`
    /// registry names (registries.json is not read: see [`Client::from_config`]).
    pub fn new(insecure: Vec<String>, credentials: Option<Credentials>) -> Client {
        let mut config = RegistryConfig::defaults_in(&RegistryConfig::default_dir());
        config.insecure = insecure.into_iter().map(Insecure::Name).collect();
        Self::from_config(config, credentials)
    }

    /// A client following `config` (registries.json and certs.d, see
    /// [`RegistryConfig::load`]).
    pub fn from_config(config: RegistryConfig, credentials: Option<Credentials>) -> Client {
        let agent = Agents::new(Arc::new(config));
        Client {
            routes: Arc::new(Routes::new(agent.clone())),
            agent,
            credentials,
            retries: 4,
            auth: Arc::default(),
        }
    }

    /// Where `r`'s pull requests go: the mirror or registry its manifest came from, else the
    /// registry itself.
    pub(crate) fn endpoint(&self, r: &Reference) -> Result<Endpoint> {
        match self.routes.source(r) {
            Some(ep) => Ok(ep),
            None => self.routes.upstream(r.domain()),
        }
    }

    /// The registry itself, never a mirror: where pushes and logins go.
    pub(crate) fn upstream(&self, r: &Reference) -> Result<Endpoint> {
        self.routes.upstream(r.domain())
    }

    /// The Authorization header for a request, from the challenge this registry sent before
    /// (none yet: go without and learn it from the 401).
    fn authorization(&self, req: &Request) -> Result<Option<String>> {
        let challenge = {
            let st = self.auth.lock().unwrap_or_else(|e| e.into_inner());
            match st.challenges.get(&req.registry) {
                Some(c) => c.clone(),
                None => return Ok(None),
            }
        };
        match challenge.scheme.as_str() {
            "bearer" => {
                let scope = req
                    .scope
                    .clone()
                    .or_else(|| challenge.param("scope").map(str::to_string))
                    .unwrap_or_default();
                let key = (req.registry.clone(), scope.clone());
                if let Some(t) = self
                    .auth
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .tokens
                    .get(&key)
                {
                    return Ok(Some(format!("Bearer {t}")));
                }
                let got = token::fetch(
                    &self.agent,
                    &challenge,
                    &scope,
                    self.credentials.as_ref(),
                    req.offline,
                )?;
                let header = format!("Bearer {}", got.token);
                let mut st = self.auth.lock().unwrap_or_else(|e| e.into_inner());
                st.tokens.insert(key, got);
                Ok(Some(header))
            }
            "basic" => match &self.credentials {
                Some(c) => Ok(Some(c.basic())),
                None => Err(Error::Registry(format!(
                    "{}: unauthorized (401): credentials needed (berth login {})",
                    req.url, req.registry
                ))),
            },
            other => Err(Error::Registry(format!(
                "{}: unsupported authentication challenge {other:?}",
                req.url
            ))),
        }
    }

    // ureq's own error type is large, but it is matched on right away, once per request.
    #[allow(clippy::result_large_err)]
    fn call(
        &self,
        req: &Request,
        authz: Option<&str>,
    ) -> std::result::Result<ureq::Response, ureq::Error> {
        let mut r = self.agent.request(req.method, &req.url);
        for (k, v) in &req.headers {
            r = r.set(k, v);
        }
        if let Some(a) = authz {
            r = r.set("Authorization", a);
        }
        match req.body {
            Body::Empty if matches!(req.method, "GET" | "HEAD" | "DELETE") => r.call(),
            Body::Empty => r.send_bytes(&[]),
            Body::Bytes(b) => r.send_bytes(b),
            Body::File { path, offset, len } => {
                let mut f = std::fs::File::open(path).map_err(|e| {
                    ureq::Error::from(std::io::Error::new(
                        e.kind(),
                        format!("open {}: {e}", path.display()),
                    ))
                })?;
                f.seek(std::io::SeekFrom::Start(offset))
                    .map_err(ureq::Error::from)?;
                r.set("Content-Length", &len.to_string())
                    .send(std::io::BufReader::with_capacity(1 << 20, f.take(len)))
            }
        }
    }

    /// Send a request: authorized, re-negotiated once on a 401, retried with back-off when
    /// idempotent. Any 2xx/3xx answer is returned; other statuses are errors.
    pub(crate) fn send(&self, req: &Request) -> Result<ureq::Response> {
        let mut renegotiated = false;
        let mut attempt = 0;
        loop {
            let authz = self.authorization(req)?;
            match self.call(req, authz.as_deref()) {
                Ok(resp) => return Ok(resp),
                Err(ureq::Error::Status(401, resp)) if !renegotiated => {
                    renegotiated = true;
                    let header = resp.header("www-authenticate").unwrap_or("").to_string();
                    let challenges = auth::parse(&header);
                    // Bearer when offered (scoped tokens), else Basic.
                    let Some(c) = challenges
                        .iter()
                        .find(|c| c.scheme == "bearer")
                        .or_else(|| challenges.first())
                    else {
                        return Err(Error::Registry(format!(
                            "{}: unauthorized (401) without an authentication challenge",
                            req.url
                        )));
                    };
                    let mut st = self.auth.lock().unwrap_or_else(|e| e.into_inner());
                    // A token that is refused is stale or too narrow: get a new one.
                    st.tokens.forget(&req.registry, req.scope.as_deref());
                    st.challenges.insert(req.registry.clone(), c.clone());
                }
                Err(ureq::Error::Status(401, resp)) => {
                    let header = resp.header("www-authenticate").unwrap_or("").to_string();
                    let refused_scope = auth::parse(&header)
                        .into_iter()
                        .find(|c| c.param("error") == Some("insufficient_scope"));
                    if let Some(c) = refused_scope {
                        return Err(Error::Registry(format!(
                            "{}: access denied (401, insufficient scope{})",
                            req.url,
                            c.param("scope")
                                .map(|s| format!(": {s}"))
                                .unwrap_or_default()
                        )));
                    }
                    let why = error_message(resp);
                    return Err(Error::Registry(format!(
                        "{}: unauthorized (401){}{}",
                        req.url,
                        if self.credentials.is_some() {
                            ": wrong username or password?"
                        } else {
                            ": credentials needed (berth login)"
                        },
                        if why.is_empty() {
                            String::new()
                        } else {
                            format!(" ({why})")
                        }
                    )));
                }
                Err(ureq::Error::Status(code, resp))
                    if code >= 500 && req.idempotent() && attempt < self.retries =>
                {
                    let _ = resp.into_string();
                    attempt += 1;
                    std::thread::sleep(Duration::from_millis(100 << attempt));
                }
                Err(ureq::Error::Status(code, resp)) => {
                    return Err(Error::Status {
                        url: req.url.clone(),
                        status: code,
                        message: error_message(resp),
                    });
                }
                Err(ureq::Error::Transport(_)) if req.idempotent() && attempt < self.retries => {
                    attempt += 1;
                    std::thread::sleep(Duration::from_millis(100 << attempt));
                }
                Err(e) => return Err(net(format!("{} {}", req.method, req.url), e)),
            }
        }
    }

    /// Check that the registry accepts our credentials (what `login` does before storing them).
    pub fn ping(&self, registry: &str) -> Result<()> {
        self.login(registry).map(|_| ())
    }

    /// As [`Client::ping`], asking a token server for a refresh token as well; returns it
    /// when the server gave one (to be stored as Docker's `identitytoken`).
    pub fn login(&self, registry: &str) -> Result<Option<String>> {
        let probe: Reference = format!("{registry}/berth-login-check").parse()?;
        let ep = self.upstream(&probe)?;
        let mut req = Request::new("GET", format!("{}/v2/", ep.base), &ep.registry);
        req.offline = true;
        self.send(&req)?;
        let st = self.auth.lock().unwrap_or_else(|e| e.into_inner());
        Ok(st.tokens.refresh_token(&ep.registry))
    }

    /// The manifest of `r` (by digest if it has one, else by tag), verified against the
    /// digest when one was asked for. The registry's live mirrors are asked first, in order;
    /// whichever answers also serves `r`'s blobs.
    pub fn manifest(&self, r: &Reference, by: Option<&str>) -> Result<FetchedManifest> {
        for mirror in self.routes.mirrors(r) {
            // Any failure of a mirror (missing image, bad content) falls back, as in Docker.
            if let Ok(m) = self.manifest_at(&mirror, r, by) {
                self.routes.remember(r, &mirror);
                return Ok(m);
            }
        }
        let ep = self.endpoint(r)?;
        let m = self.manifest_at(&ep, r, by)?;
        self.routes.remember(r, &ep);
        Ok(m)
    }

    fn manifest_at(
        &self,
        ep: &Endpoint,
        r: &Reference,
        by: Option<&str>,
    ) -> Result<FetchedManifest> {
        let what = by
            .map(str::to_string)
            .or_else(|| r.digest().map(|d| d.to_string()))
            .or_else(|| r.tag().map(str::to_string))
            .unwrap_or_else(|| "latest".into());
        let url = format!("{}/v2/{}/manifests/{what}", ep.base, r.path());
        let resp = self.send(
            &Request::new("GET", url.clone(), &ep.registry)
                .scope(pull_scope(r))
                .header("Accept", ACCEPTED.join(", ")),
        )?;
        let media_type = resp.header("content-type").map(str::to_string);
        let mut bytes = Vec::new();
        resp.into_reader()
            .take(8 << 20)
            .read_to_end(&mut bytes)
            .map_err(|e| net(url.clone(), e))?;
        let digest = Digest::sha256_of(&bytes);
        if let Ok(want) = what.parse::<Digest>() {
            if want.algorithm() == digest.algorithm() && want != digest {
                return Err(Error::DigestMismatch {
                    expected: want.to_string(),
                    actual: digest.to_string(),
                });
            }
        }
        Ok(FetchedManifest {
            bytes,
            media_type,
            digest,
        })
    }

    /// The body of blob `d`, to be read (and verified) by the caller. A body that breaks off
    /// is resumed with a `Range` request, a bounded number of times.
    pub fn blob_reader(&self, r: &Reference, d: &Digest) -> Result<Box<dyn Read + Send>> {
        let ep = self.endpoint(r)?;
        let req = Request::new(
            "GET",
            format!("{}/v2/{}/blobs/{d}", ep.base, r.path()),
            &ep.registry,
        )
        .scope(pull_scope(r));
        Ok(Box::new(super::resume::ResumingBody::open(
            self.clone(),
            req,
            d.to_string(),
        )?))
    }

    /// Stream blob `d` of `r` into the store (nothing is done when it is already there).
    pub fn blob(
        &self,
        r: &Reference,
        d: &Digest,
        size: Option<u64>,
        store: &ContentStore,
    ) -> Result<()> {
        if store.contains(d) {
            return Ok(());
        }
        let mut body = self.blob_reader(r, d)?;
        let mut w = store.writer(d, size)?;
        std::io::copy(&mut body, &mut w).map_err(|e| net(format!("download {d}"), e))?;
        w.commit()?;
        Ok(())
    }

    /// The size of blob `d` in repository `r` when the registry has it there (HEAD).
    pub fn blob_exists(&self, r: &Reference, d: &Digest) -> Result<Option<u64>> {
        self.blob_exists_for(r, d, pull_scope(r))
    }

    /// As [`Client::blob_exists`], under the token scope the caller needs next (a push asks
    /// for `pull,push` once and uses that token for the whole upload).
    pub(crate) fn blob_exists_for(
        &self,
        r: &Reference,
        d: &Digest,
        scope: String,
    ) -> Result<Option<u64>> {
        // A push asks the registry itself; a pull wherever the manifest came from.
        let ep = if scope.ends_with(",push") {
            self.upstream(r)?
        } else {
            self.endpoint(r)?
        };
        let req = Request::new(
            "HEAD",
            format!("{}/v2/{}/blobs/{d}", ep.base, r.path()),
            &ep.registry,
        )
        .scope(scope);
        match self.send(&req) {
            Ok(resp) => Ok(Some(
                resp.header("content-length")
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(0),
            )),
            Err(Error::Status { status: 404, .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_client_can_be_shared_by_threads_and_scopes_name_the_repository() {
        fn shared<T: Send + Sync + Clone>() {}
        shared::<Client>();
        let r: Reference = "127.0.0.1:5000/team/app:1".parse().unwrap();
        assert_eq!(pull_scope(&r), "repository:team/app:pull");
        assert_eq!(push_scope(&r), "repository:team/app:pull,push");
        assert!(Request::new("PUT", String::new(), "r").idempotent());
        assert!(!Request::new("POST", String::new(), "r").idempotent());
        assert!(!Request::new("PATCH", String::new(), "r").idempotent());
    }
}
