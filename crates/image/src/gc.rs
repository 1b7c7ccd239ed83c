//! Garbage collection: blobs and snapshots that no image name refers to any more are
//! removed. Called with the metadata as it is now; a pull that is in flight has not tagged
//! its image yet, so GC skips anything younger than `grace` to leave such pulls alone.

use crate::error::{Error, Result};
use crate::metadata::Metadata;
use crate::snapshot::Snapshotter;
use crate::store::ContentStore;
use std::collections::HashSet;
use std::path::Path;
use std::time::{Duration, SystemTime};

#[derive(Debug, Default, PartialEq, Eq)]
pub struct Collected {
    pub blobs: usize,
    pub snapshots: usize,
    pub bytes: u64,
}

fn old_enough(p: &Path, grace: Duration) -> bool {
    let m = std::fs::symlink_metadata(p).and_then(|m| m.modified());
    m.map(|t| SystemTime::now().duration_since(t).unwrap_or_default() >= grace)
        .unwrap_or(false)
}

/// Blobs referenced by a named image: its manifest, its config, and the layers its manifest
/// lists (read from the store).
fn referenced_blobs(md: &Metadata, store: &ContentStore) -> Result<HashSet<String>> {
    let (_, roots) = md.referenced()?;
    let mut keep = HashSet::new();
    for d in roots {
        keep.insert(d.hex().to_string());
        if let Ok(bytes) = store.read(&d) {
            if let Ok(v) = serde_json::from_slice::<serde_json::Value>(&bytes) {
                for l in v["layers"].as_array().into_iter().flatten() {
                    if let Some(h) = l["digest"]
                        .as_str()
                        .and_then(|s| s.split_once(':'))
                        .map(|(_, h)| h)
                    {
                        keep.insert(h.to_string());
                    }
                }
            }
        }
    }
    Ok(keep)
}

pub fn collect(
    md: &Metadata,
    store: &ContentStore,
    snaps: &Snapshotter,
    grace: Duration,
) -> Result<Collected> {
    let mut out = Collected::default();
    let keep_blobs = referenced_blobs(md, store)?;
    let (chains, _) = md.referenced()?;
    let keep_snaps: HashSet<String> = chains.iter().map(|c| c.hex().to_string()).collect();
    let blob_dir = store.root().join("blobs").join("sha256");
    if let Ok(rd) = std::fs::read_dir(&blob_dir) {
        for e in rd.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if keep_blobs.contains(&name) || !old_enough(&e.path(), grace) {
                continue;
            }
            let len = e.metadata().map(|m| m.len()).unwrap_or(0);
            std::fs::remove_file(e.path()).map_err(|err| Error::io("remove", e.path(), err))?;
            out.blobs += 1;
            out.bytes += len;
        }
    }
    let snap_dir = snaps.root().join("snapshots");
    if let Ok(rd) = std::fs::read_dir(&snap_dir) {
        for e in rd.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if keep_snaps.contains(&name) || !old_enough(&e.path(), grace) {
                continue;
            }
            std::fs::remove_dir_all(e.path()).map_err(|err| Error::io("remove", e.path(), err))?;
            out.snapshots += 1;
        }
    }
    Ok(out)
}
