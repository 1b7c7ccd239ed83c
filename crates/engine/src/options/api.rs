//! The body of the Engine API's `POST /containers/create` (Config fields at the top,
//! `HostConfig`, `NetworkingConfig`; API 1.41 to 1.45) as [`RunOptions`], through the same
//! parsers the CLI's flags go through, with dockerd's semantics where they differ from the
//! CLI's: zero values mean "unset", `null` is allowed wherever a value is, unknown fields
//! are ignored, an Env entry without `=` is kept as given (it unsets that name), and the
//! image is never pulled here. A value Berth cannot honour is an error naming the field
//! (`HostConfig.CgroupParent`), never dropped; a parser's error names the field instead of
//! the flag.

mod config;
mod limits;
mod mounts;
mod network;
mod security;
mod update;

pub use update::update_request;

use super::parse::{self, SecurityOpt};
use super::{host_config, Healthcheck, LogConfig, Network, PullPolicy, RunOptions};
use super::{RestartPolicy, Seccomp};
use crate::{Error, Result};
use serde::{Deserialize, Deserializer};
use serde_json::Value;
use std::collections::BTreeMap;

/// The body of POST /containers/create (Docker Engine API): Config fields at top level.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CreateRequest {
    pub hostname: Option<String>,
    pub domainname: Option<String>,
    pub user: Option<String>,
    pub attach_stdin: Option<bool>,
    pub attach_stdout: Option<bool>,
    pub attach_stderr: Option<bool>,
    /// `{"80/tcp": {}}`
    pub exposed_ports: Option<BTreeMap<String, Value>>,
    pub tty: Option<bool>,
    pub open_stdin: Option<bool>,
    pub stdin_once: Option<bool>,
    #[serde(default, deserialize_with = "strings")]
    pub env: Option<Vec<String>>,
    #[serde(default, deserialize_with = "str_slice")]
    pub cmd: Option<Vec<String>>,
    pub healthcheck: Option<HealthConfig>,
    pub args_escaped: Option<bool>,
    pub image: Option<String>,
    /// `{"/data": {}}`: anonymous volumes.
    pub volumes: Option<BTreeMap<String, Value>>,
    pub working_dir: Option<String>,
    #[serde(default, deserialize_with = "str_slice")]
    pub entrypoint: Option<Vec<String>>,
    pub network_disabled: Option<bool>,
    pub mac_address: Option<String>,
    #[serde(default, deserialize_with = "strings")]
    pub on_build: Option<Vec<String>>,
    #[serde(default, deserialize_with = "string_map")]
    pub labels: Option<BTreeMap<String, String>>,
    pub stop_signal: Option<String>,
    pub stop_timeout: Option<i64>,
    #[serde(default, deserialize_with = "str_slice")]
    pub shell: Option<Vec<String>>,
    pub host_config: Option<HostConfig>,
    pub networking_config: Option<NetworkingConfig>,
}

/// Config.Healthcheck: durations in nanoseconds.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct HealthConfig {
    #[serde(default, deserialize_with = "strings")]
    pub test: Option<Vec<String>>,
    pub interval: Option<i64>,
    pub timeout: Option<i64>,
    pub start_period: Option<i64>,
    pub start_interval: Option<i64>,
    pub retries: Option<i64>,
}

/// The HostConfig keys Berth reads: those it maps, and those it refuses when set.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct HostConfig {
    #[serde(default, deserialize_with = "strings")]
    pub binds: Option<Vec<String>>,
    pub log_config: Option<ApiLogConfig>,
    pub network_mode: Option<String>,
    pub port_bindings: Option<BTreeMap<String, Option<Vec<PortBinding>>>>,
    pub restart_policy: Option<ApiRestartPolicy>,
    pub auto_remove: Option<bool>,
    pub volume_driver: Option<String>,
    #[serde(default, deserialize_with = "strings")]
    pub volumes_from: Option<Vec<String>>,
    pub mounts: Option<Vec<ApiMount>>,
    #[serde(default, deserialize_with = "string_map")]
    pub annotations: Option<BTreeMap<String, String>>,
    #[serde(default, deserialize_with = "strings")]
    pub cap_add: Option<Vec<String>>,
    #[serde(default, deserialize_with = "strings")]
    pub cap_drop: Option<Vec<String>>,
    pub cgroupns_mode: Option<String>,
    #[serde(default, deserialize_with = "strings")]
    pub dns: Option<Vec<String>>,
    #[serde(default, deserialize_with = "strings")]
    pub dns_options: Option<Vec<String>>,
    #[serde(default, deserialize_with = "strings")]
    pub dns_search: Option<Vec<String>>,
    #[serde(default, deserialize_with = "strings")]
    pub extra_hosts: Option<Vec<String>>,
    #[serde(default, deserialize_with = "strings")]
    pub group_add: Option<Vec<String>>,
    pub ipc_mode: Option<String>,
    pub cgroup: Option<String>,
    #[serde(default, deserialize_with = "strings")]
    pub links: Option<Vec<String>>,
    pub oom_score_adj: Option<i64>,
    pub pid_mode: Option<String>,
    pub privileged: Option<bool>,
    pub publish_all_ports: Option<bool>,
    pub readonly_rootfs: Option<bool>,
    #[serde(default, deserialize_with = "strings")]
    pub security_opt: Option<Vec<String>>,
    #[serde(default, deserialize_with = "string_map")]
    pub storage_opt: Option<BTreeMap<String, String>>,
    #[serde(default, deserialize_with = "string_map")]
    pub tmpfs: Option<BTreeMap<String, String>>,
    #[serde(rename = "UTSMode")]
    pub uts_mode: Option<String>,
    pub userns_mode: Option<String>,
    pub shm_size: Option<i64>,
    #[serde(default, deserialize_with = "string_map")]
    pub sysctls: Option<BTreeMap<String, String>>,
    pub runtime: Option<String>,
    pub isolation: Option<String>,
    #[serde(default, deserialize_with = "strings")]
    pub masked_paths: Option<Vec<String>>,
    #[serde(default, deserialize_with = "strings")]
    pub readonly_paths: Option<Vec<String>>,
    pub init: Option<bool>,
    // Resources
    pub cpu_shares: Option<i64>,
    pub memory: Option<i64>,
    pub nano_cpus: Option<i64>,
    pub cgroup_parent: Option<String>,
    pub blkio_weight: Option<i64>,
    pub blkio_weight_device: Option<Vec<Value>>,
    pub blkio_device_read_bps: Option<Vec<Value>>,
    pub blkio_device_write_bps: Option<Vec<Value>>,
    #[serde(rename = "BlkioDeviceReadIOps")]
    pub blkio_device_read_iops: Option<Vec<Value>>,
    #[serde(rename = "BlkioDeviceWriteIOps")]
    pub blkio_device_write_iops: Option<Vec<Value>>,
    pub cpu_period: Option<i64>,
    pub cpu_quota: Option<i64>,
    pub cpu_realtime_period: Option<i64>,
    pub cpu_realtime_runtime: Option<i64>,
    pub cpuset_cpus: Option<String>,
    pub cpuset_mems: Option<String>,
    pub devices: Option<Vec<DeviceMapping>>,
    #[serde(default, deserialize_with = "strings")]
    pub device_cgroup_rules: Option<Vec<String>>,
    pub device_requests: Option<Vec<Value>>,
    pub kernel_memory: Option<i64>,
    #[serde(rename = "KernelMemoryTCP")]
    pub kernel_memory_tcp: Option<i64>,
    pub memory_reservation: Option<i64>,
    pub memory_swap: Option<i64>,
    pub memory_swappiness: Option<i64>,
    pub oom_kill_disable: Option<bool>,
    pub pids_limit: Option<i64>,
    pub ulimits: Option<Vec<ApiUlimit>>,
    pub cpu_count: Option<i64>,
    pub cpu_percent: Option<i64>,
    #[serde(rename = "IOMaximumIOps")]
    pub io_maximum_iops: Option<u64>,
    #[serde(rename = "IOMaximumBandwidth")]
    pub io_maximum_bandwidth: Option<u64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ApiLogConfig {
    #[serde(rename = "Type")]
    pub kind: Option<String>,
    #[serde(default, deserialize_with = "string_map")]
    pub config: Option<BTreeMap<String, String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct PortBinding {
    pub host_ip: Option<String>,
    pub host_port: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ApiRestartPolicy {
    pub name: Option<String>,
    pub maximum_retry_count: Option<i64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DeviceMapping {
    pub path_on_host: Option<String>,
    pub path_in_container: Option<String>,
    pub cgroup_permissions: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ApiUlimit {
    pub name: Option<String>,
    pub soft: Option<i64>,
    pub hard: Option<i64>,
}

/// One of HostConfig.Mounts.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ApiMount {
    #[serde(rename = "Type")]
    pub kind: Option<String>,
    pub source: Option<String>,
    pub target: Option<String>,
    pub read_only: Option<bool>,
    pub consistency: Option<String>,
    pub bind_options: Option<BindOptions>,
    pub volume_options: Option<VolumeOptions>,
    pub tmpfs_options: Option<TmpfsOptions>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct BindOptions {
    pub propagation: Option<String>,
    pub non_recursive: Option<bool>,
    pub create_mountpoint: Option<bool>,
    pub read_only_non_recursive: Option<bool>,
    pub read_only_force_recursive: Option<bool>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct VolumeOptions {
    pub no_copy: Option<bool>,
    #[serde(default, deserialize_with = "string_map")]
    pub labels: Option<BTreeMap<String, String>>,
    pub driver_config: Option<DriverConfig>,
    pub subpath: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DriverConfig {
    pub name: Option<String>,
    #[serde(default, deserialize_with = "string_map")]
    pub options: Option<BTreeMap<String, String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct TmpfsOptions {
    pub size_bytes: Option<i64>,
    pub mode: Option<u32>,
    pub options: Option<Vec<Value>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct NetworkingConfig {
    pub endpoints_config: Option<BTreeMap<String, Option<EndpointSettings>>>,
}

/// One of NetworkingConfig.EndpointsConfig (the keys a client may set; the others are
/// outputs of inspect and ignored).
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct EndpointSettings {
    #[serde(rename = "IPAMConfig")]
    pub ipam_config: Option<EndpointIpam>,
    #[serde(default, deserialize_with = "strings")]
    pub links: Option<Vec<String>>,
    #[serde(default, deserialize_with = "strings")]
    pub aliases: Option<Vec<String>>,
    pub mac_address: Option<String>,
    #[serde(default, deserialize_with = "string_map")]
    pub driver_opts: Option<BTreeMap<String, String>>,
}

#[derive(Debug, Default, Deserialize)]
pub struct EndpointIpam {
    #[serde(rename = "IPv4Address")]
    pub ipv4_address: Option<String>,
    #[serde(rename = "IPv6Address")]
    pub ipv6_address: Option<String>,
    #[serde(rename = "LinkLocalIPs")]
    #[serde(default, deserialize_with = "strings")]
    pub link_local_ips: Option<Vec<String>>,
}

/// Go's `strslice.StrSlice`: a JSON array of strings, or one string as a one-item list.
fn str_slice<'de, D: Deserializer<'de>>(
    d: D,
) -> std::result::Result<Option<Vec<String>>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum OneOrMany {
        One(String),
        Many(Vec<Option<String>>),
    }
    Ok(match Option::<OneOrMany>::deserialize(d)? {
        None => None,
        Some(OneOrMany::One(s)) => Some(vec![s]),
        Some(OneOrMany::Many(v)) => Some(v.into_iter().map(Option::unwrap_or_default).collect()),
    })
}

/// A list of strings whose `null` items are "", as Go decodes them.
fn strings<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<Option<Vec<String>>, D::Error> {
    let v = Option::<Vec<Option<String>>>::deserialize(d)?;
    Ok(v.map(|v| v.into_iter().map(Option::unwrap_or_default).collect()))
}

/// A map of strings whose `null` values are "", as Go decodes them.
fn string_map<'de, D: Deserializer<'de>>(
    d: D,
) -> std::result::Result<Option<BTreeMap<String, String>>, D::Error> {
    let m = Option::<BTreeMap<String, Option<String>>>::deserialize(d)?;
    Ok(m.map(|m| {
        m.into_iter()
            .map(|(k, v)| (k, v.unwrap_or_default()))
            .collect()
    }))
}

/// The request from its JSON body; a value of the wrong type is an
/// [`Error::InvalidArgument`] naming the field's path (`HostConfig.Memory`).
pub fn parse_request(body: &[u8]) -> Result<CreateRequest> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(Error::InvalidArgument(
            "config cannot be empty in order to create a container".into(),
        ));
    }
    let mut de = serde_json::Deserializer::from_slice(body);
    let req = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        match path.as_str() {
            "." => Error::InvalidArgument(format!("invalid JSON: {}", e.inner())),
            _ => Error::InvalidArgument(format!("invalid JSON at {path}: {}", e.inner())),
        }
    })?;
    de.end()
        .map_err(|e| Error::InvalidArgument(format!("invalid JSON: {e}")))?;
    Ok(req)
}

/// A parser's error about a value, naming `field` where the CLI names its flag.
fn at<T>(field: &str, r: Result<T>) -> Result<T> {
    r.map_err(|e| match e {
        Error::InvalidValue { value, why, .. } => Error::InvalidValue {
            flag: field.to_string(),
            value,
            why,
        },
        e => e,
    })
}

/// A field set to a value Berth has no way to honour.
fn unsupported(field: &str, value: impl std::fmt::Debug) -> Error {
    Error::InvalidArgument(format!(
        "{field} {value:?} is not supported by Berth (leave it empty or unset)"
    ))
}

/// Refuses `field` when `set` (its value, shown as given).
fn refuse<T: std::fmt::Debug>(field: &str, v: &Option<T>, set: impl Fn(&T) -> bool) -> Result<()> {
    match v {
        Some(x) if set(x) => Err(unsupported(field, x)),
        _ => Ok(()),
    }
}

fn non_empty(s: &Option<String>) -> Option<String> {
    s.as_ref().filter(|s| !s.is_empty()).cloned()
}

fn list(v: &Option<Vec<String>>) -> &[String] {
    v.as_deref().unwrap_or_default()
}

/// The container `req` asks for, named `name` (the `?name=` of the request, `/web` or
/// `web`; None: a generated name), as [`RunOptions`]. The image is not looked up here: the
/// caller resolves `image` (never pulling, as dockerd's create does not).
pub fn run_options(req: &CreateRequest, name: Option<&str>) -> Result<RunOptions> {
    let image = non_empty(&req.image).ok_or_else(|| {
        Error::InvalidArgument("Config.Image is empty: a container needs an image".into())
    })?;
    let name = name
        .map(|n| n.strip_prefix('/').unwrap_or(n))
        .filter(|n| !n.is_empty());
    if let Some(n) = name {
        crate::names::validate(n)?;
    }
    let attached = [req.attach_stdin, req.attach_stdout, req.attach_stderr]
        .iter()
        .any(|a| a.unwrap_or(false));
    let mut o = RunOptions {
        name: name.map(str::to_string),
        image,
        cmd: req.cmd.clone().unwrap_or_default(),
        // `[]` and the docker CLI's `[""]` for `--entrypoint ""`: the image's is cleared.
        entrypoint: req.entrypoint.as_ref().map(|e| match e.as_slice() {
            [only] if only.is_empty() => vec![],
            _ => e.clone(),
        }),
        env: req.env.clone().unwrap_or_default(),
        user: non_empty(&req.user),
        hostname: non_empty(&req.hostname),
        labels: req.labels.clone().unwrap_or_default(),
        stop_timeout: req.stop_timeout,
        tty: req.tty.unwrap_or(false),
        interactive: req.open_stdin.unwrap_or(false),
        detach: !attached,
        pull: PullPolicy::Never,
        ..Default::default()
    };
    // `80/tcp`, `53/udp` or a range, checked as `-p`'s container part.
    for key in req.exposed_ports.iter().flat_map(|p| p.keys()) {
        for p in at("ExposedPorts", parse::publish(key))? {
            o.exposed_ports
                .push(format!("{}/{}", p.container_port, p.proto));
        }
    }
    config::config(req, &mut o)?;
    let hc = req.host_config.as_ref();
    let default_hc = HostConfig::default();
    let hc = hc.unwrap_or(&default_hc);
    limits::refused_host_config(hc)?;
    mounts::mounts(req, hc, &mut o)?;
    limits::resources(hc, &mut o)?;
    security::security(hc, &mut o)?;
    security::namespaces(hc, &mut o)?;
    network::network(req, hc, &mut o)?;
    o.restart = config::restart(hc)?;
    o.auto_remove = hc.auto_remove.unwrap_or(false);
    if o.auto_remove && o.restart != RestartPolicy::No {
        return Err(Error::InvalidArgument(
            "conflicting options: AutoRemove and restart policy".into(),
        ));
    }
    o.log = config::log_config(hc)?;
    o.read_only = hc.readonly_rootfs.unwrap_or(false);
    o.init = hc.init.unwrap_or(false);
    o.runtime = non_empty(&hc.runtime).map(Into::into);
    host_config::check(&o)?;
    crate::spec::resources::validate(&o)?;
    Ok(o)
}
