//! Where a registry lives and in which order its addresses are tried. Docker Hub's API host;
//! HTTPS for everything, and plain HTTP as a second choice only for loopback registries and
//! ones listed in `insecure-registries` (HTTPS first, as Docker does for insecure registries);
//! mirrors before the registry itself; and the per-registry CA directory laid out like
//! Docker's certs.d.

use super::config::RegistryConfig;
use crate::reference::DEFAULT_DOMAIN;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    /// `https://registry-1.docker.io`, `http://127.0.0.1:5000`, ...
    pub base: String,
    /// The registry name used for credentials and certs.d (`docker.io`, `host:port`).
    pub registry: String,
    /// A mirror of `registry` rather than the registry itself.
    pub mirror: bool,
}

/// The host of `host[:port]` or `[v6]:port`, without brackets.
pub fn host_of(host_port: &str) -> &str {
    if let Some(rest) = host_port.strip_prefix('[') {
        return rest.split(']').next().unwrap_or("");
    }
    match host_port.rsplit_once(':') {
        Some((h, p)) if !h.contains(':') && p.bytes().all(|b| b.is_ascii_digit()) => h,
        _ => host_port,
    }
}

/// Loopback registries may be reached over plain HTTP, as Docker allows.
pub fn is_loopback(host_port: &str) -> bool {
    let host = host_of(host_port);
    host == "localhost"
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// The addresses of `registry` itself, in the order to try them: `https://` always first;
/// `http://` after it for loopback registries and insecure ones.
pub fn candidates(registry: &str, config: &RegistryConfig) -> Vec<Endpoint> {
    let ep = |base: String| Endpoint {
        base,
        registry: registry.to_string(),
        mirror: false,
    };
    if registry == DEFAULT_DOMAIN {
        return vec![ep("https://registry-1.docker.io".into())];
    }
    let mut out = vec![ep(format!("https://{registry}"))];
    if is_loopback(registry) || config.is_insecure(registry) {
        out.push(ep(format!("http://{registry}")));
    }
    out
}

/// The mirrors of `registry` from the configuration, in order.
pub fn mirrors(registry: &str, config: &RegistryConfig) -> Vec<Endpoint> {
    config
        .mirrors_for(registry)
        .into_iter()
        .map(|base| Endpoint {
            base,
            registry: registry.to_string(),
            mirror: true,
        })
        .collect()
}

/// `host[:port]` of a URL (`https://h:1/v2/x` -> `h:1`): the key for agents and certs.d.
pub fn authority(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    rest.split(['/', '?', '#']).next().unwrap_or(rest)
}

/// `<certs_d>/<host[:port]>/`: `*.crt` CAs, `client.cert`/`client.key`.
pub fn certs_dir(certs_d: &Path, registry: &str) -> PathBuf {
    certs_d.join(registry)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::config::Insecure;

    fn bases(registry: &str, insecure: &[&str]) -> Vec<String> {
        let c = RegistryConfig {
            insecure: insecure
                .iter()
                .map(|s| Insecure::Name(s.to_string()))
                .collect(),
            ..Default::default()
        };
        candidates(registry, &c)
            .into_iter()
            .map(|e| e.base)
            .collect()
    }

    #[test]
    fn hub_loopback_insecure_and_tls() {
        assert_eq!(bases("docker.io", &[]), ["https://registry-1.docker.io"]);
        assert_eq!(
            bases("127.0.0.1:5000", &[]),
            ["https://127.0.0.1:5000", "http://127.0.0.1:5000"]
        );
        assert_eq!(
            bases("localhost:5000", &[]),
            ["https://localhost:5000", "http://localhost:5000"]
        );
        assert_eq!(
            bases("[::1]:5000", &[]),
            ["https://[::1]:5000", "http://[::1]:5000"]
        );
        assert_eq!(bases("quay.io", &[]), ["https://quay.io"]);
        assert_eq!(
            bases("reg.lan:5000", &["reg.lan:5000"]),
            ["https://reg.lan:5000", "http://reg.lan:5000"]
        );
        assert_eq!(
            bases("reg.lan:5000", &["reg.lan"]),
            ["https://reg.lan:5000"],
            "insecure entries match host:port exactly"
        );
        assert_eq!(bases("127.example:5000", &[]), ["https://127.example:5000"]);
        assert_eq!(
            certs_dir(Path::new("/etc/berth/certs.d"), "reg.lan:5000"),
            Path::new("/etc/berth/certs.d/reg.lan:5000")
        );
        assert_eq!(authority("https://reg.lan:5000/v2/x?y"), "reg.lan:5000");
        assert_eq!(authority("http://[::1]:5000"), "[::1]:5000");
        assert_eq!(host_of("[::1]:5000"), "::1");
        assert_eq!(host_of("reg:5000"), "reg");
    }
}
