//! A container's networking over its life: attached to its network at create, given a
//! pinned network namespace, a veth per network, addresses, published ports and names at
//! start; all of it taken back on stop, exit (the monitor runs `container-cleanup`), rm,
//! and by reconcile for a container found not running.

use super::db::{Attachment, NetDb, NetworkRow};
use super::manage::Mtus;
use super::{dns, files, net_lock, netns_path};
use crate::container::{options_of, Engine};
use crate::crash_point::crash_point;
use crate::options::{Network, PortSpec, RunOptions};
use crate::store::{Row, State};
use crate::{Error, Result};
use berth_network::link::{Attach, Netlink};
use berth_network::nft::{NetRules, Nft, PortMap, Proto};
use berth_network::{ipam, netns, ports, Ipv4Net};
use serde_json::{json, Value};
use std::net::Ipv4Addr;
use std::path::PathBuf;

/// `R/containers/<id>/ports.json`: Docker's `NetworkSettings.Ports` of a running container,
/// written before its nft rules are (so a crash in between still leaves a trace to undo).
pub const PORTS_FILE: &str = "ports.json";

/// Does this container get a bridge network (a pinned netns of its own)?
pub fn uses_bridge(o: &RunOptions) -> bool {
    matches!(o.network, Network::Default | Network::Named(_))
}

/// The host end of a container's veth on a network: fixed per (container, network) so
/// that it can be found to delete. 2 + 6 + 5 = 13 characters (IFNAMSIZ is 16).
fn host_ifname(container: &str, network: &str) -> String {
    format!("vb{}{}", &container[..6], &network[..5])
}

fn proto(p: &str) -> Proto {
    if p == "udp" {
        Proto::Udp
    } else {
        Proto::Tcp
    }
}

fn subnet_of(n: &NetworkRow) -> Result<Ipv4Net> {
    n.subnet
        .parse()
        .map_err(|_| Error::Db(format!("network {}: bad subnet {}", n.name, n.subnet)))
}

fn gateway_of(n: &NetworkRow) -> Result<Ipv4Addr> {
    n.gateway
        .parse()
        .map_err(|_| Error::Db(format!("network {}: bad gateway {}", n.name, n.gateway)))
}

impl Engine {
    /// At create: the namespace the spec joins (None: the runtime makes one or none), after
    /// recording the container's attachment to its network.
    pub fn network_at_create(&self, id: &str, o: &RunOptions) -> Result<Option<PathBuf>> {
        match &o.network {
            Network::Default | Network::Named(_) => {
                let db = self.net_db()?;
                let n = match &o.network {
                    Network::Named(name) => self.network_find(&db, name).map_err(|e| match e {
                        Error::NotFound { .. } => Error::NotFound {
                            kind: "network",
                            name: name.clone(),
                        },
                        e => e,
                    })?,
                    _ => self.default_network(&db)?,
                };
                if let Some(ip) = o.ip {
                    if n.name == super::DEFAULT_NETWORK {
                        return Err(Error::InvalidArgument(
                            "user specified IP address is supported on user defined networks only"
                                .into(),
                        ));
                    }
                    if !subnet_of(&n)?.contains(&ip) {
                        return Err(Error::InvalidArgument(format!(
                            "no configured subnet contains IP address {ip}"
                        )));
                    }
                }
                if !o.network_aliases.is_empty() && n.name == super::DEFAULT_NETWORK {
                    return Err(Error::InvalidArgument(
                        "network-scoped alias is supported only for containers in user defined networks"
                            .into(),
                    ));
                }
                db.attach(&Attachment {
                    container: id.to_string(),
                    network: n.id,
                    aliases: o.network_aliases.clone(),
                    want_ip: o.ip.map(|i| i.to_string()),
                    ip: None,
                    mac: None,
                })?;
                Ok(Some(netns_path(&self.root, id)))
            }
            Network::Container(c) => {
                let t = self.find(c)?;
                let to = options_of(&t);
                if uses_bridge(&to) {
                    return Ok(Some(netns_path(&self.root, &t.id)));
                }
                if t.state != State::Running || t.pid <= 0 {
                    return Err(Error::Conflict(format!(
                        "cannot join network of a non running container: {c}"
                    )));
                }
                Ok(Some(PathBuf::from(format!("/proc/{}/ns/net", t.pid))))
            }
            _ => Ok(None),
        }
    }

    /// Before the runtime starts the container: its netns, veths, addresses, ports, names
    /// and files. Undone entirely if any step fails.
    pub fn network_up(&self, r: &Row) -> Result<()> {
        let o = options_of(r);
        if !uses_bridge(&o) {
            return Ok(());
        }
        let ns = netns_path(&self.root, &r.id);
        if ns.exists() || self.dir(&r.id).join(PORTS_FILE).exists() {
            self.network_down(&r.id)?;
        }
        self.network_up_inner(r, &o).inspect_err(|_| {
            let _ = self.network_down(&r.id);
        })
    }

    fn network_up_inner(&self, r: &Row, o: &RunOptions) -> Result<()> {
        let db = self.net_db()?;
        let atts = db.attachments_of(&r.id)?;
        let ns = netns_path(&self.root, &r.id);
        if let Some(dir) = ns.parent() {
            std::fs::create_dir_all(dir).map_err(|e| Error::io("create", dir, e))?;
        }
        netns::create_pinned(&ns, crate::spec::defaults::NETNS_SYSCTLS)?;
        crash_point("net-up:netns");
        let mut nl = Netlink::open()?;
        let mtu = super::manage::mtus(&self.root, &mut nl)?;
        let mut ips = Vec::new();
        let mut primary: Option<(NetworkRow, Ipv4Addr)> = None;
        let mut nameserver = None;
        for (i, a) in atts.iter().enumerate() {
            let Some(n) = db.network_by_id(&a.network)? else {
                return Err(Error::NotFound {
                    kind: "network",
                    name: a.network.clone(),
                });
            };
            let ip = self.plug(&db, &mut nl, r, &n, a, i, mtu)?;
            ips.push(ip);
            if n.name != super::DEFAULT_NETWORK && nameserver.is_none() {
                nameserver = Some(gateway_of(&n)?);
            }
            if primary.is_none() {
                primary = Some((n, ip));
            }
        }
        if let Some((n, ip)) = &primary {
            self.publish_ports(r, o, n, *ip)?;
        }
        let hostname = crate::spec::hostname(o, &r.id);
        let gateway = primary.as_ref().map(|(n, _)| gateway_of(n)).transpose()?;
        files::write_addressed(&self.dir(&r.id), &hostname, &ips, nameserver, gateway, o)?;
        crash_point("net-up:files");
        for a in &atts {
            if let Some(n) = db.network_by_id(&a.network)? {
                dns::refresh(self, &db, &n)?;
            }
        }
        crash_point("net-up:done");
        Ok(())
    }

    /// One network into the container's netns: the bridge (and its rules) if new, a lease,
    /// the veth. `index` numbers the container's interfaces (eth0, eth1...).
    #[allow(clippy::too_many_arguments)]
    fn plug(
        &self,
        db: &NetDb,
        nl: &mut Netlink,
        r: &Row,
        n: &NetworkRow,
        a: &Attachment,
        index: usize,
        mtu: Mtus,
    ) -> Result<Ipv4Addr> {
        let subnet = subnet_of(n)?;
        let gateway = gateway_of(n)?;
        if !bridge_ready(&n.bridge) {
            // Containers starting at once on a new network make it once.
            let _lock = net_lock::lock(&self.root, &n.id)?;
            if !bridge_ready(&n.bridge) {
                // Each step is idempotent and `route_localnet` is set last: a command killed
                // part-way leaves a bridge that is not ready, finished by the next start. (A
                // bridge without its rules or its address is never used meanwhile.)
                let gw_net = Ipv4Net::new(gateway, subnet.prefix_len())
                    .map_err(|e| Error::InvalidArgument(format!("gateway: {e}")))?;
                nl.ensure_bridge(&n.bridge, gw_net, mtu.link)?;
                crash_point("net-up:bridge");
                Nft::berth().ensure_network(&NetRules {
                    bridge: &n.bridge,
                    subnet,
                    internal: n.internal,
                })?;
                crash_point("net-up:network-rules");
                berth_network::link::enable_route_localnet(&n.bridge)?;
                crash_point("net-up:route-localnet");
            }
        }
        let ip = db.immediate(|| {
            let used: Vec<Ipv4Addr> = db
                .attachments_on(&n.id)?
                .iter()
                .filter(|x| x.container != r.id)
                .filter_map(|x| x.ip.as_deref()?.parse().ok())
                .collect();
            let ip = match a.want_ip.as_deref().and_then(|s| s.parse().ok()) {
                Some(want) if used.contains(&want) => {
                    return Err(Error::Conflict(format!(
                        "Address already in use: {want} on network {}",
                        n.name
                    )))
                }
                Some(want) => want,
                None => ipam::next_free(subnet, gateway, &used)?,
            };
            let mac = ipam::mac_for(ip);
            let mac_s = mac
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect::<Vec<_>>()
                .join(":");
            db.set_lease(&r.id, &n.id, &ip.to_string(), &mac_s)?;
            Ok(ip)
        })?;
        crash_point("net-up:lease");
        let addr = Ipv4Net::new(ip, subnet.prefix_len())
            .map_err(|e| Error::InvalidArgument(format!("address: {e}")))?;
        let ifname = format!("eth{index}");
        let host = host_ifname(&r.id, &n.id);
        let ns = netns_path(&self.root, &r.id);
        nl.attach_container(&Attach {
            bridge: &n.bridge,
            host_ifname: &host,
            netns: &ns,
            ifname: &ifname,
            addr,
            gateway: (index == 0 && !n.internal).then_some(gateway),
            mac: ipam::mac_for(ip),
            mtu: mtu.link,
            route_mtu: (mtu.route < mtu.link).then_some(mtu.route),
        })?;
        crash_point("net-up:veth");
        // A container reaching its own published port through a host address comes back
        // out of the bridge port it entered by (br_netfilter): hairpin mode lets it.
        let hairpin = format!("/sys/class/net/{host}/brport/hairpin_mode");
        let _ = std::fs::write(&hairpin, "1");
        crash_point("net-up:hairpin");
        Ok(ip)
    }

    /// `-p`/`-P`: host ports checked (or chosen) before the container starts, written to
    /// ports.json, then the DNAT rules.
    fn publish_ports(&self, r: &Row, o: &RunOptions, n: &NetworkRow, ip: Ipv4Addr) -> Result<()> {
        if o.ports.is_empty() {
            return Ok(());
        }
        let mut maps = Vec::new();
        let mut chosen: Vec<u16> = Vec::new();
        let mut docker: serde_json::Map<String, Value> = serde_json::Map::new();
        // One start at a time picks host ports, up to its ports.json, which the next reads.
        let _ports_lock = net_lock::lock(&self.root, "ports")?;
        let others = self.published_by_others(&r.id);
        for p in &o.ports {
            let pr = proto(&p.proto);
            // Another container's published port is held by an nft rule only, not a socket:
            // no bind shows it taken.
            let theirs: Vec<u16> = others
                .iter()
                .filter(|(q, ip, _)| {
                    *q == pr && (ip.is_none() || p.host_ip.is_none() || *ip == p.host_ip)
                })
                .map(|(_, _, port)| *port)
                .collect();
            let avoid: Vec<u16> = chosen.iter().chain(&theirs).copied().collect();
            let host_port = match (p.host_port, p.host_port_last) {
                (Some(first), Some(last)) if last > first => {
                    ports::free_in(pr, p.host_ip, first..=last, &avoid)?
                }
                (Some(hp), _) if theirs.contains(&hp) => {
                    return Err(berth_network::Error::PortInUse {
                        addr: p.host_ip.unwrap_or(Ipv4Addr::UNSPECIFIED).to_string(),
                        port: hp,
                    }
                    .into())
                }
                (Some(hp), _) => {
                    ports::check_free(pr, p.host_ip, hp)?;
                    hp
                }
                (None, _) => ports::random_free(pr, p.host_ip, &avoid)?,
            };
            chosen.push(host_port);
            maps.push(PortMap {
                host_ip: p.host_ip,
                host_port,
                container_ip: ip,
                container_port: p.container_port,
                proto: pr,
            });
            let key = format!("{}/{}", p.container_port, p.proto);
            let entry = json!({
                "HostIp": p.host_ip.map(|i| i.to_string()).unwrap_or_else(|| "0.0.0.0".into()),
                "HostPort": host_port.to_string(),
            });
            match docker.get_mut(&key).and_then(Value::as_array_mut) {
                Some(list) => list.push(entry),
                None => {
                    docker.insert(key, json!([entry]));
                }
            }
        }
        let path = self.dir(&r.id).join(PORTS_FILE);
        crate::container::create::write_atomic(
            &path,
            &serde_json::to_vec(&Value::Object(docker)).unwrap_or_default(),
        )?;
        crash_point("net-up:ports-file");
        Nft::berth().publish(&r.id, &n.bridge, &maps)?;
        crash_point("net-up:port-rules");
        Ok(())
    }

    /// The host ports other containers publish now, from their ports.json: (protocol, host
    /// address (None: all), port).
    fn published_by_others(&self, id: &str) -> Vec<(Proto, Option<Ipv4Addr>, u16)> {
        let mut out = Vec::new();
        let Ok(dir) = std::fs::read_dir(self.containers_dir()) else {
            return out;
        };
        for e in dir.flatten() {
            if e.file_name().to_str() == Some(id) {
                continue;
            }
            // Lock files and containers without published ports have none.
            let Ok(bytes) = std::fs::read(e.path().join(PORTS_FILE)) else {
                continue;
            };
            let Ok(Value::Object(map)) = serde_json::from_slice(&bytes) else {
                continue;
            };
            for (key, list) in &map {
                let pr = proto(key.split_once('/').map_or("tcp", |(_, p)| p));
                for b in list.as_array().into_iter().flatten() {
                    let ip = b["HostIp"]
                        .as_str()
                        .and_then(|i| i.parse::<Ipv4Addr>().ok())
                        .filter(|i| !i.is_unspecified());
                    if let Some(port) = b["HostPort"].as_str().and_then(|p| p.parse().ok()) {
                        out.push((pr, ip, port));
                    }
                }
            }
        }
        out
    }

    /// Take back what [`Engine::network_up`] gave; each step runs even if one before failed
    /// (the first error is returned).
    pub fn network_down(&self, id: &str) -> Result<()> {
        let mut first: Option<Error> = None;
        let mut note = |r: Result<()>| {
            if let Err(e) = r {
                first.get_or_insert(e);
            }
        };
        let ports_file = self.dir(id).join(PORTS_FILE);
        let ns = netns_path(&self.root, id);
        // Nothing was set up (none/host, or already down): see `network_repair` for why the
        // netns is the trace.
        if !ns.exists() && !ports_file.exists() {
            return Ok(());
        }
        if ports_file.exists() {
            note(Nft::berth().unpublish(id).map_err(Error::from));
            crash_point("net-down:port-rules");
            let _ = std::fs::remove_file(&ports_file);
            crash_point("net-down:ports-file");
        }
        let db = self.net_db()?;
        let atts = db.attachments_of(id)?;
        if let Ok(mut nl) = Netlink::open() {
            for a in &atts {
                note(
                    nl.delete_link(&host_ifname(id, &a.network))
                        .map_err(Error::from),
                );
            }
        }
        crash_point("net-down:veth");
        note(db.release_leases(id));
        crash_point("net-down:leases");
        for a in &atts {
            if let Ok(Some(n)) = db.network_by_id(&a.network) {
                note(dns::refresh(self, &db, &n));
            }
        }
        crash_point("net-down:names");
        // Last: while it exists, repair knows there is something to take back.
        note(netns::delete_pinned(&ns).map_err(Error::from));
        crash_point("net-down:netns");
        match first {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    /// At rm: down, and off every network.
    pub fn network_forget(&self, id: &str) -> Result<()> {
        let r = self.network_down(id);
        self.net_db()?.detach_all(id)?;
        crash_point("net-down:detached");
        r
    }

    /// `network connect` of a running container.
    pub(super) fn attach_running(&self, db: &NetDb, r: &Row, n: &NetworkRow) -> Result<()> {
        let atts = db.attachments_of(&r.id)?;
        let index = atts.iter().filter(|a| a.ip.is_some()).count();
        let a = atts
            .iter()
            .find(|a| a.network == n.id)
            .ok_or_else(|| Error::Db("attachment vanished".into()))?;
        let mut nl = Netlink::open()?;
        let mtu = super::manage::mtus(&self.root, &mut nl)?;
        self.plug(db, &mut nl, r, n, a, index, mtu)?;
        crash_point("net-connect:plugged");
        dns::refresh(self, db, n)?;
        crash_point("net-connect:names");
        Ok(())
    }

    /// Marks `container` as to be taken off `network` for good (see [`DETACH_MARK`]) until
    /// [`Engine::finish_detach`] or [`Engine::unmark_detach`].
    pub(super) fn mark_detach(&self, container: &str, network: &str) -> Result<()> {
        let p = detach_mark(&self.root, container, network);
        if let Some(dir) = p.parent() {
            std::fs::create_dir_all(dir).map_err(|e| Error::io("create", dir, e))?;
        }
        std::fs::write(&p, b"").map_err(|e| Error::io("write", &p, e))
    }

    pub(super) fn unmark_detach(&self, container: &str, network: &str) {
        let _ = std::fs::remove_file(detach_mark(&self.root, container, network));
    }

    /// `container` off `network` for good: its veth there, its attachment (with its lease),
    /// its name; the mark last. `network disconnect` of a running container, the undo of a
    /// connect that failed, and repair of either cut short.
    pub(super) fn finish_detach(&self, db: &NetDb, container: &str, network: &str) -> Result<()> {
        Netlink::open()?.delete_link(&host_ifname(container, network))?;
        crash_point("net-disconnect:veth");
        db.detach(container, network)?;
        crash_point("net-disconnect:detached");
        if let Some(n) = db.network_by_id(network)? {
            dns::refresh(self, db, &n)?;
        }
        crash_point("net-disconnect:names");
        self.unmark_detach(container, network);
        Ok(())
    }

    /// Reconcile: networking of containers that do not run any more (their netns, leases,
    /// rules) is taken back. Locked containers are left to their holder. A pinned netns is
    /// the trace: made before any lease or rule, removed after them (a readdir per command,
    /// no database query unless something is left).
    pub fn network_repair(&self, rows: &[Row]) {
        // A set, not a scan per entry: with a thousand containers each has a netns entry.
        let live: std::collections::HashSet<&str> = rows
            .iter()
            .filter(|r| matches!(r.state, State::Running | State::Paused | State::Restarting))
            .map(|r| r.id.as_str())
            .collect();
        let running = |id: &str| live.contains(id);
        let mut suspects: Vec<String> = Vec::new();
        let mut detaching: Vec<(String, String)> = Vec::new();
        if let Ok(dir) = std::fs::read_dir(self.root.join("netns")) {
            for e in dir.flatten() {
                let Some(name) = e.file_name().to_str().map(String::from) else {
                    continue;
                };
                if let Some((c, n)) = name
                    .strip_prefix(DETACH_MARK)
                    .and_then(|pair| pair.split_once('-'))
                {
                    detaching.push((c.to_string(), n.to_string()));
                } else if !running(&name) {
                    suspects.push(name);
                }
            }
        }
        // A connect or disconnect cut short: the container ends up off that network.
        for (c, n) in detaching {
            if let Ok(Some(_lock)) = self.try_lock(&c) {
                let _ = self.net_db().and_then(|db| self.finish_detach(&db, &c, &n));
            }
        }
        for id in suspects {
            if id.len() != 64 {
                continue;
            }
            let Ok(Some(lock)) = self.try_lock(&id) else {
                continue;
            };
            // `rows` was read before the lock: a start may have finished since (it holds
            // the lock until its row says running). Only the row read now, under the lock,
            // tells whether the container is provably not running.
            match self.store.get(&id) {
                Ok(Some(r)) if r.state.is_live() => {
                    // Running (or its monitor died since the container repair ran, which
                    // the next command's repair finds): its network stays.
                }
                Ok(Some(_)) => {
                    let _ = self.network_down(&id);
                }
                Ok(None) => {
                    let _ = self.network_down(&id);
                    let _ = self.net_db().and_then(|db| db.detach_all(&id));
                    // Our try_lock made its lock file again.
                    lock.remove_file();
                }
                Err(_) => {}
            }
        }
    }
}

/// `-P`: the image's exposed ports (`80/tcp`, `53/udp`) not published already, each on a
/// random host port.
pub fn publish_all(o: &mut RunOptions, exposed: &[String]) {
    for e in exposed {
        let (port, pr) = e.split_once('/').unwrap_or((e, "tcp"));
        let Ok(port) = port.parse::<u16>() else {
            continue;
        };
        let pr = if pr == "udp" { "udp" } else { "tcp" };
        if o.ports
            .iter()
            .any(|p| p.container_port == port && p.proto == pr)
        {
            continue;
        }
        o.ports.push(PortSpec {
            host_ip: None,
            host_port: None,
            host_port_last: None,
            container_port: port,
            proto: pr.into(),
        });
    }
}

impl Engine {
    /// The monitor's `container-cleanup`: a container that no longer runs gives back its
    /// network (unless someone started it again meanwhile).
    pub fn cleanup_after_exit(&self, id: &str) -> Result<()> {
        // Whoever holds the lock for long (stop, rm, start) takes care of the network; a
        // short holder is waited for a moment; else the next command's full repair does it.
        let mut lock = None;
        for _ in 0..100 {
            lock = self.try_lock(id)?;
            if lock.is_some() {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        let Some(_lock) = lock else {
            crate::ops::request_repair(&self.root);
            return Ok(());
        };
        let Some(mut r) = self.store.get(id)? else {
            return Ok(());
        };
        crate::container::exit::refresh(self, &mut r)?;
        if matches!(r.state, State::Running | State::Paused | State::Restarting) {
            return Ok(());
        }
        self.network_down(id)
    }
}

/// A stable 64-hex identifier for what Docker names with a random one (a sandbox, an
/// endpoint): the same container and network always give the same one.
fn hex_id(parts: &[&str]) -> String {
    berth_image::Digest::sha256_of(parts.join("/").as_bytes())
        .hex()
        .to_string()
}

impl Engine {
    /// Docker's `NetworkSettings` of a container: its published ports while it runs, and
    /// its endpoint on each network it is attached to (address, gateway, MAC, aliases). The
    /// top-level address fields are the default bridge network's, as in Docker (empty on
    /// other networks).
    pub fn network_settings(&self, r: &Row) -> Value {
        let ports: Value = std::fs::read(self.dir(&r.id).join(PORTS_FILE))
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .unwrap_or_else(|| json!({}));
        let o = options_of(r);
        let (networks, default_endpoint) = self.endpoints(r, &o);
        let bridge = uses_bridge(&o);
        let field = |k: &str| {
            default_endpoint
                .get(k)
                .cloned()
                .unwrap_or_else(|| json!(""))
        };
        let running = r.state.is_live();
        json!({
            "Bridge": "",
            "SandboxID": if bridge && running { hex_id(&["sandbox", &r.id]) } else { String::new() },
            "HairpinMode": false,
            "LinkLocalIPv6Address": "",
            "LinkLocalIPv6PrefixLen": 0,
            "Ports": ports,
            "SandboxKey": if bridge && running { netns_path(&self.root, &r.id).display().to_string() } else { String::new() },
            "SecondaryIPAddresses": Value::Null,
            "SecondaryIPv6Addresses": Value::Null,
            "EndpointID": field("EndpointID"),
            "Gateway": field("Gateway"),
            "GlobalIPv6Address": "",
            "GlobalIPv6PrefixLen": 0,
            "IPAddress": field("IPAddress"),
            "IPPrefixLen": default_endpoint.get("IPPrefixLen").cloned().unwrap_or(json!(0)),
            "IPv6Gateway": "",
            "MacAddress": field("MacAddress"),
            "Networks": networks,
        })
    }

    /// `NetworkSettings.Networks` of container `r` with options `o` (what a listing shows),
    /// and the endpoint on the default bridge (or an empty object).
    pub fn endpoints(
        &self,
        r: &Row,
        o: &crate::options::RunOptions,
    ) -> (serde_json::Map<String, Value>, Value) {
        let mut networks = serde_json::Map::new();
        let mut default_endpoint = json!({});
        // Only a bridge container has attachments: others open no database here.
        let bridge = uses_bridge(o);
        let net_db = if bridge { self.net_db().ok() } else { None };
        if let Some(db) = net_db {
            for a in db.attachments_of(&r.id).unwrap_or_default() {
                let Ok(Some(n)) = db.network_by_id(&a.network) else {
                    continue;
                };
                let attached = a.ip.is_some();
                let prefix: u8 = n
                    .subnet
                    .split('/')
                    .nth(1)
                    .and_then(|p| p.parse().ok())
                    .unwrap_or(0);
                let text = |v: Option<String>| {
                    if attached {
                        v.unwrap_or_default()
                    } else {
                        String::new()
                    }
                };
                let default = n.name == super::DEFAULT_NETWORK;
                // Docker's user-defined networks answer to the short ID besides the aliases.
                let aliases = if default {
                    Value::Null
                } else {
                    let mut list = vec![r.id[..12].to_string()];
                    list.extend(a.aliases.iter().cloned());
                    json!(list)
                };
                let endpoint = json!({
                    "IPAMConfig": a.want_ip.as_ref().map(|ip| json!({"IPv4Address": ip})),
                    "Links": Value::Null,
                    "Aliases": aliases,
                    "NetworkID": n.id,
                    "EndpointID": if attached { hex_id(&["endpoint", &r.id, &n.id]) } else { String::new() },
                    "Gateway": text(Some(n.gateway.clone())),
                    "IPAddress": text(a.ip.clone()),
                    "IPPrefixLen": if attached { prefix } else { 0 },
                    "IPv6Gateway": "",
                    "GlobalIPv6Address": "",
                    "GlobalIPv6PrefixLen": 0,
                    "MacAddress": text(a.mac.clone()),
                    "DriverOpts": Value::Null,
                });
                if default {
                    default_endpoint = endpoint.clone();
                }
                networks.insert(n.name.clone(), endpoint);
            }
        } else if !bridge {
            // Docker lists the mode's own network (host, none) with an empty endpoint.
            if let Some(name) = match &o.network {
                crate::options::Network::Host => Some("host"),
                crate::options::Network::None => Some("none"),
                _ => None,
            } {
                networks.insert(
                    name.into(),
                    json!({
                        "IPAMConfig": Value::Null, "Links": Value::Null, "Aliases": Value::Null,
                        "NetworkID": "", "EndpointID": "", "Gateway": "", "IPAddress": "",
                        "IPPrefixLen": 0, "IPv6Gateway": "", "GlobalIPv6Address": "",
                        "GlobalIPv6PrefixLen": 0, "MacAddress": "", "DriverOpts": Value::Null,
                    }),
                );
            }
        }
        (networks, default_endpoint)
    }
}

/// Is the network's bridge ready: made, with its gateway address and its rules? Its
/// `route_localnet` is turned on last (here, or by the rules' set-up once the bridge
/// exists): a bridge that merely exists may be one a killed berth left without its address
/// or rules. One small read, instead of a netlink query, on each start.
fn bridge_ready(bridge: &str) -> bool {
    std::fs::read(format!("/proc/sys/net/ipv4/conf/{bridge}/route_localnet"))
        .is_ok_and(|v| v.starts_with(b"1"))
}

/// `R/netns/.detach-<container>-<network>`: while it exists, the container is to end up off
/// the network. Made before a `network connect` of a running container attaches it (so
/// repair undoes a connect cut short: the attachment, lease, veth and name it made so far)
/// and before a `network disconnect` takes it off (so repair finishes it); removed once the
/// command is done. In `R/netns`, which repair reads anyway: no cost when there is none.
const DETACH_MARK: &str = ".detach-";

fn detach_mark(root: &std::path::Path, container: &str, network: &str) -> PathBuf {
    root.join("netns")
        .join(format!("{DETACH_MARK}{container}-{network}"))
}
