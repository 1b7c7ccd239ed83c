//! `berth import`: a root filesystem tarball (plain, gzip or zstd) made into a one-layer
//! image for the host platform, as `docker import` does: the layer is stored uncompressed
//! (its digest is its diff ID), unpacked into its snapshot, and the config records the
//! message as comment and the `--change` instructions.

use crate::digest::{Algorithm, Digest, Verifier};
use crate::error::{Error, Result};
use crate::manifest::{Platform, OCI_MANIFEST};
use crate::metadata::Metadata;
use crate::snapshot::Snapshotter;
use crate::store::ContentStore;
use crate::unpack::Options;
use serde_json::{json, Map, Value};
use std::io::{Read, Write};
use std::sync::atomic::{AtomicU64, Ordering};

#[derive(Debug, Default, Clone)]
pub struct ImportOptions {
    /// `-m`: the commit message (default "Imported from -", as Docker).
    pub message: Option<String>,
    /// `-c`: Dockerfile instructions for the config (see [`crate::changes`]).
    pub changes: Vec<String>,
}

/// Import `input` as an image; returns its ID.
pub fn import(
    input: impl Read,
    store: &ContentStore,
    snaps: &Snapshotter,
    md: &Metadata,
    opts: &ImportOptions,
) -> Result<Digest> {
    let _writing = store.write_guard()?;
    let mut cfg = Map::new();
    for c in &opts.changes {
        crate::changes::apply(&mut cfg, c)?;
    }
    // The diff ID is known only at the end: spool the uncompressed tar, hashing it.
    static SEQ: AtomicU64 = AtomicU64::new(0);
    let _ = store.clean_ingest();
    let tmp = store.root().join("ingest").join(format!(
        "import.{}.{}",
        std::process::id(),
        SEQ.fetch_add(1, Ordering::Relaxed)
    ));
    let res = import_via(input, &tmp, cfg, store, snaps, md, opts);
    let _ = std::fs::remove_file(&tmp);
    res
}

struct Hashing<W> {
    inner: W,
    verifier: Verifier,
}

impl<W: Write> Write for Hashing<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.verifier.update(&buf[..n]);
        Ok(n)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// Reads the spooled layer and copies what it reads into the blob being written.
struct Tee<R> {
    inner: R,
    out: crate::store::BlobWriter,
}

impl<R: Read> Read for Tee<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.out.write_all(&buf[..n])?;
        Ok(n)
    }
}

fn import_via(
    input: impl Read,
    tmp: &std::path::Path,
    cfg: Map<String, Value>,
    store: &ContentStore,
    snaps: &Snapshotter,
    md: &Metadata,
    opts: &ImportOptions,
) -> Result<Digest> {
    let f = std::fs::File::create(tmp).map_err(|e| Error::io("create", tmp, e))?;
    let mut w = Hashing {
        inner: std::io::BufWriter::with_capacity(1 << 20, f),
        verifier: Verifier::new(Algorithm::Sha256),
    };
    std::io::copy(&mut crate::unpack::decompress(input)?, &mut w)
        .map_err(|e| Error::io("read the tarball into", tmp, e))?;
    w.flush().map_err(|e| Error::io("write", tmp, e))?;
    let size = w.verifier.len();
    let diff_id = w.verifier.finish();
    if size == 0 {
        return Err(Error::BadArchive("the tarball is empty".into()));
    }
    let (new_blob, new_snap) = (!store.contains(&diff_id), !snaps.exists(&diff_id));
    let undo = |e: Error| {
        if new_snap {
            let _ = std::fs::remove_dir_all(snaps.path(&diff_id));
        }
        if new_blob {
            let _ = std::fs::remove_file(store.blob_path(&diff_id));
        }
        e
    };
    let open = || std::fs::File::open(tmp).map_err(|e| Error::io("open", tmp, e));
    if new_blob {
        let mut tee = Tee {
            inner: std::io::BufReader::with_capacity(1 << 20, open()?),
            out: store.writer(&diff_id, Some(size))?,
        };
        snaps
            .ensure(&diff_id, &diff_id, &mut tee, &Options::default())
            .map_err(undo)?;
        std::io::copy(&mut tee, &mut std::io::sink())
            .map_err(|e| undo(Error::io("read", tmp, e)))?;
        tee.out.commit().map_err(undo)?;
    } else {
        snaps
            .ensure(&diff_id, &diff_id, open()?, &Options::default())
            .map_err(undo)?;
    }
    let now = crate::timestamp::rfc3339(crate::timestamp::now());
    let message = opts
        .message
        .clone()
        .unwrap_or_else(|| "Imported from -".to_string());
    let platform = Platform::host();
    let mut config = json!({
        "architecture": platform.arch,
        "os": platform.os,
        "created": now,
        "comment": message,
        "config": Value::Object(cfg),
        "rootfs": {"type": "layers", "diff_ids": [diff_id.to_string()]},
        "history": [{"created": now, "comment": message}],
    });
    if let Some(v) = &platform.variant {
        config["variant"] = json!(v);
    }
    let config = serde_json::to_vec(&config).expect("JSON");
    let id = Digest::sha256_of(&config);
    store.put(&id, &config).map_err(undo)?;
    let manifest = serde_json::to_vec(&json!({
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": id.to_string(), "size": config.len()},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": diff_id.to_string(), "size": size}],
    }))
    .expect("JSON");
    let m = Digest::sha256_of(&manifest);
    store.put(&m, &manifest).map_err(undo)?;
    md.add_image(&id, &m, std::slice::from_ref(&diff_id))?;
    Ok(id)
}
