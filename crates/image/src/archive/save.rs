//! `berth save`: images as one tar that both Docker (manifest.json) and OCI tools
//! (index.json) read, the layout Docker 25+ writes.

use super::{ANNOTATION_IMAGE_NAME, ANNOTATION_REF_NAME};
use crate::digest::Digest;
use crate::error::{Error, Result};
use crate::metadata::StoredImage;
use crate::reference::Reference;
use crate::store::ContentStore;
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::path::Path;

/// One image to save, with the names (full form) to record for it; an image asked for by ID
/// is saved without names, as Docker does.
#[derive(Debug, Clone)]
pub struct Saved {
    pub image: StoredImage,
    pub names: Vec<String>,
}

fn blob_name(d: &Digest) -> String {
    format!("blobs/{}/{}", d.algorithm().name(), d.hex())
}

fn header(size: u64, dir: bool) -> tar::Header {
    let mut h = tar::Header::new_ustar();
    h.set_entry_type(if dir {
        tar::EntryType::Directory
    } else {
        tar::EntryType::Regular
    });
    h.set_mode(if dir { 0o755 } else { 0o644 });
    h.set_size(size);
    h.set_mtime(0);
    h.set_uid(0);
    h.set_gid(0);
    h
}

/// Write `images` as an archive to `out`.
pub fn save(store: &ContentStore, images: &[Saved], out: impl Write) -> Result<()> {
    let mut blobs: BTreeSet<Digest> = BTreeSet::new();
    let mut index = Vec::new();
    let mut docker = Vec::new();
    let mut repositories: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    for s in images {
        let img = &s.image;
        let bytes = store.read(&img.manifest)?;
        let m: Value = serde_json::from_slice(&bytes)
            .map_err(|e| Error::BadManifest(format!("manifest {}: {e}", img.manifest)))?;
        if m["config"]["digest"].as_str() != Some(img.id.to_string().as_str()) {
            return Err(Error::BadManifest(format!(
                "manifest {} does not name config {}",
                img.manifest, img.id
            )));
        }
        let layers: Vec<Digest> = m["layers"]
            .as_array()
            .ok_or_else(|| Error::BadManifest(format!("manifest {} has no layers", img.manifest)))?
            .iter()
            .map(|l| l["digest"].as_str().unwrap_or("").parse())
            .collect::<Result<_>>()?;
        for d in layers.iter().chain([&img.id, &img.manifest]) {
            if !store.contains(d) {
                return Err(Error::BlobNotFound(format!(
                    "{d} (of image {}) in the content store",
                    img.id
                )));
            }
            blobs.insert(d.clone());
        }
        let media = m["mediaType"]
            .as_str()
            .unwrap_or(crate::manifest::OCI_MANIFEST)
            .to_string();
        let desc = |ann: Option<Value>| {
            let mut d = json!({"mediaType": media, "digest": img.manifest.to_string(), "size": bytes.len()});
            if let Some(a) = ann {
                d["annotations"] = a;
            }
            d
        };
        let mut tags = Vec::new();
        for n in &s.names {
            let r: Reference = n.parse()?;
            let tag = r.tag().unwrap_or("latest").to_string();
            index.push(desc(Some(json!({
                ANNOTATION_IMAGE_NAME: r.to_string(),
                ANNOTATION_REF_NAME: tag,
            }))));
            let familiar = r.familiar();
            let repo = familiar
                .rsplit_once(':')
                .map_or(familiar.as_str(), |(repo, _)| repo);
            if let Some(top) = layers.last() {
                repositories
                    .entry(repo.to_string())
                    .or_default()
                    .insert(tag, top.hex().to_string());
            }
            tags.push(familiar);
        }
        if s.names.is_empty() {
            index.push(desc(None));
        }
        docker.push(json!({
            "Config": blob_name(&img.id),
            "RepoTags": if tags.is_empty() { Value::Null } else { json!(tags) },
            "Layers": layers.iter().map(blob_name).collect::<Vec<_>>(),
        }));
    }
    let mut tar = tar::Builder::new(out);
    let io = |e: std::io::Error| Error::io("write archive", "", e);
    for d in ["blobs/", "blobs/sha256/"] {
        let mut h = header(0, true);
        tar.append_data(&mut h, d, std::io::empty()).map_err(io)?;
    }
    for d in &blobs {
        let path = store.blob_path(d);
        let f = std::fs::File::open(&path).map_err(|e| Error::io("open", &path, e))?;
        let len = f.metadata().map_err(|e| Error::io("stat", &path, e))?.len();
        let mut h = header(len, false);
        tar.append_data(
            &mut h,
            blob_name(d),
            std::io::BufReader::with_capacity(1 << 20, f),
        )
        .map_err(io)?;
    }
    let index = json!({
        "schemaVersion": 2,
        "mediaType": crate::manifest::OCI_INDEX,
        "manifests": index,
    });
    let files: [(&str, Vec<u8>); 4] = [
        ("index.json", serde_json::to_vec(&index).expect("JSON")),
        ("manifest.json", serde_json::to_vec(&docker).expect("JSON")),
        ("oci-layout", br#"{"imageLayoutVersion":"1.0.0"}"#.to_vec()),
        (
            "repositories",
            serde_json::to_vec(&repositories).expect("JSON"),
        ),
    ];
    for (name, data) in files {
        let mut h = header(data.len() as u64, false);
        tar.append_data(&mut h, name, &data[..]).map_err(io)?;
    }
    tar.into_inner().map_err(io)?.flush().map_err(io)?;
    Ok(())
}

/// [`save`] into `path`, written beside it first and renamed into place, so a failed save
/// leaves no partial archive (and the next save to that path removes what a killed one
/// left).
pub fn save_to_file(store: &ContentStore, images: &[Saved], path: &Path) -> Result<()> {
    let name = path
        .file_name()
        .ok_or_else(|| Error::io("write", path, std::io::ErrorKind::InvalidInput.into()))?;
    let prefix = format!(".{}.berth-save.", name.to_string_lossy());
    // A save killed before its rename left its temp file here, named by its pid.
    crate::leftovers::remove_dead_with_prefix(
        path.parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new(".")),
        &prefix,
    );
    let tmp = path.with_file_name(format!("{prefix}{}", std::process::id()));
    let f = std::fs::File::create(&tmp).map_err(|e| Error::io("create", &tmp, e))?;
    let mut w = std::io::BufWriter::with_capacity(1 << 20, f);
    let done = save(store, images, &mut w).and_then(|()| {
        let f = w
            .into_inner()
            .map_err(|e| Error::io("write", &tmp, e.into_error()))?;
        f.sync_all().map_err(|e| Error::io("fsync", &tmp, e))?;
        std::fs::rename(&tmp, path).map_err(|e| Error::io("rename into", path, e))
    });
    if done.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    done
}
