//! `ps`: containers as docker lists them: filters, `-a`/`-n`/`-l`/`-q`/`-s`, `--format`.

use super::{engine, fail, Failure};
use crate::cli::PsArgs;
use crate::commands::format::{ellipsis, human_size, Template};
use crate::env::Env;
use berth_engine::container::{health, options_of};
use berth_engine::store::{Row, State};
use berth_image::timestamp;
use serde_json::{json, Map, Value};

const FIELDS: &[&str] = &[
    "Command",
    "CreatedAt",
    "ID",
    "Image",
    "Labels",
    "LocalVolumes",
    "Mounts",
    "Names",
    "Networks",
    "Ports",
    "RunningFor",
    "Size",
    "State",
    "Status",
];

const HEADERS: &[(&str, &str)] = &[
    ("Command", "COMMAND"),
    ("CreatedAt", "CREATED AT"),
    ("ID", "CONTAINER ID"),
    ("Image", "IMAGE"),
    ("LocalVolumes", "LOCAL VOLUMES"),
    ("RunningFor", "CREATED"),
    ("Names", "NAMES"),
    ("Networks", "NETWORKS"),
    ("Ports", "PORTS"),
    ("Size", "SIZE"),
    ("State", "STATE"),
    ("Status", "STATUS"),
];

fn secs(t: &str) -> i64 {
    timestamp::parse_rfc3339(t).unwrap_or(0)
}

/// Docker's human duration (`3 seconds`, `About a minute`).
fn duration(since: i64, now: i64) -> String {
    let ago = timestamp::ago(since, now);
    ago.strip_suffix(" ago").unwrap_or(&ago).to_string()
}

/// The health a running container's STATUS shows, as docker: ` (healthy)`.
fn health_suffix(e: &berth_engine::Engine, r: &Row) -> String {
    match health::read(e, r).map(|h| h.status) {
        Some(s) if s == "starting" => " (health: starting)".into(),
        Some(s) => format!(" ({s})"),
        None => String::new(),
    }
}

/// `health=` filter's value: the status, `none` without a healthcheck.
fn health_status(e: &berth_engine::Engine, r: &Row) -> String {
    health::read(e, r).map_or_else(|| "none".into(), |h| h.status)
}

/// `Up 3 seconds`, `Exited (0) 2 minutes ago`, `Created`.
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

/// The command as docker shows it: the process's args joined by spaces.
fn command_of(e: &berth_engine::Engine, r: &Row) -> String {
    let spec: Value = std::fs::read(e.dir(&r.id).join("config.json"))
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or_default();
    let args: Vec<String> =
        serde_json::from_value(spec["process"]["args"].clone()).unwrap_or_default();
    args.join(" ")
}

/// Docker's PORTS cell: `127.0.0.1:8080->80/tcp, 53/udp` for the ports a running container
/// publishes (its ports file; nothing once it stops).
fn ports_of(e: &berth_engine::Engine, r: &Row) -> String {
    if !r.state.is_live() {
        return String::new();
    }
    let ports: Value = std::fs::read(
        e.dir(&r.id)
            .join(berth_engine::network::lifecycle::PORTS_FILE),
    )
    .ok()
    .and_then(|b| serde_json::from_slice(&b).ok())
    .unwrap_or_default();
    let mut cells = Vec::new();
    for (port, bindings) in ports.as_object().into_iter().flatten() {
        match bindings.as_array().filter(|l| !l.is_empty()) {
            Some(list) => {
                for b in list {
                    let ip = match b["HostIp"].as_str().unwrap_or("") {
                        "" => "0.0.0.0",
                        ip => ip,
                    };
                    cells.push(format!(
                        "{ip}:{}->{port}",
                        b["HostPort"].as_str().unwrap_or("")
                    ));
                }
            }
            None => cells.push(port.clone()),
        }
    }
    cells.join(", ")
}

/// Docker's MOUNTS cell: volume names and bind sources, each cut to 15 characters unless
/// `--no-trunc`.
fn mounts_of(r: &Row, no_trunc: bool) -> (String, usize) {
    use berth_engine::options::MountKind;
    let o = options_of(r);
    let mut volumes = 0;
    let names: Vec<String> = o
        .mounts
        .iter()
        .filter_map(|m| {
            if m.kind == MountKind::Volume {
                volumes += 1;
            }
            let name = m.source.clone()?;
            Some(if no_trunc { name } else { ellipsis(&name, 15) })
        })
        .collect();
    (names.join(","), volumes)
}

/// Docker's NETWORKS cell: the networks the container is on (its mode's name otherwise).
fn networks_of(e: &berth_engine::Engine, r: &Row) -> String {
    let settings = e.network_settings(r);
    let names: Vec<&String> = settings["Networks"]
        .as_object()
        .map(|m| m.keys().collect())
        .unwrap_or_default();
    if names.is_empty() {
        return berth_engine::container::host_config::network_mode(&options_of(r).network);
    }
    names
        .iter()
        .map(|s| s.as_str())
        .collect::<Vec<_>>()
        .join(",")
}

/// Bytes of the image's unpacked layers (0 if it is gone).
fn image_size(env: &Env, image_id: &str) -> u64 {
    let (Ok(md), Ok(snaps), Ok(id)) = (env.metadata(), env.snapshots(), image_id.parse()) else {
        return 0;
    };
    match md.image(&id) {
        Ok(Some(img)) => crate::commands::images::size_of(&snaps, &img),
        _ => 0,
    }
}

struct Filter {
    key: String,
    value: String,
}

fn matches(e: &berth_engine::Engine, r: &Row, f: &Filter) -> Result<bool, Failure> {
    let v = f.value.as_str();
    Ok(match f.key.as_str() {
        "status" => r.state.as_str() == v,
        "health" => health_status(e, r) == v,
        "name" => r.name.contains(v.trim_start_matches('/')),
        "id" => r.id.starts_with(v),
        "label" => {
            let labels = options_of(r).labels;
            match v.split_once('=') {
                Some((k, want)) => labels.get(k).is_some_and(|have| have == want),
                None => labels.contains_key(v),
            }
        }
        "ancestor" => {
            r.image == v
                || r.image_id == v
                || r.image_id
                    .trim_start_matches("sha256:")
                    .starts_with(v.trim_start_matches("sha256:"))
                || {
                    let _ = e;
                    let full = |s: &str| {
                        s.parse::<berth_image::Reference>()
                            .map(|x| x.to_string())
                            .ok()
                    };
                    full(&r.image).is_some() && full(&r.image) == full(v)
                }
        }
        "exited" => {
            let n: i32 = v
                .parse()
                .map_err(|_| fail(format!("invalid filter 'exited={v}'")))?;
            r.state == State::Exited && r.exit_code == n
        }
        k => return Err(fail(format!("invalid filter '{k}'"))),
    })
}

pub fn ps(env: &Env, a: &PsArgs) -> Result<i32, Failure> {
    let e = engine(env)?;
    let mut filters = Vec::new();
    for spec in &a.filter {
        let (k, v) = spec.split_once('=').ok_or_else(|| {
            fail(format!(
                "bad format of filter (expected name=value): {spec}"
            ))
        })?;
        if ![
            "status", "name", "id", "label", "ancestor", "exited", "health",
        ]
        .contains(&k)
        {
            return Err(fail(format!("invalid filter '{k}'")));
        }
        if k == "health" && !["starting", "healthy", "unhealthy", "none"].contains(&v) {
            return Err(fail(format!("Unrecognised filter value for health: {v}")));
        }
        if k == "status"
            && ![
                "created",
                "restarting",
                "running",
                "removing",
                "paused",
                "exited",
                "dead",
            ]
            .contains(&v)
        {
            return Err(fail(format!("invalid filter 'status={v}'")));
        }
        filters.push(Filter {
            key: k.into(),
            value: v.into(),
        });
    }
    let last = if a.latest {
        Some(1)
    } else {
        a.last.filter(|n| *n > 0)
    };
    let all = a.all
        || last.is_some()
        || filters
            .iter()
            .any(|f| f.key == "status" || f.key == "exited");
    let default = if a.size {
        "table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.RunningFor}}\t{{.Status}}\t{{.Ports}}\t{{.Names}}\t{{.Size}}"
    } else {
        "table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.RunningFor}}\t{{.Status}}\t{{.Ports}}\t{{.Names}}"
    };
    let format = match a.format.as_deref() {
        None | Some("table") => default,
        Some("json") => "{{json .}}",
        Some(t) => t,
    };
    // Checked before listing, as docker checks it.
    let template = Template::parse(format, FIELDS)?;
    template.header(HEADERS)?;
    let wants_networks = format.contains("Networks") || format.contains("json");
    let now = timestamp::now();
    let mut rows: Vec<Map<String, Value>> = Vec::new();
    let mut listed = e.list()?;
    if let Some(n) = last {
        listed.truncate(n);
    }
    for r in &listed {
        if !all && !matches!(r.state, State::Running | State::Paused | State::Restarting) {
            continue;
        }
        let mut keep = true;
        // Filters of one key are alternatives; different keys must all hold (docker's rule).
        let mut keys: Vec<&str> = filters.iter().map(|f| f.key.as_str()).collect();
        keys.dedup();
        for k in keys {
            let mut any = false;
            for f in filters.iter().filter(|f| f.key == k) {
                any |= matches(&e, r, f)?;
            }
            keep &= any;
        }
        if !keep {
            continue;
        }
        let cmd = command_of(&e, r);
        let command = if a.no_trunc {
            format!("\"{cmd}\"")
        } else {
            format!("\"{}\"", ellipsis(&cmd, 20))
        };
        let labels: Vec<String> = options_of(r)
            .labels
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        let size = if a.size {
            let upper = berth_image::gc::disk_usage(&e.dir(&r.id).join("upper"));
            let image = image_size(env, &r.image_id);
            format!(
                "{} (virtual {})",
                human_size(upper),
                human_size(upper + image)
            )
        } else {
            String::new()
        };
        let image = if r.image.is_empty() {
            r.image_id.clone()
        } else {
            r.image.clone()
        };
        let created = secs(&r.created);
        let (mounts, volumes) = mounts_of(r, a.no_trunc);
        // The network database is opened only when the output shows the networks.
        let networks = if wants_networks {
            networks_of(&e, r)
        } else {
            String::new()
        };
        let row = json!({
            "Command": command,
            "CreatedAt": timestamp::go_time(created),
            "ID": if a.no_trunc { r.id.clone() } else { r.id[..12].to_string() },
            "Image": image,
            "Labels": labels.join(","),
            "LocalVolumes": volumes.to_string(),
            "Mounts": mounts,
            "Names": r.name,
            "Networks": networks,
            "Ports": ports_of(&e, r),
            "RunningFor": timestamp::ago(created, now),
            "Size": size,
            "State": r.state.as_str(),
            "Status": if r.state == State::Running {
                status(r, now) + &health_suffix(&e, r)
            } else {
                status(r, now)
            },
        });
        rows.push(row.as_object().expect("object").clone());
    }
    if a.quiet {
        for r in &rows {
            println!("{}", r["ID"].as_str().unwrap_or(""));
        }
        return Ok(0);
    }
    template.print(&rows, HEADERS)?;
    Ok(0)
}
