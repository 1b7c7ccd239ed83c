//! A blocking registry client for pulls: manifests by tag or digest, blobs streamed into the
//! content store and verified there. Authentication follows the challenge of a 401:
//! anonymous or credentialed Bearer tokens (GET on the realm), or Basic. Transient failures
//! (5xx, connection errors) are retried with a short exponential back-off. Where requests go
//! (mirrors first, HTTPS or HTTP, which TLS setup) is [`super::route`]'s and
//! [`super::agents`]'s business.

use super::agents::Agents;
use super::auth::{self, Challenge};
use super::config::{Insecure, RegistryConfig};
use super::endpoint::Endpoint;
use super::route::Routes;
use crate::digest::Digest;
use crate::error::{Error, Result};
use crate::manifest::ACCEPTED;
use crate::reference::Reference;
use crate::store::ContentStore;
use base64::Engine;
use std::io::Read;
use std::time::Duration;

#[derive(Clone, Debug, Default)]
pub struct Credentials {
    pub username: String,
    pub password: String,
}

pub struct Client {
    /// Requests go through the agent of their `host[:port]` (its certs.d TLS setup).
    agent: Agents,
    routes: Routes,
    credentials: Option<Credentials>,
    retries: u32,
}

/// A fetched manifest: its bytes, media type and digest.
pub struct FetchedManifest {
    pub bytes: Vec<u8>,
    pub media_type: Option<String>,
    pub digest: Digest,
}

fn net(what: String, e: impl std::fmt::Display) -> Error {
    Error::Registry(format!("{what}: {e}"))
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
        let agent = Agents::new(std::sync::Arc::new(config));
        Client {
            routes: Routes::new(agent.clone()),
            agent,
            credentials,
            retries: 4,
        }
    }

    /// Where `r`'s requests go: the mirror or registry its manifest came from, else the
    /// registry itself.
    fn endpoint(&self, r: &Reference) -> Result<Endpoint> {
        match self.routes.source(r) {
            Some(ep) => Ok(ep),
            None => self.routes.upstream(r.domain()),
        }
    }

    /// GET with auth negotiation and retries; returns the successful response.
    fn get(
        &self,
        r: Option<&Reference>,
        url: &str,
        accept: Option<&str>,
    ) -> Result<ureq::Response> {
        let mut authz: Option<String> = None;
        let mut attempt = 0;
        loop {
            let mut req = self.agent.get(url);
            if let Some(a) = accept {
                req = req.set("Accept", a);
            }
            if let Some(h) = &authz {
                req = req.set("Authorization", h);
            }
            match req.call() {
                Ok(resp) => return Ok(resp),
                Err(ureq::Error::Status(401, resp)) if authz.is_none() => {
                    let header = resp.header("www-authenticate").unwrap_or("").to_string();
                    authz = Some(self.authorize(r, &auth::parse(&header))?);
                }
                Err(ureq::Error::Status(401, _)) => {
                    return Err(Error::Registry(format!(
                        "{url}: unauthorized (401){}",
                        if self.credentials.is_some() {
                            ": wrong username or password?"
                        } else {
                            ": credentials needed (berth login)"
                        }
                    )));
                }
                Err(ureq::Error::Status(code, resp)) if code >= 500 && attempt < self.retries => {
                    let _ = resp.into_string();
                    attempt += 1;
                    std::thread::sleep(Duration::from_millis(100 << attempt));
                }
                Err(ureq::Error::Status(code, resp)) => {
                    let body = resp.into_string().unwrap_or_default();
                    return Err(Error::Registry(format!(
                        "{url}: HTTP {code}: {}",
                        body.trim().chars().take(200).collect::<String>()
                    )));
                }
                Err(ureq::Error::Transport(t)) if attempt < self.retries => {
                    let _ = t;
                    attempt += 1;
                    std::thread::sleep(Duration::from_millis(100 << attempt));
                }
                Err(e) => return Err(net(url.to_string(), e)),
            }
        }
    }

    /// The Authorization header value for a challenge.
    fn authorize(&self, r: Option<&Reference>, challenges: &[Challenge]) -> Result<String> {
        let basic = |c: &Credentials| {
            format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD
                    .encode(format!("{}:{}", c.username, c.password))
            )
        };
        if let Some(c) = challenges.iter().find(|c| c.scheme == "bearer") {
            let realm = c
                .param("realm")
                .ok_or_else(|| Error::Registry("Bearer challenge without a realm".into()))?;
            let scope = c
                .param("scope")
                .map(str::to_string)
                .or_else(|| r.map(|r| format!("repository:{}:pull", r.path())));
            let mut req = self.agent.get(realm);
            if let Some(scope) = &scope {
                req = req.query("scope", scope);
            }
            if let Some(s) = c.param("service") {
                req = req.query("service", s);
            }
            if let Some(cr) = &self.credentials {
                req = req.set("Authorization", &basic(cr));
            }
            let resp = req.call().map_err(|e| match e {
                ureq::Error::Status(401, _) => {
                    Error::Registry(format!("token server {realm}: wrong username or password"))
                }
                e => net(format!("token server {realm}"), e),
            })?;
            let body = resp
                .into_string()
                .map_err(|e| net(format!("token from {realm}"), e))?;
            let v: serde_json::Value =
                serde_json::from_str(&body).map_err(|e| net(format!("token from {realm}"), e))?;
            let token = v["token"]
                .as_str()
                .or(v["access_token"].as_str())
                .ok_or_else(|| {
                    Error::Registry(format!("token server {realm} returned no token"))
                })?;
            return Ok(format!("Bearer {token}"));
        }
        if challenges.iter().any(|c| c.scheme == "basic") {
            let cr = self.credentials.as_ref().ok_or_else(|| {
                Error::Registry("unauthorized: credentials needed (berth login)".to_string())
            })?;
            return Ok(basic(cr));
        }
        Err(Error::Registry(format!(
            "unsupported authentication challenge {:?}",
            challenges
                .first()
                .map(|c| c.scheme.as_str())
                .unwrap_or("none")
        )))
    }

    /// Check that the registry accepts our credentials (what `login` does before storing them).
    pub fn ping(&self, registry: &str) -> Result<()> {
        let probe: Reference = format!("{registry}/berth-login-check").parse()?;
        let url = format!("{}/v2/", self.endpoint(&probe)?.base);
        self.get(None, &url, None).map(|_| ())
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
        let resp = self.get(Some(r), &url, Some(&ACCEPTED.join(", ")))?;
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

    /// Stream blob `d` of `r` into the store (nothing is done when it is already there).
    /// The body of blob `d`, to be read (and verified) by the caller.
    pub fn blob_reader(&self, r: &Reference, d: &Digest) -> Result<Box<dyn std::io::Read + Send>> {
        let url = format!("{}/v2/{}/blobs/{d}", self.endpoint(r)?.base, r.path());
        Ok(Box::new(self.get(Some(r), &url, None)?.into_reader()))
    }

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
        let ep = self.endpoint(r)?;
        let url = format!("{}/v2/{}/blobs/{d}", ep.base, r.path());
        let resp = self.get(Some(r), &url, None)?;
        let mut w = store.writer(d, size)?;
        std::io::copy(&mut resp.into_reader(), &mut w)
            .map_err(|e| net(format!("download {d}"), e))?;
        w.commit()?;
        Ok(())
    }
}
