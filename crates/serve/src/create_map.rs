//! The create request's fields the server maps itself, until the engine's full mapping of the
//! Docker API's `Config` + `HostConfig` replaces this module.

use berth_engine::options::{parse, RunOptions};
use serde::Deserialize;
use std::collections::BTreeMap;

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CreateRequest {
    pub image: Option<String>,
    pub cmd: Option<Vec<String>>,
    pub entrypoint: Option<Vec<String>>,
    pub env: Option<Vec<String>>,
    pub tty: Option<bool>,
    pub open_stdin: Option<bool>,
    pub labels: Option<BTreeMap<String, String>>,
    pub working_dir: Option<String>,
    pub user: Option<String>,
    pub host_config: Option<HostConfig>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct HostConfig {
    pub auto_remove: Option<bool>,
    pub network_mode: Option<String>,
}

pub fn run_options(
    req: &CreateRequest,
    name: Option<&str>,
) -> Result<RunOptions, crate::reply::ApiError> {
    let image = req.image.clone().unwrap_or_default();
    if image.is_empty() {
        return Err(crate::reply::ApiError::bad_request(
            "No command specified: an image is needed",
        ));
    }
    let hc = req.host_config.as_ref();
    let mut o = RunOptions {
        name: name.map(str::to_string),
        image,
        cmd: req.cmd.clone().unwrap_or_default(),
        entrypoint: req.entrypoint.clone(),
        env: req.env.clone().unwrap_or_default(),
        tty: req.tty.unwrap_or(false),
        interactive: req.open_stdin.unwrap_or(false),
        labels: req.labels.clone().unwrap_or_default(),
        workdir: req.working_dir.clone().filter(|w| !w.is_empty()),
        user: req.user.clone().filter(|u| !u.is_empty()),
        auto_remove: hc.and_then(|h| h.auto_remove).unwrap_or(false),
        ..Default::default()
    };
    if let Some(n) = hc.and_then(|h| h.network_mode.as_deref()) {
        o.network = parse::network(n)?;
    }
    Ok(o)
}
