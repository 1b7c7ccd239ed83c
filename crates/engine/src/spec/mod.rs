//! A container's OCI runtime config (`config.json`) from its [`RunOptions`] and its image's
//! [`ImageConfig`], with Docker's defaults unless told otherwise.
//!
//! - [`defaults`]: kernel filesystems, masked and read-only paths, namespaces, id mappings.
//! - [`caps`]: docker's 14 default capabilities, `--cap-add`/`--cap-drop`, `--privileged`.
//! - [`seccomp`]: Berth's default allowlist profile; [`seccomp_file`]: `seccomp=FILE`.
//! - [`user`]: `-u user[:group]` resolved in the container's own /etc/passwd and /etc/group.
//! - [`env`]: the environment merge; [`mounts`]: `-v`/`--mount`/`--tmpfs`/image Volumes;
//!   [`resources`]: limits and rlimits; [`devices`]: `--device` and privileged devices.

pub mod caps;
pub mod defaults;
pub mod devices;
pub mod env;
pub mod host_options;
pub mod mounts;
pub mod resources;
pub mod seccomp;
pub mod seccomp_file;
pub mod user;

use crate::image_config::ImageConfig;
use crate::options::{RunOptions, Seccomp};
use crate::{Error, Result};
use oci_spec::runtime::Spec;
use serde_json::{json, Value};
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
    /// The network namespace to join (a bridge network's pinned one, or another
    /// container's); None: a new one as `--network` says.
    pub netns: Option<&'a Path>,
    /// Where the container's `hosts`, `resolv.conf` and `hostname` files are (its dir): bound
    /// on /etc's, as Docker does, unless the user mounts something there.
    pub etc_files: Option<&'a Path>,
    /// Namespaces of other containers it joins (`--pid`/`--ipc container:X`).
    pub joined: &'a crate::container::shared::Joined,
}

/// Where `--init`'s binary appears in the container.
pub const INIT_PATH: &str = "/sbin/berth-init";

/// The runtime config for a container.
pub fn build(input: SpecInput) -> Result<Spec> {
    let v = build_json(input)?;
    serde_json::from_value(v).map_err(|e| Error::InvalidArgument(format!("spec: {e}")))
}

/// [`build`], as the JSON written to config.json.
pub fn build_json(input: SpecInput) -> Result<Value> {
    let SpecInput {
        id,
        opts: o,
        image: img,
        rootfs,
        volumes,
        init_binary,
        netns,
        etc_files,
        joined,
    } = input;
    resources::validate(o)?;

    let mut args = command(o, img)?;
    let user_spec = o
        .user
        .as_deref()
        .or(img.user.as_deref())
        .filter(|u| !u.is_empty());
    let user = user::resolve(rootfs, user_spec)?;
    let hostname = hostname(o, id);
    let env = env::merge(&img.env, &o.env, &hostname, o.tty, &user.home);
    let cwd = o
        .workdir
        .clone()
        .filter(|w| !w.is_empty())
        .or_else(|| img.working_dir.clone().filter(|w| !w.is_empty()))
        .unwrap_or_else(|| "/".into());
    if !cwd.starts_with('/') {
        return Err(Error::InvalidArgument(format!(
            "the working directory '{cwd}' is invalid, it needs to be an absolute path"
        )));
    }

    let bounding = caps::bounding(o)?;
    // As docker: a non-root user starts with no effective or permitted capabilities (it
    // can still gain those in the bounding set through file capabilities).
    let (effective, permitted) = if user.uid == 0 {
        (bounding.clone(), bounding.clone())
    } else {
        (vec![], vec![])
    };
    let seccomp = if o.privileged {
        None
    } else {
        match &o.seccomp {
            Seccomp::Default => Some(seccomp::default_profile(&bounding)),
            Seccomp::Unconfined => None,
            Seccomp::Profile(p) => Some(seccomp_file::load(p, &bounding)?),
            Seccomp::Inline(j) => Some(seccomp_file::load_inline(j, &bounding)?),
        }
    };

    let user_mounts = mounts::user_mounts(o, img, volumes)?;
    let mut all_mounts = defaults::mounts(o);
    // A user mount at a default mount's place (e.g. /dev/shm) replaces it.
    all_mounts.retain(|d| {
        !user_mounts
            .iter()
            .any(|u| u["destination"] == d["destination"])
    });
    if let Some(dir) = etc_files {
        for (file, dest) in [
            ("hostname", "/etc/hostname"),
            ("hosts", "/etc/hosts"),
            ("resolv.conf", "/etc/resolv.conf"),
        ] {
            if !user_mounts.iter().any(|u| u["destination"] == dest) {
                all_mounts.push(json!({"destination": dest, "type": "bind", "source": dir.join(file), "options": ["rbind", "rprivate"]}));
            }
        }
    }
    all_mounts.extend(user_mounts);
    host_options::shm(&mut all_mounts, o, joined);
    if o.init {
        let bin = init_binary.ok_or_else(|| {
            Error::InvalidArgument(
                "--init: the berth-init binary was not found (it is installed next to berth)"
                    .into(),
            )
        })?;
        all_mounts.push(json!({"destination": INIT_PATH, "type": "bind", "source": bin, "options": ["bind", "ro", "nosuid", "nodev"]}));
        args = [INIT_PATH.to_string(), "--".to_string()]
            .into_iter()
            .chain(args)
            .collect();
    }

    let (dev_nodes, dev_rules) = devices::devices(o)?;
    let mut res = resources::linux_resources(o)?;
    res.insert("devices".into(), json!(dev_rules));

    let mut namespaces = defaults::namespaces(o, netns)?;
    host_options::namespaces(&mut namespaces, o, joined);
    let mut linux = json!({
        "namespaces": namespaces,
        "resources": res,
    });
    if !dev_nodes.is_empty() {
        linux["devices"] = json!(dev_nodes);
    }
    if !o.privileged {
        linux["maskedPaths"] = json!(defaults::MASKED_PATHS);
        linux["readonlyPaths"] = json!(defaults::READONLY_PATHS);
    }
    if let Some(s) = seccomp {
        linux["seccomp"] = s;
    }
    if let Some(s) = host_options::sysctls(defaults::sysctls(o, netns), o) {
        linux["sysctl"] = s;
    }
    if let Some(m) = defaults::id_mappings(o) {
        linux["uidMappings"] = m.clone();
        linux["gidMappings"] = m;
    }

    let mut process = json!({
        "terminal": o.tty,
        "user": {"uid": user.uid, "gid": user.gid},
        "args": args,
        "env": env,
        "cwd": cwd,
        "capabilities": {"bounding": bounding, "effective": effective, "permitted": permitted},
        "noNewPrivileges": o.no_new_privileges,
    });
    let mut gids = user.additional_gids.clone();
    for g in host_options::added_groups(rootfs, o)? {
        if !gids.contains(&g) {
            gids.push(g);
        }
    }
    if !gids.is_empty() {
        process["user"]["additionalGids"] = json!(gids);
    }
    if let Some(adj) = o.oom_score_adj {
        process["oomScoreAdj"] = json!(adj);
    }
    let rlimits = resources::rlimits(o);
    if !rlimits.is_empty() {
        process["rlimits"] = json!(rlimits);
    }
    let mut annotations = img.labels.clone();
    annotations.extend(o.labels.clone());

    let mut spec = json!({
        "ociVersion": "1.2.0",
        "process": process,
        "root": {"path": rootfs, "readonly": o.read_only},
        "hostname": hostname,
        "mounts": all_mounts,
        "linux": linux,
    });
    if o.uts_mode == crate::options::NamespaceMode::Host {
        // The host's own name: without a UTS namespace, setting one would rename the host.
        spec.as_object_mut().map(|m| m.remove("hostname"));
    }
    if !annotations.is_empty() {
        spec["annotations"] = json!(annotations);
    }
    Ok(spec)
}

/// `--hostname`, else the host's name with `--network host` or `--uts host`, else the
/// short container ID.
pub fn hostname(o: &RunOptions, id: &str) -> String {
    if let Some(h) = o.hostname.clone().filter(|h| !h.is_empty()) {
        return h;
    }
    if o.network == crate::options::Network::Host
        || o.uts_mode == crate::options::NamespaceMode::Host
    {
        if let Ok(h) = nix::unistd::gethostname() {
            return h.to_string_lossy().into_owned();
        }
    }
    id.chars().take(12).collect()
}

/// The signal that stops the container: `--stop-signal`, else the image's StopSignal, else
/// SIGTERM.
pub fn stop_signal(o: &RunOptions, img: &ImageConfig) -> Result<i32> {
    let s = o
        .stop_signal
        .as_deref()
        .or(img.stop_signal.as_deref())
        .filter(|s| !s.is_empty());
    match s {
        None => Ok(libc::SIGTERM),
        Some(s) => crate::options::parse::signal_number(s)
            .ok_or_else(|| Error::InvalidArgument(format!("Invalid signal: {s}"))),
    }
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
        return Err(Error::InvalidArgument("no command specified".into()));
    }
    Ok(args)
}
