//! `volume create/ls/inspect/rm/prune`, with the docker CLI's flags and output, over the
//! engine's volume store.

use super::format::pretty;
use super::format::{human_size_digits, ObjectTemplate, Template};
use super::s;
use crate::env::Env;
use berth_engine::service::volumes::{self, Volume};
use berth_engine::service::Filters;
use berth_engine::volume::{VolumeFilter, VolumeStore};
use clap::{Args, Subcommand};
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;

#[derive(Subcommand, Debug)]
pub enum VolumeCmd {
    /// Create a volume
    Create(CreateArgs),
    /// List volumes
    #[command(alias = "list")]
    Ls(LsArgs),
    /// Display detailed information on one or more volumes
    Inspect(InspectArgs),
    /// Remove one or more volumes
    #[command(alias = "remove")]
    Rm(RmArgs),
    /// Remove unused local volumes
    Prune(PruneArgs),
}

#[derive(Args, Debug)]
pub struct CreateArgs {
    pub name: Option<String>,
    /// Set metadata for a volume (KEY=VALUE)
    #[arg(short = 'l', long = "label")]
    pub labels: Vec<String>,
    /// Volume driver name (only "local")
    #[arg(short, long, default_value = "local")]
    pub driver: String,
    /// Set driver specific options (the local driver's mount options are not supported)
    #[arg(short, long = "opt")]
    pub opts: Vec<String>,
    /// Volume name (the same as the positional NAME)
    #[arg(long = "name", conflicts_with = "name")]
    pub name_flag: Option<String>,
}

#[derive(Args, Debug)]
pub struct LsArgs {
    /// Only display volume names
    #[arg(short, long)]
    pub quiet: bool,
    /// Filter: dangling=true|false, name=NAME, label=KEY[=VALUE], driver=local
    #[arg(short, long, value_name = "FILTER")]
    pub filter: Vec<String>,
    /// table, json, or a Go template such as 'table {{.Name}}\t{{.Mountpoint}}'
    #[arg(long)]
    pub format: Option<String>,
}

#[derive(Args, Debug)]
pub struct InspectArgs {
    #[arg(required = true, value_name = "VOLUME")]
    pub names: Vec<String>,
    /// A Go template (the subset of `--format` elsewhere), or json
    #[arg(short, long)]
    pub format: Option<String>,
}

#[derive(Args, Debug)]
pub struct RmArgs {
    #[arg(required = true, value_name = "VOLUME")]
    pub names: Vec<String>,
    /// Do not fail for a volume that does not exist
    #[arg(short, long)]
    pub force: bool,
}

#[derive(Args, Debug)]
pub struct PruneArgs {
    /// Remove all unused volumes, not just anonymous ones
    #[arg(short, long)]
    pub all: bool,
    /// Do not prompt for confirmation
    #[arg(short, long)]
    pub force: bool,
    /// Only volumes with these labels: label=KEY[=VALUE] (and docker's all=true, as -a)
    #[arg(long, value_name = "FILTER")]
    pub filter: Vec<String>,
}

pub fn run(env: &Env, cmd: &VolumeCmd) -> Result<i32, String> {
    match cmd {
        VolumeCmd::Create(a) => create(env, a),
        VolumeCmd::Ls(a) => ls(env, a),
        VolumeCmd::Inspect(a) => inspect(env, a),
        VolumeCmd::Rm(a) => rm(env, a),
        VolumeCmd::Prune(a) => prune(env, a),
    }
}

pub fn store(env: &Env) -> Result<VolumeStore, String> {
    VolumeStore::open(&env.root).map_err(s)
}

/// `KEY=VALUE` (or `KEY`, an empty value) strings as a map.
pub(crate) fn labels(args: &[String]) -> BTreeMap<String, String> {
    args.iter()
        .map(|l| match l.split_once('=') {
            Some((k, v)) => (k.to_string(), v.to_string()),
            None => (l.clone(), String::new()),
        })
        .collect()
}

fn create(env: &Env, a: &CreateArgs) -> Result<i32, String> {
    if a.driver != "local" {
        return Err(format!(
            "create {}: error looking up volume plugin {}: plugin {:?} not found",
            a.name.as_deref().unwrap_or(""),
            a.driver,
            a.driver
        ));
    }
    if !a.opts.is_empty() {
        return Err("volume options (-o) are not supported by Berth's local driver".into());
    }
    let name = a.name.as_deref().or(a.name_flag.as_deref());
    let v = store(env)?.create(name, &labels(&a.labels)).map_err(s)?;
    println!("{}", v.name);
    Ok(0)
}

const FIELDS: &[&str] = &[
    "Availability",
    "Driver",
    "Group",
    "Labels",
    "Links",
    "Mountpoint",
    "Name",
    "Scope",
    "Size",
    "Status",
];
const HEADERS: &[(&str, &str)] = &[("Name", "VOLUME NAME"), ("Links", "LINKS")];

fn row(v: &Volume) -> Map<String, Value> {
    let labels: Vec<String> = v.labels.iter().map(|(k, v)| format!("{k}={v}")).collect();
    json!({
        "Availability": "N/A",
        "Driver": "local",
        "Group": "N/A",
        "Labels": labels.join(","),
        "Links": "N/A",
        "Mountpoint": v.mountpoint,
        "Name": v.name,
        "Scope": "local",
        "Size": "N/A",
        "Status": "N/A",
    })
    .as_object()
    .expect("object")
    .clone()
}

fn engine(env: &Env) -> Result<berth_engine::Engine, String> {
    berth_engine::Engine::open_only(&env.root).map_err(s)
}

fn ls(env: &Env, a: &LsArgs) -> Result<i32, String> {
    let filters = Filters::from_cli(&a.filter).map_err(s)?;
    let vols = volumes::list(&engine(env)?, &filters).map_err(s)?.volumes;
    if a.quiet {
        for v in &vols {
            println!("{}", v.name);
        }
        return Ok(0);
    }
    let format = match a.format.as_deref() {
        None | Some("table") => "table {{.Driver}}\t{{.Name}}",
        Some("json") => "{{json .}}",
        Some(t) => t,
    };
    let rows: Vec<_> = vols.iter().map(row).collect();
    Template::parse(format, FIELDS)?.print(&rows, HEADERS)?;
    Ok(0)
}

fn inspect(env: &Env, a: &InspectArgs) -> Result<i32, String> {
    let e = engine(env)?;
    let (mut found, mut code) = (Vec::new(), 0);
    for n in &a.names {
        match volumes::inspect(&e, n) {
            Ok(v) => found.push(berth_engine::service::to_value(&v)),
            Err(e) => {
                eprintln!("Error: {e}");
                code = 1;
            }
        }
    }
    match a.format.as_deref() {
        None | Some("json") => println!("{}", pretty(&Value::Array(found))),
        Some(t) => {
            let printed = ObjectTemplate::parse(t).and_then(|t| t.print_all(&found));
            if let Err(e) = printed {
                return Ok(super::format::report(e));
            }
        }
    }
    Ok(code)
}

fn rm(env: &Env, a: &RmArgs) -> Result<i32, String> {
    let vs = store(env)?;
    let mut code = 0;
    for n in &a.names {
        match vs.remove(n, a.force) {
            Ok(()) => println!("{n}"),
            Err(e) => {
                eprintln!("Error: {e}");
                code = 1;
            }
        }
    }
    Ok(code)
}

/// Ask as docker does; true to go on.
pub fn confirm(warning: &str) -> bool {
    use std::io::{BufRead, Write};
    println!("{warning}");
    print!("Are you sure you want to continue? [y/N] ");
    let _ = std::io::stdout().flush();
    let mut answer = String::new();
    let _ = std::io::stdin().lock().read_line(&mut answer);
    matches!(answer.trim().to_ascii_lowercase().as_str(), "y" | "yes")
}

fn prune(env: &Env, a: &PruneArgs) -> Result<i32, String> {
    let warning = if a.all || a.filter.iter().any(|f| f == "all=true" || f == "all=1") {
        "WARNING! This will remove all local volumes not used by at least one container."
    } else {
        "WARNING! This will remove anonymous local volumes not used by at least one container."
    };
    if !a.force && !confirm(warning) {
        return Ok(0);
    }
    let (mut all, mut rest) = (a.all, Vec::new());
    for f in &a.filter {
        match f.as_str() {
            "all=true" | "all=1" => all = true,
            "all=false" | "all=0" => {}
            _ if f.starts_with("label=") => rest.push(f.clone()),
            _ => return Err(format!("invalid filter {f:?} for volume prune")),
        }
    }
    let filter = VolumeFilter::parse(&rest).map_err(s)?;
    let pruned = store(env)?.prune_matching(all, &filter).map_err(s)?;
    if !pruned.names.is_empty() {
        println!("Deleted Volumes:\n{}\n", pruned.names.join("\n"));
    }
    println!(
        "Total reclaimed space: {}",
        human_size_digits(pruned.bytes, 4)
    );
    Ok(0)
}
