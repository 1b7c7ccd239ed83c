//! IP address management: subnets for networks (Docker's default pools, never overlapping a
//! host route or another network) and addresses inside a subnet.

use std::collections::HashSet;
use std::net::Ipv4Addr;

use ipnet::Ipv4Net;

use crate::error::{Error, Result};

/// Docker's default address pools, in the order Docker tries them: 172.17.0.0/16 ..
/// 172.31.0.0/16, then 192.168.0.0/20 .. 192.168.240.0/20.
fn default_pools() -> impl Iterator<Item = Ipv4Net> {
    let wide = (17..=31u8).map(|b| net(Ipv4Addr::new(172, b, 0, 0), 16));
    let narrow = (0..16u8).map(|i| net(Ipv4Addr::new(192, 168, i * 16, 0), 20));
    wide.chain(narrow)
}

fn net(addr: Ipv4Addr, prefix: u8) -> Ipv4Net {
    Ipv4Net::new(addr, prefix).expect("prefix <= 32")
}

/// The first default pool that overlaps no taken subnet and no host route. Default routes
/// (prefix length 0) are ignored: they overlap everything.
pub fn pick_subnet(taken: &[Ipv4Net], host_routes: &[Ipv4Net]) -> Result<Ipv4Net> {
    let routes = host_routes.iter().filter(|r| r.prefix_len() > 0);
    let busy: Vec<&Ipv4Net> = taken.iter().chain(routes).collect();
    default_pools()
        .find(|pool| !busy.iter().any(|b| overlaps(pool, b)))
        .ok_or_else(|| {
            Error::Exhausted(
                "could not find an available, non-overlapping IPv4 address pool among the defaults to assign to the network"
                    .into(),
            )
        })
}

/// Whether two subnets share any address (one contains the other's network address).
pub fn overlaps(a: &Ipv4Net, b: &Ipv4Net) -> bool {
    a.contains(&b.network()) || b.contains(&a.network())
}

/// The lowest address of `subnet` that is not its network or broadcast address, not the
/// gateway and not in `used`.
pub fn next_free(subnet: Ipv4Net, gateway: Ipv4Addr, used: &[Ipv4Addr]) -> Result<Ipv4Addr> {
    let used: HashSet<Ipv4Addr> = used.iter().copied().collect();
    let first = u32::from(subnet.network()).saturating_add(1);
    let last = u32::from(subnet.broadcast()).saturating_sub(1);
    (first..=last)
        .map(Ipv4Addr::from)
        .find(|ip| *ip != gateway && !used.contains(ip))
        .ok_or_else(|| Error::Exhausted(format!("no available IPv4 addresses in subnet {subnet}")))
}

/// The MAC address Docker gives a container interface: 02:42 then the four bytes of its IP.
pub fn mac_for(ip: Ipv4Addr) -> [u8; 6] {
    let [a, b, c, d] = ip.octets();
    [0x02, 0x42, a, b, c, d]
}

/// A user's `--subnet`: an IPv4 CIDR whose host bits are zero, large enough for a gateway
/// and at least one container.
pub fn parse_subnet(text: &str) -> Result<Ipv4Net> {
    let subnet: Ipv4Net = text.parse().map_err(|_| {
        Error::Invalid(format!(
            "invalid subnet {text}: invalid CIDR block notation"
        ))
    })?;
    if subnet.addr() != subnet.network() {
        return Err(Error::Invalid(format!(
            "invalid subnet {text}: it should be {}",
            subnet.trunc()
        )));
    }
    if subnet.prefix_len() > 30 {
        return Err(Error::Invalid(format!(
            "invalid subnet {text}: too small, it needs room for a gateway and a container (at most /30)"
        )));
    }
    Ok(subnet)
}

/// A user's `--gateway` (or `--ip`): an IPv4 address inside `subnet` that is neither its
/// network nor its broadcast address.
pub fn check_gateway(subnet: Ipv4Net, text: &str) -> Result<Ipv4Addr> {
    let ip: Ipv4Addr = text
        .parse()
        .map_err(|_| Error::Invalid(format!("invalid gateway {text}: not an IPv4 address")))?;
    if !subnet.contains(&ip) {
        return Err(Error::Invalid(format!(
            "invalid gateway {ip}: it is not in subnet {subnet}"
        )));
    }
    if ip == subnet.network() || ip == subnet.broadcast() {
        return Err(Error::Invalid(format!(
            "invalid gateway {ip}: it is the network or broadcast address of subnet {subnet}"
        )));
    }
    Ok(ip)
}

/// The gateway Docker gives a subnet when none is asked for: its first host address.
pub fn default_gateway(subnet: Ipv4Net) -> Ipv4Addr {
    Ipv4Addr::from(u32::from(subnet.network()).saturating_add(1))
}
