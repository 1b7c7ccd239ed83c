//! `pull`: a reference's manifest (through an index for the wanted platform), its config and
//! layers into the content store, each layer into its chain-ID snapshot.

use crate::digest::Digest;
use crate::error::{Error, Result};
use crate::manifest::{self, Manifest, Platform};
use crate::reference::Reference;
use crate::registry::client::Client;
use crate::snapshot::{chain_ids, Snapshotter};
use crate::store::ContentStore;
use crate::unpack::Options;

#[derive(Debug)]
pub struct Pulled {
    /// The digest of the image manifest (for the chosen platform).
    pub manifest: Digest,
    pub config: Digest,
    /// Chain IDs, bottom layer first: the snapshots that make the image's root.
    pub chain: Vec<Digest>,
}

fn digest_of(d: &oci_spec::image::Descriptor) -> Result<Digest> {
    d.digest().to_string().parse()
}

pub fn pull(
    client: &Client,
    r: &Reference,
    store: &ContentStore,
    snaps: &Snapshotter,
    platform: &Platform,
) -> Result<Pulled> {
    let mut fetched = client.manifest(r, None)?;
    store.put(&fetched.digest, &fetched.bytes)?;
    let mut parsed = manifest::parse(fetched.media_type.as_deref(), &fetched.bytes)?;
    if let Manifest::Index(idx) = &parsed {
        let d = digest_of(manifest::select(idx, platform)?)?;
        // Content by digest never changes: a platform manifest we have is not fetched again.
        fetched = match store.read(&d) {
            Ok(bytes) => crate::registry::client::FetchedManifest {
                bytes,
                media_type: None,
                digest: d,
            },
            Err(_) => {
                let f = client.manifest(r, Some(&d.to_string()))?;
                store.put(&f.digest, &f.bytes)?;
                f
            }
        };
        parsed = manifest::parse(fetched.media_type.as_deref(), &fetched.bytes)?;
    }
    let Manifest::Image(m) = parsed else {
        return Err(Error::BadManifest(
            "an index points to another index".into(),
        ));
    };
    let config = digest_of(m.config())?;
    client.blob(r, &config, Some(m.config().size()), store)?;
    let cfg: serde_json::Value = serde_json::from_slice(&store.read(&config)?)
        .map_err(|e| Error::BadManifest(format!("image config {config}: {e}")))?;
    let diff_ids: Vec<Digest> = cfg["rootfs"]["diff_ids"]
        .as_array()
        .ok_or_else(|| Error::BadManifest(format!("image config {config}: no rootfs.diff_ids")))?
        .iter()
        .map(|v| v.as_str().unwrap_or("").parse())
        .collect::<Result<_>>()?;
    if diff_ids.len() != m.layers().len() {
        return Err(Error::BadManifest(format!(
            "{} layers but {} diff_ids in the config",
            m.layers().len(),
            diff_ids.len()
        )));
    }
    let chain = chain_ids(&diff_ids);
    for (i, layer) in m.layers().iter().enumerate() {
        if snaps.exists(&chain[i]) {
            continue; // shared with an image already here: no download at all
        }
        let d = digest_of(layer)?;
        if store.contains(&d) {
            let path = store.blob_path(&d);
            let f = std::fs::File::open(&path).map_err(|e| Error::io("open", path, e))?;
            snaps.ensure(
                &chain[i],
                &diff_ids[i],
                std::io::BufReader::with_capacity(1 << 20, f),
                &Options::default(),
            )?;
            continue;
        }
        // Download, store and unpack in one pass: every byte the unpacker reads is also
        // written to the blob (verified and published when complete).
        let mut tee = Tee {
            inner: client.blob_reader(r, &d)?,
            out: store.writer(&d, Some(layer.size()))?,
        };
        snaps.ensure(&chain[i], &diff_ids[i], &mut tee, &Options::default())?;
        std::io::copy(&mut tee, &mut std::io::sink())
            .map_err(|e| Error::io("download", format!("{d}"), e))?;
        tee.out.commit()?;
    }
    Ok(Pulled {
        manifest: fetched.digest,
        config,
        chain,
    })
}

/// Reads from a download and copies what it reads into the blob being written.
struct Tee<R> {
    inner: R,
    out: crate::store::BlobWriter,
}

impl<R: std::io::Read> std::io::Read for Tee<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        std::io::Write::write_all(&mut self.out, &buf[..n])?;
        Ok(n)
    }
}
