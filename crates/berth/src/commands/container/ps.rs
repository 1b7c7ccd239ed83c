//! `ps`: containers as docker lists them: filters, `-a`/`-n`/`-l`/`-q`/`-s`, `--format`.

use super::{engine, Failure};
use crate::cli::PsArgs;
use crate::commands::format::{ellipsis, human_size, Template};
use crate::env::Env;
use berth_engine::service::containers::{self, ContainerSummary, Detail, ListOptions};
use berth_engine::service::Filters;
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

/// Docker's PORTS cell: `127.0.0.1:8080->80/tcp, 53/udp`.
fn ports_cell(c: &ContainerSummary) -> String {
    c.ports
        .iter()
        .map(|p| match p.public_port {
            Some(public) => format!(
                "{}:{public}->{}/{}",
                p.ip.as_deref().unwrap_or("0.0.0.0"),
                p.private_port,
                p.kind
            ),
            None => format!("{}/{}", p.private_port, p.kind),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Docker's MOUNTS cell: volume names and bind sources, each cut to 15 characters unless
/// `--no-trunc`; and the LOCAL VOLUMES count.
fn mounts_cell(c: &ContainerSummary, no_trunc: bool) -> (String, usize) {
    let volumes = c.mounts.iter().filter(|m| m.kind == "volume").count();
    let names: Vec<String> = c
        .mounts
        .iter()
        .filter_map(|m| {
            let name = match (&m.name, m.kind.as_str()) {
                (Some(n), _) => n.clone(),
                (None, "bind") => m.source.clone(),
                _ => return None,
            };
            Some(if no_trunc { name } else { ellipsis(&name, 15) })
        })
        .collect();
    (names.join(","), volumes)
}

/// Docker's NETWORKS cell: the networks the container is on (its mode's name otherwise).
fn networks_cell(c: &ContainerSummary) -> String {
    if c.network_settings.networks.is_empty() {
        return c.host_config.network_mode.clone();
    }
    c.network_settings
        .networks
        .keys()
        .map(|s| s.as_str())
        .collect::<Vec<_>>()
        .join(",")
}

pub fn ps(env: &Env, a: &PsArgs) -> Result<i32, Failure> {
    let e = engine(env)?;
    let filters = Filters::from_cli(&a.filter)?;
    containers::check_filters(&filters)?;
    let last = if a.latest {
        Some(1)
    } else {
        a.last.filter(|n| *n > 0)
    };
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
    // The network database is opened only when the output shows the networks.
    let detail = Detail {
        networks: format.contains("Networks") || format.contains("json"),
        // Labels, mounts and the network mode come from the row's options: decoded only
        // when shown.
        options: ["Label", "Mounts", "LocalVolumes", "json"]
            .iter()
            .any(|k| format.contains(k)),
    };
    let options = ListOptions {
        all: a.all,
        limit: last,
        size: a.size,
        filters,
    };
    let listed = containers::list_with(&e, &options, detail)?;
    let now = timestamp::now();
    let mut rows: Vec<Map<String, Value>> = Vec::new();
    for c in &listed {
        let command = if a.no_trunc {
            format!("\"{}\"", c.command)
        } else {
            format!("\"{}\"", ellipsis(&c.command, 20))
        };
        let labels: Vec<String> = c.labels.iter().map(|(k, v)| format!("{k}={v}")).collect();
        let size = match (c.size_rw, c.size_root_fs) {
            (Some(rw), Some(total)) => format!(
                "{} (virtual {})",
                human_size(rw as u64),
                human_size(total as u64)
            ),
            _ => String::new(),
        };
        let (mounts, volumes) = mounts_cell(c, a.no_trunc);
        let networks = if detail.networks {
            networks_cell(c)
        } else {
            String::new()
        };
        let name = c.names.first().map_or("", |n| n.trim_start_matches('/'));
        let row = json!({
            "Command": command,
            "CreatedAt": timestamp::go_time(c.created),
            "ID": if a.no_trunc { c.id.clone() } else { c.id[..12.min(c.id.len())].to_string() },
            "Image": c.image,
            "Labels": labels.join(","),
            "LocalVolumes": volumes.to_string(),
            "Mounts": mounts,
            "Names": name,
            "Networks": networks,
            "Ports": ports_cell(c),
            "RunningFor": timestamp::ago(c.created, now),
            "Size": size,
            "State": c.state,
            "Status": c.status,
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
