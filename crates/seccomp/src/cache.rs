//! Compiled filters cached on disk by a hash of the profile: libseccomp needs ~9 ms for a
//! Docker-sized profile, and engines send the same profile for every container (crun caches
//! the same way). A damaged or foreign entry is ignored and rewritten.

use crate::compile::{compile, Filter};
use crate::error::Result;
use oci_spec::runtime::LinuxSeccomp;
use std::hash::{Hash, Hasher};
use std::path::Path;

fn key(seccomp: &LinuxSeccomp) -> Option<String> {
    let json = serde_json::to_vec(seccomp).ok()?;
    let mut parts = [0u64; 2];
    for (salt, out) in parts.iter_mut().enumerate() {
        let mut h = std::collections::hash_map::DefaultHasher::new();
        (
            salt,
            env!("CARGO_PKG_VERSION"),
            std::env::consts::ARCH,
            &json,
        )
            .hash(&mut h);
        *out = h.finish();
    }
    Some(format!("{:016x}{:016x}", parts[0], parts[1]))
}

/// [`compile`], reusing a previous result stored under `dir` when the profile is the same.
pub fn compile_cached(seccomp: &LinuxSeccomp, dir: &Path) -> Result<Filter> {
    let Some(k) = key(seccomp) else {
        return compile(seccomp);
    };
    let path = dir.join(&k);
    if let Ok(bytes) = std::fs::read(&path) {
        if let Some(f) = Filter::from_bytes(&bytes) {
            return Ok(f);
        }
    }
    let f = compile(seccomp)?;
    // Best effort: a cache that cannot be written only costs time.
    let _ = std::fs::create_dir_all(dir);
    let tmp = dir.join(format!(".{k}.{}", std::process::id()));
    if std::fs::write(&tmp, f.to_bytes()).is_ok() && std::fs::rename(&tmp, &path).is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    Ok(f)
}
