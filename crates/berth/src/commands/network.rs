//! `network create/ls/inspect/rm/prune/connect/disconnect`, with the docker CLI's flags and
//! output, over the engine's networks (docs/network-design.md). Errors exit 1, as docker's
//! network commands do.

use super::format::{pretty, ObjectTemplate, Template};
use super::s;
use crate::env::Env;
use berth_engine::network::manage::NetworkSpec;
use berth_engine::service::networks::{self, NetworkResource};
use berth_engine::service::Filters;
use berth_engine::Engine;
use clap::{Args, Subcommand};
use serde_json::{json, Map, Value};

#[derive(Subcommand, Debug)]
pub enum NetworkCmd {
    /// Create a network
    Create(CreateArgs),
    /// List networks
    #[command(alias = "list")]
    Ls(LsArgs),
    /// Display detailed information on one or more networks
    Inspect(InspectArgs),
    /// Remove one or more networks
    #[command(alias = "remove")]
    Rm(RmArgs),
    /// Remove all unused networks
    Prune(PruneArgs),
    /// Connect a container to a network
    Connect(ConnectArgs),
    /// Disconnect a container from a network
    Disconnect(DisconnectArgs),
}

#[derive(Args, Debug)]
pub struct CreateArgs {
    pub name: String,
    /// Subnet in CIDR format that represents a network segment
    #[arg(long)]
    pub subnet: Option<String>,
    /// IPv4 gateway for the subnet
    #[arg(long)]
    pub gateway: Option<String>,
    /// Restrict external access to the network
    #[arg(long)]
    pub internal: bool,
    /// Set metadata on a network (KEY=VALUE)
    #[arg(long = "label")]
    pub labels: Vec<String>,
    /// Driver to manage the network (only "bridge")
    #[arg(short, long, default_value = "bridge")]
    pub driver: String,
}

#[derive(Args, Debug)]
pub struct LsArgs {
    /// Only display network IDs
    #[arg(short, long)]
    pub quiet: bool,
    /// Do not truncate the output
    #[arg(long)]
    pub no_trunc: bool,
    /// table, json, or a Go template such as 'table {{.ID}}\t{{.Name}}'
    #[arg(long)]
    pub format: Option<String>,
    /// Filter: driver=, id=, label=K[=V], name=, scope=, type=custom|builtin, dangling=
    #[arg(short, long, value_name = "FILTER")]
    pub filter: Vec<String>,
}

#[derive(Args, Debug)]
pub struct InspectArgs {
    #[arg(required = true, value_name = "NETWORK")]
    pub names: Vec<String>,
    /// A Go template, or json
    #[arg(short, long)]
    pub format: Option<String>,
}

#[derive(Args, Debug)]
pub struct RmArgs {
    #[arg(required = true, value_name = "NETWORK")]
    pub names: Vec<String>,
}

#[derive(Args, Debug)]
pub struct PruneArgs {
    /// Do not prompt for confirmation
    #[arg(short, long)]
    pub force: bool,
}

#[derive(Args, Debug)]
pub struct ConnectArgs {
    pub network: String,
    pub container: String,
    /// Add network-scoped alias for the container
    #[arg(long = "alias")]
    pub aliases: Vec<String>,
    /// IPv4 address (e.g., 172.30.100.104)
    #[arg(long)]
    pub ip: Option<String>,
}

#[derive(Args, Debug)]
pub struct DisconnectArgs {
    pub network: String,
    pub container: String,
    /// Force the container to disconnect from a network
    #[arg(short, long)]
    pub force: bool,
}

pub fn run(env: &Env, cmd: &NetworkCmd) -> Result<i32, String> {
    let e = Engine::open(&env.root).map_err(s)?;
    match cmd {
        NetworkCmd::Create(a) => create(&e, a),
        NetworkCmd::Ls(a) => ls(&e, a),
        NetworkCmd::Inspect(a) => inspect(&e, a),
        NetworkCmd::Rm(a) => rm(&e, a),
        NetworkCmd::Prune(a) => prune(&e, a),
        NetworkCmd::Connect(a) => {
            let ip = match &a.ip {
                Some(i) => Some(i.parse().map_err(|_| format!("invalid IP address: {i}"))?),
                None => None,
            };
            e.network_connect(&a.network, &a.container, &a.aliases, ip)
                .map_err(s)?;
            Ok(0)
        }
        NetworkCmd::Disconnect(a) => {
            e.network_disconnect(&a.network, &a.container).map_err(s)?;
            Ok(0)
        }
    }
}

fn create(e: &Engine, a: &CreateArgs) -> Result<i32, String> {
    if a.driver != "bridge" {
        return Err(format!("plugin \"{}\" not found", a.driver));
    }
    let labels = super::volume::labels(&a.labels);
    let n = e
        .network_create(&NetworkSpec {
            name: a.name.clone(),
            subnet: a.subnet.clone(),
            gateway: a.gateway.clone(),
            internal: a.internal,
            labels,
        })
        .map_err(s)?;
    println!("{}", n.id);
    Ok(0)
}

const FIELDS: &[&str] = &[
    "ID",
    "Name",
    "Driver",
    "Scope",
    "IPv6",
    "Internal",
    "Labels",
    "CreatedAt",
];
const HEADERS: &[(&str, &str)] = &[("ID", "NETWORK ID"), ("CreatedAt", "CREATED AT")];

fn ls(e: &Engine, a: &LsArgs) -> Result<i32, String> {
    let filters = Filters::from_cli(&a.filter).map_err(s)?;
    let nets = networks::list(e, &filters).map_err(s)?;
    let id = |n: &NetworkResource| {
        if a.no_trunc {
            n.id.clone()
        } else {
            n.id[..12.min(n.id.len())].to_string()
        }
    };
    if a.quiet {
        for n in &nets {
            println!("{}", id(n));
        }
        return Ok(0);
    }
    let format = match a.format.as_deref() {
        None | Some("table") => "table {{.ID}}\t{{.Name}}\t{{.Driver}}\t{{.Scope}}",
        Some("json") => "{{json .}}",
        Some(t) => t,
    };
    let rows: Vec<Map<String, Value>> = nets
        .iter()
        .map(|n| {
            let labels: Vec<String> = n.labels.iter().map(|(k, v)| format!("{k}={v}")).collect();
            json!({
                "ID": id(n), "Name": n.name, "Driver": n.driver, "Scope": n.scope,
                "IPv6": n.enable_ipv6.to_string(), "Internal": n.internal.to_string(),
                "Labels": labels.join(","), "CreatedAt": n.created,
            })
            .as_object()
            .expect("object")
            .clone()
        })
        .collect();
    Template::parse(format, FIELDS)?.print(&rows, HEADERS)?;
    Ok(0)
}

fn inspect(e: &Engine, a: &InspectArgs) -> Result<i32, String> {
    let (mut found, mut code) = (Vec::new(), 0);
    for name in &a.names {
        match networks::inspect(e, name) {
            Ok(n) => found.push(berth_engine::service::to_value(&n)),
            Err(err) => {
                eprintln!("Error: {err}");
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

fn rm(e: &Engine, a: &RmArgs) -> Result<i32, String> {
    let mut code = 0;
    for n in &a.names {
        match e.network_remove(n) {
            Ok(_) => println!("{n}"),
            Err(err) => {
                eprintln!("Error response from daemon: {err}");
                code = 1;
            }
        }
    }
    Ok(code)
}

fn prune(e: &Engine, a: &PruneArgs) -> Result<i32, String> {
    if !a.force
        && !super::volume::confirm(
            "WARNING! This will remove all custom networks not used by at least one container.",
        )
    {
        return Ok(0);
    }
    let gone = e.network_prune().map_err(s)?;
    if !gone.is_empty() {
        println!("Deleted Networks:");
        for n in gone {
            println!("{n}");
        }
    }
    Ok(0)
}
