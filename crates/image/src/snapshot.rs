//! Snapshots: each layer unpacked once, into a directory named by its chain ID, and shared by
//! every image that has the same layers below it. A container root is an overlayfs of those
//! directories plus a writable upper dir.
//!
//! Layout under the store root: `snapshots/<chain-id hex>/` (complete, never written again)
//! and `staging/` (unpacks in progress; renamed into place when complete and verified, so a
//! kill -9 leaves no half snapshot under a chain ID; two processes unpacking the same layer both
//! succeed and one copy is kept, and pulls take the chain ID's lock in `locks/` so that the
//! second waits for the first instead of unpacking again).
//!
//! Files in a snapshot are not fsynced one by one (that would make unpacking many times slower
//! on a slow disk, and docker, containerd and podman do not either): a snapshot is complete
//! once published as long as the machine does not lose power; its layer blob, from which it
//! can be unpacked again, is fsynced.

use crate::digest::{Digest, Verifier};
use crate::error::{Error, Result};
use crate::unpack::{self, Options};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// Chain IDs of a layer stack (OCI image spec): ChainID(L0) = DiffID(L0),
/// ChainID(Ln) = sha256(ChainID(Ln-1) + " " + DiffID(Ln)).
pub fn chain_ids(diff_ids: &[Digest]) -> Vec<Digest> {
    let mut out: Vec<Digest> = Vec::with_capacity(diff_ids.len());
    for d in diff_ids {
        let next = match out.last() {
            None => d.clone(),
            Some(prev) => {
                let mut v = Verifier::new(crate::digest::Algorithm::Sha256);
                v.update(format!("{prev} {d}").as_bytes());
                v.finish()
            }
        };
        out.push(next);
    }
    out
}

pub struct Snapshotter {
    root: PathBuf,
}

impl Snapshotter {
    pub fn open(root: impl Into<PathBuf>) -> Result<Snapshotter> {
        let root = root.into();
        for d in [
            root.join("snapshots"),
            root.join("staging"),
            root.join("locks"),
        ] {
            std::fs::create_dir_all(&d).map_err(|e| Error::io("create", d, e))?;
        }
        Ok(Snapshotter { root })
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn path(&self, chain_id: &Digest) -> PathBuf {
        self.root.join("snapshots").join(chain_id.hex())
    }

    pub fn exists(&self, chain_id: &Digest) -> bool {
        self.path(chain_id).is_dir()
    }

    /// Exclusive right to unpack `chain_id` (see [`crate::lock`]); `on_wait` is called if
    /// another pull holds it, before waiting for it.
    pub fn lock(&self, chain_id: &Digest, on_wait: impl FnOnce()) -> Result<crate::lock::Lock> {
        crate::lock::exclusive(&self.root.join("locks"), chain_id.hex(), on_wait)
    }

    /// The snapshot of `chain_id`, unpacking `layer` (compressed or not) only when it does not
    /// exist yet; the layer's uncompressed content must hash to `diff_id`.
    pub fn ensure(
        &self,
        chain_id: &Digest,
        diff_id: &Digest,
        layer: impl Read,
        opts: &Options,
    ) -> Result<PathBuf> {
        let dst = self.path(chain_id);
        if dst.is_dir() {
            return Ok(dst);
        }
        self.stage(chain_id, diff_id, layer, opts)?.publish()
    }

    /// Unpack `layer` into a staging dir and verify it against `diff_id`; it becomes the
    /// snapshot of `chain_id` only with [`Staged::publish`] (so a caller can first check what
    /// else must be right, such as the compressed blob's digest).
    pub fn stage(
        &self,
        chain_id: &Digest,
        diff_id: &Digest,
        layer: impl Read,
        opts: &Options,
    ) -> Result<Staged> {
        static SEQ: AtomicU64 = AtomicU64::new(0);
        let staged = Staged {
            dir: self.root.join("staging").join(format!(
                "{}.{}.{}",
                chain_id.hex(),
                std::process::id(),
                SEQ.fetch_add(1, Ordering::Relaxed)
            )),
            dst: self.path(chain_id),
        };
        std::fs::create_dir(&staged.dir).map_err(|e| Error::io("create", &staged.dir, e))?;
        let (_, actual) = unpack::unpack_hashed(layer, &staged.dir, opts)?;
        if &actual != diff_id {
            return Err(Error::DigestMismatch {
                expected: diff_id.to_string(),
                actual: actual.to_string(),
            });
        }
        Ok(staged)
    }

    /// Remove unpacks left by processes that died (their pid is part of the name).
    pub fn clean_staging(&self) -> Result<usize> {
        crate::leftovers::remove_dead(&self.root.join("staging"))
    }

    /// Mount the overlay of `chain` (bottom layer first) with `upper`/`work` at `target`.
    pub fn mount(&self, chain: &[Digest], upper: &Path, work: &Path, target: &Path) -> Result<()> {
        let lowers = self.lower_dirs(chain)?;
        for d in [upper, work, target] {
            std::fs::create_dir_all(d).map_err(|e| Error::io("create", d, e))?;
        }
        let lowers: Vec<&Path> = lowers.iter().map(PathBuf::as_path).collect();
        crate::overlay::mount(&lowers, upper, work, target)
    }

    /// [`Snapshotter::mount`] with every snapshot idmapped through the user namespace
    /// `userns` (as podman does on kernels since 5.19): the image's root-owned files belong
    /// to the host uid that namespace maps 0 to. `upper` is not shifted: what the container
    /// writes is stored with host ids, and the caller makes `upper` (the root directory)
    /// belong to that host uid.
    pub fn mount_idmapped(
        &self,
        chain: &[Digest],
        upper: &Path,
        work: &Path,
        target: &Path,
        userns: std::os::fd::BorrowedFd,
    ) -> Result<()> {
        let lowers = self.lower_dirs(chain)?;
        for d in [upper, work, target] {
            std::fs::create_dir_all(d).map_err(|e| Error::io("create", d, e))?;
        }
        let lowers: Vec<&Path> = lowers.iter().map(PathBuf::as_path).collect();
        crate::overlay::mount_idmapped(&lowers, upper, work, target, userns)
    }

    /// The snapshot dirs of `chain` (bottom first), top first as overlayfs stacks them.
    fn lower_dirs(&self, chain: &[Digest]) -> Result<Vec<PathBuf>> {
        let mut lowers = Vec::with_capacity(chain.len());
        for c in chain.iter().rev() {
            let p = self.path(c);
            if !p.is_dir() {
                return Err(Error::BlobNotFound(format!("snapshot {c}")));
            }
            lowers.push(p);
        }
        Ok(lowers)
    }
}

/// An unpacked, verified layer not yet visible as a snapshot; dropped without
/// [`Staged::publish`], it is removed.
pub struct Staged {
    dir: PathBuf,
    dst: PathBuf,
}

impl Staged {
    /// Make it the snapshot of its chain ID (one atomic rename).
    pub fn publish(self) -> Result<PathBuf> {
        let dst = self.dst.clone();
        match std::fs::rename(&self.dir, &dst) {
            Ok(()) => Ok(dst),
            // Someone else finished the same layer first: theirs is identical, keep it.
            Err(_) if dst.is_dir() => Ok(dst),
            Err(e) => Err(Error::io("publish snapshot", dst, e)),
        }
    }
}

impl Drop for Staged {
    fn drop(&mut self) {
        // After a publish the dir is gone and this does nothing.
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
