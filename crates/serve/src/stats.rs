//! `GET /containers/{id}/stats`: the engine's cgroup samples in Docker's stats JSON, which
//! the docker CLI turns into its table (CPU % from `cpu_stats` against `precpu_stats`).
//! `stream=1` sends one a second until the client goes away; `stream=0` one, a second after
//! the first sample (so the CPU % means something), or at once with `one-shot=1`.

use crate::body::Body;
use crate::reply::{self, ApiResult};
use crate::req::Ctx;
use berth_engine::container::stats::Sample;
use http::StatusCode;
use std::time::Duration;

fn cpu(s: Option<&Sample>) -> serde_json::Value {
    let s = s.cloned().unwrap_or_default();
    serde_json::json!({
        "cpu_usage": { "total_usage": s.cpu, "usage_in_kernelmode": 0, "usage_in_usermode": 0 },
        "system_cpu_usage": s.system,
        "online_cpus": s.online_cpus,
        "throttling_data": { "periods": 0, "throttled_periods": 0, "throttled_time": 0 },
    })
}

fn document(
    id: &str,
    name: &str,
    prev: Option<&Sample>,
    now: Option<&Sample>,
) -> serde_json::Value {
    let s = now.cloned().unwrap_or_default();
    let read = berth_engine::logs::format_rfc3339_nanos(berth_engine::logs::now());
    serde_json::json!({
        "read": read,
        "preread": if prev.is_some() { read.clone() } else { "0001-01-01T00:00:00Z".into() },
        "id": id,
        "name": format!("/{name}"),
        "pids_stats": { "current": s.pids },
        "num_procs": 0,
        "blkio_stats": { "io_service_bytes_recursive": [
            { "major": 0, "minor": 0, "op": "read", "value": s.blk_read },
            { "major": 0, "minor": 0, "op": "write", "value": s.blk_write },
        ]},
        "storage_stats": {},
        "cpu_stats": cpu(now),
        "precpu_stats": cpu(prev),
        // The page cache that can be dropped is already left out of `usage`.
        "memory_stats": { "usage": s.mem_usage, "limit": s.mem_limit, "stats": {} },
        "networks": { "eth0": {
            "rx_bytes": s.net_rx, "rx_packets": 0, "rx_errors": 0, "rx_dropped": 0,
            "tx_bytes": s.net_tx, "tx_packets": 0, "tx_errors": 0, "tx_dropped": 0,
        }},
    })
}

pub async fn stats(ctx: &Ctx, id: &str) -> ApiResult {
    let stream = ctx.q("stream").is_none_or(|v| !matches!(v, "0" | "false"));
    let one_shot = ctx.flag("one-shot");
    let id = id.to_string();
    let r = ctx
        .engine(move |e| {
            let mut r = e.find(&id)?;
            berth_engine::container::exit::refresh(e, &mut r)?;
            Ok(r)
        })
        .await?;
    let (tx, body) = Body::channel();
    let state = ctx.state.clone();
    tokio::task::spawn_blocking(move || {
        let Ok(e) = state.engine() else { return };
        let mut prev: Option<Sample> = None;
        if !stream && !one_shot {
            prev = e.stats_sample(&r);
            std::thread::sleep(Duration::from_secs(1));
        }
        loop {
            let now = e.stats_sample(&r);
            let mut line = document(&r.id, &r.name, prev.as_ref(), now.as_ref()).to_string();
            line.push('\n');
            if tx.blocking_send(line.into()).is_err() || !stream {
                return;
            }
            prev = now;
            std::thread::sleep(Duration::from_secs(1));
        }
    });
    Ok(http::Response::builder()
        .status(StatusCode::OK)
        .header("content-type", "application/json")
        .body(body)
        .unwrap_or_else(|_| reply::status(StatusCode::INTERNAL_SERVER_ERROR)))
}
