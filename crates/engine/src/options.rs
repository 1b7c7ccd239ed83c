//! What a container is asked to be: `docker run`/`docker create`'s options as typed values,
//! close to the Engine API's `Config` and `HostConfig` so that the API server (roadmap) fills
//! the same struct from JSON that the CLI fills from flags. Strings like `512m`, `1.5`,
//! `src:dst:ro` or `on-failure:3` are turned into these types by [`parse`]'s functions, which
//! report bad values as [`crate::Error::InvalidValue`] (exit 125). [`api`] fills them from
//! the Engine API's `POST /containers/create` body through the same parsers.

pub mod api;
pub mod health;
pub mod host_config;
pub mod mounts;
pub mod parse;

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::PathBuf;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RunOptions {
    // --- What runs (Docker's Config) ---
    /// `--name`; a generated `adjective_noun` name when absent.
    pub name: Option<String>,
    /// The image reference as the user typed it.
    pub image: String,
    /// Arguments after the image: replace the image's Cmd when not empty.
    pub cmd: Vec<String>,
    /// `--entrypoint`: `Some(vec![])` for `--entrypoint ""` (clears the image's Entrypoint
    /// and its Cmd, as docker does).
    pub entrypoint: Option<Vec<String>>,
    /// `-e`/`--env`/`--env-file`, in order, `KEY=VALUE`. A bare `KEY` is resolved by the
    /// client from its own environment before it gets here (the engine never reads its
    /// own); one the API gives bare is kept as given and unsets `KEY` in the container.
    pub env: Vec<String>,
    /// `-w`
    pub workdir: Option<String>,
    /// `-u user[:group]`, names or numbers, resolved in the image's /etc/passwd and /etc/group.
    pub user: Option<String>,
    /// `--hostname`; the short container ID when absent.
    pub hostname: Option<String>,
    /// `--label`
    pub labels: BTreeMap<String, String>,
    /// `--stop-signal` (`SIGTERM`, `TERM`, `15`)
    pub stop_signal: Option<String>,
    /// `--stop-timeout` in seconds (default 10)
    pub stop_timeout: Option<i64>,
    /// `-t`
    pub tty: bool,
    /// `-i`
    pub interactive: bool,
    /// `-d`
    pub detach: bool,

    // --- How it runs (Docker's HostConfig) ---
    /// `--rm`
    pub auto_remove: bool,
    /// `-v`, `--mount` and `--tmpfs`, in the order given.
    pub mounts: Vec<Mount>,
    /// `--read-only`
    pub read_only: bool,
    /// `-m`, bytes
    pub memory: Option<i64>,
    /// `--memory-swap`, bytes; -1 for unlimited
    pub memory_swap: Option<i64>,
    /// `--memory-reservation`, bytes
    pub memory_reservation: Option<i64>,
    /// `--cpus` as billionths of a CPU (Docker's NanoCpus)
    pub nano_cpus: Option<i64>,
    /// `--cpu-shares`
    pub cpu_shares: Option<u64>,
    /// `--cpuset-cpus` (`0-2,4`)
    pub cpuset_cpus: Option<String>,
    /// `--pids-limit`; -1 or 0 for unlimited
    pub pids_limit: Option<i64>,
    /// `--cpu-period`, microseconds of the CFS period (set by `update`)
    #[serde(default)]
    pub cpu_period: Option<i64>,
    /// `--cpu-quota`, microseconds per period (set by `update`)
    #[serde(default)]
    pub cpu_quota: Option<i64>,
    /// `--cpuset-mems` (`0-1`) (set by `update`)
    #[serde(default)]
    pub cpuset_mems: Option<String>,
    /// `--blkio-weight`, 10 to 1000 (set by `update`)
    #[serde(default)]
    pub blkio_weight: Option<u16>,
    /// `--ulimit`
    pub ulimits: Vec<Ulimit>,
    /// `--cap-add` / `--cap-drop` (`NET_ADMIN`, `CAP_NET_ADMIN` or `ALL`), normalized to
    /// `CAP_*` names or `ALL`.
    pub cap_add: Vec<String>,
    pub cap_drop: Vec<String>,
    /// `--privileged`
    pub privileged: bool,
    /// `--security-opt seccomp=...`
    pub seccomp: Seccomp,
    /// `--security-opt no-new-privileges`
    pub no_new_privileges: bool,
    /// `--device`
    pub devices: Vec<Device>,
    /// `--init`
    pub init: bool,
    /// `--restart`
    pub restart: RestartPolicy,
    /// `--userns`
    pub userns: Userns,
    /// `--network`
    pub network: Network,
    /// `-p/--publish`
    #[serde(default)]
    pub ports: Vec<PortSpec>,
    /// Ports the container exposes besides the image's (`80/tcp`): the Engine API's
    /// Config.ExposedPorts, published by `-P` with the image's.
    #[serde(default)]
    pub exposed_ports: Vec<String>,
    /// `-P/--publish-all`: the image's exposed ports, each on a random host port.
    #[serde(default)]
    pub publish_all: bool,
    /// `--ip`: the container's address on its network.
    #[serde(default)]
    pub ip: Option<std::net::Ipv4Addr>,
    /// `--network-alias`: more names on its (user-defined) network.
    #[serde(default)]
    pub network_aliases: Vec<String>,
    /// `--runtime PATH`: another OCI runtime's CLI; None = the built-in runtime, in-process.
    pub runtime: Option<PathBuf>,
    /// `--log-driver`, `--log-opt`
    pub log: LogConfig,
    /// `--pull`
    pub pull: PullPolicy,

    // --- Name resolution, kernel parameters, namespaces, groups ---
    /// `--add-host NAME:IP` as `NAME:IP` (IP may be `host-gateway`: the gateway of the
    /// container's network), Docker's ExtraHosts.
    #[serde(default)]
    pub extra_hosts: Vec<String>,
    /// `--dns`: the nameservers of its resolv.conf instead of the host's.
    #[serde(default)]
    pub dns: Vec<std::net::IpAddr>,
    /// `--dns-search` (`.` alone: no search domains).
    #[serde(default)]
    pub dns_search: Vec<String>,
    /// `--dns-option`
    #[serde(default)]
    pub dns_options: Vec<String>,
    /// `--sysctl KEY=VALUE`, checked against Docker's list of namespaced sysctls.
    #[serde(default)]
    pub sysctls: BTreeMap<String, String>,
    /// `--shm-size`, bytes (None: 64 MiB).
    #[serde(default)]
    pub shm_size: Option<i64>,
    /// `--pid`
    #[serde(default)]
    pub pid_mode: NamespaceMode,
    /// `--ipc`
    #[serde(default)]
    pub ipc_mode: IpcMode,
    /// `--uts` (`host` or private)
    #[serde(default)]
    pub uts_mode: NamespaceMode,
    /// `--group-add`: groups (names resolved in the image's /etc/group, or numbers) the
    /// process also belongs to.
    #[serde(default)]
    pub group_add: Vec<String>,
    /// `--volumes-from CONTAINER[:ro|:rw]`
    #[serde(default)]
    pub volumes_from: Vec<String>,
    /// `--platform os/arch[/variant]`: the image must be of it.
    #[serde(default)]
    pub platform: Option<String>,
    /// `--oom-score-adj` (-1000..1000)
    #[serde(default)]
    pub oom_score_adj: Option<i32>,
    /// `--oom-kill-disable`
    #[serde(default)]
    pub oom_kill_disable: bool,
    /// `--security-opt apparmor=...` / `label=...` as given (kept for inspect's
    /// SecurityOpt; only values that need no LSM are accepted on a host without one).
    #[serde(default)]
    pub security_labels: Vec<String>,
    /// `--health-*` / `--no-healthcheck`: Docker's Config.Healthcheck (None: the image's).
    #[serde(default)]
    pub healthcheck: Option<Healthcheck>,
}

/// `--pid`, `--uts` (and the shareable-less part of `--ipc`): a namespace of its own, the
/// host's, or another (running) container's.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum NamespaceMode {
    #[default]
    Private,
    Host,
    /// `container:NAME|ID`
    Container(String),
}

/// `--ipc`: Docker's modes.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum IpcMode {
    /// An IPC namespace and /dev/shm of its own (Docker's default `private`).
    #[default]
    Private,
    /// Its own, which other containers may join (`container:` works with any mode here).
    Shareable,
    /// Its own, without a /dev/shm.
    None,
    Host,
    /// `container:NAME|ID`: that container's IPC namespace and /dev/shm.
    Container(String),
}

/// Docker's `Config.Healthcheck`: durations in nanoseconds, 0 = inherit or default.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Healthcheck {
    /// `["CMD-SHELL", cmd]`, `["CMD", args...]`, or `["NONE"]` (`--no-healthcheck`); empty
    /// when only timings are overridden (the image's test is kept).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub test: Vec<String>,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub interval: i64,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub timeout: i64,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub start_period: i64,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub retries: i64,
}

fn is_zero(n: &i64) -> bool {
    *n == 0
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum MountKind {
    /// A host path (`-v /host:/ctr`, `--mount type=bind`).
    Bind,
    /// A named volume (`-v name:/ctr`), or an anonymous one when `source` is None
    /// (`-v /ctr`, image `Volumes`).
    Volume,
    /// `--tmpfs /ctr[:opts]`, `--mount type=tmpfs`.
    Tmpfs,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mount {
    pub kind: MountKind,
    /// Host path (bind) or volume name (volume); None for tmpfs and anonymous volumes.
    pub source: Option<String>,
    /// Absolute path inside the container.
    pub target: String,
    pub read_only: bool,
    /// `-v /missing:/ctr` makes the host directory, as docker does; `--mount` does not.
    #[serde(default)]
    pub create_source: bool,
    /// Extra mount options: tmpfs `size=64m`/`mode=1777`, bind propagation, `z`/`Z` (ignored:
    /// no SELinux here, accepted as docker does).
    pub options: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ulimit {
    /// `nofile`, `nproc`, ... (without `RLIMIT_`)
    pub name: String,
    pub soft: u64,
    pub hard: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Seccomp {
    /// Docker's default profile.
    #[default]
    Default,
    Unconfined,
    /// A profile file (Docker's JSON format), read when the container is created.
    Profile(PathBuf),
    /// A profile's JSON itself, as the Engine API carries it (the docker CLI sends the
    /// file's content as `seccomp=<json>`).
    Inline(String),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Device {
    pub host_path: String,
    pub container_path: String,
    /// `rwm` by default
    pub permissions: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum RestartPolicy {
    #[default]
    No,
    /// `on-failure[:max retries]` (0 = no limit)
    OnFailure(u32),
    Always,
    UnlessStopped,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Userns {
    #[default]
    Host,
    /// A private range: container root is this unprivileged host uid/gid, `size` ids mapped.
    Private { host_id: u32, size: u32 },
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Network {
    /// The default bridge network (`bridge`, Linux bridge `berth0`), as Docker's default.
    #[default]
    Default,
    None,
    Host,
    /// `container:NAME`
    Container(String),
    /// A path to a network namespace (for pods).
    Path(PathBuf),
    /// A user-defined or the `bridge` network.
    Named(String),
}

/// One `-p [ip:][hostPort:]containerPort[/proto]` mapping (a range is several of these).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PortSpec {
    pub host_ip: Option<std::net::Ipv4Addr>,
    /// None: a random free port, chosen at each start.
    pub host_port: Option<u16>,
    /// `8000-8010:80`: any free host port from `host_port` to this one.
    #[serde(default)]
    pub host_port_last: Option<u16>,
    pub container_port: u16,
    /// `tcp` or `udp`
    pub proto: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum LogDriver {
    #[default]
    JsonFile,
    None,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogConfig {
    pub driver: LogDriver,
    /// `--log-opt max-size=10m`: rotate when the file reaches this many bytes (None: never).
    pub max_size: Option<u64>,
    /// `--log-opt max-file=3`: files kept, the current one included (default 1).
    pub max_file: Option<u32>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum PullPolicy {
    #[default]
    Missing,
    Always,
    Never,
}
