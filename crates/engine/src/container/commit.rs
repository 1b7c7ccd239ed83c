//! `commit`: a container's upper dir as a new image layer on top of its image. The layer
//! is a tar with overlay whiteouts turned back into OCI `.wh.` entries (opaque directories
//! as `.wh..wh..opq`), gzip-compressed into the content store; the config gets the new
//! diff ID, a history entry, the container's command/env/workdir/user and the `-c`
//! changes; the layer is unpacked into the snapshot of its chain ID so the image runs at
//! once. All under the store's write guard, so no garbage collection takes the new blobs
//! before the image records them. Its temp files (the spooled layer, the blob being
//! written, the staged unpack) carry its pid in their names under `content/ingest` and
//! `snapshots/staging`: if it is killed, the next command removes them.

use super::fs_tar::{TarOpts, TreeWriter};
use super::{exit, options_of, Engine};
use crate::crash_point::crash_point;
use crate::store::State;
use crate::{Error, Result};
use berth_image::digest::{Algorithm, Verifier};
use berth_image::manifest::OCI_MANIFEST;
use berth_image::snapshot::{chain_ids, Snapshotter};
use berth_image::{ContentStore, Digest};
use serde_json::{json, Map, Value};
use std::io::Write;
use std::os::fd::AsFd;
use std::path::{Path, PathBuf};

/// In the container dir while a commit holds the container frozen.
pub const COMMIT_PAUSED: &str = "commit-paused";

pub const LAYER_GZIP: &str = "application/vnd.oci.image.layer.v1.tar+gzip";

#[derive(Debug, Clone, Default)]
pub struct CommitOptions {
    pub author: Option<String>,
    pub message: Option<String>,
    /// Dockerfile instructions (`-c`), see `berth_image::changes`.
    pub changes: Vec<String>,
    /// Freeze the container while its files are read (docker's default).
    pub pause: bool,
}

struct Hashing<W> {
    inner: W,
    v: Verifier,
}

impl<W: Write> Write for Hashing<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.v.update(&buf[..n]);
        Ok(n)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// Removes the spooled layer file however the commit ends.
struct Spool(PathBuf);

impl Drop for Spool {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// The container's run options laid over the image's config, as docker's commit keeps
/// the container's command and environment.
fn container_config(cfg: &mut Map<String, Value>, o: &crate::options::RunOptions) {
    if let Some(ep) = &o.entrypoint {
        cfg.insert("Entrypoint".into(), json!(ep));
        if o.cmd.is_empty() {
            cfg.remove("Cmd");
        }
    }
    if !o.cmd.is_empty() {
        cfg.insert("Cmd".into(), json!(o.cmd));
    }
    if !o.env.is_empty() {
        let mut env: Vec<String> = cfg
            .get("Env")
            .and_then(|v| serde_json::from_value(v.clone()).ok())
            .unwrap_or_default();
        for e in &o.env {
            let key = e.split('=').next().unwrap_or("");
            match env.iter_mut().find(|x| x.split('=').next() == Some(key)) {
                Some(x) => *x = e.clone(),
                None => env.push(e.clone()),
            }
        }
        cfg.insert("Env".into(), json!(env));
    }
    if let Some(w) = &o.workdir {
        cfg.insert("WorkingDir".into(), json!(w));
    }
    if let Some(u) = &o.user {
        cfg.insert("User".into(), json!(u));
    }
    // The container's check (its image's merged under its flags at create), as docker's.
    if let Some(h) = &o.healthcheck {
        cfg.insert("Healthcheck".into(), json!(h));
    }
}

impl Engine {
    /// Commit container `arg`; returns the new image's ID.
    pub fn commit(&self, arg: &str, opts: &CommitOptions) -> Result<Digest> {
        let found = self.find(arg)?;
        let _lock = self.lock(&found.id)?;
        let mut r = self.reload(&found.id, arg)?;
        exit::refresh(self, &mut r)?;
        let froze = opts.pause && r.state == State::Running && self.freeze_for_commit(&r)?;
        let res = self.commit_locked(&r, opts);
        if froze {
            self.thaw_after_commit(&r);
        }
        if let Ok(id) = &res {
            self.container_event(&r, "commit", &[("imageID", &id.to_string())]);
        }
        res
    }

    /// Freeze `r` for a commit, recording it first in [`COMMIT_PAUSED`], so that if this
    /// process is killed before it thaws the container, the next command's repair does.
    /// False when the runtime cannot freeze it (the commit goes on unfrozen, as before).
    fn freeze_for_commit(&self, r: &crate::store::Row) -> Result<bool> {
        let mark = self.dir(&r.id).join(COMMIT_PAUSED);
        std::fs::write(&mark, b"").map_err(|e| Error::io("write", &mark, e))?;
        if self.runtime_for(r).pause(&r.id).is_ok() {
            return Ok(true);
        }
        let _ = std::fs::remove_file(&mark);
        Ok(false)
    }

    /// Thaw a container frozen by a commit (also the repair of a commit that was killed,
    /// maybe before it froze: then the resume finds nothing to thaw).
    pub(crate) fn thaw_after_commit(&self, r: &crate::store::Row) {
        let _ = self.runtime_for(r).resume(&r.id);
        let _ = std::fs::remove_file(self.dir(&r.id).join(COMMIT_PAUSED));
    }

    fn commit_locked(&self, r: &crate::store::Row, opts: &CommitOptions) -> Result<Digest> {
        let store = ContentStore::open(self.root.join("content"))?;
        let snaps = Snapshotter::open(self.root.join("snapshots"))?;
        let md = berth_image::metadata::Metadata::open(&self.root.join("berth.db"))?;
        let _writing = store.write_guard()?;
        let image_id: Digest = r.image_id.parse()?;
        let img = md.image(&image_id)?.ok_or_else(|| Error::NotFound {
            kind: "image",
            name: r.image_id.clone(),
        })?;
        let mut config: Value = serde_json::from_slice(&store.read(&image_id)?)
            .map_err(|e| Error::InvalidArgument(format!("image config {image_id}: {e}")))?;
        let manifest: Value = serde_json::from_slice(&store.read(&img.manifest)?)
            .map_err(|e| Error::InvalidArgument(format!("manifest {}: {e}", img.manifest)))?;

        // The layer: tar (hashed: the diff ID) -> gzip -> spool file (hashed: the digest).
        let _ = std::fs::create_dir_all(store.root().join("ingest"));
        let spool = Spool(store.root().join("ingest").join(format!(
            "commit.{}.{}",
            std::process::id(),
            &r.id[..12]
        )));
        let upper = self.dir(&r.id).join("upper");
        let (diff_id, digest, size) = write_layer(&upper, &spool.0)?;
        crash_point("ctr-commit:layer-written");

        let diff_ids: Vec<Digest> = config["rootfs"]["diff_ids"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|v| v.as_str()?.parse().ok())
            .chain([diff_id.clone()])
            .collect();
        let chain = chain_ids(&diff_ids);
        let top = chain.last().expect("one layer at least").clone();

        let new_blob = !store.contains(&digest);
        let new_snap = !snaps.exists(&top);
        let undo = |e: Error| {
            if new_snap {
                let _ = std::fs::remove_dir_all(snaps.path(&top));
            }
            if new_blob {
                let _ = std::fs::remove_file(store.blob_path(&digest));
            }
            e
        };
        if new_blob {
            let mut w = store.writer(&digest, Some(size))?;
            let mut f =
                std::fs::File::open(&spool.0).map_err(|e| Error::io("open", &spool.0, e))?;
            std::io::copy(&mut f, &mut w).map_err(|e| undo(Error::io("store", &spool.0, e)))?;
            crash_point("ctr-commit:blob-written");
            w.commit().map_err(|e| undo(e.into()))?;
        }
        {
            let _snap_lock = snaps.lock(&top, || {})?;
            if !snaps.exists(&top) {
                let f =
                    std::fs::File::open(&spool.0).map_err(|e| Error::io("open", &spool.0, e))?;
                let staged = snaps
                    .stage(
                        &top,
                        &diff_id,
                        std::io::BufReader::new(f),
                        &Default::default(),
                    )
                    .map_err(|e| undo(e.into()))?;
                crash_point("ctr-commit:layer-staged");
                staged.publish().map_err(|e| undo(e.into()))?;
            }
        }

        let now = berth_image::timestamp::rfc3339(berth_image::timestamp::now());
        let o = options_of(r);
        let cfg = config
            .get_mut("config")
            .and_then(Value::as_object_mut)
            .map(std::mem::take)
            .unwrap_or_default();
        let mut cfg = cfg;
        container_config(&mut cfg, &o);
        for c in &opts.changes {
            berth_image::changes::apply(&mut cfg, c).map_err(|e| undo(e.into()))?;
        }
        let spec: Value = std::fs::read(self.dir(&r.id).join("config.json"))
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .unwrap_or_default();
        let created_by = spec["process"]["args"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .unwrap_or_default();
        config["config"] = Value::Object(cfg);
        config["created"] = json!(now);
        config["rootfs"] = json!({"type": "layers", "diff_ids": diff_ids.iter().map(|d| d.to_string()).collect::<Vec<_>>()});
        if let Some(a) = &opts.author {
            config["author"] = json!(a);
        }
        let mut entry = json!({"created": now, "created_by": created_by});
        if let Some(a) = &opts.author {
            entry["author"] = json!(a);
        }
        if let Some(m) = &opts.message {
            entry["comment"] = json!(m);
        }
        match config["history"].as_array_mut() {
            Some(h) => h.push(entry),
            None => config["history"] = json!([entry]),
        }
        let config = serde_json::to_vec(&config).expect("JSON");
        let id = Digest::sha256_of(&config);
        store.put(&id, &config).map_err(|e| undo(e.into()))?;

        let mut layers: Vec<Value> = manifest["layers"].as_array().cloned().unwrap_or_default();
        layers.push(json!({"mediaType": LAYER_GZIP, "digest": digest.to_string(), "size": size}));
        let manifest = serde_json::to_vec(&json!({
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": id.to_string(), "size": config.len()},
            "layers": layers,
        }))
        .expect("JSON");
        let m = Digest::sha256_of(&manifest);
        store.put(&m, &manifest).map_err(|e| undo(e.into()))?;
        md.add_image(&id, &m, &chain).map_err(|e| undo(e.into()))?;
        Ok(id)
    }
}

/// Write the upper dir as a gzip'ed OCI layer to `path`: (diff ID, digest, size).
fn write_layer(upper: &Path, path: &Path) -> Result<(Digest, Digest, u64)> {
    let io = |e| Error::io("write layer", path, e);
    let f = std::fs::File::create(path).map_err(io)?;
    let outer = Hashing {
        inner: std::io::BufWriter::with_capacity(1 << 20, f),
        v: Verifier::new(Algorithm::Sha256),
    };
    let gz = flate2::write::GzEncoder::new(outer, flate2::Compression::default());
    let inner = Hashing {
        inner: gz,
        v: Verifier::new(Algorithm::Sha256),
    };
    let mut b = tar::Builder::new(inner);
    let dir = std::fs::File::open(upper).map_err(|e| Error::io("open", upper, e))?;
    TreeWriter::new(
        &mut b,
        TarOpts {
            overlay_whiteouts: true,
            skip: super::diff::RUNTIME_MOUNTPOINTS,
        },
    )
    .append_fd(dir.as_fd(), Path::new(""))
    .map_err(io)?;
    let inner = b.into_inner().map_err(io)?;
    let diff_id = inner.v.finish();
    let mut outer = inner.inner.finish().map_err(io)?;
    outer.flush().map_err(io)?;
    let size = outer.v.len();
    outer
        .inner
        .into_inner()
        .map_err(|e| io(e.into_error()))?
        .sync_data()
        .map_err(io)?;
    Ok((diff_id, outer.v.finish(), size))
}
