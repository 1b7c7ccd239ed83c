//! Where Berth keeps its data: `--root`, else `$BERTH_ROOT`, else /var/lib/berth, holding
//! `content/` (blobs by digest), `snapshots/` (layers by chain ID) and `berth.db` (names).

use berth_image::metadata::Metadata;
use berth_image::snapshot::Snapshotter;
use berth_image::ContentStore;
use std::path::PathBuf;

pub const DEFAULT_ROOT: &str = "/var/lib/berth";

pub struct Env {
    pub root: PathBuf,
}

impl Env {
    pub fn new(root: Option<PathBuf>) -> Env {
        let root = root
            .or_else(|| std::env::var_os("BERTH_ROOT").map(PathBuf::from))
            .unwrap_or_else(|| PathBuf::from(DEFAULT_ROOT));
        // Absolute: the engine hands paths under the root to the runtime and the monitor,
        // which work from other directories (a relative root once made the rootfs path
        // R/containers/ID/R/containers/ID/rootfs).
        let root = std::path::absolute(&root).unwrap_or(root);
        Env { root }
    }
    pub fn store(&self) -> berth_image::Result<ContentStore> {
        ContentStore::open(self.root.join("content"))
    }
    pub fn snapshots(&self) -> berth_image::Result<Snapshotter> {
        Snapshotter::open(self.root.join("snapshots"))
    }
    pub fn metadata(&self) -> berth_image::Result<Metadata> {
        Metadata::open(&self.root.join("berth.db"))
    }
}
