//! A container's OCI runtime config (`config.json`) from its [`RunOptions`] and its image's
//! [`ImageConfig`], with Docker's defaults unless told otherwise.

use crate::image_config::ImageConfig;
use crate::options::RunOptions;
use crate::Result;
use oci_spec::runtime::Spec;
use std::path::{Path, PathBuf};

/// Where volume data lives: implemented by the engine's volume store.
pub trait Volumes {
    /// The host directory of volume `name` (created when missing), or of a new anonymous
    /// volume when `name` is None; `target` is where it will be mounted in the container.
    fn source(&mut self, name: Option<&str>, target: &str) -> Result<PathBuf>;
}

pub struct SpecInput<'a> {
    /// The full container ID (64 hex).
    pub id: &'a str,
    pub opts: &'a RunOptions,
    pub image: &'a ImageConfig,
    /// The container's root filesystem as mounted on the host (the overlay): users, groups
    /// and mount targets are resolved inside it, never through a symlink out of it.
    pub rootfs: &'a Path,
    pub volumes: &'a mut dyn Volumes,
    /// `--init`: the host binary bind-mounted read-only as the container's PID 1.
    pub init_binary: Option<&'a Path>,
}

/// The runtime config for a container.
///
/// A first cut: runc's default config (its capabilities, masked paths, devices and
/// namespaces) with the image's and the options' command, environment, working directory and
/// hostname. Docker's full defaults and every run flag come in `spec/`'s other modules.
pub fn build(input: SpecInput) -> Result<Spec> {
    let (o, img) = (input.opts, input.image);
    let mut v = berth_runtime::default_spec::spec(false);
    v["process"]["terminal"] = serde_json::json!(o.tty);
    v["process"]["args"] = serde_json::json!(command(o, img)?);
    let mut env: Vec<String> = img.env.clone();
    if !env.iter().any(|e| e.starts_with("PATH=")) {
        env.insert(
            0,
            "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin".into(),
        );
    }
    env.extend(o.env.iter().cloned());
    v["process"]["env"] = serde_json::json!(env);
    let cwd = o
        .workdir
        .clone()
        .or_else(|| img.working_dir.clone().filter(|w| !w.is_empty()))
        .unwrap_or_else(|| "/".into());
    v["process"]["cwd"] = serde_json::json!(cwd);
    v["root"] = serde_json::json!({"path": input.rootfs, "readonly": o.read_only});
    let hostname = o
        .hostname
        .clone()
        .unwrap_or_else(|| input.id.chars().take(12).collect());
    v["hostname"] = serde_json::json!(hostname);
    serde_json::from_value(v).map_err(|e| crate::Error::InvalidArgument(format!("spec: {e}")))
}

/// Docker's rules: `--entrypoint` replaces the image's Entrypoint (and drops its Cmd);
/// arguments after the image replace its Cmd; the command is Entrypoint + Cmd.
pub fn command(o: &RunOptions, img: &ImageConfig) -> Result<Vec<String>> {
    let (entrypoint, cmd) = match &o.entrypoint {
        Some(e) => (e.clone(), o.cmd.clone()),
        None if !o.cmd.is_empty() => (img.entrypoint.clone().unwrap_or_default(), o.cmd.clone()),
        None => (
            img.entrypoint.clone().unwrap_or_default(),
            img.cmd.clone().unwrap_or_default(),
        ),
    };
    let args: Vec<String> = entrypoint.into_iter().chain(cmd).collect();
    if args.is_empty() {
        return Err(crate::Error::InvalidArgument("no command specified".into()));
    }
    Ok(args)
}
