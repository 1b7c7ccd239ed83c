//! `info` (docker's system-wide facts: containers by state, images, storage and cgroup
//! drivers, runtimes, the host's kernel, OS, CPUs and memory, the data root) and `version`
//! (docker's Client/Server blocks, plain text).

use super::format::ObjectTemplate;
use super::s;
use crate::env::Env;
use berth_engine::service::system::{self, go_arch, host};
use clap::Args;
use serde_json::{json, Map, Value};

#[derive(Args, Debug)]
pub struct VersionArgs {
    /// json, or a Go template such as '{{.Server.Version}}'
    #[arg(short, long)]
    pub format: Option<String>,
}

#[derive(Args, Debug)]
pub struct InfoArgs {
    /// json, or a Go template such as '{{.ServerVersion}} {{.CgroupVersion}}'
    #[arg(short, long)]
    pub format: Option<String>,
}

const VERSION: &str = env!("CARGO_PKG_VERSION");

/// Docker's binary sizes (`23.54GiB`): 4 significant digits.
fn bytes_size(bytes: u64) -> String {
    let units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
    let (mut v, mut u) = (bytes as f64, 0);
    while v >= 1024.0 && u < units.len() - 1 {
        v /= 1024.0;
        u += 1;
    }
    let digits = if v < 1.0 {
        1
    } else {
        v.log10().floor() as i32 + 1
    };
    let decimals = (4 - digits).max(0) as usize;
    let mut n = format!("{v:.decimals$}");
    if n.contains('.') {
        n = n.trim_end_matches('0').trim_end_matches('.').to_string();
    }
    format!("{n}{}", units[u])
}

/// Docker's SystemInfo document of the engine at the data root.
fn info_json(env: &Env) -> Result<Map<String, Value>, String> {
    match berth_engine::service::to_value(&system::info_at(&env.root).map_err(s)?) {
        Value::Object(m) => Ok(m),
        _ => Ok(Map::new()),
    }
}

pub fn info(env: &Env, a: &InfoArgs) -> Result<i32, String> {
    if let Some(f) = a.format.as_deref() {
        // The template is checked before anything is read, as docker checks it.
        let f = if f == "json" { "{{json .}}" } else { f };
        let t = match ObjectTemplate::parse_strict(f) {
            Ok(t) => t,
            Err(e) => return Ok(super::format::report(e)),
        };
        let i = info_json(env)?;
        return Ok(t
            .print_all(&[Value::Object(i)])
            .map_or_else(super::format::report, |()| 0));
    }
    let i = info_json(env)?;
    let v = |k: &str| match &i[k] {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    let runtimes: Vec<&str> = i["Runtimes"]
        .as_object()
        .map(|m| m.keys().map(String::as_str).collect())
        .unwrap_or_default();
    println!("Client:\n Version:    {VERSION}\n Context:    default\n Debug Mode: false\n");
    println!("Server:");
    println!(" Containers: {}", v("Containers"));
    println!("  Running: {}", v("ContainersRunning"));
    println!("  Paused: {}", v("ContainersPaused"));
    println!("  Stopped: {}", v("ContainersStopped"));
    println!(" Images: {}", v("Images"));
    println!(" Server Version: {}", v("ServerVersion"));
    println!(" Storage Driver: {}", v("Driver"));
    println!(" Logging Driver: {}", v("LoggingDriver"));
    println!(" Cgroup Driver: {}", v("CgroupDriver"));
    println!(" Cgroup Version: {}", v("CgroupVersion"));
    println!(" Runtimes: {}", runtimes.join(" "));
    println!(" Default Runtime: {}", v("DefaultRuntime"));
    println!(" Init Binary: {}", v("InitBinary"));
    println!(" Kernel Version: {}", v("KernelVersion"));
    println!(" Operating System: {}", v("OperatingSystem"));
    println!(" OSType: {}", v("OSType"));
    println!(" Architecture: {}", v("Architecture"));
    println!(" CPUs: {}", v("NCPU"));
    println!(
        " Total Memory: {}",
        bytes_size(i["MemTotal"].as_u64().unwrap_or(0))
    );
    println!(" Name: {}", v("Name"));
    println!(" Docker Root Dir: {}", v("DockerRootDir"));
    Ok(0)
}

/// `key:` padded so values line up in one column, as `docker version` prints.
fn kv(indent: usize, key: &str, value: &str) -> String {
    let k = format!("{}{key}:", " ".repeat(indent));
    format!("{k:<20}{value}")
}

/// Docker's version document (the CLI's Client block and the Engine API's /version as the
/// Server block), for `version --format`.
fn version_json(arch: &str) -> Value {
    json!({
        "Client": {
            "Platform": {"Name": "Berth"},
            "Version": VERSION,
            "ApiVersion": "",
            "DefaultAPIVersion": "",
            "GitCommit": "",
            "GoVersion": "",
            "Os": "linux",
            "Arch": arch,
            "BuildTime": "",
            "Context": "default",
        },
        "Server": berth_engine::service::to_value(&system::version()),
    })
}

pub fn version(a: &VersionArgs) -> Result<i32, String> {
    let h = host();
    if let Some(f) = a.format.as_deref() {
        let f = if f == "json" { "{{json .}}" } else { f };
        let printed = ObjectTemplate::parse_strict(f)
            .and_then(|t| t.print_all(&[version_json(go_arch(&h.machine))]));
        return Ok(printed.map_or_else(super::format::report, |()| 0));
    }
    let os_arch = format!("linux/{}", go_arch(&h.machine));
    let lines = [
        "Client:".to_string(),
        kv(1, "Version", VERSION),
        kv(1, "OS/Arch", &os_arch),
        kv(1, "Context", "default"),
        String::new(),
        "Server: Berth Engine".to_string(),
        " Engine:".to_string(),
        kv(2, "Version", VERSION),
        kv(2, "OS/Arch", &os_arch),
        kv(2, "Kernel Version", &h.kernel),
        " berth-runtime:".to_string(),
        kv(2, "Version", VERSION),
        " berth-init:".to_string(),
        kv(2, "Version", VERSION),
    ];
    println!("{}", lines.join("\n"));
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn binary_sizes_like_docker() {
        assert_eq!(bytes_size(0), "0B");
        assert_eq!(bytes_size(1023), "1023B");
        assert_eq!(bytes_size(24_684_084 * 1024), "23.54GiB");
        assert_eq!(bytes_size(2 * 1024 * 1024 * 1024), "2GiB");
    }

    #[test]
    fn version_values_line_up() {
        assert_eq!(
            kv(1, "Version", "1"),
            format!(" Version:{}1", " ".repeat(11))
        );
        assert_eq!(kv(2, "OS/Arch", "x").find('x'), Some(20));
    }
}
