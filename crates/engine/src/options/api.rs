//! The body of the Engine API's `POST /containers/create` (Config fields at the top,
//! `HostConfig`, `NetworkingConfig`; API 1.41 to 1.45) as [`RunOptions`], through the same
//! parsers the CLI's flags go through, with dockerd's semantics where they differ from the
//! CLI's: zero values mean "unset", `null` is allowed wherever a value is, unknown fields
//! are ignored, an Env entry without `=` is kept as given (it unsets that name), and the
//! image is never pulled here. A value Berth cannot honour is an error naming the field
//! (`HostConfig.CgroupParent`), never dropped; a parser's error names the field instead of
//! the flag.

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
        exposed_ports: req
            .exposed_ports
            .as_ref()
            .map(|p| p.keys().cloned().collect())
            .unwrap_or_default(),
        ..Default::default()
    };
    config(req, &mut o)?;
    let hc = req.host_config.as_ref();
    let default_hc = HostConfig::default();
    let hc = hc.unwrap_or(&default_hc);
    refused_host_config(hc)?;
    mounts(req, hc, &mut o)?;
    resources(hc, &mut o)?;
    security(hc, &mut o)?;
    namespaces(hc, &mut o)?;
    network(req, hc, &mut o)?;
    o.restart = restart(hc)?;
    o.auto_remove = hc.auto_remove.unwrap_or(false);
    if o.auto_remove && o.restart != RestartPolicy::No {
        return Err(Error::InvalidArgument(
            "conflicting options: AutoRemove and restart policy".into(),
        ));
    }
    o.log = log_config(hc)?;
    o.read_only = hc.readonly_rootfs.unwrap_or(false);
    o.init = hc.init.unwrap_or(false);
    o.runtime = non_empty(&hc.runtime).map(Into::into);
    host_config::check(&o)?;
    crate::spec::resources::validate(&o)?;
    Ok(o)
}

/// The Config keys past the plain copies.
fn config(req: &CreateRequest, o: &mut RunOptions) -> Result<()> {
    refuse("Domainname", &req.domainname, |d| !d.is_empty())?;
    refuse("MacAddress", &req.mac_address, |m| !m.is_empty())?;
    if let Some(e) = o
        .env
        .iter()
        .find(|e| e.contains('\0') || e.starts_with('='))
    {
        return Err(Error::invalid(
            "Env",
            e,
            "invalid environment variable: no name or a NUL byte",
        ));
    }
    if let Some(w) = non_empty(&req.working_dir) {
        if !w.starts_with('/') {
            return Err(Error::InvalidArgument(format!(
                "the working directory '{w}' is invalid, it needs to be an absolute path"
            )));
        }
        o.workdir = Some(w);
    }
    if let Some(s) = non_empty(&req.stop_signal) {
        o.stop_signal = Some(at("StopSignal", parse::stop_signal(&s))?);
    }
    o.healthcheck = req
        .healthcheck
        .as_ref()
        .map(healthcheck)
        .transpose()?
        .flatten();
    Ok(())
}

/// dockerd's checks of Config.Healthcheck: durations of at least 1 ms when set, no
/// negative retries, a test that starts with NONE, CMD or CMD-SHELL.
fn healthcheck(h: &HealthConfig) -> Result<Option<Healthcheck>> {
    const MIN: i64 = 1_000_000;
    let d = |field: &str, v: Option<i64>| -> Result<i64> {
        match v.unwrap_or(0) {
            0 => Ok(0),
            n if n < MIN => Err(Error::InvalidArgument(format!(
                "{field} in Healthcheck cannot be less than 1ms"
            ))),
            n => Ok(n),
        }
    };
    refuse("Healthcheck.StartInterval", &h.start_interval, |n| *n != 0)?;
    let retries = h.retries.unwrap_or(0);
    if retries < 0 {
        return Err(Error::InvalidArgument(
            "Retries in Healthcheck cannot be negative".into(),
        ));
    }
    let test = h.test.clone().unwrap_or_default();
    match test.first().map(String::as_str) {
        None | Some("NONE") | Some("CMD") | Some("CMD-SHELL") => {}
        Some(other) => {
            return Err(Error::invalid(
                "Healthcheck.Test",
                other,
                "the test must start with NONE, CMD or CMD-SHELL",
            ))
        }
    }
    let check = Healthcheck {
        test,
        interval: d("Interval", h.interval)?,
        timeout: d("Timeout", h.timeout)?,
        start_period: d("StartPeriod", h.start_period)?,
        retries,
    };
    Ok((check != Healthcheck::default()).then_some(check))
}

/// The HostConfig keys whose every non-empty value is beyond Berth.
fn refused_host_config(hc: &HostConfig) -> Result<()> {
    let set = |s: &String| !s.is_empty();
    let any = |v: &Vec<Value>| !v.is_empty();
    let nonzero = |n: &i64| *n != 0;
    refuse("HostConfig.VolumeDriver", &hc.volume_driver, |d| {
        !d.is_empty() && d != "local"
    })?;
    refuse("HostConfig.Annotations", &hc.annotations, |a| !a.is_empty())?;
    refuse("HostConfig.Cgroup", &hc.cgroup, set)?;
    refuse("HostConfig.CgroupParent", &hc.cgroup_parent, set)?;
    // Berth gives every container a cgroup namespace of its own.
    refuse("HostConfig.CgroupnsMode", &hc.cgroupns_mode, |m| {
        !m.is_empty() && m != "private"
    })?;
    refuse("HostConfig.Links", &hc.links, |l| !l.is_empty())?;
    refuse("HostConfig.StorageOpt", &hc.storage_opt, |s| !s.is_empty())?;
    refuse("HostConfig.Isolation", &hc.isolation, |i| {
        !i.is_empty() && i != "default"
    })?;
    refuse("HostConfig.MaskedPaths", &hc.masked_paths, |_| true)?;
    refuse("HostConfig.ReadonlyPaths", &hc.readonly_paths, |_| true)?;
    refuse("HostConfig.BlkioWeightDevice", &hc.blkio_weight_device, any)?;
    refuse(
        "HostConfig.BlkioDeviceReadBps",
        &hc.blkio_device_read_bps,
        any,
    )?;
    refuse(
        "HostConfig.BlkioDeviceWriteBps",
        &hc.blkio_device_write_bps,
        any,
    )?;
    refuse(
        "HostConfig.BlkioDeviceReadIOps",
        &hc.blkio_device_read_iops,
        any,
    )?;
    refuse(
        "HostConfig.BlkioDeviceWriteIOps",
        &hc.blkio_device_write_iops,
        any,
    )?;
    refuse(
        "HostConfig.CpuRealtimePeriod",
        &hc.cpu_realtime_period,
        nonzero,
    )?;
    refuse(
        "HostConfig.CpuRealtimeRuntime",
        &hc.cpu_realtime_runtime,
        nonzero,
    )?;
    refuse(
        "HostConfig.DeviceCgroupRules",
        &hc.device_cgroup_rules,
        |r| !r.is_empty(),
    )?;
    refuse("HostConfig.DeviceRequests", &hc.device_requests, any)?;
    refuse("HostConfig.KernelMemory", &hc.kernel_memory, nonzero)?;
    refuse("HostConfig.KernelMemoryTCP", &hc.kernel_memory_tcp, nonzero)?;
    refuse("HostConfig.CpuCount", &hc.cpu_count, nonzero)?;
    refuse("HostConfig.CpuPercent", &hc.cpu_percent, nonzero)?;
    refuse("HostConfig.IOMaximumIOps", &hc.io_maximum_iops, |n| *n != 0)?;
    refuse(
        "HostConfig.IOMaximumBandwidth",
        &hc.io_maximum_bandwidth,
        |n| *n != 0,
    )?;
    match hc.memory_swappiness {
        None | Some(-1) => Ok(()),
        Some(n @ 0..=100) => Err(unsupported("HostConfig.MemorySwappiness", n)),
        Some(n) => Err(Error::InvalidArgument(format!(
            "Invalid value: {n}, valid memory swappiness range is 0-100"
        ))),
    }
}

/// Binds, Mounts, Tmpfs, then Config.Volumes at the paths nothing else took, VolumesFrom
/// and Devices.
fn mounts(req: &CreateRequest, hc: &HostConfig, o: &mut RunOptions) -> Result<()> {
    for b in list(&hc.binds) {
        o.mounts.push(at("HostConfig.Binds", parse::volume(b))?);
    }
    for (i, m) in hc.mounts.iter().flatten().enumerate() {
        o.mounts
            .push(api_mount(&format!("HostConfig.Mounts[{i}]"), m)?);
    }
    for (path, opts) in hc.tmpfs.iter().flatten() {
        let spec = match opts.is_empty() {
            true => path.clone(),
            false => format!("{path}:{opts}"),
        };
        o.mounts.push(at("HostConfig.Tmpfs", parse::tmpfs(&spec))?);
    }
    for path in req.volumes.iter().flat_map(|v| v.keys()) {
        let m = at("Volumes", parse::volume(path))?;
        if !o.mounts.iter().any(|x| x.target == m.target) {
            o.mounts.push(m);
        }
    }
    o.volumes_from = list(&hc.volumes_from).to_vec();
    for d in hc.devices.iter().flatten() {
        let host = d.path_on_host.clone().unwrap_or_default();
        let ctr = non_empty(&d.path_in_container).unwrap_or_else(|| host.clone());
        let perms = non_empty(&d.cgroup_permissions).unwrap_or_else(|| "rwm".into());
        let spec = format!("{host}:{ctr}:{perms}");
        o.devices
            .push(at("HostConfig.Devices", parse::device(&spec))?);
    }
    Ok(())
}

/// One of HostConfig.Mounts, through `--mount`'s parser field by field.
fn api_mount(field: &str, m: &ApiMount) -> Result<super::Mount> {
    let mut fields = vec![format!("type={}", m.kind.as_deref().unwrap_or(""))];
    if let Some(s) = non_empty(&m.source) {
        fields.push(format!("source={s}"));
    }
    if let Some(t) = non_empty(&m.target) {
        fields.push(format!("target={t}"));
    }
    if m.read_only.unwrap_or(false) {
        fields.push("readonly=true".into());
    }
    let mut create_mountpoint = false;
    if let Some(b) = &m.bind_options {
        if let Some(p) = non_empty(&b.propagation) {
            fields.push(format!("bind-propagation={p}"));
        }
        if b.non_recursive.unwrap_or(false) {
            fields.push("bind-nonrecursive=true".into());
        }
        refuse(
            &format!("{field}.BindOptions.ReadOnlyNonRecursive"),
            &b.read_only_non_recursive,
            |x| *x,
        )?;
        refuse(
            &format!("{field}.BindOptions.ReadOnlyForceRecursive"),
            &b.read_only_force_recursive,
            |x| *x,
        )?;
        create_mountpoint = b.create_mountpoint.unwrap_or(false);
    }
    if let Some(v) = &m.volume_options {
        if v.no_copy.unwrap_or(false) {
            fields.push("volume-nocopy=true".into());
        }
        refuse(&format!("{field}.VolumeOptions.Labels"), &v.labels, |l| {
            !l.is_empty()
        })?;
        refuse(&format!("{field}.VolumeOptions.Subpath"), &v.subpath, |s| {
            !s.is_empty()
        })?;
        if let Some(d) = &v.driver_config {
            if let Some(n) = non_empty(&d.name) {
                fields.push(format!("volume-driver={n}"));
            }
            refuse(
                &format!("{field}.VolumeOptions.DriverConfig.Options"),
                &d.options,
                |o| !o.is_empty(),
            )?;
        }
    }
    if let Some(t) = &m.tmpfs_options {
        match t.size_bytes.unwrap_or(0) {
            0 => {}
            n if n < 0 => return Err(Error::invalid(field, &n.to_string(), "invalid tmpfs size")),
            n => fields.push(format!("tmpfs-size={n}")),
        }
        if let Some(mode) = t.mode.filter(|m| *m != 0) {
            fields.push(format!("tmpfs-mode={mode:o}"));
        }
        refuse(&format!("{field}.TmpfsOptions.Options"), &t.options, |o| {
            !o.is_empty()
        })?;
    }
    let shown = fields.join(",");
    let mut mount = at(
        field,
        parse::mount_fields(&shown, fields.iter().map(String::as_str)),
    )?;
    mount.create_source = create_mountpoint;
    Ok(mount)
}

/// The limits; 0 is "unset" for each.
fn resources(hc: &HostConfig, o: &mut RunOptions) -> Result<()> {
    let set = |v: Option<i64>| v.filter(|n| *n != 0);
    if hc.memory.is_some_and(|m| m < 0) {
        return Err(Error::InvalidArgument(
            "Minimum memory limit allowed is 6MB".into(),
        ));
    }
    if hc.memory_reservation.is_some_and(|m| m < 0) {
        return Err(Error::InvalidArgument(
            "Minimum memory reservation allowed is 6MB".into(),
        ));
    }
    o.memory = set(hc.memory);
    o.memory_reservation = set(hc.memory_reservation);
    o.memory_swap = match set(hc.memory_swap) {
        Some(n) if n < -1 => {
            return Err(Error::invalid(
                "HostConfig.MemorySwap",
                &n.to_string(),
                "must be -1 (unlimited), 0 (unset) or a size in bytes",
            ))
        }
        s => s,
    };
    if let Some(n) = set(hc.nano_cpus) {
        // Through `--cpus`' parser as a decimal, for its range check and wording.
        let text = match n < 0 {
            true => format!("-{}", n.unsigned_abs() as f64 / 1e9),
            false => format!("{}.{:09}", n / 1_000_000_000, n % 1_000_000_000),
        };
        at("HostConfig.NanoCpus", parse::cpus(&text))?;
        o.nano_cpus = Some(n);
    }
    if let Some(n) = set(hc.cpu_shares) {
        o.cpu_shares = Some(at(
            "HostConfig.CpuShares",
            parse::cpu_shares(&n.to_string()),
        )?);
    }
    if let Some(p) = set(hc.cpu_period) {
        if !(1000..=1_000_000).contains(&p) {
            return Err(Error::InvalidArgument(
                "CPU cfs period can not be less than 1ms (i.e. 1000) or larger than 1s (i.e. 1000000)"
                    .into(),
            ));
        }
        o.cpu_period = Some(p);
    }
    // -1 (and any negative quota) is "no quota".
    if let Some(q) = set(hc.cpu_quota).filter(|q| *q > 0) {
        if q < 1000 {
            return Err(Error::InvalidArgument(
                "CPU cfs quota can not be less than 1ms (i.e. 1000)".into(),
            ));
        }
        o.cpu_quota = Some(q);
    }
    if o.nano_cpus.is_some() && (o.cpu_period.is_some() || o.cpu_quota.is_some()) {
        return Err(Error::InvalidArgument(
            "Conflicting options: Nano CPUs and CPU Period cannot both be set".into(),
        ));
    }
    if let Some(c) = non_empty(&hc.cpuset_cpus) {
        o.cpuset_cpus = Some(at("HostConfig.CpusetCpus", parse::cpuset(&c))?);
    }
    if let Some(m) = non_empty(&hc.cpuset_mems) {
        if parse::cpu_list(&m).is_none() {
            return Err(Error::invalid(
                "HostConfig.CpusetMems",
                &m,
                format!("invalid value {m} for cpuset mems"),
            ));
        }
        o.cpuset_mems = Some(m);
    }
    if let Some(w) = set(hc.blkio_weight) {
        if !(10..=1000).contains(&w) {
            return Err(Error::InvalidArgument(
                "Range of blkio weight is from 10 to 1000".into(),
            ));
        }
        o.blkio_weight = Some(w as u16);
    }
    // 0 and -1 (any value below 1, as dockerd reads it) are "unlimited".
    o.pids_limit = hc.pids_limit.filter(|n| *n > 0);
    o.oom_kill_disable = hc.oom_kill_disable.unwrap_or(false);
    if let Some(n) = set(hc.oom_score_adj) {
        o.oom_score_adj = Some(host_config::oom_score_adj(n)?);
    }
    match set(hc.shm_size) {
        Some(n) if n < 0 => {
            return Err(Error::InvalidArgument(
                "SHM size can not be less than 0".into(),
            ))
        }
        s => o.shm_size = s,
    }
    for u in hc.ulimits.iter().flatten() {
        let name = u.name.clone().unwrap_or_default();
        let spec = format!("{name}={}:{}", u.soft.unwrap_or(0), u.hard.unwrap_or(0));
        let u = at("HostConfig.Ulimits", parse::ulimit(&spec))?;
        o.ulimits.retain(|x| x.name != u.name);
        o.ulimits.push(u);
    }
    Ok(())
}

/// Capabilities, privileges, SecurityOpt, sysctls, groups.
fn security(hc: &HostConfig, o: &mut RunOptions) -> Result<()> {
    for c in list(&hc.cap_add) {
        o.cap_add
            .push(at("HostConfig.CapAdd", parse::capability("--cap-add", c))?);
    }
    for c in list(&hc.cap_drop) {
        o.cap_drop.push(at(
            "HostConfig.CapDrop",
            parse::capability("--cap-drop", c),
        )?);
    }
    o.privileged = hc.privileged.unwrap_or(false);
    for s in list(&hc.security_opt) {
        let field = "HostConfig.SecurityOpt";
        if let Some(label) = at(field, host_config::security_label(s))? {
            o.security_labels.push(label);
            continue;
        }
        // The API carries a profile's JSON itself (the docker CLI reads the file), never a
        // path on the server.
        if let Some(v) = s
            .strip_prefix("seccomp=")
            .or_else(|| s.strip_prefix("seccomp:"))
        {
            o.seccomp = match v {
                "unconfined" => Seccomp::Unconfined,
                "builtin" | "" => Seccomp::Default,
                json => {
                    serde_json::from_str::<Value>(json).map_err(|e| {
                        Error::invalid(field, s, format!("decoding seccomp profile failed: {e}"))
                    })?;
                    Seccomp::Inline(json.to_string())
                }
            };
            continue;
        }
        match at(field, parse::security_opt(s))? {
            SecurityOpt::Seccomp(p) => o.seccomp = p,
            SecurityOpt::NoNewPrivileges(b) => o.no_new_privileges = b,
        }
    }
    for (k, v) in hc.sysctls.iter().flatten() {
        let (k, v) = at(
            "HostConfig.Sysctls",
            host_config::sysctl(&format!("{k}={v}")),
        )?;
        o.sysctls.insert(k, v);
    }
    o.group_add = list(&hc.group_add).to_vec();
    Ok(())
}

/// PID, IPC, UTS and user namespaces.
fn namespaces(hc: &HostConfig, o: &mut RunOptions) -> Result<()> {
    let mode = |v: &Option<String>| v.clone().unwrap_or_default();
    o.pid_mode = at(
        "HostConfig.PidMode",
        host_config::namespace_mode("--pid", &mode(&hc.pid_mode), true),
    )?;
    o.ipc_mode = at(
        "HostConfig.IpcMode",
        host_config::ipc_mode(&mode(&hc.ipc_mode)),
    )?;
    o.uts_mode = at(
        "HostConfig.UTSMode",
        host_config::namespace_mode("--uts", &mode(&hc.uts_mode), false),
    )?;
    o.userns = at(
        "HostConfig.UsernsMode",
        parse::userns(&mode(&hc.userns_mode)),
    )?;
    Ok(())
}

/// NetworkMode, the one endpoint of NetworkingConfig, ports, name resolution.
fn network(req: &CreateRequest, hc: &HostConfig, o: &mut RunOptions) -> Result<()> {
    let field = "HostConfig.NetworkMode";
    let mode = hc.network_mode.clone().unwrap_or_default();
    // A network namespace path is the CLI's (for pods), not an API network name.
    if mode.starts_with('/') {
        return Err(Error::invalid(field, &mode, "invalid network name"));
    }
    o.network = at(field, parse::network(&mode))?;
    if req.network_disabled.unwrap_or(false) {
        o.network = Network::None;
    }
    let endpoints = req
        .networking_config
        .as_ref()
        .and_then(|n| n.endpoints_config.as_ref());
    if let Some(eps) = endpoints.filter(|e| e.len() > 1) {
        let names: Vec<&str> = eps.keys().map(String::as_str).collect();
        return Err(Error::InvalidArgument(format!(
            "Container cannot be connected to network endpoints: {} (Berth connects a \
             container to one network when it is created; connect it to the others after)",
            names.join(", ")
        )));
    }
    if let Some((net, ep)) = endpoints.and_then(|e| e.iter().next()) {
        endpoint(net, ep.as_ref(), o)?;
    }
    for (key, bindings) in hc.port_bindings.iter().flatten() {
        let (port, proto) = key.split_once('/').unwrap_or((key, "tcp"));
        for b in bindings.iter().flatten() {
            let ip = b.host_ip.clone().unwrap_or_default();
            let ip = if ip.contains(':') {
                format!("[{ip}]")
            } else {
                ip
            };
            let host = b.host_port.clone().unwrap_or_default();
            let spec = match (ip.is_empty(), host.is_empty()) {
                (true, true) => format!("{port}/{proto}"),
                (true, false) => format!("{host}:{port}/{proto}"),
                (false, _) => format!("{ip}:{host}:{port}/{proto}"),
            };
            o.ports
                .extend(at("HostConfig.PortBindings", parse::publish(&spec))?);
        }
    }
    o.publish_all = hc.publish_all_ports.unwrap_or(false);
    for h in list(&hc.extra_hosts) {
        o.extra_hosts
            .push(at("HostConfig.ExtraHosts", host_config::add_host(h))?);
    }
    for d in list(&hc.dns) {
        o.dns.push(at("HostConfig.Dns", host_config::dns(d))?);
    }
    for d in list(&hc.dns_search) {
        o.dns_search
            .push(at("HostConfig.DnsSearch", host_config::dns_search(d))?);
    }
    o.dns_options = list(&hc.dns_options).to_vec();
    Ok(())
}

/// The endpoint settings for network `net`: it must be the network NetworkMode names (or,
/// when NetworkMode leaves the default, becomes it).
fn endpoint(net: &str, ep: Option<&EndpointSettings>, o: &mut RunOptions) -> Result<()> {
    let field = format!("NetworkingConfig.EndpointsConfig.{net}");
    let same = match &o.network {
        Network::Default => {
            if !matches!(net, "default" | "bridge" | "") {
                o.network = at(&field, parse::network(net))?;
            }
            true
        }
        Network::Named(n) => n == net || (n == "bridge" && net == "default"),
        Network::Host => net == "host",
        Network::None => net == "none",
        Network::Container(_) | Network::Path(_) => true,
    };
    if !same {
        return Err(Error::InvalidArgument(format!(
            "{field}: the container's network is its NetworkMode's (Berth connects a container \
             to one network when it is created)"
        )));
    }
    let Some(ep) = ep else { return Ok(()) };
    refuse(&format!("{field}.Links"), &ep.links, |l| !l.is_empty())?;
    refuse(&format!("{field}.MacAddress"), &ep.mac_address, |m| {
        !m.is_empty()
    })?;
    refuse(&format!("{field}.DriverOpts"), &ep.driver_opts, |d| {
        !d.is_empty()
    })?;
    o.network_aliases = list(&ep.aliases).to_vec();
    if let Some(ipam) = &ep.ipam_config {
        refuse(
            &format!("{field}.IPAMConfig.IPv6Address"),
            &ipam.ipv6_address,
            |a| !a.is_empty(),
        )?;
        refuse(
            &format!("{field}.IPAMConfig.LinkLocalIPs"),
            &ipam.link_local_ips,
            |l| !l.is_empty(),
        )?;
        if let Some(ip) = non_empty(&ipam.ipv4_address) {
            o.ip = Some(ip.parse().map_err(|_| {
                Error::invalid(
                    &format!("{field}.IPAMConfig.IPv4Address"),
                    &ip,
                    "invalid IPv4 address",
                )
            })?);
        }
    }
    Ok(())
}

/// RestartPolicy as dockerd checks it: a count only with on-failure, never negative.
fn restart(hc: &HostConfig) -> Result<RestartPolicy> {
    let Some(p) = &hc.restart_policy else {
        return Ok(RestartPolicy::No);
    };
    let name = p.name.clone().unwrap_or_default();
    let count = p.maximum_retry_count.unwrap_or(0);
    let field = "HostConfig.RestartPolicy";
    match name.as_str() {
        "" => Ok(RestartPolicy::No),
        "on-failure" if count < 0 => Err(Error::invalid(
            field,
            &count.to_string(),
            "invalid restart policy: maximum retry count cannot be negative",
        )),
        "on-failure" => at(field, parse::restart(&format!("on-failure:{count}"))),
        n if count != 0 => Err(Error::invalid(
            field,
            n,
            format!("invalid restart policy: maximum retry count cannot be used with restart policy '{n}'"),
        )),
        n => at(field, parse::restart(n)),
    }
}

/// LogConfig: Type "" is the default driver (json-file); Config are its options.
fn log_config(hc: &HostConfig) -> Result<LogConfig> {
    let Some(l) = &hc.log_config else {
        return Ok(LogConfig::default());
    };
    let mut log = LogConfig::default();
    if let Some(t) = non_empty(&l.kind) {
        log.driver = at("HostConfig.LogConfig.Type", parse::log_driver(&t))?;
    }
    for (k, v) in l.config.iter().flatten() {
        at(
            "HostConfig.LogConfig.Config",
            parse::log_opt(&mut log, &format!("{k}={v}")),
        )?;
    }
    Ok(log)
}
