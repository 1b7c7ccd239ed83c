//! One HTTP agent per registry address (`host[:port]`), made on first use and kept: each
//! carries that registry's TLS setup (its certs.d CAs and client certificate, or no
//! verification for an insecure registry), and keeps its connections for reuse.

use super::config::RegistryConfig;
use super::endpoint::{authority, certs_dir};
use super::tls;
use crate::error::Result;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

#[derive(Clone)]
pub struct Agents {
    config: Arc<RegistryConfig>,
    made: Arc<Mutex<HashMap<String, ureq::Agent>>>,
}

fn builder() -> ureq::AgentBuilder {
    ureq::AgentBuilder::new()
        .timeout_connect(Duration::from_secs(15))
        .timeout_read(Duration::from_secs(60))
        .redirects(5)
}

impl Agents {
    pub fn new(config: Arc<RegistryConfig>) -> Agents {
        Agents {
            config,
            made: Arc::default(),
        }
    }

    pub fn config(&self) -> &RegistryConfig {
        &self.config
    }

    /// The agent for `url`'s `host[:port]`; an error when its certs.d files are unusable.
    pub fn for_url(&self, url: &str) -> Result<ureq::Agent> {
        let key = authority(url).to_string();
        if let Some(a) = self
            .made
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&key)
        {
            return Ok(a.clone());
        }
        let dir = certs_dir(&self.config.certs_d(), &key);
        let verify = !self.config.is_insecure(&key);
        let agent = builder()
            .tls_config(tls::client_config(&dir, verify)?)
            .build();
        self.made
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(key, agent.clone());
        Ok(agent)
    }

    /// A request on `url`'s agent. Endpoints are resolved (and their TLS setup checked)
    /// before any request, so a setup error here is rare (a token server's certs.d, say):
    /// the request then goes out with the system roots only and fails on its certificate.
    pub fn request(&self, method: &str, url: &str) -> ureq::Request {
        match self.for_url(url) {
            Ok(a) => a.request(method, url),
            Err(_) => builder().build().request(method, url),
        }
    }

    pub fn get(&self, url: &str) -> ureq::Request {
        self.request("GET", url)
    }

    pub fn head(&self, url: &str) -> ureq::Request {
        self.request("HEAD", url)
    }

    pub fn post(&self, url: &str) -> ureq::Request {
        self.request("POST", url)
    }

    pub fn put(&self, url: &str) -> ureq::Request {
        self.request("PUT", url)
    }

    pub fn patch(&self, url: &str) -> ureq::Request {
        self.request("PATCH", url)
    }

    pub fn delete(&self, url: &str) -> ureq::Request {
        self.request("DELETE", url)
    }
}
