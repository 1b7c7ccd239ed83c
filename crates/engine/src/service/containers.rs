//! Listing containers as Docker's `GET /containers/json` does: filters, `all`, `limit`,
//! `size`, and each container as the API's ContainerSummary.

use super::filters::{label_matches, Filters};
use crate::container::{health, host_config, options_of};
use crate::options::{MountKind, RunOptions};
use crate::store::{Row, State};
use crate::{Engine, Error, Result};
use berth_image::timestamp;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;

/// The filters `list` knows.
pub const FILTERS: &[&str] = &[
    "status", "name", "id", "label", "ancestor", "exited", "health", "before", "since", "volume",
    "network", "is-task",
];

const STATUSES: &[&str] = &[
    "created",
    "restarting",
    "running",
    "removing",
    "paused",
    "exited",
    "dead",
];

const HEALTHS: &[&str] = &["starting", "healthy", "unhealthy", "none"];

#[derive(Debug, Clone, Default)]
pub struct ListOptions {
    /// Stopped containers too (else only running, paused and restarting ones).
    pub all: bool,
    /// The `n` most recently created containers, stopped ones included.
    pub limit: Option<usize>,
    /// Fill `SizeRw` and `SizeRootFs`.
    pub size: bool,
    pub filters: Filters,
}

/// One published or exposed port of a running container.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Port {
    #[serde(rename = "IP", skip_serializing_if = "Option::is_none", default)]
    pub ip: Option<String>,
    #[serde(rename = "PrivatePort")]
    pub private_port: u16,
    #[serde(
        rename = "PublicPort",
        skip_serializing_if = "Option::is_none",
        default
    )]
    pub public_port: Option<u16>,
    /// `tcp`, `udp` or `sctp`.
    #[serde(rename = "Type")]
    pub kind: String,
}

/// Docker's MountPoint: a volume's `Source` is where its data is on the host.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct MountPoint {
    /// `bind`, `volume` or `tmpfs`.
    #[serde(rename = "Type")]
    pub kind: String,
    /// A named volume's name (absent for other mounts, as Docker omits it).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub name: Option<String>,
    pub source: String,
    pub destination: String,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub driver: Option<String>,
    pub mode: String,
    #[serde(rename = "RW")]
    pub rw: bool,
    pub propagation: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SummaryHostConfig {
    #[serde(rename = "NetworkMode")]
    pub network_mode: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SummaryNetworkSettings {
    /// Network name -> Docker's EndpointSettings, as `inspect` shows them.
    #[serde(rename = "Networks")]
    pub networks: BTreeMap<String, Value>,
}

/// The API's ContainerSummary.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ContainerSummary {
    pub id: String,
    /// `/name`.
    pub names: Vec<String>,
    /// The image as the user named it (its ID if it was given by ID).
    pub image: String,
    #[serde(rename = "ImageID")]
    pub image_id: String,
    /// The process's arguments joined by spaces.
    pub command: String,
    /// Unix seconds.
    pub created: i64,
    pub ports: Vec<Port>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub size_rw: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub size_root_fs: Option<i64>,
    pub labels: BTreeMap<String, String>,
    /// `created`, `running`, `paused`, `restarting`, `exited`, `removing`, `dead`.
    pub state: String,
    /// `Up 3 seconds (healthy)`, `Exited (0) 2 minutes ago`, `Created`.
    pub status: String,
    pub host_config: SummaryHostConfig,
    pub network_settings: SummaryNetworkSettings,
    pub mounts: Vec<MountPoint>,
}

/// What a listing fills beyond the cheap fields.
#[derive(Debug, Clone, Copy)]
pub struct Detail {
    /// `NetworkSettings.Networks` (reads the network database for bridge containers).
    pub networks: bool,
    /// `Labels`, `Mounts` and `HostConfig.NetworkMode`, which decode the row's options
    /// (the most a row costs to list after the look at its init).
    pub options: bool,
}

impl Detail {
    pub const ALL: Detail = Detail {
        networks: true,
        options: true,
    };
}

/// The containers `o` selects, newest first.
pub fn list(e: &Engine, o: &ListOptions) -> Result<Vec<ContainerSummary>> {
    list_with(e, o, Detail::ALL)
}

/// [`list`], leaving out what `detail` does not ask for (a CLI table without a NETWORKS
/// column need not open the network database).
pub fn list_with(e: &Engine, o: &ListOptions, detail: Detail) -> Result<Vec<ContainerSummary>> {
    let f = &o.filters;
    check_filters(f)?;
    let limit = o.limit.filter(|n| *n > 0);
    let all = o.all || limit.is_some() || f.contains("status") || f.contains("exited");
    let mut rows = e.list()?;
    // `before=`/`since=` name containers: the listing (newest first) is cut at them.
    let position = |arg: &String| -> Result<usize> {
        let id = e.find(arg)?.id;
        Ok(rows.iter().position(|r| r.id == id).unwrap_or(usize::MAX))
    };
    let before = f
        .get("before")
        .iter()
        .map(position)
        .collect::<Result<Vec<_>>>()?;
    let since = f
        .get("since")
        .iter()
        .map(position)
        .collect::<Result<Vec<_>>>()?;
    if let Some(n) = limit {
        rows.truncate(n);
    }
    let now = timestamp::now();
    let mut out = Vec::new();
    for (i, r) in rows.iter().enumerate() {
        if !all && !matches!(r.state, State::Running | State::Paused | State::Restarting) {
            continue;
        }
        if before.iter().any(|b| i <= *b) || since.iter().any(|b| i >= *b) {
            continue;
        }
        if !matches_filters(e, r, f) {
            continue;
        }
        out.push(summary(e, r, o.size, detail, now));
    }
    Ok(out)
}

/// Docker's errors for unknown keys and values no container can have.
pub fn check_filters(f: &Filters) -> Result<()> {
    f.validate(FILTERS)?;
    let bad = |m: String| Err(Error::InvalidArgument(m));
    for v in f.get("health") {
        if !HEALTHS.contains(&v.as_str()) {
            return bad(format!("Unrecognised filter value for health: {v}"));
        }
    }
    for v in f.get("status") {
        if !STATUSES.contains(&v.as_str()) {
            return bad(format!("invalid filter 'status={v}'"));
        }
    }
    for v in f.get("exited") {
        if v.parse::<i32>().is_err() {
            return bad(format!("invalid filter 'exited={v}'"));
        }
    }
    for v in f.get("is-task") {
        super::filters::parse_bool("is-task", v)?;
    }
    Ok(())
}

fn matches_filters(e: &Engine, r: &Row, f: &Filters) -> bool {
    let any = |key: &str, pred: &dyn Fn(&str) -> bool| {
        let values = f.get(key);
        values.is_empty() || values.iter().any(|v| pred(v))
    };
    any("status", &|v| r.state.as_str() == v)
        && any("name", &|v| r.name.contains(v.trim_start_matches('/')))
        && any("id", &|v| r.id.starts_with(v))
        && any("exited", &|v| {
            r.state == State::Exited && v.parse::<i32>().is_ok_and(|n| n == r.exit_code)
        })
        && any("ancestor", &|v| is_ancestor(r, v))
        && (!f.contains("health") || {
            let h = health_status(e, r);
            f.get("health").contains(&h)
        })
        // Berth runs no swarm tasks.
        && any("is-task", &|v| !matches!(v.to_ascii_lowercase().as_str(), "true" | "1"))
        && (!f.contains("volume") || {
            let mounts = mount_points(&e.root, &options_of(r));
            f.get("volume").iter().any(|v| {
                mounts.iter().any(|m| {
                    m.name.as_deref() == Some(v.as_str()) || m.source == *v || m.destination == *v
                })
            })
        })
        && (!f.contains("network") || {
            let settings = e.network_settings(r);
            let networks = settings["Networks"].as_object().cloned().unwrap_or_default();
            f.get("network").iter().any(|v| {
                networks.iter().any(|(name, ep)| {
                    name == v
                        || ep["NetworkID"]
                            .as_str()
                            .is_some_and(|id| !id.is_empty() && id.starts_with(v.as_str()))
                })
            })
        })
        // Every label filter must hold, as the daemon's `label` rule.
        && (!f.contains("label") || {
            let labels = options_of(r).labels;
            f.get("label").iter().all(|l| label_matches(l, &labels))
        })
}

/// `ancestor=`: the image by the name it was run with, its ID or an ID prefix.
fn is_ancestor(r: &Row, v: &str) -> bool {
    let full = |s: &str| {
        s.parse::<berth_image::Reference>()
            .map(|x| x.to_string())
            .ok()
    };
    r.image == v
        || r.image_id == v
        || r.image_id
            .trim_start_matches("sha256:")
            .starts_with(v.trim_start_matches("sha256:"))
        || (full(&r.image).is_some() && full(&r.image) == full(v))
}

/// `health=` filter's value: the status, `none` without a healthcheck.
fn health_status(e: &Engine, r: &Row) -> String {
    health::read(e, r).map_or_else(|| "none".into(), |h| h.status)
}

fn secs(t: &str) -> i64 {
    timestamp::parse_rfc3339(t).unwrap_or(0)
}

/// Docker's human duration (`3 seconds`, `About a minute`).
fn duration(since: i64, now: i64) -> String {
    let ago = timestamp::ago(since, now);
    ago.strip_suffix(" ago").unwrap_or(&ago).to_string()
}

/// `Up 3 seconds`, `Exited (0) 2 minutes ago`, `Created` (without the health).
pub fn status(r: &Row, now: i64) -> String {
    match r.state {
        State::Created => "Created".into(),
        State::Running => format!("Up {}", duration(secs(&r.started_at), now)),
        State::Paused => format!("Up {} (Paused)", duration(secs(&r.started_at), now)),
        State::Restarting => format!(
            "Restarting ({}) {}",
            r.exit_code,
            timestamp::ago(secs(&r.finished_at), now)
        ),
        State::Exited => format!(
            "Exited ({}) {}",
            r.exit_code,
            timestamp::ago(secs(&r.finished_at), now)
        ),
        State::Removing => "Removal In Progress".into(),
        State::Dead => "Dead".into(),
    }
}

/// The health a running container's status shows, as docker: ` (healthy)`.
fn health_suffix(e: &Engine, r: &Row, o: &crate::options::RunOptions) -> String {
    match health::read_with(e, r, o).map(|h| h.status) {
        Some(s) if s == "starting" => " (health: starting)".into(),
        Some(s) => format!(" ({s})"),
        None => String::new(),
    }
}

/// Of a row's options, only the health check (which `Status` shows), decoded without the
/// rest.
fn healthcheck_only(r: &Row) -> crate::options::RunOptions {
    #[derive(serde::Deserialize)]
    struct Only {
        #[serde(default)]
        healthcheck: Option<crate::options::Healthcheck>,
    }
    let only: Option<Only> = serde_json::from_str(&r.options).ok();
    crate::options::RunOptions {
        healthcheck: only.and_then(|o| o.healthcheck),
        ..Default::default()
    }
}

/// The command as docker shows it: Entrypoint + Cmd joined by spaces, as the row records it;
/// for a row made before it did, the process's args (only they are decoded: a config.json
/// is mostly its seccomp profile, which a listing skips over).
fn command_of(e: &Engine, r: &Row) -> String {
    if !r.command.is_empty() {
        return r.command.clone();
    }
    #[derive(serde::Deserialize, Default)]
    struct Spec {
        #[serde(default)]
        process: Process,
    }
    #[derive(serde::Deserialize, Default)]
    struct Process {
        #[serde(default)]
        args: Vec<String>,
    }
    std::fs::read(e.dir(&r.id).join("config.json"))
        .ok()
        .and_then(|b| serde_json::from_slice::<Spec>(&b).ok())
        .unwrap_or_default()
        .process
        .args
        .join(" ")
}

/// The ports a live container publishes or exposes (its ports file; none once it stops),
/// in the file's order.
fn ports_of(e: &Engine, r: &Row) -> Vec<Port> {
    if !r.state.is_live() {
        return Vec::new();
    }
    let ports: Value = std::fs::read(e.dir(&r.id).join(crate::network::lifecycle::PORTS_FILE))
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or_default();
    let mut out = Vec::new();
    for (port, bindings) in ports.as_object().into_iter().flatten() {
        let (num, proto) = port.split_once('/').unwrap_or((port, "tcp"));
        let Ok(private_port) = num.parse() else {
            continue;
        };
        match bindings.as_array().filter(|l| !l.is_empty()) {
            Some(list) => {
                for b in list {
                    let ip = match b["HostIp"].as_str().unwrap_or("") {
                        "" => "0.0.0.0",
                        ip => ip,
                    };
                    out.push(Port {
                        ip: Some(ip.to_string()),
                        private_port,
                        public_port: b["HostPort"].as_str().and_then(|p| p.parse().ok()),
                        kind: proto.to_string(),
                    });
                }
            }
            None => out.push(Port {
                ip: None,
                private_port,
                public_port: None,
                kind: proto.to_string(),
            }),
        }
    }
    out
}

/// Docker's MountPoints of a container's options.
pub fn mount_points(root: &std::path::Path, o: &RunOptions) -> Vec<MountPoint> {
    o.mounts
        .iter()
        .map(|m| {
            let volume = (m.kind == MountKind::Volume)
                .then(|| m.source.clone())
                .flatten();
            let kind = match m.kind {
                MountKind::Bind => "bind",
                MountKind::Volume => "volume",
                MountKind::Tmpfs => "tmpfs",
            };
            MountPoint {
                kind: kind.into(),
                source: match &volume {
                    Some(name) => crate::volume::mountpoint_in(root, name)
                        .display()
                        .to_string(),
                    None => m.source.clone().unwrap_or_default(),
                },
                destination: m.target.clone(),
                mode: if m.read_only { "ro" } else { "" }.into(),
                rw: !m.read_only,
                propagation: String::new(),
                driver: volume.as_ref().map(|_| "local".to_string()),
                name: volume,
            }
        })
        .collect()
}

/// Bytes of the image's unpacked layers (0 if it is gone).
fn image_size(e: &Engine, image_id: &str) -> u64 {
    let Ok(id) = image_id.parse() else {
        return 0;
    };
    let (Ok(md), Ok(snaps)) = (super::metadata(e), super::snapshots(e)) else {
        return 0;
    };
    match md.image(&id) {
        Ok(Some(img)) => super::images::size_of(&snaps, &img),
        _ => 0,
    }
}

fn summary(e: &Engine, r: &Row, size: bool, detail: Detail, now: i64) -> ContainerSummary {
    let o = if detail.options || detail.networks {
        options_of(r)
    } else {
        healthcheck_only(r)
    };
    let (size_rw, size_root_fs) = if size {
        let upper = berth_image::gc::disk_usage(&e.dir(&r.id).join("upper"));
        let image = image_size(e, &r.image_id);
        (Some(upper as i64), Some((upper + image) as i64))
    } else {
        (None, None)
    };
    let networks = if detail.networks {
        e.endpoints(r, &o).0.into_iter().collect()
    } else {
        BTreeMap::new()
    };
    let status = if r.state == State::Running {
        status(r, now) + &health_suffix(e, r, &o)
    } else {
        status(r, now)
    };
    ContainerSummary {
        id: r.id.clone(),
        names: vec![format!("/{}", r.name)],
        image: if r.image.is_empty() {
            r.image_id.clone()
        } else {
            r.image.clone()
        },
        image_id: r.image_id.clone(),
        command: command_of(e, r),
        created: secs(&r.created),
        ports: ports_of(e, r),
        size_rw,
        size_root_fs,
        labels: o.labels.clone(),
        state: r.state.as_str().to_string(),
        status,
        host_config: SummaryHostConfig {
            network_mode: host_config::network_mode(&o.network),
        },
        network_settings: SummaryNetworkSettings { networks },
        mounts: if detail.options {
            mount_points(&e.root, &o)
        } else {
            Vec::new()
        },
    }
}
