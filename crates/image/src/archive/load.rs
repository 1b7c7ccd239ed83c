//! `berth load`: Docker and OCI layout archives into the store, the snapshots and the
//! metadata. Everything is read and checked before anything is named; blobs are stored
//! verified, layers unpacked into chain-ID snapshots (checked against the config's diff
//! IDs); on any failure the blobs and snapshots this load created are removed again and no
//! name is set.

use super::spool::{refuse, Spool};
use super::{ANNOTATION_IMAGE_NAME, ANNOTATION_REF_NAME};
use crate::digest::{Algorithm, Digest, Verifier};
use crate::error::{Error, Result};
use crate::manifest::{self, Manifest, Platform};
use crate::metadata::Metadata;
use crate::reference::Reference;
use crate::snapshot::{chain_ids, Snapshotter};
use crate::store::ContentStore;
use crate::unpack::Options;
use serde_json::{json, Value};
use std::io::{Read, Write};

/// One image loaded: its ID and the full names it now has.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Loaded {
    pub id: Digest,
    pub names: Vec<String>,
    /// Names that pointed at another image before (name, that image's ID): Docker reports
    /// that the old image lost its name.
    pub renamed: Vec<(String, Digest)>,
}

struct Layer {
    /// Path of the layer file inside the archive.
    path: String,
    /// Known for OCI layouts (the descriptor's digest), computed for Docker archives.
    digest: Option<Digest>,
    size: Option<u64>,
}

struct Candidate {
    /// The manifest as the archive holds it (OCI layouts); built here for Docker archives.
    manifest: Option<(Digest, Vec<u8>)>,
    config: (Digest, Vec<u8>),
    layers: Vec<Layer>,
    names: Vec<String>,
}

fn json_of(what: &str, bytes: &[u8]) -> Result<Value> {
    serde_json::from_slice(bytes).map_err(|e| refuse(format!("{what} is not valid JSON: {e}")))
}

fn verified(d: &Digest, bytes: Vec<u8>) -> Result<Vec<u8>> {
    let mut v = Verifier::new(d.algorithm());
    v.update(&bytes);
    let actual = v.finish();
    if &actual != d {
        return Err(Error::DigestMismatch {
            expected: d.to_string(),
            actual: actual.to_string(),
        });
    }
    Ok(bytes)
}

fn blob_path(d: &Digest) -> String {
    format!("blobs/{}/{}", d.algorithm().name(), d.hex())
}

/// A name from an archive: a full reference, or nothing for a bare tag (OCI `ref.name`
/// may be just `latest`, which names no repository).
fn name_of(s: &str) -> Result<Option<String>> {
    if !s.contains([':', '/', '@']) {
        return Ok(None);
    }
    let r: Reference = s
        .parse()
        .map_err(|e| refuse(format!("image name {s:?} in the archive: {e}")))?;
    Ok(Some(r.to_string()))
}

fn diff_ids(config: &Digest, bytes: &[u8]) -> Result<Vec<Digest>> {
    let v = json_of(&format!("image config {config}"), bytes)?;
    v["rootfs"]["diff_ids"]
        .as_array()
        .ok_or_else(|| Error::BadManifest(format!("image config {config}: no rootfs.diff_ids")))?
        .iter()
        .map(|d| d.as_str().unwrap_or("").parse())
        .collect()
}

/// The images of an OCI layout archive.
fn from_oci(spool: &Spool, platform: &Platform) -> Result<Vec<Candidate>> {
    let index = json_of("index.json", &spool.read("index.json")?)?;
    // Docker 25+ archives carry manifest.json too: its RepoTags name entries the index leaves
    // unnamed.
    let docker_tags: Vec<(String, Vec<String>)> = match spool.read("manifest.json") {
        Ok(b) => json_of("manifest.json", &b)?
            .as_array()
            .into_iter()
            .flatten()
            .map(|e| {
                let cfg = e["Config"].as_str().unwrap_or("").to_string();
                let tags = e["RepoTags"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|t| t.as_str().map(String::from))
                    .collect();
                (cfg, tags)
            })
            .collect(),
        Err(_) => Vec::new(),
    };
    let mut out: Vec<Candidate> = Vec::new();
    let entries = index["manifests"]
        .as_array()
        .ok_or_else(|| refuse("index.json lists no manifests"))?;
    for e in entries {
        let mut d: Digest = e["digest"].as_str().unwrap_or("").parse()?;
        let mut media = e["mediaType"].as_str().map(String::from);
        let mut bytes = verified(&d, spool.read(&blob_path(&d))?)?;
        let mut parsed = manifest::parse(media.as_deref(), &bytes)?;
        if let Manifest::Index(idx) = &parsed {
            let sel = manifest::select(idx, platform)?;
            d = sel.digest().to_string().parse()?;
            media = Some(sel.media_type().to_string());
            bytes = verified(&d, spool.read(&blob_path(&d))?)?;
            parsed = manifest::parse(media.as_deref(), &bytes)?;
        }
        let Manifest::Image(m) = parsed else {
            return Err(Error::BadManifest(format!("{d}: an index inside an index")));
        };
        let ann = &e["annotations"];
        let mut names = Vec::new();
        if let Some(n) = ann[ANNOTATION_IMAGE_NAME].as_str() {
            names.extend(name_of(n)?);
        } else if let Some(n) = ann[ANNOTATION_REF_NAME].as_str() {
            names.extend(name_of(n)?);
        }
        let config: Digest = m.config().digest().to_string().parse()?;
        if names.is_empty() {
            for (cfg, tags) in &docker_tags {
                if cfg.ends_with(config.hex()) {
                    for t in tags {
                        names.extend(name_of(t)?);
                    }
                }
            }
        }
        if let Some(c) = out
            .iter_mut()
            .find(|c| c.manifest.as_ref().map(|(md, _)| md) == Some(&d))
        {
            c.names.extend(names);
            continue;
        }
        let config_bytes = verified(&config, spool.read(&blob_path(&config))?)?;
        let layers = m
            .layers()
            .iter()
            .map(|l| {
                let d: Digest = l.digest().to_string().parse()?;
                Ok(Layer {
                    path: blob_path(&d),
                    digest: Some(d),
                    size: Some(l.size()),
                })
            })
            .collect::<Result<Vec<_>>>()?;
        out.push(Candidate {
            manifest: Some((d, bytes)),
            config: (config, config_bytes),
            layers,
            names,
        });
    }
    Ok(out)
}

/// The images of a Docker archive (manifest.json; legacy or Docker 25+).
fn from_docker(spool: &Spool) -> Result<Vec<Candidate>> {
    let list = json_of("manifest.json", &spool.read("manifest.json")?)?;
    let list = list
        .as_array()
        .ok_or_else(|| refuse("manifest.json is not a list of images"))?;
    let mut out = Vec::new();
    for e in list {
        let cfg_path = e["Config"]
            .as_str()
            .ok_or_else(|| refuse("an entry of manifest.json has no Config"))?;
        let bytes = spool.read(cfg_path)?;
        let config = Digest::sha256_of(&bytes);
        // Legacy archives name the config `<hex>.json`, Docker 25+ `blobs/sha256/<hex>`:
        // a name that is a digest must be the content's.
        let stem = cfg_path.rsplit('/').next().unwrap_or("");
        let stem = stem.strip_suffix(".json").unwrap_or(stem);
        if stem.len() == 64 && stem.bytes().all(|b| b.is_ascii_hexdigit()) && stem != config.hex() {
            return Err(Error::DigestMismatch {
                expected: format!("sha256:{stem}"),
                actual: config.to_string(),
            });
        }
        let layers = e["Layers"]
            .as_array()
            .ok_or_else(|| refuse(format!("manifest.json entry for {cfg_path} has no Layers")))?
            .iter()
            .map(|l| {
                let p = l
                    .as_str()
                    .ok_or_else(|| refuse("a layer path in manifest.json is not a string"))?;
                Ok(Layer {
                    path: p.to_string(),
                    digest: None,
                    size: None,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let mut names = Vec::new();
        for t in e["RepoTags"].as_array().into_iter().flatten() {
            names.extend(name_of(t.as_str().unwrap_or(""))?);
        }
        out.push(Candidate {
            manifest: None,
            config: (config, bytes),
            layers,
            names,
        });
    }
    Ok(out)
}

/// Blobs and snapshots this load created, removed again unless the load completes.
struct Undo<'a> {
    store: &'a ContentStore,
    snaps: &'a Snapshotter,
    blobs: Vec<Digest>,
    snapshots: Vec<Digest>,
    done: bool,
}

impl Drop for Undo<'_> {
    fn drop(&mut self) {
        if self.done {
            return;
        }
        for s in &self.snapshots {
            let _ = std::fs::remove_dir_all(self.snaps.path(s));
        }
        for b in &self.blobs {
            let _ = std::fs::remove_file(self.store.blob_path(b));
        }
    }
}

impl Undo<'_> {
    fn put(&mut self, d: &Digest, data: &[u8]) -> Result<()> {
        if !self.store.contains(d) {
            self.store.put(d, data)?;
            self.blobs.push(d.clone());
        }
        Ok(())
    }
}

fn compression_of(spool: &Spool, path: &str) -> Result<&'static str> {
    let mut magic = [0u8; 4];
    let mut f = spool.open(path)?;
    let n = f.read(&mut magic).map_err(|e| Error::io("read", path, e))?;
    Ok(if n >= 2 && magic[..2] == [0x1f, 0x8b] {
        "gzip"
    } else if n == 4 && magic == [0x28, 0xb5, 0x2f, 0xfd] {
        "zstd"
    } else {
        ""
    })
}

fn sha256_of_file(spool: &Spool, path: &str) -> Result<(Digest, u64)> {
    let mut f = spool.open(path)?;
    let mut v = Verifier::new(Algorithm::Sha256);
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = f.read(&mut buf).map_err(|e| Error::io("read", path, e))?;
        if n == 0 {
            break;
        }
        v.update(&buf[..n]);
    }
    let len = v.len();
    Ok((v.finish(), len))
}

/// Store, unpack and record one image; returns its ID and manifest digest.
fn commit(
    c: &Candidate,
    spool: &Spool,
    undo: &mut Undo,
    opts: &Options,
) -> Result<(Digest, Digest)> {
    let (config, config_bytes) = &c.config;
    let diff_ids = diff_ids(config, config_bytes)?;
    if diff_ids.len() != c.layers.len() {
        return Err(Error::BadManifest(format!(
            "image {config}: {} layers but {} diff_ids in its config",
            c.layers.len(),
            diff_ids.len()
        )));
    }
    undo.put(config, config_bytes)?;
    let chain = chain_ids(&diff_ids);
    let mut descs = Vec::new();
    for (i, l) in c.layers.iter().enumerate() {
        let compression = compression_of(spool, &l.path)?;
        let (digest, size) = match (&l.digest, l.size) {
            (Some(d), Some(s)) => (d.clone(), s),
            // Hashed even when a blob of that digest is here already: the archive's file
            // must be what it claims to be.
            _ => {
                let (d, len) = sha256_of_file(spool, &l.path)?;
                if compression.is_empty() && d != diff_ids[i] {
                    return Err(Error::DigestMismatch {
                        expected: diff_ids[i].to_string(),
                        actual: d.to_string(),
                    });
                }
                (d, len)
            }
        };
        if !undo.store.contains(&digest) {
            let mut w = undo.store.writer(&digest, Some(size))?;
            std::io::copy(&mut spool.open(&l.path)?, &mut w)
                .map_err(|e| Error::io("store layer", &l.path, e))?;
            w.flush()
                .map_err(|e| Error::io("store layer", &l.path, e))?;
            w.commit()?;
            undo.blobs.push(digest.clone());
        }
        if !undo.snaps.exists(&chain[i]) {
            let p = undo.store.blob_path(&digest);
            let f = std::fs::File::open(&p).map_err(|e| Error::io("open", &p, e))?;
            undo.snaps.ensure(
                &chain[i],
                &diff_ids[i],
                std::io::BufReader::with_capacity(1 << 20, f),
                opts,
            )?;
            undo.snapshots.push(chain[i].clone());
        }
        let media = match compression {
            "gzip" => "application/vnd.oci.image.layer.v1.tar+gzip",
            "zstd" => "application/vnd.oci.image.layer.v1.tar+zstd",
            _ => "application/vnd.oci.image.layer.v1.tar",
        };
        descs.push(json!({"mediaType": media, "digest": digest.to_string(), "size": size}));
    }
    let (manifest, bytes) = match &c.manifest {
        Some((d, b)) => (d.clone(), b.clone()),
        None => {
            let m = json!({
                "schemaVersion": 2,
                "mediaType": manifest::OCI_MANIFEST,
                "config": {
                    "mediaType": "application/vnd.oci.image.config.v1+json",
                    "digest": config.to_string(),
                    "size": config_bytes.len(),
                },
                "layers": descs,
            });
            let b = serde_json::to_vec(&m).expect("JSON");
            (Digest::sha256_of(&b), b)
        }
    };
    undo.put(&manifest, &bytes)?;
    Ok((config.clone(), manifest))
}

/// Load an archive (plain, gzip or zstd) into the store, snapshots and metadata. For an
/// index in an OCI layout, the entry for `platform` is taken.
pub fn load(
    input: impl Read,
    store: &ContentStore,
    snaps: &Snapshotter,
    md: &Metadata,
    platform: &Platform,
) -> Result<Vec<Loaded>> {
    let _ = store.clean_ingest();
    let _writing = store.write_guard()?;
    let spool = Spool::extract(
        crate::unpack::decompress(input)?,
        &store.root().join("ingest"),
    )?;
    let candidates = if spool.exists("index.json") {
        from_oci(&spool, platform)?
    } else if spool.exists("manifest.json") {
        from_docker(&spool)?
    } else {
        return Err(refuse(
            "neither manifest.json nor index.json: not a Docker or OCI image archive",
        ));
    };
    if candidates.is_empty() {
        return Err(refuse("the archive holds no image"));
    }
    let mut undo = Undo {
        store,
        snaps,
        blobs: Vec::new(),
        snapshots: Vec::new(),
        done: false,
    };
    let opts = Options::default();
    let mut done = Vec::new();
    for c in &candidates {
        let (id, manifest) = commit(c, &spool, &mut undo, &opts)?;
        let chain = chain_ids(&diff_ids(&id, &c.config.1)?);
        done.push((id, manifest, chain, c.names.clone()));
    }
    let mut out: Vec<Loaded> = Vec::new();
    for (id, manifest, chain, mut names) in done {
        md.add_image(&id, &manifest, &chain)?;
        names.sort();
        names.dedup();
        let mut renamed = Vec::new();
        for n in &names {
            if let Some(old) = md.get(n)?.filter(|old| old.config != id) {
                renamed.push((n.clone(), old.config));
            }
            md.set_name(n, &id)?;
        }
        match out.iter_mut().find(|l| l.id == id) {
            Some(l) => {
                l.names.extend(names);
                l.renamed.extend(renamed);
            }
            None => out.push(Loaded { id, names, renamed }),
        }
    }
    undo.done = true;
    Ok(out)
}
