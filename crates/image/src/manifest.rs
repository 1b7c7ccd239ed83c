//! Manifests as registries serve them: OCI image manifests and indexes, and Docker schema 2
//! manifests and manifest lists (same JSON shapes, other media types); the platform to pick
//! from an index (the host's by default, or `--platform os/arch[/variant]`).

use crate::error::{Error, Result};
use oci_spec::image::{Descriptor, ImageIndex, ImageManifest};
use std::fmt;
use std::str::FromStr;

pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
pub const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
pub const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
pub const DOCKER_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";
const DOCKER_SCHEMA1: &[&str] = &[
    "application/vnd.docker.distribution.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.v1+prettyjws",
];

/// What an `Accept` header should list, preferred first.
pub const ACCEPTED: &[&str] = &[OCI_INDEX, DOCKER_LIST, OCI_MANIFEST, DOCKER_MANIFEST];

#[derive(Debug)]
pub enum Manifest {
    Image(Box<ImageManifest>),
    Index(Box<ImageIndex>),
}

#[derive(serde::Deserialize)]
struct Probe {
    #[serde(rename = "mediaType")]
    media_type: Option<String>,
    manifests: Option<serde_json::Value>,
    layers: Option<serde_json::Value>,
}

fn bad(why: String) -> Error {
    Error::BadManifest(why)
}

/// Parse a manifest by its media type (the Content-Type header, else its own `mediaType`,
/// else its shape).
pub fn parse(content_type: Option<&str>, bytes: &[u8]) -> Result<Manifest> {
    let probe: Probe = serde_json::from_slice(bytes).map_err(|e| bad(format!("not JSON: {e}")))?;
    let header = content_type
        .map(|c| c.split(';').next().unwrap_or("").trim())
        .filter(|c| !c.is_empty() && *c != "application/json");
    let media = match (header, probe.media_type.as_deref()) {
        (Some(h), _) => h.to_string(),
        (None, Some(m)) => m.to_string(),
        (None, None) if probe.manifests.is_some() => OCI_INDEX.to_string(),
        (None, None) if probe.layers.is_some() => OCI_MANIFEST.to_string(),
        (None, None) => return Err(bad("no media type, and neither layers nor manifests".into())),
    };
    match media.as_str() {
        OCI_MANIFEST | DOCKER_MANIFEST => serde_json::from_slice(bytes)
            .map(Manifest::Image)
            .map_err(|e| bad(format!("{media}: {e}"))),
        OCI_INDEX | DOCKER_LIST => serde_json::from_slice(bytes)
            .map(Manifest::Index)
            .map_err(|e| bad(format!("{media}: {e}"))),
        m if DOCKER_SCHEMA1.contains(&m) => Err(Error::Unsupported(
            "Docker schema 1 manifests (deprecated; push the image again with a current client)"
                .into(),
        )),
        m => Err(bad(format!("unknown manifest media type {m:?}"))),
    }
}

/// `os/arch[/variant]`, normalized as Docker does (x86_64 = amd64, aarch64 = arm64 with
/// variant v8 implied).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Platform {
    pub os: String,
    pub arch: String,
    pub variant: Option<String>,
}

fn normalize_arch(arch: &str, variant: Option<&str>) -> (String, Option<String>) {
    let arch = arch.to_ascii_lowercase();
    let variant = variant.map(str::to_ascii_lowercase);
    match arch.as_str() {
        "x86_64" | "x86-64" | "amd64" => ("amd64".into(), variant.filter(|v| v != "v1")),
        "aarch64" | "arm64" => ("arm64".into(), variant.filter(|v| v != "v8")),
        "i386" | "i686" | "386" => ("386".into(), variant),
        "armhf" => ("arm".into(), Some("v7".into())),
        "armel" => ("arm".into(), Some("v6".into())),
        "arm" => ("arm".into(), Some(variant.unwrap_or_else(|| "v7".into()))),
        _ => (arch, variant),
    }
}

impl Platform {
    pub fn new(os: &str, arch: &str, variant: Option<&str>) -> Platform {
        let (arch, variant) = normalize_arch(arch, variant);
        Platform {
            os: os.to_ascii_lowercase(),
            arch,
            variant,
        }
    }

    /// The platform this process runs on.
    pub fn host() -> Platform {
        Platform::new(std::env::consts::OS, std::env::consts::ARCH, None)
    }

    fn of(d: &Descriptor) -> Option<Platform> {
        let p = d.platform().as_ref()?;
        Some(Platform::new(
            &p.os().to_string(),
            &p.architecture().to_string(),
            p.variant().as_deref(),
        ))
    }
}

impl FromStr for Platform {
    type Err = Error;
    fn from_str(s: &str) -> Result<Platform> {
        let parts: Vec<&str> = s.split('/').collect();
        let ok = |p: &&str| {
            !p.is_empty()
                && p.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        };
        match parts.as_slice() {
            [os, arch] if ok(os) && ok(arch) => Ok(Platform::new(os, arch, None)),
            [os, arch, v] if ok(os) && ok(arch) && ok(v) => Ok(Platform::new(os, arch, Some(v))),
            _ => Err(Error::InvalidPlatform(s.to_string())),
        }
    }
}

impl fmt::Display for Platform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.os, self.arch)?;
        if let Some(v) = &self.variant {
            write!(f, "/{v}")?;
        }
        Ok(())
    }
}

/// The index entry for `want`. A wanted variant must match exactly; with none wanted, the
/// first entry of that os/arch is taken (the index lists the preferred one first).
pub fn select<'a>(index: &'a ImageIndex, want: &Platform) -> Result<&'a Descriptor> {
    let mut seen = Vec::new();
    for d in index.manifests() {
        let Some(p) = Platform::of(d) else { continue };
        if p.os == want.os
            && p.arch == want.arch
            && (want.variant.is_none() || p.variant == want.variant)
        {
            return Ok(d);
        }
        seen.push(p.to_string());
    }
    Err(Error::NoPlatform {
        want: want.to_string(),
        available: seen.join(", "),
    })
}
