//! `stats [--no-stream] [-a] [--no-trunc] [--format] [CONTAINER...]`: docker's table of
//! CPU %, memory usage / limit, memory %, net and block I/O and pids, from the containers'
//! cgroups; CPU % from two samples a second apart. Live mode redraws every second until
//! interrupted.

use super::{engine, Failure};
use crate::cli::StatsArgs;
use crate::commands::format::{human_size, Template};
use crate::env::Env;
use berth_engine::container::stats::{cpu_percent, Sample};
use berth_engine::store::{Row, State};
use serde_json::{json, Map, Value};
use std::collections::HashMap;

const FIELDS: &[&str] = &[
    "Container",
    "ID",
    "Name",
    "CPUPerc",
    "MemUsage",
    "MemPerc",
    "NetIO",
    "BlockIO",
    "PIDs",
];
const HEADERS: &[(&str, &str)] = &[
    ("Container", "CONTAINER"),
    ("ID", "CONTAINER ID"),
    ("Name", "NAME"),
    ("CPUPerc", "CPU %"),
    ("MemUsage", "MEM USAGE / LIMIT"),
    ("MemPerc", "MEM %"),
    ("NetIO", "NET I/O"),
    ("BlockIO", "BLOCK I/O"),
    ("PIDs", "PIDS"),
];
const DEFAULT: &str =
    "table {{.ID}}\t{{.Name}}\t{{.CPUPerc}}\t{{.MemUsage}}\t{{.MemPerc}}\t{{.NetIO}}\t{{.BlockIO}}\t{{.PIDs}}";

/// Docker's binary sizes for memory (`units.BytesSize`: 4 significant digits, KiB..).
pub fn bytes_size(b: u64) -> String {
    let units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
    let mut v = b as f64;
    let mut u = 0;
    while v >= 1024.0 && u < units.len() - 1 {
        v /= 1024.0;
        u += 1;
    }
    // Go's %.4g: 4 significant digits, trailing zeros dropped.
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

fn row(
    r: &Row,
    arg: &str,
    prev: Option<&Sample>,
    now: Option<&Sample>,
    no_trunc: bool,
) -> Map<String, Value> {
    let id = if no_trunc {
        r.id.clone()
    } else {
        r.id[..12].to_string()
    };
    let (cpu, mem, memp, net, blk, pids) = match now {
        Some(s) => (
            prev.map_or(0.0, |p| cpu_percent(p, s)),
            format!("{} / {}", bytes_size(s.mem_usage), bytes_size(s.mem_limit)),
            if s.mem_limit > 0 {
                s.mem_usage as f64 / s.mem_limit as f64 * 100.0
            } else {
                0.0
            },
            format!("{} / {}", human_size(s.net_rx), human_size(s.net_tx)),
            format!("{} / {}", human_size(s.blk_read), human_size(s.blk_write)),
            s.pids,
        ),
        None => (
            0.0,
            "0B / 0B".to_string(),
            0.0,
            "0B / 0B".to_string(),
            "0B / 0B".to_string(),
            0,
        ),
    };
    let v = json!({
        "Container": arg,
        "ID": id,
        "Name": r.name,
        "CPUPerc": format!("{cpu:.2}%"),
        "MemUsage": mem,
        "MemPerc": format!("{memp:.2}%"),
        "NetIO": net,
        "BlockIO": blk,
        "PIDs": pids.to_string(),
    });
    match v {
        Value::Object(m) => m,
        _ => unreachable!(),
    }
}

fn is_running(r: &Row) -> bool {
    matches!(r.state, State::Running | State::Paused | State::Restarting)
}

pub fn stats(env: &Env, a: &StatsArgs) -> Result<i32, Failure> {
    let e = engine(env)?;
    let format = match a.format.as_deref() {
        None | Some("table") => DEFAULT,
        Some("json") => "{{json .}}",
        Some(t) => t,
    };
    let tpl = Template::parse(format, FIELDS)?;
    // Named containers are checked once, up front, as docker does.
    let named: Vec<(String, String)> = a
        .containers
        .iter()
        .map(|c| e.find(c).map(|r| (r.id, c.clone())))
        .collect::<Result<_, _>>()?;
    let pick = |e: &berth_engine::Engine| -> Result<Vec<(Row, String)>, Failure> {
        let all = e.list()?;
        Ok(if named.is_empty() {
            all.into_iter()
                .filter(|r| a.all || is_running(r))
                .map(|r| {
                    let arg = r.id[..12].to_string();
                    (r, arg)
                })
                .collect()
        } else {
            named
                .iter()
                .filter_map(|(id, arg)| {
                    all.iter()
                        .find(|r| &r.id == id)
                        .map(|r| (r.clone(), arg.clone()))
                })
                .collect()
        })
    };
    let mut prev: HashMap<String, Sample> = HashMap::new();
    let mut first = true;
    loop {
        let rows = pick(&e)?;
        let now: Vec<Option<Sample>> = rows.iter().map(|(r, _)| e.stats_sample(r)).collect();
        if first {
            // CPU % needs a second sample.
            for ((r, _), s) in rows.iter().zip(&now) {
                if let Some(s) = s {
                    prev.insert(r.id.clone(), s.clone());
                }
            }
            first = false;
            std::thread::sleep(std::time::Duration::from_secs(1));
            continue;
        }
        let table: Vec<Map<String, Value>> = rows
            .iter()
            .zip(&now)
            .map(|((r, arg), s)| row(r, arg, prev.get(&r.id), s.as_ref(), a.no_trunc))
            .collect();
        if !a.no_stream {
            // Docker's redraw: clear the screen, cursor home.
            print!("\x1b[2J\x1b[H");
        }
        tpl.print(&table, HEADERS)?;
        if a.no_stream {
            return Ok(0);
        }
        use std::io::Write;
        let _ = std::io::stdout().flush();
        prev.clear();
        for ((r, _), s) in rows.iter().zip(now) {
            if let Some(s) = s {
                prev.insert(r.id.clone(), s);
            }
        }
        std::thread::sleep(std::time::Duration::from_secs(1));
    }
}

#[cfg(test)]
mod tests {
    use super::bytes_size;

    #[test]
    fn memory_in_dockers_binary_units() {
        assert_eq!(bytes_size(0), "0B");
        assert_eq!(bytes_size(1536 * 1024), "1.5MiB");
        assert_eq!(bytes_size(8 * 1024 * 1024 * 1024), "8GiB");
        assert_eq!(bytes_size(123_456), "120.6KiB");
    }
}
