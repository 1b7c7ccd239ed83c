//! `/_ping`, `/version`, `/info`: what clients ask first, to negotiate the API version.

use crate::body::Body;
use crate::reply::{self, ApiResult, Reply};
use crate::req::Ctx;
use http::{Method, Response, StatusCode};

/// The newest API version served; clients negotiate down from theirs.
pub const API_VERSION: &str = "1.45";
pub const MIN_API_VERSION: &str = "1.24";

pub fn api_version() -> (u32, u32) {
    (1, 45)
}

pub fn ping(m: &Method) -> Reply {
    let body = if m == Method::HEAD {
        Body::empty()
    } else {
        Body::bytes("OK")
    };
    Response::builder()
        .status(StatusCode::OK)
        .header("content-type", "text/plain; charset=utf-8")
        .header("cache-control", "no-cache, no-store, must-revalidate")
        .header("pragma", "no-cache")
        // No BuildKit: clients use the classic builder's API.
        .header("builder-version", "1")
        .body(body)
        .unwrap_or_else(|_| reply::status(StatusCode::INTERNAL_SERVER_ERROR))
}

fn kernel() -> String {
    std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .map(|s| s.trim().to_string())
        .unwrap_or_default()
}

fn arch() -> &'static str {
    match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        a => a,
    }
}

pub fn version() -> Reply {
    let v = env!("CARGO_PKG_VERSION");
    reply::ok(&serde_json::json!({
        "Platform": { "Name": "Berth" },
        "Components": [{
            "Name": "Engine",
            "Version": v,
            "Details": {
                "ApiVersion": API_VERSION,
                "MinAPIVersion": MIN_API_VERSION,
                "Os": "linux",
                "Arch": arch(),
                "KernelVersion": kernel(),
                "Experimental": "false",
            }
        }],
        "Version": v,
        "ApiVersion": API_VERSION,
        "MinAPIVersion": MIN_API_VERSION,
        "GitCommit": "",
        "GoVersion": "",
        "Os": "linux",
        "Arch": arch(),
        "KernelVersion": kernel(),
        "BuildTime": "",
    }))
}

pub async fn info(ctx: &Ctx) -> ApiResult {
    let root = ctx.state.root.clone();
    let v = ctx
        .engine(move |e| {
            let rows = e.list()?;
            let count =
                |s: berth_engine::store::State| rows.iter().filter(|r| r.state == s).count();
            use berth_engine::store::State as S;
            let ncpu = std::thread::available_parallelism().map_or(1, |n| n.get());
            let mem = std::fs::read_to_string("/proc/meminfo")
                .ok()
                .and_then(|m| {
                    m.lines()
                        .find_map(|l| l.strip_prefix("MemTotal:"))
                        .and_then(|v| v.trim().trim_end_matches(" kB").parse::<u64>().ok())
                })
                .unwrap_or(0)
                * 1024;
            let hostname = std::fs::read_to_string("/proc/sys/kernel/hostname")
                .map(|s| s.trim().to_string())
                .unwrap_or_default();
            Ok(serde_json::json!({
                "ID": "",
                "Containers": rows.len(),
                "ContainersRunning": count(S::Running) + count(S::Restarting),
                "ContainersPaused": count(S::Paused),
                "ContainersStopped": count(S::Exited) + count(S::Created),
                "Driver": "overlay2",
                "DockerRootDir": root.display().to_string(),
                "OperatingSystem": "Berth",
                "OSType": "linux",
                "Architecture": std::env::consts::ARCH,
                "NCPU": ncpu,
                "MemTotal": mem,
                "Name": hostname,
                "ServerVersion": env!("CARGO_PKG_VERSION"),
                "KernelVersion": kernel(),
                "DefaultRuntime": "berth",
                "Runtimes": { "berth": { "path": "berth-runtime" } },
                "LoggingDriver": "json-file",
                "Swarm": { "LocalNodeState": "inactive" },
                "SecurityOptions": ["name=seccomp,profile=builtin"],
                "Warnings": [],
            }))
        })
        .await?;
    Ok(reply::ok(&v))
}
