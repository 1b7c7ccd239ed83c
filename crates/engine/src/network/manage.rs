//! `network create/ls/inspect/rm/prune/connect/disconnect`, and the default `bridge`
//! network, made on first use.

use super::db::{Attachment, NetDb, NetworkRow};
use super::{DEFAULT_BRIDGE, DEFAULT_NETWORK};
use crate::container::Engine;
use crate::crash_point::crash_point;
use crate::{names, Error, Result};
use berth_network::link::{BridgeState, Netlink, LOCAL_MTU};
use berth_network::{ipam, nft::Nft, Ipv4Net};
use std::collections::BTreeMap;
use std::net::Ipv4Addr;

/// What `network create` asks for.
#[derive(Debug, Default, Clone)]
pub struct NetworkSpec {
    pub name: String,
    pub subnet: Option<String>,
    pub gateway: Option<String>,
    pub internal: bool,
    pub labels: BTreeMap<String, String>,
}

/// `R/network.json`: `{"bip": "CIDR", "bridge": "NAME"}` set the default network's gateway
/// and subnet (daemon.json's `bip`) and its Linux bridge (`berth0`): two data roots on one
/// host (tests) keep their default networks apart this way. (`"mtu"`: see
/// [`configured_mtu`].)
fn configured(root: &std::path::Path) -> (Option<Ipv4Net>, Option<String>) {
    let v: serde_json::Value = std::fs::read_to_string(root.join("network.json"))
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or_default();
    (
        v["bip"].as_str().and_then(|b| b.parse().ok()),
        v["bridge"].as_str().map(String::from),
    )
}

/// The MTUs a container's interfaces get.
#[derive(Clone, Copy, Debug)]
pub struct Mtus {
    /// Of the bridge and both veth ends.
    pub link: u32,
    /// Of the container's default route: what leaves the host.
    pub route: u32,
}

/// `R/network.json`'s `"mtu"` (daemon.json's) sets both, as Docker's does; else the links
/// get [`LOCAL_MTU`] and the default route the host's (that of its default route's link),
/// so that traffic on this host is not cut to the size of the host's NIC's frames.
pub fn mtus(root: &std::path::Path, nl: &mut Netlink) -> Result<Mtus> {
    Ok(match configured_mtu(root) {
        Some(m) => Mtus { link: m, route: m },
        None => Mtus {
            link: LOCAL_MTU,
            route: nl.default_mtu()?,
        },
    })
}

fn configured_mtu(root: &std::path::Path) -> Option<u32> {
    let v: serde_json::Value = std::fs::read_to_string(root.join("network.json"))
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok())?;
    v["mtu"].as_u64().and_then(|m| u32::try_from(m).ok())
}

fn host_routes() -> Result<Vec<Ipv4Net>> {
    let mut nl = Netlink::open()?;
    Ok(nl.host_routes()?)
}

/// Host routes that are not Berth's own bridges' (those are "taken" as networks already).
fn foreign_routes(nets: &[NetworkRow]) -> Result<Vec<Ipv4Net>> {
    let ours: Vec<Ipv4Net> = nets.iter().filter_map(|n| n.subnet.parse().ok()).collect();
    Ok(host_routes()?
        .into_iter()
        .filter(|r| r.prefix_len() > 0 && !ours.contains(&r.trunc()))
        .collect())
}

impl Engine {
    pub fn net_db(&self) -> Result<NetDb> {
        NetDb::open(&self.root)
    }

    /// The default network's row, made on first use: 172.17.0.0/16 (or `bip`) unless it
    /// clashes with a host route, then the next free pool. A bridge of that name already
    /// on the host (left by an earlier data root) is taken as it is: its address becomes the
    /// network's, or with `bip` it is given `bip`'s; its rules are made again either way.
    pub fn default_network(&self, db: &NetDb) -> Result<NetworkRow> {
        if let Some(n) = db
            .networks()?
            .into_iter()
            .find(|n| n.name == DEFAULT_NETWORK)
        {
            return Ok(n);
        }
        let nets = db.networks()?;
        let (bip, bridge) = configured(&self.root);
        let bridge = bridge.unwrap_or_else(|| DEFAULT_BRIDGE.into());
        let host = Netlink::open()?.bridge_state(&bridge)?;
        let on_host = host.as_ref().and_then(|h| h.addresses.first().copied());
        let (subnet, gateway) = match (bip, on_host) {
            (Some(bip), _) => (bip.trunc(), bip.addr()),
            (None, Some(addr)) => (addr.trunc(), addr.addr()),
            (None, None) => {
                let taken: Vec<Ipv4Net> =
                    nets.iter().filter_map(|n| n.subnet.parse().ok()).collect();
                let s = ipam::pick_subnet(&taken, &foreign_routes(&nets)?)?;
                (s, ipam::default_gateway(s))
            }
        };
        if let Some(host) = host.filter(|h| !h.addresses.is_empty()) {
            if host.ports > 0 {
                // Another berth of this root may have made the row since we looked, and
                // started a container on the bridge (it writes the row before).
                if let Some(n) = db
                    .networks()?
                    .into_iter()
                    .find(|n| n.name == DEFAULT_NETWORK)
                {
                    return Ok(n);
                }
            }
            self.take_over_bridge(&bridge, &host, subnet, gateway)?;
        }
        let row = NetworkRow {
            id: names::new_id()?,
            name: DEFAULT_NETWORK.into(),
            driver: "bridge".into(),
            bridge,
            subnet: subnet.to_string(),
            gateway: gateway.to_string(),
            internal: false,
            labels: BTreeMap::new(),
            created: crate::container::now(),
        };
        match db.insert_network(&row) {
            // Another berth made it at the same moment.
            Err(Error::Conflict(_)) => self.default_network(db),
            r => r.map(|_| row),
        }
    }

    /// A data root made afresh finds the default network's bridge on the host with an
    /// address (an earlier root's): it gets the address this root's network has, unless
    /// containers Berth no longer knows are still on it (they would keep their addresses,
    /// which this root would lease again), and its rules are made again for this subnet.
    fn take_over_bridge(
        &self,
        bridge: &str,
        host: &BridgeState,
        subnet: Ipv4Net,
        gateway: Ipv4Addr,
    ) -> Result<()> {
        let want = Ipv4Net::new(gateway, subnet.prefix_len())
            .map_err(|e| Error::InvalidArgument(format!("gateway: {e}")))?;
        if host.ports > 0 {
            let what = if host.addresses == [want] {
                "on its subnet".to_string()
            } else {
                format!(
                    "with address {}, not {want}",
                    host.addresses
                        .iter()
                        .map(|a| a.to_string())
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            };
            return Err(Error::Conflict(format!(
                "bridge {bridge} already has {} interfaces of containers this data root does not know ({what}): \
                 remove them or the bridge (ip link del {bridge}), or name another bridge in {}",
                host.ports,
                self.root.join("network.json").display()
            )));
        }
        let mut nl = Netlink::open()?;
        if host.addresses != [want] {
            nl.readdress_bridge(bridge, want)?;
        }
        Nft::berth().ensure_network(&berth_network::nft::NetRules {
            bridge,
            subnet,
            internal: false,
        })?;
        berth_network::link::enable_route_localnet(bridge)?;
        Ok(())
    }

    /// `network create`.
    pub fn network_create(&self, spec: &NetworkSpec) -> Result<NetworkRow> {
        names::validate(&spec.name).map_err(|_| {
            Error::InvalidArgument(format!(
                "invalid network name \"{}\": only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed",
                spec.name
            ))
        })?;
        if ["bridge", "host", "none", "default"].contains(&spec.name.as_str()) {
            return Err(Error::Conflict(format!(
                "network with name {} already exists",
                spec.name
            )));
        }
        let db = self.net_db()?;
        self.default_network(&db)?;
        let nets = db.networks()?;
        if nets.iter().any(|n| n.name == spec.name) {
            return Err(Error::Conflict(format!(
                "network with name {} already exists",
                spec.name
            )));
        }
        let taken: Vec<Ipv4Net> = nets.iter().filter_map(|n| n.subnet.parse().ok()).collect();
        let routes = foreign_routes(&nets)?;
        let subnet = match &spec.subnet {
            Some(s) => {
                let s = ipam::parse_subnet(s)?;
                if let Some(o) = taken
                    .iter()
                    .chain(routes.iter())
                    .find(|t| ipam::overlaps(t, &s))
                {
                    return Err(Error::Conflict(format!(
                        "Pool overlaps with other one on this address space ({s} overlaps {o})"
                    )));
                }
                s
            }
            None => {
                if spec.gateway.is_some() {
                    return Err(Error::InvalidArgument(
                        "a gateway needs a subnet (--subnet)".into(),
                    ));
                }
                ipam::pick_subnet(&taken, &routes)?
            }
        };
        let gateway = match &spec.gateway {
            Some(g) => ipam::check_gateway(subnet, g)?,
            None => ipam::default_gateway(subnet),
        };
        let id = names::new_id()?;
        let row = NetworkRow {
            bridge: format!("br-{}", &id[..12]),
            id,
            name: spec.name.clone(),
            driver: "bridge".into(),
            subnet: subnet.to_string(),
            gateway: gateway.to_string(),
            internal: spec.internal,
            labels: spec.labels.clone(),
            created: crate::container::now(),
        };
        db.insert_network(&row)?;
        crate::events::network_event(&self.root, "create", &row.id, &row.name, None);
        Ok(row)
    }

    /// A network by name, full ID or unique ID prefix (the default one made if need be).
    pub fn network_find(&self, db: &NetDb, arg: &str) -> Result<NetworkRow> {
        if arg == DEFAULT_NETWORK {
            return self.default_network(db);
        }
        let nets = db.networks()?;
        if let Some(n) = nets.iter().find(|n| n.name == arg || n.id == arg) {
            return Ok(n.clone());
        }
        let by_prefix: Vec<&NetworkRow> = nets.iter().filter(|n| n.id.starts_with(arg)).collect();
        match by_prefix.as_slice() {
            [one] => Ok((*one).clone()),
            [] => Err(Error::NotFound {
                kind: "network",
                name: arg.to_string(),
            }),
            _ => Err(Error::Ambiguous {
                kind: "network",
                prefix: arg.to_string(),
            }),
        }
    }

    pub fn network_list(&self) -> Result<Vec<NetworkRow>> {
        let db = self.net_db()?;
        self.default_network(&db)?;
        db.networks()
    }

    /// `network rm`: refused for the default network and while a running container is on
    /// it; stopped containers are disconnected.
    pub fn network_remove(&self, arg: &str) -> Result<NetworkRow> {
        let db = self.net_db()?;
        let n = self.network_find(&db, arg)?;
        if n.name == DEFAULT_NETWORK {
            return Err(Error::Conflict(format!(
                "{} is a pre-defined network and cannot be removed",
                n.name
            )));
        }
        // Held to the end: a DNS refresh waiting for it then finds the network gone, and
        // starts no server and writes no hosts file for it.
        let lock = super::net_lock::lock(&self.root, &n.id)?;
        let active: Vec<Attachment> = db
            .attachments_on(&n.id)?
            .into_iter()
            .filter(|a| a.ip.is_some())
            .collect();
        if !active.is_empty() {
            return Err(Error::Conflict(format!(
                "error while removing network: network {} id {} has active endpoints",
                n.name, n.id
            )));
        }
        super::dns::stop(&self.root, &n.id);
        let mut nl = Netlink::open()?;
        nl.delete_link(&n.bridge)?;
        Nft::berth().remove_network(&n.bridge)?;
        for a in db.attachments_on(&n.id)? {
            db.detach(&a.container, &n.id)?;
        }
        db.delete_network(&n.id)?;
        let _ = std::fs::remove_file(super::net_lock::path(&self.root, &n.id));
        drop(lock);
        crate::events::network_event(&self.root, "destroy", &n.id, &n.name, None);
        Ok(n)
    }

    /// `network prune`: user networks no container is attached to.
    pub fn network_prune(&self) -> Result<Vec<String>> {
        let db = self.net_db()?;
        let mut gone = Vec::new();
        for n in db.networks()? {
            if n.name == DEFAULT_NETWORK || !db.attachments_on(&n.id)?.is_empty() {
                continue;
            }
            self.network_remove(&n.id)?;
            gone.push(n.name);
        }
        Ok(gone)
    }

    /// `network connect [--alias A] [--ip IP] NET CTR`: attached now if it runs, else at its
    /// next start.
    pub fn network_connect(
        &self,
        net: &str,
        container: &str,
        aliases: &[String],
        ip: Option<Ipv4Addr>,
    ) -> Result<()> {
        let r = self.find(container)?;
        let _lock = self.lock(&r.id)?;
        let r = self.reload(&r.id, container)?;
        if !super::lifecycle::uses_bridge(&crate::container::options_of(&r)) {
            return Err(Error::Conflict(format!(
                "container {} is not on a bridge network: cannot connect it to another one",
                r.name
            )));
        }
        let db = self.net_db()?;
        let n = self.network_find(&db, net)?;
        let attachment = Attachment {
            container: r.id.clone(),
            network: n.id.clone(),
            aliases: aliases.to_vec(),
            want_ip: ip.map(|i| i.to_string()),
            ip: None,
            mac: None,
        };
        if r.state != crate::store::State::Running {
            // One row: attached at its next start.
            db.attach(&attachment)?;
            crate::events::network_event(&self.root, "connect", &n.id, &n.name, Some(&r.id));
            return Ok(());
        }
        if db.attachments_of(&r.id)?.iter().any(|a| a.network == n.id) {
            return Err(Error::Conflict(format!(
                "endpoint with name {} already exists in network",
                r.id
            )));
        }
        // Until it is done, a crash leaves the mark: repair takes the container off again
        // (we hold its lock: nobody attached it to this network meanwhile).
        self.mark_detach(&r.id, &n.id)?;
        let connected = db.attach(&attachment).and_then(|()| {
            crash_point("net-connect:attached");
            self.attach_running(&db, &r, &n)
        });
        match connected {
            Ok(()) => {
                self.unmark_detach(&r.id, &n.id);
                crate::events::network_event(&self.root, "connect", &n.id, &n.name, Some(&r.id));
                Ok(())
            }
            Err(e) => {
                let _ = self.finish_detach(&db, &r.id, &n.id);
                Err(e)
            }
        }
    }

    /// `network disconnect NET CTR`.
    pub fn network_disconnect(&self, net: &str, container: &str) -> Result<()> {
        let r = self.find(container)?;
        let _lock = self.lock(&r.id)?;
        let db = self.net_db()?;
        let n = self.network_find(&db, net)?;
        let Some(a) = db
            .attachments_of(&r.id)?
            .into_iter()
            .find(|a| a.network == n.id)
        else {
            return Err(Error::Conflict(format!(
                "container {} is not connected to network {}",
                r.name, n.name
            )));
        };
        if a.ip.is_some() {
            // Running: its veth, attachment and name go in steps a crash can cut; the mark
            // has repair finish them.
            self.mark_detach(&r.id, &n.id)?;
            self.finish_detach(&db, &r.id, &n.id)?;
        } else {
            db.detach(&r.id, &n.id)?;
            super::dns::refresh(self, &db, &n)?;
        }
        crate::events::network_event(&self.root, "disconnect", &n.id, &n.name, Some(&r.id));
        Ok(())
    }
}
