//! Fixtures for the service tests: a data root with a busybox image imported from
//! busybox-static (real layer, real snapshot), and containers created from it (their root
//! mounted), removed again when the root is dropped.
#![allow(dead_code)]

use berth_engine::container::ImageInput;
use berth_engine::image_config::ImageConfig;
use berth_engine::options::{Network, RunOptions};
use berth_engine::store::Row;
use berth_engine::Engine;
use berth_image::metadata::Metadata;
use berth_image::snapshot::Snapshotter;
use berth_image::{ContentStore, Digest};
use std::path::Path;

pub struct Root {
    pub dir: tempfile::TempDir,
    pub engine: Engine,
}

impl Root {
    pub fn new() -> Root {
        let dir = tempfile::tempdir().unwrap();
        let engine = Engine::open(dir.path()).unwrap();
        Root { dir, engine }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Import busybox as an image named `name` (`LABEL`s from `changes`); its ID.
    pub fn import(&self, name: &str, changes: &[&str]) -> Digest {
        let mut b = tar::Builder::new(Vec::new());
        b.append_path_with_name("/bin/busybox", "bin/busybox")
            .expect("busybox-static must be installed (apt-get install busybox-static)");
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(tar::EntryType::Symlink);
        h.set_size(0);
        h.set_mode(0o777);
        b.append_link(&mut h, "bin/sh", "busybox").unwrap();
        let tar = b.into_inner().unwrap();
        let root = self.path();
        let store = ContentStore::open(root.join("content")).unwrap();
        let snaps = Snapshotter::open(root.join("snapshots")).unwrap();
        let md = Metadata::open(&root.join("berth.db")).unwrap();
        let mut changes: Vec<String> = changes.iter().map(|c| c.to_string()).collect();
        changes.push("CMD [\"sh\"]".into());
        let opts = berth_image::import::ImportOptions {
            changes,
            ..Default::default()
        };
        let id = berth_image::import::import(&tar[..], &store, &snaps, &md, &opts).unwrap();
        let full: berth_image::Reference = name.parse().unwrap();
        md.set_name(&full.to_string(), &id).unwrap();
        id
    }

    /// Create (not start) a container of image `image` with `opts` (no network).
    pub fn create(&self, image: &str, mut opts: RunOptions) -> Row {
        let md = Metadata::open(&self.path().join("berth.db")).unwrap();
        let full: berth_image::Reference = image.parse().unwrap();
        let rec = md.get(&full.to_string()).unwrap().unwrap();
        let img = md.image(&rec.config).unwrap().unwrap();
        let store = ContentStore::open(self.path().join("content")).unwrap();
        let config = ImageConfig::from_image_config(&store.read(&img.id).unwrap()).unwrap();
        opts.image = image.to_string();
        if opts.network == Network::Default {
            opts.network = Network::None;
        }
        self.engine
            .create(
                &opts,
                ImageInput {
                    id: &img.id,
                    chain: &img.chain,
                    config: &config,
                },
            )
            .unwrap()
    }
}

impl Drop for Root {
    fn drop(&mut self) {
        // Unmount the containers' roots before the temp dir goes.
        if let Ok(rows) = self.engine.list() {
            for r in rows {
                let _ = self.engine.remove(&r.id, true, true);
            }
        }
    }
}
