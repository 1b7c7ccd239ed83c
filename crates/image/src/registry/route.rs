//! Which address of a registry to talk to, found once per client and kept. The registry's
//! candidates ([`super::endpoint::candidates`]) are tried with a `GET /v2/`, as Docker pings:
//! an HTTPS answer wins; a server that does not speak TLS sends us to the plain-HTTP
//! candidate when there is one (loopback, insecure-registries); a certificate that does not
//! verify is an error at once (never a silent step down to HTTP), naming the certs.d
//! directory where the CA belongs. Mirrors are pinged the same way and skipped when dead.

use super::agents::Agents;
use super::endpoint::{self, Endpoint};
use super::tls::{certificate_problem, CertProblem};
use crate::error::{Error, Result};
use crate::reference::Reference;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

pub struct Routes {
    agents: Agents,
    /// Registry name -> the address of the registry itself that answered.
    upstream: Mutex<HashMap<String, Endpoint>>,
    /// Mirror base URL -> whether it answered its ping.
    alive: Mutex<HashMap<String, bool>>,
    /// `registry/repository` -> where its manifest came from (blobs come from there too).
    sources: Mutex<HashMap<String, Endpoint>>,
}

enum Ping {
    /// Any HTTP status: the address speaks the protocol; 2xx and 401 mean a registry.
    Answered(u16),
    Failed(Box<ureq::Error>),
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

fn repo_key(r: &Reference) -> String {
    format!("{}/{}", r.domain(), r.path())
}

impl Routes {
    pub fn new(agents: Agents) -> Routes {
        Routes {
            agents,
            upstream: Mutex::default(),
            alive: Mutex::default(),
            sources: Mutex::default(),
        }
    }

    fn ping(&self, base: &str) -> Result<Ping> {
        let agent = self.agents.for_url(base)?;
        Ok(
            match agent
                .get(&format!("{base}/v2/"))
                .timeout(Duration::from_secs(10))
                .call()
            {
                Ok(resp) => Ping::Answered(resp.status()),
                Err(ureq::Error::Status(code, _)) => Ping::Answered(code),
                Err(e) => Ping::Failed(Box::new(e)),
            },
        )
    }

    /// The address of `registry` itself to use.
    pub fn upstream(&self, registry: &str) -> Result<Endpoint> {
        if let Some(ep) = lock(&self.upstream).get(registry) {
            return Ok(ep.clone());
        }
        let config = self.agents.config();
        let candidates = endpoint::candidates(registry, config);
        let mut chosen = None;
        for (i, ep) in candidates.iter().enumerate() {
            let last = i + 1 == candidates.len();
            if last && i > 0 {
                // The plain-HTTP fallback: its own requests report whatever goes wrong.
                chosen = Some(ep.clone());
                break;
            }
            match self.ping(&ep.base)? {
                Ping::Answered(_) => {
                    chosen = Some(ep.clone());
                    break;
                }
                Ping::Failed(e) => {
                    if let Some(problem) = certificate_problem(&e) {
                        // The agent's key: for Docker Hub, the API host rather than docker.io.
                        let key = endpoint::authority(&ep.base);
                        let dir = endpoint::certs_dir(&config.certs_d(), key);
                        let dir = dir.display();
                        return Err(Error::Registry(match problem {
                            CertProblem::Server(why) => format!(
                                "{registry} at {}: {why}; to trust the registry's CA, put it in \
                                 {dir}/ca.crt (or list {key} in insecure-registries in {})",
                                ep.base,
                                config.file().display()
                            ),
                            CertProblem::Client(why) => format!(
                                "{registry} at {}: {why}; if it needs a client certificate, put \
                                 it in {dir}/client.cert and its key in {dir}/client.key",
                                ep.base
                            ),
                        }));
                    }
                    if last && is_tls_failure(&e) {
                        return Err(Error::Registry(format!(
                            "{registry} at {} does not speak HTTPS ({e}); plain HTTP is used only \
                             for loopback registries and those listed in insecure-registries in {}",
                            ep.base,
                            config.file().display()
                        )));
                    }
                    if last {
                        // Unreachable for now: the requests retry and report it.
                        chosen = Some(ep.clone());
                    }
                }
            }
        }
        let ep = chosen.expect("a registry has at least one candidate");
        lock(&self.upstream).insert(registry.to_string(), ep.clone());
        Ok(ep)
    }

    /// Is this mirror up (answering `/v2/` like a registry)? Asked once per client.
    fn mirror_alive(&self, m: &Endpoint) -> bool {
        if let Some(a) = lock(&self.alive).get(&m.base) {
            return *a;
        }
        let alive =
            matches!(self.ping(&m.base), Ok(Ping::Answered(code)) if code < 300 || code == 401);
        lock(&self.alive).insert(m.base.clone(), alive);
        alive
    }

    /// The live mirrors of `r`'s registry, in configured order; none once `r` has a source.
    pub fn mirrors(&self, r: &Reference) -> Vec<Endpoint> {
        if lock(&self.sources).contains_key(&repo_key(r)) {
            return Vec::new();
        }
        endpoint::mirrors(r.domain(), self.agents.config())
            .into_iter()
            .filter(|m| self.mirror_alive(m))
            .collect()
    }

    /// Where `r`'s manifest came from (a mirror or the registry), if it came yet.
    pub fn source(&self, r: &Reference) -> Option<Endpoint> {
        lock(&self.sources).get(&repo_key(r)).cloned()
    }

    pub fn remember(&self, r: &Reference, ep: &Endpoint) {
        lock(&self.sources).insert(repo_key(r), ep.clone());
    }
}

/// A failure inside TLS (the server answered, but not with TLS), as opposed to a refused or
/// unreachable connection.
fn is_tls_failure(e: &ureq::Error) -> bool {
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = cur {
        if err.downcast_ref::<rustls::Error>().is_some()
            || err
                .downcast_ref::<std::io::Error>()
                .and_then(|io| io.get_ref())
                .is_some_and(|i| i.downcast_ref::<rustls::Error>().is_some())
        {
            return true;
        }
        cur = err.source();
    }
    false
}
