//! `pull`: a reference's manifest (through an index for the wanted platform), its config and
//! layers into the content store, each layer into its chain-ID snapshot: layers in parallel,
//! each downloaded, stored and unpacked in one pass, under per-layer locks shared with other
//! processes pulling at the same time.

use crate::digest::Digest;
use crate::error::{Error, Result};
use crate::manifest::{self, Manifest, Platform};
use crate::progress::{Event, Progress, Silent};
use crate::reference::Reference;
use crate::registry::client::Client;
use crate::snapshot::{chain_ids, Snapshotter};
use crate::store::ContentStore;
use crate::unpack::Options;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Mutex;

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
    pull_with_progress(client, r, store, snaps, platform, &Silent)
}

/// As [`pull`], telling `progress` what happens to each layer.
pub fn pull_with_progress(
    client: &Client,
    r: &Reference,
    store: &ContentStore,
    snaps: &Snapshotter,
    platform: &Platform,
    progress: &dyn Progress,
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
    {
        let _lock = store.lock(&config, || {})?;
        client.blob(r, &config, Some(m.config().size()), store)?;
    }
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
    let mut jobs = Vec::with_capacity(chain.len());
    for (i, layer) in m.layers().iter().enumerate() {
        jobs.push(Layer {
            digest: digest_of(layer)?,
            size: layer.size(),
            diff_id: &diff_ids[i],
            chain_id: &chain[i],
        });
    }
    let ctx = Ctx {
        client,
        r,
        store,
        snaps,
        progress,
        failed: AtomicBool::new(false),
    };
    pull_layers(&ctx, &jobs)?;
    Ok(Pulled {
        manifest: fetched.digest,
        config,
        chain,
    })
}

/// How many layers are downloaded and unpacked at once (docker's default is 3).
const PARALLEL: usize = 3;

struct Layer<'a> {
    digest: Digest,
    size: u64,
    diff_id: &'a Digest,
    chain_id: &'a Digest,
}

struct Ctx<'a> {
    client: &'a Client,
    r: &'a Reference,
    store: &'a ContentStore,
    snaps: &'a Snapshotter,
    progress: &'a dyn Progress,
    /// Set when a layer failed: the others stop (mid-download too) and clean up.
    failed: AtomicBool,
}

/// Every layer into its snapshot, [`PARALLEL`] at a time: each unpacks into its own chain-ID
/// snapshot, independent of the layers below it (overlayfs puts them together later). The
/// first error fails the pull; layers not finished by then leave nothing behind.
fn pull_layers(ctx: &Ctx, jobs: &[Layer]) -> Result<()> {
    let mut to_fetch = Vec::new();
    for j in jobs {
        if ctx.snaps.exists(j.chain_id) {
            ctx.progress.layer(&j.digest, Event::AlreadyExists);
        } else {
            ctx.progress.layer(&j.digest, Event::Pulling);
            to_fetch.push(j);
        }
    }
    // As docker does: layers beyond the first few wait for a free download slot.
    for j in to_fetch.iter().skip(PARALLEL) {
        ctx.progress.layer(&j.digest, Event::Waiting);
    }
    let next = AtomicUsize::new(0);
    let first_error: Mutex<Option<Error>> = Mutex::new(None);
    std::thread::scope(|s| {
        for _ in 0..PARALLEL.min(to_fetch.len()) {
            s.spawn(|| {
                while !ctx.failed.load(Ordering::SeqCst) {
                    let Some(j) = to_fetch.get(next.fetch_add(1, Ordering::SeqCst)) else {
                        break;
                    };
                    if let Err(e) = pull_layer(ctx, j) {
                        let mut first = first_error.lock().unwrap_or_else(|p| p.into_inner());
                        first.get_or_insert(Error::Layer {
                            digest: j.digest.to_string(),
                            source: Box::new(e),
                        });
                        ctx.failed.store(true, Ordering::SeqCst);
                        break;
                    }
                }
            });
        }
    });
    match first_error.into_inner().unwrap_or_else(|p| p.into_inner()) {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

fn pull_layer(ctx: &Ctx, j: &Layer) -> Result<()> {
    let report = |e| ctx.progress.layer(&j.digest, e);
    if ctx.snaps.exists(j.chain_id) {
        // Made by another pull since this one started: no download at all.
        report(Event::AlreadyExists);
        return Ok(());
    }
    // Locks in this order only (snapshot, then blob) so that pulls cannot deadlock.
    let _snap = ctx.snaps.lock(j.chain_id, || report(Event::Waiting))?;
    if ctx.snaps.exists(j.chain_id) {
        // Another pull made it while this one waited.
        report(Event::AlreadyExists);
        return Ok(());
    }
    let _blob = ctx.store.lock(&j.digest, || report(Event::Waiting))?;
    let opts = Options::default();
    if ctx.store.contains(&j.digest) {
        report(Event::Extracting);
        let path = ctx.store.blob_path(&j.digest);
        let f = std::fs::File::open(&path).map_err(|e| Error::io("open", path, e))?;
        ctx.snaps
            .stage(
                j.chain_id,
                j.diff_id,
                std::io::BufReader::with_capacity(1 << 20, f),
                &opts,
            )?
            .publish()?;
        report(Event::PullComplete);
        return Ok(());
    }
    // Download, store and unpack in one pass: every byte the unpacker reads is also written
    // to the blob. The snapshot is published only after the blob is verified and in place.
    let mut tee = Tee {
        inner: ctx.client.blob_reader(ctx.r, &j.digest)?,
        out: ctx.store.writer(&j.digest, Some(j.size))?,
        failed: &ctx.failed,
        report: &report,
        total: j.size,
        reported: 0,
    };
    let staged = ctx.snaps.stage(j.chain_id, j.diff_id, &mut tee, &opts)?;
    std::io::copy(&mut tee, &mut std::io::sink())
        .map_err(|e| Error::io("download", format!("{}", j.digest), e))?;
    let Tee { out, .. } = tee;
    out.commit()?;
    report(Event::DownloadComplete);
    staged.publish()?;
    report(Event::PullComplete);
    Ok(())
}

/// Progress is told about every this many bytes (and at the end).
const REPORT_EVERY: u64 = 256 << 10;

/// Reads from a download and copies what it reads into the blob being written; stops with
/// an error when another layer of the pull failed.
struct Tee<'a, R, F: Fn(Event)> {
    inner: R,
    out: crate::store::BlobWriter,
    failed: &'a AtomicBool,
    report: &'a F,
    total: u64,
    reported: u64,
}

impl<R: std::io::Read, F: Fn(Event)> std::io::Read for Tee<'_, R, F> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.failed.load(Ordering::Relaxed) {
            return Err(std::io::Error::other(
                "pull abandoned: another layer failed",
            ));
        }
        let n = self.inner.read(buf)?;
        std::io::Write::write_all(&mut self.out, &buf[..n])?;
        let done = self.out.written();
        if done - self.reported >= REPORT_EVERY || (n == 0 && done != self.reported) {
            self.reported = done;
            (self.report)(Event::Downloading {
                done,
                total: self.total,
            });
        }
        Ok(n)
    }
}
