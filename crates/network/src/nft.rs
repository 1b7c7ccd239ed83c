//! Berth's own nftables table (`ip berth`): published ports (DNAT), outbound and hairpin NAT,
//! and isolation between Berth's bridges. Rules are driven through nft's JSON interface; every
//! change is one `nft -j -f -` batch, so the kernel applies it whole or not at all. No other
//! table is ever listed, flushed or touched.
//!
//! Layout (docs/network-design.md, "nftables rules"):
//! - `prerouting` and `output` (nat): `fib daddr type local jump ports`, rebuilt by every
//!   change (flushed and refilled in the same batch, so they never hold duplicates).
//! - `ports`: the published ports, commented `berth:<container id>`.
//! - `postrouting` (nat): per network masquerade rules, commented `berth-net:<bridge>`.
//! - `forward` (filter, policy accept): `ct state established,related accept`, then
//!   `jump isolation`; `isolation` holds the per network rules (`berth-net:<bridge>`).
//!   Established flows go first: every drop below stops the first packet of a flow, so no
//!   flow it forbids is ever established.
//! - set `bridges`: the bridges of Berth's networks, for "to another Berth bridge: drop".
//!
//! Rules are found again by their comment and deleted by handle, which needs one
//! `nft -j list table` before a change; a change that loses a race with another Berth
//! (a handle gone) is listed and tried again.

mod cmd;
mod expr;

use std::net::Ipv4Addr;
use std::path::Path;

use ipnet::Ipv4Net;
use serde_json::{json, Value};

use crate::error::{Error, Result};
pub use crate::ports::Proto;

/// A network's part of the rules.
#[derive(Debug, Clone)]
pub struct NetRules<'a> {
    pub bridge: &'a str,
    pub subnet: Ipv4Net,
    /// No route out: no masquerade, and nothing forwarded to or from other interfaces.
    pub internal: bool,
}

/// One published port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortMap {
    /// `None` (or 0.0.0.0): every host address.
    pub host_ip: Option<Ipv4Addr>,
    pub host_port: u16,
    pub container_ip: Ipv4Addr,
    pub container_port: u16,
    pub proto: Proto,
}

/// A handle on one nftables table of family `ip`.
#[derive(Debug, Clone)]
pub struct Nft {
    table: String,
}

const CONTAINER_TAG: &str = "berth:";
const NETWORK_TAG: &str = "berth-net:";
const PORTS: &str = "ports";
const ISOLATION: &str = "isolation";
const POSTROUTING: &str = "postrouting";
const BRIDGES: &str = "bridges";
const TRIES: usize = 3;

impl Nft {
    /// Berth's table, `ip berth`.
    pub fn berth() -> Nft {
        Nft::named("berth")
    }

    /// Another table of family `ip` laid out the same way (tests use their own, so they
    /// never disturb each other or a running Berth).
    pub fn named(name: &str) -> Nft {
        Nft {
            table: name.to_string(),
        }
    }

    pub fn table(&self) -> &str {
        &self.table
    }

    /// Makes the table and its base chains if missing and (re)writes `n`'s rules; running it
    /// again gives the same rules. Also turns on `net.ipv4.ip_forward` (as Docker does;
    /// Berth never turns it off) and `route_localnet` on the bridge if it exists, which lets
    /// DNATed packets from 127.0.0.1 leave through it (then masqueraded).
    pub fn ensure_network(&self, n: &NetRules) -> Result<()> {
        check_ifname(n.bridge)?;
        self.change(&format!("set up network {}", n.bridge), |listing| {
            let mut cmds = self.base();
            cmds.extend(self.delete_tagged(listing, &network_tag(n.bridge)));
            cmds.push(self.element("add", n.bridge));
            cmds.extend(self.network_rules(n));
            cmds
        })?;
        write_sysctl(Path::new("/proc/sys/net/ipv4/ip_forward"))?;
        route_localnet(n.bridge)
    }

    /// Deletes `bridge`'s network rules; nothing to do is fine.
    pub fn remove_network(&self, bridge: &str) -> Result<()> {
        check_ifname(bridge)?;
        self.change(&format!("remove network {bridge}"), |listing| {
            let Some(listing) = listing else {
                return Vec::new();
            };
            let mut cmds = self.delete_tagged(Some(listing), &network_tag(bridge));
            if set_elements(listing).iter().any(|e| e == bridge) {
                cmds.push(self.element("delete", bridge));
            }
            cmds
        })
    }

    /// Makes `ports` the container's published ports, replacing any it had.
    pub fn publish(&self, container: &str, bridge: &str, ports: &[PortMap]) -> Result<()> {
        check_container(container)?;
        check_ifname(bridge)?;
        self.change(&format!("publish ports of {container}"), |listing| {
            let mut cmds = self.base();
            cmds.extend(self.delete_tagged(listing, &container_tag(container)));
            cmds.extend(ports.iter().map(|p| self.port_rule(container, p)));
            cmds
        })?;
        if ports.is_empty() {
            return Ok(());
        }
        // ensure_network did it if the bridge existed then; the bridge may be newer.
        route_localnet(bridge)
    }

    /// Deletes the container's published ports; none is fine.
    pub fn unpublish(&self, container: &str) -> Result<()> {
        check_container(container)?;
        self.change(&format!("unpublish ports of {container}"), |listing| {
            self.delete_tagged(listing, &container_tag(container))
        })
    }

    /// The IDs of the containers that have published ports, sorted (for repair).
    pub fn owners(&self) -> Result<Vec<String>> {
        let Some(listing) = cmd::list_table(&self.table)? else {
            return Ok(Vec::new());
        };
        let mut ids: Vec<String> = rules(&listing)
            .filter(|r| r.chain == PORTS)
            .filter_map(|r| r.comment.strip_prefix(CONTAINER_TAG).map(str::to_string))
            .collect();
        ids.sort();
        ids.dedup();
        Ok(ids)
    }

    /// Deletes the whole table; absent is fine.
    pub fn delete_table(&self) -> Result<()> {
        self.change(
            &format!("delete table ip {}", self.table),
            |listing| match listing {
                Some(_) => vec![json!({"delete": {"table": {"family": "ip", "name": self.table}}})],
                None => Vec::new(),
            },
        )
    }

    /// Lists the table, builds a batch from the listing and applies it; when the batch
    /// fails (another Berth changed the table in between), lists and tries again.
    fn change(&self, what: &str, batch: impl Fn(Option<&Vec<Value>>) -> Vec<Value>) -> Result<()> {
        let mut last = None;
        for _ in 0..TRIES {
            let listing = cmd::list_table(&self.table)?;
            match cmd::apply(what, batch(listing.as_ref())) {
                Ok(()) => return Ok(()),
                Err(e) => last = Some(e),
            }
        }
        Err(last.expect("at least one try"))
    }

    /// The table, chains and set, and the fixed rules of the base chains. `add` of an existing
    /// table, chain or set changes nothing; the fixed rules are flushed and refilled.
    fn base(&self) -> Vec<Value> {
        let t = &self.table;
        let chain = |name: &str, hook: Option<(&str, &str, i32)>| -> Value {
            let mut c = json!({"family": "ip", "table": t, "name": name});
            if let Some((kind, hook, prio)) = hook {
                c["type"] = json!(kind);
                c["hook"] = json!(hook);
                c["prio"] = json!(prio);
                c["policy"] = json!("accept");
            }
            json!({"add": {"chain": c}})
        };
        let mut cmds = vec![
            json!({"add": {"table": {"family": "ip", "name": t}}}),
            json!({"add": {"set": {"family": "ip", "table": t, "name": BRIDGES, "type": "ifname"}}}),
            chain("prerouting", Some(("nat", "prerouting", -100))),
            chain("output", Some(("nat", "output", -100))),
            chain(POSTROUTING, Some(("nat", "postrouting", 100))),
            chain("forward", Some(("filter", "forward", 0))),
            chain(PORTS, None),
            chain(ISOLATION, None),
        ];
        let fixed = [
            (
                "prerouting",
                vec![expr::to_local_address(), expr::jump(PORTS)],
            ),
            ("output", vec![expr::to_local_address(), expr::jump(PORTS)]),
            (
                "forward",
                vec![
                    expr::has(expr::ct("state"), json!(["established", "related"])),
                    expr::accept(),
                ],
            ),
            ("forward", vec![expr::jump(ISOLATION)]),
        ];
        for name in ["prerouting", "output", "forward"] {
            cmds.push(json!({"flush": {"chain": {"family": "ip", "table": t, "name": name}}}));
        }
        for (chain, stmts) in fixed {
            cmds.push(self.rule(chain, None, stmts));
        }
        cmds
    }

    fn network_rules(&self, n: &NetRules) -> Vec<Value> {
        let tag = network_tag(n.bridge);
        let tag = Some(tag.as_str());
        let (subnet, bridge) = (expr::prefix(n.subnet), json!(n.bridge));
        let saddr = || expr::payload("ip", "saddr");
        let mut cmds = Vec::new();
        if !n.internal {
            cmds.push(self.rule(
                POSTROUTING,
                tag,
                vec![
                    expr::eq(saddr(), subnet.clone()),
                    expr::ne(expr::meta("oifname"), bridge.clone()),
                    expr::masquerade(),
                ],
            ));
        }
        // Hairpin: a container reaching a published port of its own network through a host
        // address must see the answer come from that address, not from the peer directly.
        cmds.push(self.rule(
            POSTROUTING,
            tag,
            vec![
                expr::has(expr::ct("status"), json!("dnat")),
                expr::eq(saddr(), subnet.clone()),
                expr::eq(expr::payload("ip", "daddr"), subnet),
                expr::masquerade(),
            ],
        ));
        cmds.push(self.rule(
            POSTROUTING,
            tag,
            vec![
                expr::eq(
                    saddr(),
                    expr::prefix(Ipv4Net::new(Ipv4Addr::LOCALHOST, 8).expect("/8")),
                ),
                expr::eq(expr::meta("oifname"), bridge.clone()),
                expr::masquerade(),
            ],
        ));
        let (iif, oif) = (|| expr::meta("iifname"), || expr::meta("oifname"));
        cmds.push(self.rule(
            ISOLATION,
            tag,
            vec![
                expr::eq(iif(), bridge.clone()),
                expr::eq(oif(), bridge.clone()),
                expr::accept(),
            ],
        ));
        if n.internal {
            cmds.push(self.rule(
                ISOLATION,
                tag,
                vec![expr::eq(iif(), bridge.clone()), expr::drop()],
            ));
            cmds.push(self.rule(ISOLATION, tag, vec![expr::eq(oif(), bridge), expr::drop()]));
        } else {
            cmds.push(self.rule(
                ISOLATION,
                tag,
                vec![
                    expr::eq(iif(), bridge.clone()),
                    expr::ne(oif(), bridge),
                    expr::eq(oif(), json!(format!("@{BRIDGES}"))),
                    expr::drop(),
                ],
            ));
        }
        cmds
    }

    fn port_rule(&self, container: &str, p: &PortMap) -> Value {
        let mut stmts = Vec::new();
        if let Some(ip) = p.host_ip.filter(|ip| !ip.is_unspecified()) {
            stmts.push(expr::eq(
                expr::payload("ip", "daddr"),
                json!(ip.to_string()),
            ));
        }
        stmts.push(expr::eq(
            expr::payload(p.proto.as_str(), "dport"),
            json!(p.host_port),
        ));
        stmts.push(expr::dnat(p.container_ip, p.container_port));
        self.rule(PORTS, Some(&container_tag(container)), stmts)
    }

    fn rule(&self, chain: &str, comment: Option<&str>, stmts: Vec<Value>) -> Value {
        let mut r = json!({"family": "ip", "table": self.table, "chain": chain, "expr": stmts});
        if let Some(c) = comment {
            r["comment"] = json!(c);
        }
        json!({"add": {"rule": r}})
    }

    fn element(&self, op: &str, bridge: &str) -> Value {
        json!({op: {"element": {"family": "ip", "table": self.table, "name": BRIDGES, "elem": [bridge]}}})
    }

    fn delete_tagged(&self, listing: Option<&Vec<Value>>, tag: &str) -> Vec<Value> {
        let Some(listing) = listing else {
            return Vec::new();
        };
        rules(listing)
            .filter(|r| r.comment == tag)
            .map(|r| {
                json!({"delete": {"rule": {"family": "ip", "table": self.table, "chain": r.chain, "handle": r.handle}}})
            })
            .collect()
    }
}

struct RuleRef<'a> {
    chain: &'a str,
    handle: u64,
    comment: &'a str,
}

fn rules(listing: &[Value]) -> impl Iterator<Item = RuleRef<'_>> {
    listing.iter().filter_map(|item| {
        let r = item.get("rule")?;
        Some(RuleRef {
            chain: r.get("chain")?.as_str()?,
            handle: r.get("handle")?.as_u64()?,
            comment: r.get("comment").and_then(Value::as_str).unwrap_or(""),
        })
    })
}

fn set_elements(listing: &[Value]) -> Vec<String> {
    listing
        .iter()
        .filter_map(|item| item.get("set"))
        .filter(|s| s.get("name").and_then(Value::as_str) == Some(BRIDGES))
        .filter_map(|s| s.get("elem"))
        .flat_map(|e| match e {
            Value::Array(a) => a
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect(),
            Value::String(s) => vec![s.clone()],
            _ => Vec::new(),
        })
        .collect()
}

fn container_tag(id: &str) -> String {
    format!("{CONTAINER_TAG}{id}")
}

fn network_tag(bridge: &str) -> String {
    format!("{NETWORK_TAG}{bridge}")
}

/// An interface name as the kernel takes it; also keeps it safe in a /proc path.
fn check_ifname(name: &str) -> Result<()> {
    let ok = !name.is_empty()
        && name.len() < libc::IFNAMSIZ
        && name != "."
        && name != ".."
        && name
            .bytes()
            .all(|b| b.is_ascii_graphic() && b != b'/' && b != b'"' && b != b':');
    if ok {
        Ok(())
    } else {
        Err(Error::Invalid(format!("invalid bridge name {name:?}")))
    }
}

/// Container IDs go into rule comments (at most 128 bytes with the tag).
fn check_container(id: &str) -> Result<()> {
    let ok = !id.is_empty()
        && id.len() <= 100
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-' || b == b'.');
    if ok {
        Ok(())
    } else {
        Err(Error::Invalid(format!("invalid container ID {id:?}")))
    }
}

fn route_localnet(bridge: &str) -> Result<()> {
    let dir = Path::new("/proc/sys/net/ipv4/conf").join(bridge);
    if !dir.exists() {
        return Ok(());
    }
    match write_sysctl(&dir.join("route_localnet")) {
        // The bridge went away since: nothing left to route through.
        Err(Error::Io { source, .. }) if source.kind() == std::io::ErrorKind::NotFound => Ok(()),
        r => r,
    }
}

/// Writes 1 unless it is already set (a write is a sysctl change event for every listener).
fn write_sysctl(path: &Path) -> Result<()> {
    if std::fs::read_to_string(path)
        .map(|s| s.trim() == "1")
        .unwrap_or(false)
    {
        return Ok(());
    }
    std::fs::write(path, "1\n").map_err(|e| Error::io("set", path.display(), e))
}
