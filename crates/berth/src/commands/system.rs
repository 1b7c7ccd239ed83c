//! `system df` (disk usage by images, containers, local volumes and build cache, in docker's
//! table; unfinished image work in `content/ingest` and `snapshots/staging` counts with the
//! images) and `system prune` (stopped containers, dangling or unused images, what killed
//! commands left unfinished, and with `--volumes` unused anonymous volumes).

use super::format::{human_size, human_size_digits, Template};
use super::resolve::familiar;
use super::s;
use super::volume::{confirm, store};
use crate::env::Env;
use berth_engine::service::system::DfLine;
use berth_engine::volume::ContainerBrief;
use clap::{Args, Subcommand};
use serde_json::{json, Map, Value};
use std::collections::HashSet;

#[derive(Subcommand, Debug)]
pub enum SystemCmd {
    /// Show disk usage
    Df(DfArgs),
    /// Remove unused data
    Prune(PruneArgs),
    /// Display system-wide information
    Info(super::info::InfoArgs),
}

#[derive(Args, Debug)]
pub struct DfArgs {
    /// table, json, or a Go template such as 'table {{.Type}}\t{{.Size}}'
    #[arg(long)]
    pub format: Option<String>,
    /// Show detailed information on space usage (accepted; the summary is printed)
    #[arg(short, long)]
    pub verbose: bool,
}

#[derive(Args, Debug)]
pub struct PruneArgs {
    /// Remove all unused images, not just dangling ones
    #[arg(short, long)]
    pub all: bool,
    /// Do not prompt for confirmation
    #[arg(short, long)]
    pub force: bool,
    /// Prune anonymous volumes
    #[arg(long)]
    pub volumes: bool,
}

pub fn run(env: &Env, cmd: &SystemCmd) -> Result<i32, String> {
    match cmd {
        SystemCmd::Df(a) => df(env, a),
        SystemCmd::Prune(a) => prune(env, a),
        SystemCmd::Info(a) => super::info::info(env, a),
    }
}

/// `sha256:abc` and `abc` are the same image ID.
fn hex_of(id: &str) -> &str {
    id.strip_prefix("sha256:").unwrap_or(id)
}

/// Image IDs that containers are made from.
fn images_in_use(containers: &[ContainerBrief]) -> HashSet<String> {
    containers
        .iter()
        .map(|c| hex_of(&c.image_id).to_string())
        .collect()
}

/// "12.3MB (45%)" as docker prints the reclaimable share of a total.
fn reclaimable(bytes: u64, total: u64) -> String {
    match (bytes * 100).checked_div(total) {
        Some(pct) => format!("{} ({pct}%)", human_size(bytes)),
        None => human_size(bytes),
    }
}

const FIELDS: &[&str] = &["Type", "TotalCount", "Active", "Size", "Reclaimable"];
const HEADERS: &[(&str, &str)] = &[("TotalCount", "TOTAL")];

fn df(env: &Env, a: &DfArgs) -> Result<i32, String> {
    let t = berth_engine::service::system::df_totals_at(&env.root).map_err(s)?;
    let row = |t: &str, total: usize, active: usize, size: u64, free: String| {
        json!({"Type": t, "TotalCount": total.to_string(), "Active": active.to_string(),
               "Size": human_size(size), "Reclaimable": free})
        .as_object()
        .expect("object")
        .clone()
    };
    let line = |t: &str, l: DfLine| {
        row(
            t,
            l.total,
            l.active,
            l.size,
            reclaimable(l.reclaimable, l.size),
        )
    };
    let rows: Vec<Map<String, Value>> = vec![
        line("Images", t.images),
        line("Containers", t.containers),
        line("Local Volumes", t.volumes),
        row("Build Cache", 0, 0, 0, human_size(0)),
    ];
    let format = match a.format.as_deref() {
        None | Some("table") => {
            "table {{.Type}}\t{{.TotalCount}}\t{{.Active}}\t{{.Size}}\t{{.Reclaimable}}"
        }
        Some("json") => "{{json .}}",
        Some(t) => t,
    };
    Template::parse(format, FIELDS)?.print(&rows, HEADERS)?;
    Ok(0)
}

/// Stopped containers removed (`system prune`, `container prune`): every container in state
/// created, exited or dead, releasing its volumes without removing them (as docker). Returns
/// the IDs removed and the bytes their writable layers held.
pub fn prune_stopped_containers(env: &Env) -> Result<(Vec<String>, u64), String> {
    let e = berth_engine::Engine::open(&env.root).map_err(s)?;
    let p = e.prune_containers(&Default::default()).map_err(s)?;
    Ok((p.ids, p.bytes))
}

fn prune(env: &Env, a: &PruneArgs) -> Result<i32, String> {
    if !a.force {
        let mut w = String::from(
            "WARNING! This will remove:\n  - all stopped containers\n  - all networks not used by at least one container",
        );
        if a.volumes {
            w.push_str("\n  - all anonymous volumes not used by at least one container");
        }
        w.push_str(if a.all {
            "\n  - all images without at least one container associated to them"
        } else {
            "\n  - all dangling images"
        });
        w.push('\n');
        if !confirm(&w) {
            return Ok(0);
        }
    }
    // What killed pulls, loads, imports and commits left.
    let mut freed = berth_image::gc::clean_leftovers(&env.root);
    let (removed, bytes) = prune_stopped_containers(env)?;
    freed += bytes;
    if !removed.is_empty() {
        println!("Deleted Containers:\n{}\n", removed.join("\n"));
    }
    let nets = berth_engine::Engine::open(&env.root)
        .and_then(|e| e.network_prune())
        .map_err(s)?;
    if !nets.is_empty() {
        println!("Deleted Networks:\n{}\n", nets.join("\n"));
    }
    let vs = store(env)?;
    if a.volumes {
        // As docker 23+: `system prune --volumes` takes anonymous volumes only, even with -a.
        let p = vs.prune(false).map_err(s)?;
        freed += p.bytes;
        if !p.names.is_empty() {
            println!("Deleted Volumes:\n{}\n", p.names.join("\n"));
        }
    }
    let used = images_in_use(&vs.containers().map_err(s)?);
    let (md, cs, snaps) = (
        env.metadata().map_err(s)?,
        env.store().map_err(s)?,
        env.snapshots().map_err(s)?,
    );
    let in_use = |img: &berth_image::metadata::StoredImage| used.contains(img.id.hex());
    let pruned = berth_image::gc::prune(&md, &cs, &snaps, a.all, &in_use).map_err(s)?;
    let mut lines = Vec::new();
    for r in &pruned.removals {
        super::events::image_removal_events(env, r);
        lines.extend(
            r.untagged
                .iter()
                .map(|n| format!("untagged: {}", familiar(n))),
        );
        lines.extend(r.deleted.iter().map(|i| format!("deleted: {}", i.id)));
    }
    if !lines.is_empty() {
        println!("Deleted Images:\n{}\n", lines.join("\n"));
    }
    freed += pruned.freed.bytes;
    println!("Total reclaimed space: {}", human_size_digits(freed, 4));
    Ok(0)
}
