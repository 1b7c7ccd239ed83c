//! A container's `/etc/hostname`, `/etc/hosts` and `/etc/resolv.conf`, kept in its dir and
//! bind-mounted (written at create, rewritten at each start with its addresses).

use crate::{Error, Result};
use std::net::Ipv4Addr;
use std::path::Path;

fn write(dir: &Path, name: &str, text: &str) -> Result<()> {
    let p = dir.join(name);
    let tmp = dir.join(format!(".{name}.tmp"));
    std::fs::write(&tmp, text).map_err(|e| Error::io("write", &tmp, e))?;
    std::fs::rename(&tmp, &p).map_err(|e| Error::io("rename", &p, e))
}

fn host_resolv() -> String {
    std::fs::read_to_string("/etc/resolv.conf").unwrap_or_default()
}

/// `hostname`, and `hosts`/`resolv.conf` for a container without addresses of its own yet
/// (`none`, before a bridge start) or sharing the host's network (a copy of the host's).
pub fn write_initial(dir: &Path, hostname: &str, host_network: bool) -> Result<()> {
    write(dir, "hostname", &format!("{hostname}\n"))?;
    if host_network {
        let hosts = std::fs::read_to_string("/etc/hosts").unwrap_or_default();
        write(dir, "hosts", &hosts)?;
        return write(dir, "resolv.conf", &host_resolv());
    }
    write(dir, "hosts", &berth_network::dnsconf::hosts(&[]))?;
    write(
        dir,
        "resolv.conf",
        &berth_network::dnsconf::resolv_conf(&host_resolv(), None),
    )
}

/// After a bridge start: its address(es) with its hostname in `hosts`; `nameserver` is the
/// embedded DNS of a user network (None: the host's resolvers).
pub fn write_addressed(
    dir: &Path,
    hostname: &str,
    ips: &[Ipv4Addr],
    nameserver: Option<Ipv4Addr>,
) -> Result<()> {
    let own: Vec<(Ipv4Addr, Vec<String>)> = ips
        .iter()
        .map(|ip| (*ip, vec![hostname.to_string()]))
        .collect();
    write(dir, "hosts", &berth_network::dnsconf::hosts(&own))?;
    write(
        dir,
        "resolv.conf",
        &berth_network::dnsconf::resolv_conf(&host_resolv(), nameserver),
    )
}
