//! `pull`: a reference from its registry into the store and named, its event recorded; the
//! same for the CLI's `pull` (and `run`'s pull of a missing image) and the API's
//! `POST /images/create`. Progress goes to the caller's [`Progress`], which draws it.

use crate::{Engine, Result};
use berth_image::manifest::Platform;
use berth_image::metadata::{ImageRecord, Metadata};
use berth_image::progress::Progress;
use berth_image::registry::client::Client;
use berth_image::snapshot::Snapshotter;
use berth_image::{ContentStore, Digest, Reference};

pub struct PullOutcome {
    pub reference: Reference,
    /// The image manifest's digest (for the platform pulled).
    pub manifest: Digest,
    /// The name already pointed at this manifest.
    pub up_to_date: bool,
}

impl Engine {
    /// Pulls `reference` for `platform` (`os/arch[/variant]`; the host's when None).
    pub fn pull(
        &self,
        reference: &str,
        platform: Option<&str>,
        progress: &dyn Progress,
    ) -> Result<PullOutcome> {
        let r: Reference = reference.parse()?;
        let platform: Platform = match platform {
            Some(p) => p.parse()?,
            None => Platform::host(),
        };
        let store = ContentStore::open(self.root.join("content"))?;
        let snaps = Snapshotter::open(self.root.join("snapshots"))?;
        let md = Metadata::open(&self.root.join("berth.db"))?;
        // Partial downloads of pulls that were killed are of no use to anyone. Garbage
        // collection waits until this pull's image is named (md.tag below).
        let _writing = store.write_guard()?;
        let _ = store.clean_ingest();
        let _ = snaps.clean_staging();
        let before = md.get(&r.to_string())?;
        let creds = berth_image::registry::credentials::load(
            &berth_image::registry::credentials::config_path(),
            r.domain(),
        )?;
        let config = berth_image::registry::config::RegistryConfig::load()?;
        let client = Client::from_config(config, creds);
        let pulled = berth_image::pull::pull_with_progress(
            &client, &r, &store, &snaps, &platform, progress,
        )?;
        md.tag(&ImageRecord {
            name: r.to_string(),
            manifest: pulled.manifest.clone(),
            config: pulled.config.clone(),
            chain: pulled.chain.clone(),
            created: berth_image::timestamp::now(),
        })?;
        let name = r.familiar();
        self.event("image", "pull", &name, &[("name", &name)]);
        Ok(PullOutcome {
            up_to_date: before.is_some_and(|b| b.manifest == pulled.manifest),
            reference: r,
            manifest: pulled.manifest,
        })
    }
}
