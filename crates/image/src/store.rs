//! The content-addressed blob store: `<root>/blobs/<alg>/<hex>`, with writes in progress
//! under `<root>/ingest/`. A blob becomes visible only after its digest and size were checked,
//! its data fsynced and the file renamed into place (rename is atomic), so a crash or a
//! kill -9 at any point never leaves a half-written blob under its name. Two writers of the
//! same blob both succeed: the second rename replaces identical content; pulls avoid the
//! double download by taking the blob's lock (`locks/<hex>`, see [`ContentStore::lock`]).

use crate::digest::{Digest, Verifier};
use crate::error::{Error, Result};
use std::fs::File;
use std::io::Write;
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

pub struct ContentStore {
    root: PathBuf,
}

impl ContentStore {
    /// Open (creating if needed) a store rooted at `root`.
    pub fn open(root: impl Into<PathBuf>) -> Result<ContentStore> {
        let root = root.into();
        for d in [root.join("blobs"), root.join("ingest"), root.join("locks")] {
            std::fs::create_dir_all(&d).map_err(|e| Error::io("create", d, e))?;
        }
        Ok(ContentStore { root })
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn blob_path(&self, d: &Digest) -> PathBuf {
        self.root
            .join("blobs")
            .join(d.algorithm().name())
            .join(d.hex())
    }

    pub fn contains(&self, d: &Digest) -> bool {
        self.blob_path(d).is_file()
    }

    pub fn read(&self, d: &Digest) -> Result<Vec<u8>> {
        let p = self.blob_path(d);
        std::fs::read(&p).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => Error::BlobNotFound(d.to_string()),
            _ => Error::io("read", p, e),
        })
    }

    /// Exclusive right to fetch blob `d` (see [`crate::lock`]); `on_wait` is called if
    /// another pull holds it, before waiting for it.
    pub fn lock(&self, d: &Digest, on_wait: impl FnOnce()) -> Result<crate::lock::Lock> {
        crate::lock::exclusive(&self.root.join("locks"), d.hex(), on_wait)
    }

    /// Hold while writing content that is not yet named in the metadata (a pull, load or
    /// import, until its image is tagged): garbage collection waits for it.
    pub fn write_guard(&self) -> Result<crate::lock::StoreGuard> {
        crate::lock::store_guard(&self.root, false)
    }

    /// Held by garbage collection: no writer is between storing content and naming it.
    pub(crate) fn gc_guard(&self) -> Result<crate::lock::StoreGuard> {
        crate::lock::store_guard(&self.root, true)
    }

    /// Store a whole blob held in memory (manifests, configs).
    pub fn put(&self, expected: &Digest, data: &[u8]) -> Result<PathBuf> {
        let mut w = self.writer(expected, Some(data.len() as u64))?;
        w.write_all(data)
            .map_err(|e| Error::io("write", w.tmp.clone(), e))?;
        w.commit()
    }

    /// Start writing a blob that must hash to `expected` (and be `size` bytes if given).
    pub fn writer(&self, expected: &Digest, size: Option<u64>) -> Result<BlobWriter> {
        static SEQ: AtomicU64 = AtomicU64::new(0);
        let tmp = self.root.join("ingest").join(format!(
            "{}.{}.{}",
            expected.hex(),
            std::process::id(),
            SEQ.fetch_add(1, Ordering::Relaxed)
        ));
        let file = File::options()
            .write(true)
            .create_new(true)
            .open(&tmp)
            .map_err(|e| Error::io("create", &tmp, e))?;
        Ok(BlobWriter {
            file: Some(file),
            tmp,
            dst: self.blob_path(expected),
            expected: expected.clone(),
            size,
            verifier: Verifier::new(expected.algorithm()),
            unflushed: 0,
        })
    }

    /// Remove writes abandoned by processes that died (their pid is part of the name).
    pub fn clean_ingest(&self) -> Result<usize> {
        crate::leftovers::remove_dead(&self.root.join("ingest"))
    }
}

/// A blob being written. Dropped without `commit`, it removes its temporary file.
pub struct BlobWriter {
    file: Option<File>,
    tmp: PathBuf,
    dst: PathBuf,
    expected: Digest,
    size: Option<u64>,
    verifier: Verifier,
    /// Bytes written since writeback was last started.
    unflushed: u64,
}

/// Writeback of a blob is started every this many bytes, so the fsync at the end finds
/// little left to write instead of the whole blob.
const WRITEBACK_EVERY: u64 = 8 << 20;

impl Write for BlobWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let f = self
            .file
            .as_mut()
            .ok_or_else(|| std::io::Error::other("blob writer already finished"))?;
        let n = f.write(buf)?;
        self.verifier.update(&buf[..n]);
        self.unflushed += n as u64;
        if self.unflushed >= WRITEBACK_EVERY {
            self.unflushed = 0;
            // SAFETY: sync_file_range on an fd we own; it only starts the writeback of dirty
            // pages (no wait), and a failure merely leaves that to the final fsync.
            unsafe {
                libc::sync_file_range(f.as_raw_fd(), 0, 0, libc::SYNC_FILE_RANGE_WRITE);
            }
        }
        if let Some(max) = self.size {
            if self.verifier.len() > max {
                return Err(std::io::Error::other(format!(
                    "blob {} is larger than the {max} bytes announced",
                    self.expected
                )));
            }
        }
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.file.as_mut().map_or(Ok(()), |f| f.flush())
    }
}

impl BlobWriter {
    pub fn written(&self) -> u64 {
        self.verifier.len()
    }

    /// Verify, fsync and publish the blob; on any mismatch nothing becomes visible.
    pub fn commit(mut self) -> Result<PathBuf> {
        let file = self.file.take().expect("commit once");
        let verifier =
            std::mem::replace(&mut self.verifier, Verifier::new(self.expected.algorithm()));
        let len = verifier.len();
        if let Some(size) = self.size {
            if len != size {
                return Err(Error::SizeMismatch {
                    digest: self.expected.to_string(),
                    expected: size,
                    actual: len,
                });
            }
        }
        let actual = verifier.finish();
        if actual != self.expected {
            return Err(Error::DigestMismatch {
                expected: self.expected.to_string(),
                actual: actual.to_string(),
            });
        }
        file.sync_data()
            .map_err(|e| Error::io("fsync", &self.tmp, e))?;
        drop(file);
        let parent = self.dst.parent().expect("blob paths have a parent");
        std::fs::create_dir_all(parent).map_err(|e| Error::io("create", parent, e))?;
        std::fs::rename(&self.tmp, &self.dst)
            .map_err(|e| Error::io("rename into", &self.dst, e))?;
        // The rename itself must survive a crash too.
        if let Ok(dir) = File::open(parent) {
            let _ = dir.sync_all();
        }
        Ok(self.dst.clone())
    }

    pub fn temp_path(&self) -> &Path {
        &self.tmp
    }
}

impl Drop for BlobWriter {
    fn drop(&mut self) {
        // Committed blobs were renamed away; anything else is a partial write.
        let _ = std::fs::remove_file(&self.tmp);
    }
}
