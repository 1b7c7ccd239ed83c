//! A small synchronous rtnetlink client: bridges, veth pairs, addresses, routes.
//!
//! A [`Netlink`] talks to the network namespace its socket was opened in (the calling
//! thread's). Container start runs through [`Netlink::attach_container`], so it keeps to few
//! round trips: one to find the bridge, one that makes the veth pair with the host end
//! already on the bridge and up and the peer already in the container's netns with its name,
//! MAC and MTU, one to find the peer's index there, and one datagram that sets it up and
//! carries its address and its default route.
//!
//! Also here: the two IPv4 sysctl switches bridges need (forwarding, route_localnet).

mod wire;

use std::fs::File;
use std::net::Ipv4Addr;
use std::os::fd::AsRawFd;
use std::path::Path;

use ipnet::Ipv4Net;
use netlink_packet_core::{NLM_F_CREATE, NLM_F_EXCL, NLM_F_REPLACE};
use netlink_packet_route::address::{AddressAttribute, AddressMessage, AddressScope};
use netlink_packet_route::link::{
    InfoData, InfoKind, InfoVeth, LinkAttribute, LinkExtentMask, LinkFlags, LinkInfo, LinkMessage,
};
use netlink_packet_route::route::{
    RouteAddress, RouteAttribute, RouteHeader, RouteMessage, RouteMetric, RouteProtocol,
    RouteScope, RouteType,
};
use netlink_packet_route::{AddressFamily, RouteNetlinkMessage};
use nix::errno::Errno;

use crate::error::{Error, Result};
use crate::netns;
use wire::Wire;

/// The MTU used when the host has no default route to copy one from.
const FALLBACK_MTU: u32 = 1500;
/// The MTU of Berth's bridges and veths unless one is configured: traffic that stays on
/// this host (host to container, container to container) then moves in segments of up to
/// 64 KiB, as over loopback. What leaves the host is held to the host's MTU by the
/// container's default route (its `mtu` metric, see [`Attach::route_mtu`]), so TCP to
/// the outside still advertises and sends segments that fit the host's link.
pub const LOCAL_MTU: u32 = 65_520;
/// The kernel's local routing table: the host's own and broadcast addresses, not networks.
const RT_TABLE_LOCAL: u32 = 255;
/// The GSO/GRO packet size Berth's bridges and veths get where the kernel has IPv4 BIG TCP
/// (6.3+): traffic between the host and containers, or between containers, then moves in
/// packets of up to 192 KiB instead of 64 KiB, about a third more throughput on one
/// connection (scripts/bench-net.sh). Packets leaving through a real NIC are still cut to
/// that NIC's limits by the kernel.
const BIG_TCP_SIZE: u32 = 196_608;

/// An rtnetlink socket of the netns it was opened in.
pub struct Netlink {
    wire: Wire,
}

/// A bridge as the host has it (see [`Netlink::bridge_state`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BridgeState {
    pub addresses: Vec<Ipv4Net>,
    /// Links attached to it (containers' veths).
    pub ports: usize,
}

/// One container's link to a bridge (see [`Netlink::attach_container`]).
pub struct Attach<'a> {
    pub bridge: &'a str,
    pub host_ifname: &'a str,
    pub netns: &'a Path,
    pub ifname: &'a str,
    pub addr: Ipv4Net,
    pub gateway: Option<Ipv4Addr>,
    pub mac: [u8; 6],
    /// The MTU of both veth ends.
    pub mtu: u32,
    /// The MTU of the default route, when lower than `mtu`: the host's, for traffic that
    /// leaves it.
    pub route_mtu: Option<u32>,
}

impl Netlink {
    /// Opens a NETLINK_ROUTE socket in the calling thread's network namespace.
    pub fn open() -> Result<Netlink> {
        Ok(Netlink {
            wire: Wire::open()?,
        })
    }

    /// Makes sure the bridge `name` exists, has `mtu`, is up and carries `gateway` (its
    /// address and prefix), creating it if absent. Returns its interface index. Other
    /// addresses an existing bridge has are left alone. Safe to race with another process
    /// doing the same; a bridge this call made is removed again if it fails after.
    pub fn ensure_bridge(&mut self, name: &str, gateway: Ipv4Net, mtu: u32) -> Result<u32> {
        let (index, created) = match self.find_link(name)? {
            Some(link) => (self.adopt_bridge(name, &link, mtu)?, false),
            None => self.create_bridge(name, mtu)?,
        };
        let what = || format!("add address {gateway} to bridge {name}");
        let added = self.ack(
            RouteNetlinkMessage::NewAddress(address(index, gateway)),
            NLM_F_CREATE | NLM_F_REPLACE,
            what,
        );
        if added.is_err() && created {
            let _ = self.delete_link(name);
        }
        added.map(|()| index)
    }

    /// Deletes the link `name` (and, for a veth, its peer). Absent is not an error.
    pub fn delete_link(&mut self, name: &str) -> Result<()> {
        let mut msg = LinkMessage::default();
        msg.attributes.push(LinkAttribute::IfName(name.into()));
        match self
            .wire
            .batch(vec![(RouteNetlinkMessage::DelLink(msg), 0)])?
        {
            Err((_, r)) if r.errno != Errno::ENODEV => {
                Err(r.into_error(format!("delete link {name}")))
            }
            _ => Ok(()),
        }
    }

    pub fn link_exists(&mut self, name: &str) -> Result<bool> {
        Ok(self.find_link(name)?.is_some())
    }

    /// What the host has of the bridge `name`: None if there is no such link; else its IPv4
    /// addresses (with their prefixes) and how many links are its ports. An error if the
    /// link is not a bridge.
    pub fn bridge_state(&mut self, name: &str) -> Result<Option<BridgeState>> {
        let Some(link) = self.find_link(name)? else {
            return Ok(None);
        };
        if !is_bridge(&link) {
            return Err(Error::Invalid(format!(
                "link {name} exists and is not a bridge"
            )));
        }
        let index = link.header.index;
        let addresses = self.ipv4_addresses(index, name)?;
        let mut msg = LinkMessage::default();
        msg.attributes
            .push(LinkAttribute::ExtMask(vec![LinkExtentMask::SkipStats]));
        let links = self
            .wire
            .dump(RouteNetlinkMessage::GetLink(msg))?
            .map_err(|r| r.into_error("list links"))?;
        let ports = links
            .iter()
            .filter(|m| match m {
                RouteNetlinkMessage::NewLink(l) => l
                    .attributes
                    .iter()
                    .any(|a| matches!(a, LinkAttribute::Controller(c) if *c == index)),
                _ => false,
            })
            .count();
        Ok(Some(BridgeState { addresses, ports }))
    }

    /// Gives the existing bridge `name` the address `gateway` as its only IPv4 address (the
    /// others, and so their routes, are removed).
    pub fn readdress_bridge(&mut self, name: &str, gateway: Ipv4Net) -> Result<()> {
        let link = self.find_link(name)?.ok_or_else(|| Error::Netlink {
            what: format!("set the address of bridge {name}"),
            why: "no such bridge".into(),
        })?;
        let index = link.header.index;
        for old in self.ipv4_addresses(index, name)? {
            if old == gateway {
                continue;
            }
            let what = || format!("remove address {old} from bridge {name}");
            match self.wire.batch(vec![(
                RouteNetlinkMessage::DelAddress(address(index, old)),
                0,
            )])? {
                // Removed meanwhile by someone else: what was wanted.
                Err((_, r)) if r.errno != Errno::EADDRNOTAVAIL => return Err(r.into_error(what())),
                _ => {}
            }
        }
        self.ack(
            RouteNetlinkMessage::NewAddress(address(index, gateway)),
            NLM_F_CREATE | NLM_F_REPLACE,
            || format!("add address {gateway} to bridge {name}"),
        )
    }

    /// The IPv4 addresses of link `index` (`name` is for errors only).
    fn ipv4_addresses(&mut self, index: u32, name: &str) -> Result<Vec<Ipv4Net>> {
        let mut msg = AddressMessage::default();
        msg.header.family = AddressFamily::Inet;
        let all = self
            .wire
            .dump(RouteNetlinkMessage::GetAddress(msg))?
            .map_err(|r| r.into_error(format!("list addresses of {name}")))?;
        Ok(all
            .iter()
            .filter_map(|m| match m {
                RouteNetlinkMessage::NewAddress(a)
                    if a.header.index == index && a.header.family == AddressFamily::Inet =>
                {
                    let ip = a.attributes.iter().find_map(|x| match x {
                        AddressAttribute::Local(std::net::IpAddr::V4(ip)) => Some(*ip),
                        _ => None,
                    })?;
                    Ipv4Net::new(ip, a.header.prefix_len).ok()
                }
                _ => None,
            })
            .collect())
    }

    /// Names of every link whose name starts with `prefix` (for repair: Berth's bridges and
    /// host-side veths left by a crash).
    pub fn links_with_prefix(&mut self, prefix: &str) -> Result<Vec<String>> {
        let mut msg = LinkMessage::default();
        msg.attributes
            .push(LinkAttribute::ExtMask(vec![LinkExtentMask::SkipStats]));
        let links = self
            .wire
            .dump(RouteNetlinkMessage::GetLink(msg))?
            .map_err(|r| r.into_error("list links"))?;
        Ok(links
            .iter()
            .filter_map(|m| match m {
                RouteNetlinkMessage::NewLink(link) => link_name(link),
                _ => None,
            })
            .filter(|name| name.starts_with(prefix))
            .map(str::to_string)
            .collect())
    }

    /// Makes a veth pair: the `host_ifname` end on `bridge` and up; the other end made
    /// directly inside the netns pinned at `netns` as `ifname`, with `mac` and `mtu`, up,
    /// addressed `addr`, with a default route via `gateway` unless None. On failure the pair
    /// is removed again.
    pub fn attach_container(&mut self, a: &Attach) -> Result<()> {
        let bridge = self.find_link(a.bridge)?.ok_or_else(|| Error::Netlink {
            what: format!("attach {} to bridge {}", a.host_ifname, a.bridge),
            why: "no such bridge".into(),
        })?;
        let big = has_ipv4_big_tcp(&bridge).then_some(BIG_TCP_SIZE);
        let ns = File::open(a.netns).map_err(|e| Error::io("open netns", a.netns.display(), e))?;
        let what = || format!("create veth {} on bridge {}", a.host_ifname, a.bridge);
        self.ack(
            RouteNetlinkMessage::NewLink(veth(a, bridge.header.index, big, &ns)),
            NLM_F_CREATE | NLM_F_EXCL,
            what,
        )?;
        drop(ns);
        if let Some(size) = big.filter(|&size| gso_size(&bridge) != Some(size)) {
            // Only now, with a port, can the bridge take BIG TCP sizes (an empty bridge's
            // limit is 64 KiB). Best effort: a bridge someone gave a port that cannot take
            // them keeps 64 KiB packets and works as before.
            let mut msg = LinkMessage::default();
            msg.header.index = bridge.header.index;
            msg.attributes = gso_attributes(size);
            let _ = self.ack(RouteNetlinkMessage::SetLink(msg), 0, String::new);
        }
        let inside = netns::in_netns(a.netns, Netlink::open).and_then(|mut n| n.configure_peer(a));
        if inside.is_err() {
            let _ = self.delete_link(a.host_ifname);
        }
        inside
    }

    /// Every IPv4 route's destination, in every table but the local one (the host's own
    /// addresses, already covered by their networks' routes), without default routes (they
    /// overlap everything).
    pub fn host_routes(&mut self) -> Result<Vec<Ipv4Net>> {
        Ok(self
            .ipv4_routes()?
            .iter()
            .filter(|r| table(r) != RT_TABLE_LOCAL && r.header.destination_prefix_length > 0)
            .filter_map(|r| {
                let dst = r.attributes.iter().find_map(|a| match a {
                    RouteAttribute::Destination(RouteAddress::Inet(ip)) => Some(*ip),
                    _ => None,
                })?;
                Ipv4Net::new(dst, r.header.destination_prefix_length).ok()
            })
            .collect())
    }

    /// The MTU of the link the main table's default route leaves by, else 1500.
    pub fn default_mtu(&mut self) -> Result<u32> {
        let routes = self.ipv4_routes()?;
        let oif = routes
            .iter()
            .filter(|r| {
                table(r) == u32::from(RouteHeader::RT_TABLE_MAIN)
                    && r.header.destination_prefix_length == 0
            })
            .find_map(|r| {
                r.attributes.iter().find_map(|a| match a {
                    RouteAttribute::Oif(index) => Some(*index),
                    RouteAttribute::MultiPath(hops) => hops.first().map(|h| h.interface_index),
                    _ => None,
                })
            });
        let Some(oif) = oif else {
            return Ok(FALLBACK_MTU);
        };
        let mut msg = LinkMessage::default();
        msg.header.index = oif;
        msg.attributes
            .push(LinkAttribute::ExtMask(vec![LinkExtentMask::SkipStats]));
        let link = match self.wire.get(RouteNetlinkMessage::GetLink(msg))? {
            Ok(RouteNetlinkMessage::NewLink(link)) => link,
            Ok(_) => return Ok(FALLBACK_MTU),
            Err(r) => return Err(r.into_error(format!("get link {oif} of the default route"))),
        };
        Ok(link_mtu(&link).unwrap_or(FALLBACK_MTU))
    }

    /// Sets the link `index` up (`name` is for errors only).
    pub(crate) fn set_up(&mut self, index: u32, name: &str) -> Result<()> {
        self.ack(RouteNetlinkMessage::SetLink(up(index)), 0, || {
            format!("set {name} up")
        })
    }

    fn find_link(&mut self, name: &str) -> Result<Option<LinkMessage>> {
        let mut msg = LinkMessage::default();
        msg.attributes.push(LinkAttribute::IfName(name.into()));
        msg.attributes
            .push(LinkAttribute::ExtMask(vec![LinkExtentMask::SkipStats]));
        match self.wire.get(RouteNetlinkMessage::GetLink(msg))? {
            Ok(RouteNetlinkMessage::NewLink(link)) => Ok(Some(link)),
            Ok(_) => Ok(None),
            Err(r) if r.errno == Errno::ENODEV => Ok(None),
            Err(r) => Err(r.into_error(format!("get link {name}"))),
        }
    }

    /// Makes the bridge; returns its index and whether this call made it (false: another
    /// process won the race).
    fn create_bridge(&mut self, name: &str, mtu: u32) -> Result<(u32, bool)> {
        let mut msg = LinkMessage::default();
        msg.header.flags = LinkFlags::Up;
        msg.header.change_mask = LinkFlags::Up;
        msg.attributes = vec![
            LinkAttribute::IfName(name.into()),
            LinkAttribute::Mtu(mtu),
            // A fixed MAC of its own: otherwise the bridge takes the lowest MAC of its ports
            // and changes it as containers come and go, leaving their ARP caches stale.
            LinkAttribute::Address(random_mac()?.to_vec()),
            LinkAttribute::LinkInfo(vec![LinkInfo::Kind(InfoKind::Bridge)]),
        ];
        let created = self.wire.batch(vec![(
            RouteNetlinkMessage::NewLink(msg),
            NLM_F_CREATE | NLM_F_EXCL,
        )])?;
        let ours = match created {
            Ok(()) => true,
            // EEXIST: another berth made it meanwhile; use theirs.
            Err((_, r)) if r.errno == Errno::EEXIST => false,
            Err((_, r)) => return Err(r.into_error(format!("create bridge {name}"))),
        };
        let link = self.find_link(name)?.ok_or_else(|| Error::Netlink {
            what: format!("create bridge {name}"),
            why: "it vanished right after creation".into(),
        })?;
        Ok((self.adopt_bridge(name, &link, mtu)?, ours))
    }

    /// Checks that an existing link is a bridge and brings it to `mtu` and up if needed.
    fn adopt_bridge(&mut self, name: &str, link: &LinkMessage, mtu: u32) -> Result<u32> {
        if !is_bridge(link) {
            return Err(Error::Invalid(format!(
                "link {name} exists and is not a bridge"
            )));
        }
        let index = link.header.index;
        if link_mtu(link) != Some(mtu) || !link.header.flags.contains(LinkFlags::Up) {
            let mut msg = LinkMessage::default();
            msg.header.index = index;
            msg.header.flags = LinkFlags::Up;
            msg.header.change_mask = LinkFlags::Up;
            msg.attributes.push(LinkAttribute::Mtu(mtu));
            self.ack(RouteNetlinkMessage::SetLink(msg), 0, || {
                format!("set bridge {name} up with MTU {mtu}")
            })?;
        }
        Ok(index)
    }

    /// Inside the container's netns: its address, then its default route, in one datagram.
    fn configure_peer(&mut self, a: &Attach) -> Result<()> {
        let index = self
            .find_link(a.ifname)?
            .ok_or_else(|| Error::Netlink {
                what: format!("configure {} in {}", a.ifname, a.netns.display()),
                why: "the veth peer is not in the netns".into(),
            })?
            .header
            .index;
        let mut reqs = vec![
            (RouteNetlinkMessage::SetLink(up(index)), 0),
            (
                RouteNetlinkMessage::NewAddress(address(index, a.addr)),
                NLM_F_CREATE | NLM_F_EXCL,
            ),
        ];
        if let Some(gw) = a.gateway {
            reqs.push((
                RouteNetlinkMessage::NewRoute(default_route(index, gw, a.route_mtu)),
                NLM_F_CREATE | NLM_F_EXCL,
            ));
        }
        if let Err((which, r)) = self.wire.batch(reqs)? {
            let what = match which {
                0 => format!("set {} up", a.ifname),
                1 => format!("add address {} to {}", a.addr, a.ifname),
                _ => format!("add default route via {:?} on {}", a.gateway, a.ifname),
            };
            return Err(r.into_error(what));
        }
        Ok(())
    }

    fn ipv4_routes(&mut self) -> Result<Vec<RouteMessage>> {
        let mut msg = RouteMessage::default();
        msg.header.address_family = AddressFamily::Inet;
        let all = self
            .wire
            .dump(RouteNetlinkMessage::GetRoute(msg))?
            .map_err(|r| r.into_error("list IPv4 routes"))?;
        Ok(all
            .into_iter()
            .filter_map(|m| match m {
                RouteNetlinkMessage::NewRoute(r)
                    if r.header.address_family == AddressFamily::Inet =>
                {
                    Some(r)
                }
                _ => None,
            })
            .collect())
    }

    /// One request, acknowledged; `what` names it in the error if the kernel refuses.
    fn ack(
        &mut self,
        msg: RouteNetlinkMessage,
        flags: u16,
        what: impl FnOnce() -> String,
    ) -> Result<()> {
        match self.wire.batch(vec![(msg, flags)])? {
            Ok(()) => Ok(()),
            Err((_, r)) => Err(r.into_error(what())),
        }
    }
}

/// Turns on IPv4 forwarding on the host, as Docker does when it sets up its first bridge;
/// Berth never turns it off again.
pub fn enable_ip_forward() -> Result<()> {
    enable_sysctl(Path::new("/proc/sys/net/ipv4/ip_forward"))
}

/// Lets the host route packets from 127.0.0.0/8 out of `bridge`, so that a DNATed
/// connection to a published port on localhost reaches the container.
pub fn enable_route_localnet(bridge: &str) -> Result<()> {
    enable_sysctl(
        &Path::new("/proc/sys/net/ipv4/conf")
            .join(bridge)
            .join("route_localnet"),
    )
}

/// Writes 1 to a boolean sysctl unless it already is 1 (no write, no change event).
fn enable_sysctl(path: &Path) -> Result<()> {
    let now = std::fs::read_to_string(path).map_err(|e| Error::io("read", path.display(), e))?;
    if now.trim() == "1" {
        return Ok(());
    }
    std::fs::write(path, "1\n").map_err(|e| Error::io("write", path.display(), e))
}

/// The RTM_NEWLINK that makes the whole pair at once (see the module doc), with `big` GSO
/// sizes on both ends if given, so that a container's own connections use them too.
fn veth(a: &Attach, bridge: u32, big: Option<u32>, ns: &File) -> LinkMessage {
    let gso = big.map(gso_attributes).unwrap_or_default();
    // The peer cannot be made up here: veth refuses to open before both ends exist
    // (ENOTCONN), so it goes up inside the netns with its address.
    let mut peer = LinkMessage::default();
    peer.attributes = vec![
        LinkAttribute::IfName(a.ifname.into()),
        LinkAttribute::NetNsFd(ns.as_raw_fd()),
        LinkAttribute::Address(a.mac.to_vec()),
        LinkAttribute::Mtu(a.mtu),
    ];
    peer.attributes.extend(gso.iter().cloned());
    let mut host = LinkMessage::default();
    host.header.flags = LinkFlags::Up;
    host.header.change_mask = LinkFlags::Up;
    host.attributes = vec![
        LinkAttribute::IfName(a.host_ifname.into()),
        LinkAttribute::Mtu(a.mtu),
        LinkAttribute::Controller(bridge),
        LinkAttribute::LinkInfo(vec![
            LinkInfo::Kind(InfoKind::Veth),
            LinkInfo::Data(InfoData::Veth(InfoVeth::Peer(peer))),
        ]),
    ];
    host.attributes.extend(gso);
    host
}

/// Whether the kernel has IPv4 BIG TCP (6.3+): it then reports a link's IPv4 GSO size.
/// Veths on such kernels take packets up to 512 KiB.
fn has_ipv4_big_tcp(link: &LinkMessage) -> bool {
    link.attributes
        .iter()
        .any(|a| matches!(a, LinkAttribute::GsoIpv4MaxSize(_)))
}

/// The link's IPv4 GSO size, on kernels that have one.
fn gso_size(link: &LinkMessage) -> Option<u32> {
    link.attributes.iter().find_map(|a| match a {
        LinkAttribute::GsoIpv4MaxSize(size) => Some(*size),
        _ => None,
    })
}

/// Sets the GSO and GRO sizes, the plain ones (IPv6's) and IPv4's.
fn gso_attributes(size: u32) -> Vec<LinkAttribute> {
    vec![
        LinkAttribute::GsoMaxSize(size),
        LinkAttribute::GroMaxSize(size),
        LinkAttribute::GsoIpv4MaxSize(size),
        LinkAttribute::GroIpv4MaxSize(size),
    ]
}

fn up(index: u32) -> LinkMessage {
    let mut msg = LinkMessage::default();
    msg.header.index = index;
    msg.header.flags = LinkFlags::Up;
    msg.header.change_mask = LinkFlags::Up;
    msg
}

fn address(index: u32, net: Ipv4Net) -> AddressMessage {
    let mut msg = AddressMessage::default();
    msg.header.family = AddressFamily::Inet;
    msg.header.prefix_len = net.prefix_len();
    msg.header.scope = AddressScope::Universe;
    msg.header.index = index;
    msg.attributes = vec![
        AddressAttribute::Local(net.addr().into()),
        AddressAttribute::Address(net.addr().into()),
    ];
    if net.prefix_len() < 31 {
        msg.attributes
            .push(AddressAttribute::Broadcast(net.broadcast()));
    }
    msg
}

fn default_route(index: u32, gateway: Ipv4Addr, mtu: Option<u32>) -> RouteMessage {
    let mut msg = RouteMessage::default();
    msg.header.address_family = AddressFamily::Inet;
    msg.header.table = RouteHeader::RT_TABLE_MAIN;
    msg.header.protocol = RouteProtocol::Boot;
    msg.header.scope = RouteScope::Universe;
    msg.header.kind = RouteType::Unicast;
    msg.attributes = vec![
        RouteAttribute::Gateway(RouteAddress::Inet(gateway)),
        RouteAttribute::Oif(index),
    ];
    if let Some(mtu) = mtu {
        msg.attributes
            .push(RouteAttribute::Metrics(vec![RouteMetric::Mtu(mtu)]));
    }
    msg
}

fn table(r: &RouteMessage) -> u32 {
    r.attributes
        .iter()
        .find_map(|a| match a {
            RouteAttribute::Table(t) => Some(*t),
            _ => None,
        })
        .unwrap_or(u32::from(r.header.table))
}

fn link_name(link: &LinkMessage) -> Option<&str> {
    link.attributes.iter().find_map(|a| match a {
        LinkAttribute::IfName(n) => Some(n.as_str()),
        _ => None,
    })
}

fn link_mtu(link: &LinkMessage) -> Option<u32> {
    link.attributes.iter().find_map(|a| match a {
        LinkAttribute::Mtu(m) => Some(*m),
        _ => None,
    })
}

fn is_bridge(link: &LinkMessage) -> bool {
    link.attributes.iter().any(|a| match a {
        LinkAttribute::LinkInfo(infos) => infos
            .iter()
            .any(|i| matches!(i, LinkInfo::Kind(InfoKind::Bridge))),
        _ => false,
    })
}

/// A random locally administered unicast MAC.
fn random_mac() -> Result<[u8; 6]> {
    let mut mac = [0u8; 6];
    // SAFETY: getrandom writes at most `mac.len()` bytes into the buffer it is given.
    let n = unsafe { libc::getrandom(mac.as_mut_ptr().cast(), mac.len(), 0) };
    if n != mac.len() as isize {
        return Err(Error::io(
            "read random bytes",
            "for a bridge MAC",
            std::io::Error::last_os_error(),
        ));
    }
    mac[0] = (mac[0] & 0xfe) | 0x02;
    Ok(mac)
}
