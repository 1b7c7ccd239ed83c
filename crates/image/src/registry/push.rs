//! Push: an image manifest from the content store and the blobs it names, to a registry.
//! Each blob is first asked for (HEAD: skipped when present), then mounted from another
//! repository of the same registry when one is known to hold it, else uploaded: in one PUT
//! when small, in PATCH chunks with `Content-Range` above the chunk size. The config goes
//! after the layers and the manifest last, under its own media type, so a registry never
//! holds a manifest whose blobs are missing.

use super::client::{push_scope, Body, Client, Request};
use super::endpoint::Endpoint;
use crate::digest::Digest;
use crate::error::{Error, Result};
use crate::manifest::{self, Manifest, OCI_MANIFEST};
use crate::metadata::Metadata;
use crate::reference::Reference;
use crate::store::ContentStore;
use std::collections::HashMap;

/// Blobs larger than this go up in chunks of this size.
pub const DEFAULT_CHUNK_SIZE: u64 = 32 << 20;

#[derive(Clone, Debug)]
pub struct PushOptions {
    pub chunk_size: u64,
}

impl Default for PushOptions {
    fn default() -> Self {
        PushOptions {
            chunk_size: DEFAULT_CHUNK_SIZE,
        }
    }
}

/// What happened to one layer (reported as docker push prints it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LayerPushed {
    /// The registry had it already (`Layer already exists`).
    Exists,
    /// Mounted from another repository of the registry (`Mounted from REPO`).
    Mounted(String),
    /// Uploaded (`Pushed`).
    Uploaded,
}

#[derive(Debug)]
pub struct Pushed {
    /// The manifest digest the registry reports.
    pub digest: Digest,
    pub size: usize,
}

/// For each blob, a repository of `target`'s registry that an image known here came from
/// and that lists the blob: a mount source for a cross-repository push.
pub fn mount_sources(
    md: &Metadata,
    store: &ContentStore,
    target: &Reference,
) -> Result<HashMap<Digest, String>> {
    let mut out = HashMap::new();
    for rec in md.list()? {
        let Ok(r) = rec.name.parse::<Reference>() else {
            continue;
        };
        if r.domain() != target.domain() || r.path() == target.path() {
            continue;
        }
        let Ok(bytes) = store.read(&rec.manifest) else {
            continue;
        };
        let Ok(Manifest::Image(m)) = manifest::parse(None, &bytes) else {
            continue;
        };
        for d in m.layers().iter().chain(std::iter::once(m.config())) {
            if let Ok(d) = d.digest().to_string().parse::<Digest>() {
                out.entry(d).or_insert_with(|| r.path().to_string());
            }
        }
    }
    Ok(out)
}

/// Push the image manifest `manifest` (in `store`) as `r`. `on_layer` hears about each
/// layer (bottom first) once it is on the registry.
pub fn push(
    client: &Client,
    r: &Reference,
    store: &ContentStore,
    manifest: &Digest,
    mounts: &HashMap<Digest, String>,
    opts: &PushOptions,
    on_layer: &mut dyn FnMut(&Digest, &LayerPushed),
) -> Result<Pushed> {
    let bytes = store.read(manifest)?;
    let m = match manifest::parse(None, &bytes)? {
        Manifest::Image(m) => m,
        Manifest::Index(_) => {
            return Err(Error::Unsupported(format!(
                "pushing an image index ({manifest}); push a platform image"
            )))
        }
    };
    let media_type = serde_json::from_slice::<serde_json::Value>(&bytes)
        .ok()
        .and_then(|v| v["mediaType"].as_str().map(str::to_string))
        .unwrap_or_else(|| OCI_MANIFEST.to_string());
    let ep = client.upstream(r)?;
    let mut up = Uploader {
        client,
        r,
        ep: &ep,
        store,
        opts,
    };
    for l in m.layers() {
        let d: Digest = l.digest().to_string().parse()?;
        let how = up.blob(&d, l.size(), mounts.get(&d).map(String::as_str))?;
        on_layer(&d, &how);
    }
    let c = m.config();
    let cd: Digest = c.digest().to_string().parse()?;
    up.blob(&cd, c.size(), mounts.get(&cd).map(String::as_str))?;

    let target = r
        .digest()
        .map(|d| d.to_string())
        .or_else(|| r.tag().map(str::to_string))
        .unwrap_or_else(|| "latest".into());
    let url = format!("{}/v2/{}/manifests/{target}", ep.base, r.path());
    let resp = client.send(
        &Request::new("PUT", url, &ep.registry)
            .scope(push_scope(r))
            .header("Content-Type", media_type)
            .body(Body::Bytes(&bytes)),
    )?;
    let digest = resp
        .header("docker-content-digest")
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| Digest::sha256_of(&bytes));
    Ok(Pushed {
        digest,
        size: bytes.len(),
    })
}

struct Uploader<'a> {
    client: &'a Client,
    r: &'a Reference,
    ep: &'a Endpoint,
    store: &'a ContentStore,
    opts: &'a PushOptions,
}

impl Uploader<'_> {
    /// An upload URL from a `Location` header (absolute, or relative to the registry).
    fn location(&self, resp: &ureq::Response) -> Result<String> {
        let loc = resp.header("location").ok_or_else(|| {
            Error::Registry(format!(
                "{}: upload answer without a Location header",
                self.r.name()
            ))
        })?;
        Ok(
            if loc.starts_with("http://") || loc.starts_with("https://") {
                loc.to_string()
            } else {
                format!("{}/{}", self.ep.base, loc.trim_start_matches('/'))
            },
        )
    }

    fn blob(&mut self, d: &Digest, size: u64, mount_from: Option<&str>) -> Result<LayerPushed> {
        if self
            .client
            .blob_exists_for(self.r, d, push_scope(self.r))?
            .is_some()
        {
            return Ok(LayerPushed::Exists);
        }
        let path = self.store.blob_path(d);
        if !path.is_file() {
            return Err(Error::BlobNotFound(format!(
                "{d} (needed to push {}; not in the content store)",
                self.r
            )));
        }
        let mut url = format!("{}/v2/{}/blobs/uploads/", self.ep.base, self.r.path());
        let mut scope = push_scope(self.r);
        if let Some(from) = mount_from {
            url.push_str(&format!("?mount={d}&from={from}"));
            scope.push_str(&format!(" repository:{from}:pull"));
        }
        let resp = self
            .client
            .send(&Request::new("POST", url, &self.ep.registry).scope(scope))?;
        if resp.status() == 201 {
            if let Some(from) = mount_from {
                return Ok(LayerPushed::Mounted(from.to_string()));
            }
        }
        // 202: an upload session (also what a registry answers when it cannot mount).
        let mut at = self.location(&resp)?;
        let chunk = self.opts.chunk_size.max(1);
        let last = if size > chunk {
            let mut offset = 0;
            while offset < size {
                let len = chunk.min(size - offset);
                let resp = self.client.send(
                    &Request::new("PATCH", at.clone(), &self.ep.registry)
                        .scope(push_scope(self.r))
                        .header("Content-Type", "application/octet-stream")
                        .header("Content-Range", format!("{offset}-{}", offset + len - 1))
                        .body(Body::File {
                            path: &path,
                            offset,
                            len,
                        }),
                )?;
                at = self.location(&resp)?;
                offset += len;
            }
            Body::Empty
        } else {
            Body::File {
                path: &path,
                offset: 0,
                len: size,
            }
        };
        let sep = if at.contains('?') { '&' } else { '?' };
        self.client.send(
            &Request::new("PUT", format!("{at}{sep}digest={d}"), &self.ep.registry)
                .scope(push_scope(self.r))
                .header("Content-Type", "application/octet-stream")
                .body(last),
        )?;
        Ok(LayerPushed::Uploaded)
    }
}
