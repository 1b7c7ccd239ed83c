//! Where a reference's registry lives and how to reach it: Docker Hub's API host, plain HTTP
//! only for loopback registries and ones marked insecure, and the per-registry CA directory
//! laid out like Docker's certs.d.

use crate::reference::{Reference, DEFAULT_DOMAIN};
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    /// `https://registry-1.docker.io`, `http://127.0.0.1:5000`, ...
    pub base: String,
    /// The registry name used for credentials and certs.d (`docker.io`, `host:port`).
    pub registry: String,
}

/// Loopback registries are trusted over plain HTTP, as Docker does.
fn is_loopback(host_port: &str) -> bool {
    let host = if let Some(rest) = host_port.strip_prefix('[') {
        rest.split(']').next().unwrap_or("")
    } else {
        host_port.rsplit_once(':').map_or(host_port, |(h, p)| {
            if p.bytes().all(|b| b.is_ascii_digit()) {
                h
            } else {
                host_port
            }
        })
    };
    host == "localhost" || host == "::1" || host.starts_with("127.")
}

pub fn endpoint(r: &Reference, insecure: &[String]) -> Endpoint {
    let registry = r.domain().to_string();
    let base = if registry == DEFAULT_DOMAIN {
        "https://registry-1.docker.io".to_string()
    } else if is_loopback(&registry) || insecure.iter().any(|i| i == &registry) {
        format!("http://{registry}")
    } else {
        format!("https://{registry}")
    };
    Endpoint { base, registry }
}

/// `<certs_d>/<host[:port]>/`: `ca.crt` and `*.crt` CAs, `client.cert`/`client.key`.
pub fn certs_dir(certs_d: &Path, registry: &str) -> PathBuf {
    certs_d.join(registry)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ep(r: &str, insecure: &[&str]) -> String {
        let insecure: Vec<String> = insecure.iter().map(|s| s.to_string()).collect();
        endpoint(&r.parse().unwrap(), &insecure).base
    }

    #[test]
    fn hub_loopback_insecure_and_tls() {
        assert_eq!(ep("busybox", &[]), "https://registry-1.docker.io");
        assert_eq!(ep("127.0.0.1:5000/app", &[]), "http://127.0.0.1:5000");
        assert_eq!(ep("localhost:5000/app", &[]), "http://localhost:5000");
        assert_eq!(ep("[::1]:5000/app", &[]), "http://[::1]:5000");
        assert_eq!(ep("quay.io/org/app", &[]), "https://quay.io");
        assert_eq!(
            ep("reg.lan:5000/app", &["reg.lan:5000"]),
            "http://reg.lan:5000"
        );
        assert_eq!(
            ep("reg.lan:5000/app", &["reg.lan"]),
            "https://reg.lan:5000",
            "insecure entries match host:port exactly"
        );
        assert_eq!(
            certs_dir(Path::new("/etc/berth/certs.d"), "reg.lan:5000"),
            Path::new("/etc/berth/certs.d/reg.lan:5000")
        );
    }
}
