//! How registries are reached, from `<config dir>/registries.json` (config dir: `$BERTH_CONFIG_DIR`,
//! default `/etc/berth`), with docker daemon.json's key names where Docker has one:
//!
//! ```json
//! {
//!   "insecure-registries": ["reg.lan:5000", "10.0.0.0/8"],
//!   "registry-mirrors": ["https://mirror.example"],
//!   "mirrors": {"reg.lan:5000": ["http://127.0.0.1:5001"]}
//! }
//! ```
//!
//! `insecure-registries` allows plain HTTP and unverified certificates (Docker's meaning);
//! `registry-mirrors` are for Docker Hub; `mirrors` (Berth's own) names mirrors per registry.
//! A missing file means defaults; a file that does not parse is an error naming the field.

use crate::error::{Error, Result};
use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

pub const DEFAULT_CONFIG_DIR: &str = "/etc/berth";
pub const CONFIG_DIR_ENV: &str = "BERTH_CONFIG_DIR";
pub const FILE_NAME: &str = "registries.json";

/// An `insecure-registries` entry: a registry name (`host[:port]`, matched exactly) or a
/// network (`10.0.0.0/8`) that the registry's host address falls in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Insecure {
    Name(String),
    Network { addr: IpAddr, prefix: u8 },
}

#[derive(Debug, Clone, Default)]
pub struct RegistryConfig {
    /// The config directory: `registries.json` and `certs.d/` live here.
    pub dir: PathBuf,
    pub insecure: Vec<Insecure>,
    /// Docker Hub mirrors (`registry-mirrors`), tried in order before Hub itself.
    pub registry_mirrors: Vec<String>,
    /// Mirrors per registry name (`mirrors`), tried in order before that registry.
    pub mirrors: BTreeMap<String, Vec<String>>,
}

impl RegistryConfig {
    /// `$BERTH_CONFIG_DIR`, or `/etc/berth`.
    pub fn default_dir() -> PathBuf {
        match std::env::var_os(CONFIG_DIR_ENV) {
            Some(d) if !d.is_empty() => PathBuf::from(d),
            _ => PathBuf::from(DEFAULT_CONFIG_DIR),
        }
    }

    /// The configuration in the default config directory.
    pub fn load() -> Result<RegistryConfig> {
        Self::load_from(&Self::default_dir())
    }

    /// No file read: defaults, with `dir` for certs.d.
    pub fn defaults_in(dir: &Path) -> RegistryConfig {
        RegistryConfig {
            dir: dir.to_path_buf(),
            ..Default::default()
        }
    }

    /// The configuration in `dir` (`dir/registries.json`; defaults if there is none).
    pub fn load_from(dir: &Path) -> Result<RegistryConfig> {
        let path = dir.join(FILE_NAME);
        let bytes = match std::fs::read(&path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Ok(Self::defaults_in(dir))
            }
            Err(e) => return Err(Error::io("read", &path, e)),
        };
        let bad = |field: &str, why: String| {
            Error::Registry(format!("{}: {field}: {why}", path.display()))
        };
        let v: serde_json::Value = serde_json::from_slice(&bytes)
            .map_err(|e| Error::Registry(format!("{}: not valid JSON: {e}", path.display())))?;
        let obj = v
            .as_object()
            .ok_or_else(|| bad("(top level)", "must be a JSON object".into()))?;
        let mut cfg = Self::defaults_in(dir);
        for (key, value) in obj {
            match key.as_str() {
                "insecure-registries" => {
                    for s in strings(value).map_err(|w| bad(key, w))? {
                        cfg.insecure
                            .push(parse_insecure(&s).map_err(|w| bad(key, w))?);
                    }
                }
                "registry-mirrors" => {
                    for s in strings(value).map_err(|w| bad(key, w))? {
                        cfg.registry_mirrors
                            .push(mirror_url(&s).map_err(|w| bad(key, w))?);
                    }
                }
                "mirrors" => {
                    let m = value.as_object().ok_or_else(|| {
                        bad(key, "must be an object of registry: [mirror URLs]".into())
                    })?;
                    for (registry, list) in m {
                        let field = format!("mirrors.{registry}");
                        let urls = strings(list)
                            .map_err(|w| bad(&field, w))?
                            .iter()
                            .map(|s| mirror_url(s))
                            .collect::<std::result::Result<Vec<_>, _>>()
                            .map_err(|w| bad(&field, w))?;
                        cfg.mirrors.insert(registry.clone(), urls);
                    }
                }
                other => {
                    return Err(bad(
                        other,
                        "unknown field (known: insecure-registries, registry-mirrors, mirrors)"
                            .into(),
                    ))
                }
            }
        }
        Ok(cfg)
    }

    /// `<config dir>/certs.d`.
    pub fn certs_d(&self) -> PathBuf {
        self.dir.join("certs.d")
    }

    /// The file this configuration is read from (named in errors and hints).
    pub fn file(&self) -> PathBuf {
        self.dir.join(FILE_NAME)
    }

    /// Is `registry` (`host[:port]`) listed in `insecure-registries`, by name or network?
    pub fn is_insecure(&self, registry: &str) -> bool {
        if self
            .insecure
            .iter()
            .any(|i| matches!(i, Insecure::Name(n) if n == registry))
        {
            return true;
        }
        if !self
            .insecure
            .iter()
            .any(|i| matches!(i, Insecure::Network { .. }))
        {
            return false;
        }
        let host = super::endpoint::host_of(registry);
        // A name is resolved, as Docker does, so `reg.lan` in 10.0.0.0/8 matches too.
        let addrs: Vec<IpAddr> = match host.parse::<IpAddr>() {
            Ok(ip) => vec![ip],
            Err(_) => std::net::ToSocketAddrs::to_socket_addrs(&(host, 0))
                .map(|a| a.map(|s| s.ip()).collect())
                .unwrap_or_default(),
        };
        self.insecure.iter().any(|i| match i {
            Insecure::Network { addr, prefix } => {
                addrs.iter().any(|a| in_network(*a, *addr, *prefix))
            }
            Insecure::Name(_) => false,
        })
    }

    /// Mirrors for `registry`, in the order to try them: its `mirrors` entry, then (for
    /// Docker Hub) `registry-mirrors`.
    pub fn mirrors_for(&self, registry: &str) -> Vec<String> {
        let mut out = self.mirrors.get(registry).cloned().unwrap_or_default();
        if registry == crate::reference::DEFAULT_DOMAIN {
            out.extend(self.registry_mirrors.iter().cloned());
        }
        out
    }
}

fn strings(v: &serde_json::Value) -> std::result::Result<Vec<String>, String> {
    let a = v.as_array().ok_or("must be a list of strings")?;
    a.iter()
        .map(|s| {
            s.as_str()
                .map(str::to_string)
                .ok_or_else(|| format!("{s} is not a string"))
        })
        .collect()
}

fn parse_insecure(s: &str) -> std::result::Result<Insecure, String> {
    let Some((addr, prefix)) = s.split_once('/') else {
        if s.is_empty() || s.contains("://") {
            return Err(format!(
                "{s:?} is not a host[:port] or a network like 10.0.0.0/8"
            ));
        }
        return Ok(Insecure::Name(s.to_string()));
    };
    let addr: IpAddr = addr
        .parse()
        .map_err(|_| format!("{s:?}: {addr:?} is not an IP address"))?;
    let max = if addr.is_ipv4() { 32 } else { 128 };
    let prefix: u8 = prefix
        .parse()
        .ok()
        .filter(|p| *p <= max)
        .ok_or_else(|| format!("{s:?}: prefix length must be 0..={max}"))?;
    Ok(Insecure::Network { addr, prefix })
}

fn in_network(ip: IpAddr, net: IpAddr, prefix: u8) -> bool {
    let (a, b, bits) = match (ip, net) {
        (IpAddr::V4(a), IpAddr::V4(b)) => (u32::from(a) as u128, u32::from(b) as u128, 32),
        (IpAddr::V6(a), IpAddr::V6(b)) => (u128::from(a), u128::from(b), 128),
        (IpAddr::V6(a), IpAddr::V4(b)) => match a.to_ipv4_mapped() {
            Some(a) => (u32::from(a) as u128, u32::from(b) as u128, 32),
            None => return false,
        },
        _ => return false,
    };
    let shift = bits - u32::from(prefix);
    shift >= bits || (a >> shift) == (b >> shift)
}

/// A mirror is `http[s]://host[:port]` (a trailing `/` allowed), as Docker requires.
fn mirror_url(s: &str) -> std::result::Result<String, String> {
    let rest = s
        .strip_prefix("https://")
        .or_else(|| s.strip_prefix("http://"))
        .ok_or_else(|| format!("{s:?}: a mirror must be an http:// or https:// URL"))?;
    let host = rest.trim_end_matches('/');
    if host.is_empty() || host.contains(['/', '?', '#', '@', ' ']) {
        return Err(format!(
            "{s:?}: a mirror is scheme://host[:port] with no path"
        ));
    }
    Ok(s.trim_end_matches('/').to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(json: &str) -> Result<RegistryConfig> {
        let d = tempfile::tempdir().unwrap();
        std::fs::write(d.path().join(FILE_NAME), json).unwrap();
        RegistryConfig::load_from(d.path())
    }

    #[test]
    fn missing_file_means_defaults() {
        let d = tempfile::tempdir().unwrap();
        let c = RegistryConfig::load_from(d.path()).unwrap();
        assert!(c.insecure.is_empty() && c.mirrors.is_empty());
        assert_eq!(c.certs_d(), d.path().join("certs.d"));
    }

    #[test]
    fn docker_keys_and_per_registry_mirrors() {
        let c = load(
            r#"{"insecure-registries": ["reg.lan:5000", "10.0.0.0/8", "fd00::/8"],
                "registry-mirrors": ["https://mirror.example/"],
                "mirrors": {"reg.lan:5000": ["http://127.0.0.1:5001"]}}"#,
        )
        .unwrap();
        assert!(c.is_insecure("reg.lan:5000"));
        assert!(!c.is_insecure("reg.lan:5001"), "names match exactly");
        assert!(c.is_insecure("10.1.2.3:5000"));
        assert!(c.is_insecure("10.1.2.3"));
        assert!(!c.is_insecure("11.1.2.3:5000"));
        assert!(c.is_insecure("[fd00::2]:5000"));
        assert_eq!(c.mirrors_for("docker.io"), vec!["https://mirror.example"]);
        assert_eq!(c.mirrors_for("reg.lan:5000"), vec!["http://127.0.0.1:5001"]);
        assert!(c.mirrors_for("quay.io").is_empty());
    }

    #[test]
    fn broken_files_name_the_file_and_the_field() {
        let e = load(r#"{"insecure-registries": "reg:5000"}"#)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("registries.json: insecure-registries: must be a list"),
            "{e}"
        );
        let e = load(r#"{"insecure-registries": ["10.0.0.0/33"]}"#)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("insecure-registries") && e.contains("prefix"),
            "{e}"
        );
        let e = load(r#"{"registry-mirrors": ["mirror.example"]}"#)
            .unwrap_err()
            .to_string();
        assert!(e.contains("registry-mirrors") && e.contains("http"), "{e}");
        let e = load(r#"{"mirrors": {"r:1": ["https://m/path"]}}"#)
            .unwrap_err()
            .to_string();
        assert!(e.contains("mirrors.r:1") && e.contains("no path"), "{e}");
        let e = load(r#"{"insecure_registries": []}"#)
            .unwrap_err()
            .to_string();
        assert!(e.contains("insecure_registries: unknown field"), "{e}");
        let e = load("{not json").unwrap_err().to_string();
        assert!(e.contains("registries.json: not valid JSON"), "{e}");
    }
}
