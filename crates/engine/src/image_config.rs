//! The runtime part of an image's config (the `config` object of the OCI/Docker image
//! config JSON): what a container made from the image starts with unless told otherwise.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct ImageConfig {
    pub user: Option<String>,
    pub exposed_ports: BTreeMap<String, serde_json::Value>,
    pub env: Vec<String>,
    pub entrypoint: Option<Vec<String>>,
    pub cmd: Option<Vec<String>>,
    pub volumes: BTreeMap<String, serde_json::Value>,
    pub working_dir: Option<String>,
    pub labels: BTreeMap<String, String>,
    pub stop_signal: Option<String>,
    /// Dockerfile's HEALTHCHECK, the container's unless flags say otherwise.
    pub healthcheck: Option<crate::options::Healthcheck>,
}

impl ImageConfig {
    /// From the bytes of an image config blob (its `config` object; absent = empty).
    pub fn from_image_config(bytes: &[u8]) -> crate::Result<ImageConfig> {
        let v: serde_json::Value = serde_json::from_slice(bytes)
            .map_err(|e| crate::Error::InvalidArgument(format!("image config: {e}")))?;
        match v.get("config") {
            None | Some(serde_json::Value::Null) => Ok(ImageConfig::default()),
            Some(c) => serde_json::from_value(c.clone())
                .map_err(|e| crate::Error::InvalidArgument(format!("image config: {e}"))),
        }
    }
}
