//! Volumes as Docker's `/volumes` endpoints show them.

use super::Filters;
use crate::volume::{self as store, VolumeFilter, VolumeStore};
use crate::{Engine, Error, Result};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// How much a volume holds and how many containers use it (`system df` fills it; -1 when
/// not computed).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UsageData {
    #[serde(rename = "Size")]
    pub size: i64,
    #[serde(rename = "RefCount")]
    pub ref_count: i64,
}

/// The API's Volume.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Volume {
    /// RFC 3339.
    pub created_at: String,
    /// Always `local`.
    pub driver: String,
    pub labels: BTreeMap<String, String>,
    /// `R/volumes/<name>/_data`.
    pub mountpoint: String,
    pub name: String,
    pub options: BTreeMap<String, String>,
    /// Always `local`.
    pub scope: String,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub usage_data: Option<UsageData>,
}

impl Volume {
    pub fn of(v: &store::Volume) -> Volume {
        Volume {
            created_at: v.created.clone(),
            driver: "local".into(),
            labels: v.labels.clone(),
            mountpoint: v.mountpoint.display().to_string(),
            name: v.name.clone(),
            options: BTreeMap::new(),
            scope: "local".into(),
            usage_data: None,
        }
    }
}

/// `GET /volumes`' answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VolumeList {
    #[serde(rename = "Volumes")]
    pub volumes: Vec<Volume>,
    #[serde(rename = "Warnings")]
    pub warnings: Vec<String>,
}

/// Docker's volume filters (`dangling`, `name`, `label`, `driver`; keys in any case) as
/// the store's.
pub fn volume_filter(f: &Filters) -> Result<VolumeFilter> {
    let mut out = VolumeFilter::default();
    for key in f.keys() {
        let values = f.get(key);
        match key.trim().to_ascii_lowercase().as_str() {
            "dangling" => {
                for v in values {
                    out.dangling = Some(match v.as_str() {
                        "true" | "1" => true,
                        "false" | "0" => false,
                        _ => {
                            return Err(Error::InvalidArgument(format!(
                                "invalid filter 'dangling={v}'"
                            )))
                        }
                    });
                }
            }
            "name" => out.names.extend(values.iter().cloned()),
            "label" => out
                .labels
                .extend(values.iter().map(|l| match l.split_once('=') {
                    Some((k, v)) => (k.to_string(), Some(v.to_string())),
                    None => (l.clone(), None),
                })),
            "driver" => out.drivers.extend(values.iter().cloned()),
            _ => return Err(Error::InvalidArgument(format!("invalid filter '{key}'"))),
        }
    }
    Ok(out)
}

/// The volumes `f` selects, by name.
pub fn list(e: &Engine, f: &Filters) -> Result<VolumeList> {
    let filter = volume_filter(f)?;
    let vols = VolumeStore::open(&e.root)?.list(&filter)?;
    Ok(VolumeList {
        volumes: vols.iter().map(Volume::of).collect(),
        warnings: Vec::new(),
    })
}

/// One volume by its name.
pub fn inspect(e: &Engine, name: &str) -> Result<Volume> {
    Ok(Volume::of(&VolumeStore::open(&e.root)?.get(name)?))
}
