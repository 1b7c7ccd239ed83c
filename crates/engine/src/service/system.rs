//! Docker's system endpoints: `/version`, `/info` and `/system/df`.

use super::containers::{self, ContainerSummary, ListOptions};
use super::images::{config_of, created_of, familiar};
use super::volumes::{UsageData, Volume};
use crate::volume::{ContainerBrief, VolumeFilter, VolumeStore};
use crate::{Engine, Result};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};

/// Berth's version (the engine's crate version; every Berth binary shares it).
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
/// The Engine API version whose shapes the service's outputs follow.
pub const API_VERSION: &str = "1.45";
/// The oldest Engine API version a client may ask for.
pub const MIN_API_VERSION: &str = "1.24";

/// The kernel release and host name as uname(2) has them (read from /proc/sys/kernel, no
/// unsafe call needed), and the machine this binary was built for (which it runs on).
pub struct Host {
    pub kernel: String,
    pub machine: String,
    pub hostname: String,
}

pub fn host() -> Host {
    let read = |p: &str| {
        std::fs::read_to_string(p)
            .map(|s| s.trim().to_string())
            .unwrap_or_default()
    };
    Host {
        kernel: read("/proc/sys/kernel/osrelease"),
        machine: std::env::consts::ARCH.to_string(),
        hostname: read("/proc/sys/kernel/hostname"),
    }
}

/// Go's GOARCH names, as docker gives them in `Arch` and OS/Arch.
pub fn go_arch(machine: &str) -> &str {
    match machine {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        "x86" | "i686" => "386",
        "powerpc64" => "ppc64le",
        other => other,
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Platform {
    #[serde(rename = "Name")]
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Component {
    #[serde(rename = "Name")]
    pub name: String,
    #[serde(rename = "Version")]
    pub version: String,
    #[serde(rename = "Details")]
    pub details: BTreeMap<String, String>,
}

/// The API's SystemVersion (`GET /version`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Version {
    pub platform: Platform,
    pub components: Vec<Component>,
    pub version: String,
    pub api_version: String,
    #[serde(rename = "MinAPIVersion")]
    pub min_api_version: String,
    pub git_commit: String,
    pub go_version: String,
    pub os: String,
    pub arch: String,
    pub kernel_version: String,
    pub build_time: String,
}

pub fn version() -> Version {
    let h = host();
    let component = |name: &str| Component {
        name: name.into(),
        version: VERSION.into(),
        details: BTreeMap::new(),
    };
    Version {
        platform: Platform {
            name: "Berth Engine".into(),
        },
        components: vec![
            component("Engine"),
            component("berth-runtime"),
            component("berth-init"),
        ],
        version: VERSION.into(),
        api_version: API_VERSION.into(),
        min_api_version: MIN_API_VERSION.into(),
        git_commit: String::new(),
        go_version: String::new(),
        os: "linux".into(),
        arch: go_arch(&h.machine).into(),
        kernel_version: h.kernel,
        build_time: String::new(),
    }
}

fn os_name() -> String {
    let text = std::fs::read_to_string("/etc/os-release")
        .or_else(|_| std::fs::read_to_string("/usr/lib/os-release"))
        .unwrap_or_default();
    text.lines()
        .find_map(|l| l.strip_prefix("PRETTY_NAME="))
        .map(|v| v.trim_matches('"').to_string())
        .unwrap_or_else(|| "Linux".into())
}

fn mem_total() -> u64 {
    std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|t| {
            t.lines()
                .find_map(|l| l.strip_prefix("MemTotal:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        })
        .map_or(0, |kb| kb * 1024)
}

/// "1" or "2": a hybrid host (v1 controllers plus a cgroup2 mount) is "1", as docker says.
fn cgroup_version() -> &'static str {
    match berth_cgroups::Layout::detect() {
        Ok(berth_cgroups::Layout::Unified) => "2",
        _ => "1",
    }
}

/// An executable called `name` on the search path.
fn on_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(name))
        .find(|p| {
            use std::os::unix::fs::PermissionsExt;
            std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        })
}

/// One runtime `info` lists.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuntimeInfo {
    pub path: String,
}

/// `Swarm`: Berth is never part of one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct SwarmInfo {
    #[serde(rename = "NodeID")]
    pub node_id: String,
    pub node_addr: String,
    pub local_node_state: String,
    pub control_available: bool,
    pub error: String,
    pub remote_managers: Option<Vec<Value>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Commit {
    #[serde(rename = "ID")]
    pub id: String,
    pub expected: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Plugins {
    pub volume: Vec<String>,
    pub network: Vec<String>,
    pub authorization: Option<Vec<String>>,
    pub log: Vec<String>,
}

/// The API's SystemInfo (`GET /info`): what Berth knows of those keys.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Info {
    #[serde(rename = "ID")]
    pub id: String,
    pub containers: usize,
    pub containers_running: usize,
    pub containers_paused: usize,
    pub containers_stopped: usize,
    pub images: usize,
    pub driver: String,
    pub driver_status: Vec<[String; 2]>,
    pub plugins: Plugins,
    pub memory_limit: bool,
    pub swap_limit: bool,
    pub cpu_cfs_period: bool,
    pub cpu_cfs_quota: bool,
    #[serde(rename = "CPUShares")]
    pub cpu_shares: bool,
    #[serde(rename = "CPUSet")]
    pub cpu_set: bool,
    pub pids_limit: bool,
    pub oom_kill_disable: bool,
    #[serde(rename = "IPv4Forwarding")]
    pub ipv4_forwarding: bool,
    pub debug: bool,
    pub system_time: String,
    pub logging_driver: String,
    pub cgroup_driver: String,
    pub cgroup_version: String,
    pub kernel_version: String,
    pub operating_system: String,
    #[serde(rename = "OSVersion")]
    pub os_version: String,
    #[serde(rename = "OSType")]
    pub os_type: String,
    pub architecture: String,
    pub index_server_address: String,
    #[serde(rename = "NCPU")]
    pub ncpu: usize,
    pub mem_total: u64,
    pub docker_root_dir: PathBuf,
    pub http_proxy: String,
    pub https_proxy: String,
    pub no_proxy: String,
    pub name: String,
    pub labels: Vec<String>,
    pub experimental_build: bool,
    pub server_version: String,
    pub runtimes: BTreeMap<String, RuntimeInfo>,
    pub default_runtime: String,
    pub swarm: SwarmInfo,
    pub live_restore_enabled: bool,
    pub isolation: String,
    pub init_binary: String,
    pub containerd_commit: Commit,
    pub runc_commit: Commit,
    pub init_commit: Commit,
    pub security_options: Vec<String>,
    pub warnings: Vec<String>,
}

fn os_version() -> String {
    let text = std::fs::read_to_string("/etc/os-release").unwrap_or_default();
    text.lines()
        .find_map(|l| l.strip_prefix("VERSION_ID="))
        .map(|v| v.trim_matches('"').to_string())
        .unwrap_or_default()
}

fn ipv4_forwarding() -> bool {
    std::fs::read_to_string("/proc/sys/net/ipv4/ip_forward").is_ok_and(|s| s.trim() == "1")
}

pub fn info(e: &Engine) -> Result<Info> {
    info_at(&e.root)
}

/// [`info`] of the data root `root`, without opening the container store (a front that
/// only reports need not create it).
pub fn info_at(root: &Path) -> Result<Info> {
    let containers = VolumeStore::open(root)?.containers()?;
    let count = |states: &[&str]| {
        containers
            .iter()
            .filter(|c| states.contains(&c.state.as_str()))
            .count()
    };
    let (running, paused) = (count(&["running", "restarting"]), count(&["paused"]));
    let images = berth_image::metadata::Metadata::open(&root.join("berth.db"))?
        .images()?
        .len();
    let h = host();
    let mut runtimes = BTreeMap::new();
    runtimes.insert(
        "berth".to_string(),
        RuntimeInfo {
            path: "berth (in-process)".into(),
        },
    );
    for r in ["runc", "crun"] {
        if let Some(p) = on_path(r) {
            runtimes.insert(
                r.to_string(),
                RuntimeInfo {
                    path: p.display().to_string(),
                },
            );
        }
    }
    let commit = || Commit {
        id: String::new(),
        expected: String::new(),
    };
    let cgroups = cgroup_version();
    Ok(Info {
        id: String::new(),
        containers: containers.len(),
        containers_running: running,
        containers_paused: paused,
        containers_stopped: containers.len() - running - paused,
        images,
        driver: "overlayfs".into(),
        driver_status: Vec::new(),
        plugins: Plugins {
            volume: vec!["local".into()],
            network: vec!["bridge".into(), "host".into(), "none".into()],
            authorization: None,
            log: vec!["json-file".into()],
        },
        memory_limit: true,
        swap_limit: true,
        cpu_cfs_period: true,
        cpu_cfs_quota: true,
        cpu_shares: true,
        cpu_set: true,
        pids_limit: true,
        oom_kill_disable: cgroups == "1",
        ipv4_forwarding: ipv4_forwarding(),
        debug: false,
        system_time: berth_image::timestamp::rfc3339(berth_image::timestamp::now()),
        logging_driver: "json-file".into(),
        cgroup_driver: "cgroupfs".into(),
        cgroup_version: cgroups.into(),
        kernel_version: h.kernel,
        operating_system: os_name(),
        os_version: os_version(),
        os_type: "linux".into(),
        architecture: h.machine,
        index_server_address: "https://index.docker.io/v1/".into(),
        ncpu: std::thread::available_parallelism().map_or(1, |n| n.get()),
        mem_total: mem_total(),
        docker_root_dir: root.to_path_buf(),
        http_proxy: String::new(),
        https_proxy: String::new(),
        no_proxy: String::new(),
        name: h.hostname,
        labels: Vec::new(),
        experimental_build: false,
        server_version: VERSION.into(),
        runtimes,
        default_runtime: "berth".into(),
        swarm: SwarmInfo {
            node_id: String::new(),
            node_addr: String::new(),
            local_node_state: "inactive".into(),
            control_available: false,
            error: String::new(),
            remote_managers: None,
        },
        live_restore_enabled: false,
        isolation: String::new(),
        init_binary: "berth-init".into(),
        containerd_commit: commit(),
        runc_commit: commit(),
        init_commit: commit(),
        security_options: vec!["name=seccomp,profile=builtin".into()],
        warnings: Vec::new(),
    })
}

/// An image as `system df` lists it: the summary with `Containers` and `SharedSize` filled.
pub type DiskUsageImage = super::images::ImageSummary;

/// The API's `GET /system/df` answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DiskUsage {
    /// Bytes of every layer once (shared layers counted once), unfinished image work
    /// included.
    pub layers_size: i64,
    pub images: Vec<DiskUsageImage>,
    pub containers: Vec<ContainerSummary>,
    pub volumes: Vec<Volume>,
    pub build_cache: Vec<Value>,
}

/// One line of `docker system df`'s summary.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DfLine {
    pub total: usize,
    pub active: usize,
    pub size: u64,
    pub reclaimable: u64,
}

/// The totals `docker system df` prints: images (layers shared by images counted once;
/// reclaimable is what only images without containers hold, and what dead processes left
/// unfinished), containers (writable layers; reclaimable: those not running), local
/// volumes (reclaimable: those no container uses).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DfTotals {
    pub images: DfLine,
    pub containers: DfLine,
    pub volumes: DfLine,
}

/// `sha256:abc` and `abc` are the same image ID.
fn hex_of(id: &str) -> &str {
    id.strip_prefix("sha256:").unwrap_or(id)
}

fn volumes_line(vols: &[crate::volume::Volume]) -> (DfLine, Vec<u64>) {
    let mut line = DfLine {
        total: vols.len(),
        ..Default::default()
    };
    let mut sizes = Vec::new();
    for v in vols {
        let size = v.size();
        sizes.push(size);
        line.size += size;
        if v.users.is_empty() {
            line.reclaimable += size;
        } else {
            line.active += 1;
        }
    }
    (line, sizes)
}

/// What `df` and `df_totals` both need: the images' layers and who uses them.
struct ImageUsage {
    images: Vec<berth_image::metadata::StoredImage>,
    /// Chain ID hex -> bytes.
    layer_size: HashMap<String, u64>,
    /// Image ID hex -> containers made from it.
    users: HashMap<String, usize>,
    line: DfLine,
    unfinished_bytes: u64,
}

fn image_usage(root: &Path, containers: &[ContainerBrief]) -> Result<ImageUsage> {
    let md = berth_image::metadata::Metadata::open(&root.join("berth.db"))?;
    let snaps = berth_image::snapshot::Snapshotter::open(root.join("snapshots"))?;
    let mut users: HashMap<String, usize> = HashMap::new();
    let mut active_users: HashSet<String> = HashSet::new();
    for c in containers {
        *users.entry(hex_of(&c.image_id).to_string()).or_default() += 1;
        active_users.insert(hex_of(&c.image_id).to_string());
    }
    let images = md.images()?;
    let mut layer_size: HashMap<String, u64> = HashMap::new();
    let mut active_layers: HashSet<String> = HashSet::new();
    let mut active_images = 0;
    for img in &images {
        let active = active_users.contains(img.id.hex());
        active_images += active as usize;
        for c in &img.chain {
            let key = c.hex().to_string();
            if active {
                active_layers.insert(key.clone());
            }
            layer_size
                .entry(key)
                .or_insert_with(|| berth_image::gc::disk_usage(&snaps.path(c)));
        }
    }
    // Unfinished image work (a pull, load, import or commit in progress, or killed) counts
    // with the images; what dead processes left is reclaimable (`system prune` removes it).
    let unfinished = berth_image::gc::leftovers(root);
    let size: u64 = layer_size.values().sum::<u64>() + unfinished.bytes;
    let reclaimable: u64 = layer_size
        .iter()
        .filter(|(k, _)| !active_layers.contains(*k))
        .map(|(_, v)| v)
        .sum::<u64>()
        + unfinished.dead_bytes;
    Ok(ImageUsage {
        line: DfLine {
            total: images.len(),
            active: active_images,
            size,
            reclaimable,
        },
        images,
        layer_size,
        users,
        unfinished_bytes: unfinished.bytes,
    })
}

fn containers_line(root: &Path, containers: &[ContainerBrief]) -> DfLine {
    let mut line = DfLine {
        total: containers.len(),
        active: containers.iter().filter(|c| c.active()).count(),
        ..Default::default()
    };
    for c in containers {
        let size = berth_image::gc::disk_usage(&root.join("containers").join(&c.id).join("upper"));
        line.size += size;
        if !c.active() {
            line.reclaimable += size;
        }
    }
    line
}

/// The summary `docker system df` prints (without listing every object).
pub fn df_totals(e: &Engine) -> Result<DfTotals> {
    df_totals_at(&e.root)
}

/// [`df_totals`] of the data root `root`, without opening the container store.
pub fn df_totals_at(root: &Path) -> Result<DfTotals> {
    let vs = VolumeStore::open(root)?;
    let containers = vs.containers()?;
    let images = image_usage(root, &containers)?.line;
    let (volumes, _) = volumes_line(&vs.list(&VolumeFilter::default())?);
    Ok(DfTotals {
        images,
        containers: containers_line(root, &containers),
        volumes,
    })
}

/// `GET /system/df`: every image, container and volume with its size and users.
pub fn df(e: &Engine) -> Result<DiskUsage> {
    let vs = VolumeStore::open(&e.root)?;
    let briefs = vs.containers()?;
    let usage = image_usage(&e.root, &briefs)?;
    // How many images hold each layer: a layer held by more than one is shared.
    let mut holders: HashMap<&str, usize> = HashMap::new();
    for img in &usage.images {
        for c in &img.chain {
            *holders.entry(c.hex()).or_default() += 1;
        }
    }
    let store = super::content(e)?;
    let mut images = Vec::new();
    for img in &usage.images {
        let cfg = config_of(&store, img);
        let (mut size, mut shared) = (0u64, 0u64);
        for c in &img.chain {
            let bytes = usage.layer_size.get(c.hex()).copied().unwrap_or(0);
            size += bytes;
            if holders.get(c.hex()).copied().unwrap_or(0) > 1 {
                shared += bytes;
            }
        }
        let labels = cfg["config"]["Labels"]
            .as_object()
            .map(|m| {
                m.iter()
                    .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string())))
                    .collect()
            })
            .unwrap_or_default();
        images.push(DiskUsageImage {
            id: img.id.to_string(),
            parent_id: String::new(),
            repo_tags: img.names.iter().map(|n| familiar(n)).collect(),
            repo_digests: img.repo_digests.iter().map(|n| familiar(n)).collect(),
            created: created_of(&cfg, img),
            size: size as i64,
            shared_size: shared as i64,
            virtual_size: size as i64,
            labels,
            containers: usage.users.get(img.id.hex()).copied().unwrap_or(0) as i64,
        });
    }
    images.sort_by(|x, y| y.created.cmp(&x.created).then_with(|| x.id.cmp(&y.id)));
    let containers = containers::list(
        e,
        &ListOptions {
            all: true,
            size: true,
            ..Default::default()
        },
    )?;
    let vols = vs.list(&VolumeFilter::default())?;
    let (_, sizes) = volumes_line(&vols);
    let volumes = vols
        .iter()
        .zip(sizes)
        .map(|(v, size)| Volume {
            usage_data: Some(UsageData {
                size: size as i64,
                ref_count: v.users.len() as i64,
            }),
            ..Volume::of(v)
        })
        .collect();
    Ok(DiskUsage {
        layers_size: (usage.layer_size.values().sum::<u64>() + usage.unfinished_bytes) as i64,
        images,
        containers,
        volumes,
        build_cache: Vec::new(),
    })
}
