//! What an IMAGE argument names, looked up as Docker does: a full ID (`sha256:<hex>` or 64
//! hex), a name (`busybox` = `docker.io/library/busybox:latest`), a repository digest
//! (`busybox@sha256:...`), else a unique prefix of an ID.

use super::s;
use berth_image::metadata::{Metadata, StoredImage};
use berth_image::{Digest, Reference};

pub enum Target {
    /// A name (full form) and the image it points at.
    Name(String, StoredImage),
    /// A repository digest (full form) and its image.
    RepoDigest(String, StoredImage),
    Id(StoredImage),
}

impl Target {
    pub fn image(&self) -> &StoredImage {
        match self {
            Target::Name(_, i) | Target::RepoDigest(_, i) | Target::Id(i) => i,
        }
    }
}

fn is_hex(x: &str) -> bool {
    !x.is_empty()
        && x.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

pub fn resolve(md: &Metadata, arg: &str) -> Result<Target, String> {
    let no_such = || format!("No such image: {arg}");
    let hex = arg.strip_prefix("sha256:").unwrap_or(arg);
    if hex.len() == 64 && is_hex(hex) {
        let id: Digest = format!("sha256:{hex}").parse().map_err(s)?;
        return md
            .image(&id)
            .map_err(s)?
            .map(Target::Id)
            .ok_or_else(no_such);
    }
    if let Ok(r) = arg.parse::<Reference>() {
        let full = r.to_string();
        if r.digest().is_some() {
            if let Some(id) = md.by_repo_digest(&full).map_err(s)? {
                if let Some(img) = md.image(&id).map_err(s)? {
                    return Ok(Target::RepoDigest(full, img));
                }
            }
        } else if let Some(rec) = md.get(&full).map_err(s)? {
            if let Some(img) = md.image(&rec.config).map_err(s)? {
                return Ok(Target::Name(full, img));
            }
        }
    }
    if is_hex(hex) {
        let ids = md.ids_with_prefix(hex).map_err(s)?;
        match ids.as_slice() {
            [id] => {
                return md.image(id).map_err(s)?.map(Target::Id).ok_or_else(no_such);
            }
            [] => {}
            _ => {
                return Err(format!(
                    "image ID prefix {arg} is ambiguous ({} images)",
                    ids.len()
                ))
            }
        }
    }
    Err(no_such())
}

/// The short form Docker prints for a full name (`busybox:latest`).
pub fn familiar(full: &str) -> String {
    full.parse::<Reference>()
        .map(|r| r.familiar())
        .unwrap_or_else(|_| full.to_string())
}

/// `(repository, tag)` in familiar form; `<none>` for a digest-only name.
pub fn repo_and_tag(full: &str) -> (String, String) {
    match full.parse::<Reference>() {
        Ok(r) => {
            let f = r.familiar();
            let repo = f.split('@').next().unwrap_or(&f);
            let repo = match r.tag() {
                Some(t) => repo.strip_suffix(&format!(":{t}")).unwrap_or(repo),
                None => repo,
            };
            (repo.to_string(), r.tag().unwrap_or("<none>").to_string())
        }
        Err(_) => (full.to_string(), "<none>".into()),
    }
}

/// 12 hex digits of an ID, or the whole `sha256:...` with `no_trunc`.
pub fn short_id(id: &Digest, no_trunc: bool) -> String {
    if no_trunc {
        id.to_string()
    } else {
        id.hex()[..12].to_string()
    }
}
