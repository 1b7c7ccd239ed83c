//! Registry credentials in Docker's config format (`{"auths": {"host": {"auth":
//! base64(user:password)}}}`), at `$DOCKER_CONFIG/config.json` or `~/.docker/config.json`, so
//! `berth login` and `docker login` share them. Docker Hub is stored under its historical key.
//! A refresh token from a token server is kept as `identitytoken` (with an empty password),
//! as the docker CLI does.

use super::client::Credentials;
use crate::error::{Error, Result};
use base64::Engine;
use std::path::{Path, PathBuf};

/// The registry a `login` server argument names, as Docker reads it: the scheme and a
/// trailing `/` dropped, Docker Hub's other names (and no server at all) as its domain.
pub fn server_name(server: Option<&str>) -> String {
    let s = server
        .unwrap_or("")
        .trim_start_matches("https://")
        .trim_start_matches("http://")
        .trim_end_matches('/');
    match s {
        "" | "index.docker.io" | "index.docker.io/v1" | "registry-1.docker.io" => {
            crate::reference::DEFAULT_DOMAIN.to_string()
        }
        s => s.to_string(),
    }
}

const HUB_KEY: &str = "https://index.docker.io/v1/";

pub fn config_path() -> PathBuf {
    match std::env::var_os("DOCKER_CONFIG") {
        Some(d) => PathBuf::from(d).join("config.json"),
        None => PathBuf::from(std::env::var_os("HOME").unwrap_or_else(|| "/root".into()))
            .join(".docker/config.json"),
    }
}

fn key(registry: &str) -> String {
    if registry == crate::reference::DEFAULT_DOMAIN {
        HUB_KEY.to_string()
    } else {
        registry.to_string()
    }
}

fn read(path: &Path) -> Result<serde_json::Value> {
    match std::fs::read(path) {
        Ok(b) => serde_json::from_slice(&b)
            .map_err(|e| Error::Registry(format!("{}: {e}", path.display()))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(serde_json::json!({})),
        Err(e) => Err(Error::io("read", path, e)),
    }
}

/// The stored credentials for `registry` (`docker.io`, `host:port`), if any.
pub fn load(path: &Path, registry: &str) -> Result<Option<Credentials>> {
    let v = read(path)?;
    let entry = &v["auths"][key(registry)];
    let identity_token = entry["identitytoken"]
        .as_str()
        .filter(|t| !t.is_empty())
        .map(str::to_string);
    let Some(auth) = entry["auth"].as_str() else {
        return Ok(None);
    };
    let raw = base64::engine::general_purpose::STANDARD
        .decode(auth)
        .map_err(|e| {
            Error::Registry(format!("{}: bad auth for {registry}: {e}", path.display()))
        })?;
    let s = String::from_utf8(raw)
        .map_err(|_| Error::Registry(format!("{}: bad auth for {registry}", path.display())))?;
    let (u, p) = s
        .split_once(':')
        .ok_or_else(|| Error::Registry(format!("{}: bad auth for {registry}", path.display())))?;
    Ok(Some(Credentials {
        username: u.to_string(),
        password: p.to_string(),
        identity_token,
    }))
}

/// Store (or with `None`, remove) the credentials for `registry`, keeping everything else in
/// the file; written to a temp file and renamed, mode 0600.
pub fn store(path: &Path, registry: &str, creds: Option<&Credentials>) -> Result<bool> {
    let mut v = read(path)?;
    if !v.is_object() {
        v = serde_json::json!({});
    }
    let auths = v
        .as_object_mut()
        .expect("object")
        .entry("auths")
        .or_insert_with(|| serde_json::json!({}));
    let k = key(registry);
    let existed = auths.get(&k).is_some();
    match creds {
        Some(c) => {
            let auth = base64::engine::general_purpose::STANDARD
                .encode(format!("{}:{}", c.username, c.password));
            auths[k.as_str()] = match &c.identity_token {
                Some(t) => serde_json::json!({ "auth": auth, "identitytoken": t }),
                None => serde_json::json!({ "auth": auth }),
            };
        }
        None => {
            if let Some(m) = auths.as_object_mut() {
                m.remove(&k);
            }
        }
    }
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| Error::io("create", dir, e))?;
    }
    let tmp = path.with_extension("json.berth-tmp");
    {
        use std::io::Write;
        use std::os::unix::fs::OpenOptionsExt;
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&tmp)
            .map_err(|e| Error::io("write", &tmp, e))?;
        f.write_all(&serde_json::to_vec_pretty(&v).unwrap_or_default())
            .map_err(|e| Error::io("write", &tmp, e))?;
    }
    std::fs::rename(&tmp, path).map_err(|e| Error::io("rename", path, e))?;
    Ok(existed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn store_load_and_remove_keep_other_entries() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("config.json");
        std::fs::write(
            &p,
            r#"{"auths": {"other:5000": {"auth": "dTpw"}}, "credsStore": "x"}"#,
        )
        .unwrap();
        let c = Credentials {
            username: "me".into(),
            password: "s3cr:t".into(),
            identity_token: None,
        };
        store(&p, "docker.io", Some(&c)).unwrap();
        assert_eq!(load(&p, "docker.io").unwrap().unwrap().password, "s3cr:t");
        let v: serde_json::Value = serde_json::from_slice(&std::fs::read(&p).unwrap()).unwrap();
        assert!(
            v["auths"]["https://index.docker.io/v1/"]["auth"].is_string(),
            "Hub under Docker's key"
        );
        assert_eq!(v["credsStore"], "x");
        assert_eq!(load(&p, "other:5000").unwrap().unwrap().username, "u");
        let t = Credentials {
            username: "me".into(),
            password: String::new(),
            identity_token: Some("refresh-1".into()),
        };
        store(&p, "tok:5000", Some(&t)).unwrap();
        let back = load(&p, "tok:5000").unwrap().unwrap();
        assert_eq!(back.identity_token.as_deref(), Some("refresh-1"));
        assert_eq!((back.username.as_str(), back.password.as_str()), ("me", ""));
        assert!(store(&p, "docker.io", None).unwrap());
        assert!(load(&p, "docker.io").unwrap().is_none());
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&p).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }
}
