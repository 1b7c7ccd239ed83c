//! A container's `/etc/hostname`, `/etc/hosts` and `/etc/resolv.conf`, kept in its dir and
//! bind-mounted (written at create, rewritten at each start with its addresses).

use crate::options::RunOptions;
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
pub fn write_initial(dir: &Path, hostname: &str, host_network: bool, o: &RunOptions) -> Result<()> {
    write(dir, "hostname", &format!("{hostname}\n"))?;
    if host_network {
        let hosts = std::fs::read_to_string("/etc/hosts").unwrap_or_default();
        write(dir, "hosts", &with_extra_hosts(hosts, o, None))?;
        return write(dir, "resolv.conf", &with_dns(host_resolv(), o, None));
    }
    write(
        dir,
        "hosts",
        &with_extra_hosts(berth_network::dnsconf::hosts(&[]), o, None),
    )?;
    write(
        dir,
        "resolv.conf",
        &with_dns(
            berth_network::dnsconf::resolv_conf(&host_resolv(), None),
            o,
            None,
        ),
    )
}

/// After a bridge start: its address(es) with its hostname in `hosts`; `nameserver` is the
/// embedded DNS of a user network (None: the host's resolvers); `gateway` is what
/// `--add-host NAME:host-gateway` names.
pub fn write_addressed(
    dir: &Path,
    hostname: &str,
    ips: &[Ipv4Addr],
    nameserver: Option<Ipv4Addr>,
    gateway: Option<Ipv4Addr>,
    o: &RunOptions,
) -> Result<()> {
    let own: Vec<(Ipv4Addr, Vec<String>)> = ips
        .iter()
        .map(|ip| (*ip, vec![hostname.to_string()]))
        .collect();
    write(
        dir,
        "hosts",
        &with_extra_hosts(berth_network::dnsconf::hosts(&own), o, gateway),
    )?;
    write(
        dir,
        "resolv.conf",
        &with_dns(
            berth_network::dnsconf::resolv_conf(&host_resolv(), nameserver),
            o,
            nameserver,
        ),
    )
}

/// `--add-host` lines after the others, `IP<TAB>NAME`; `host-gateway` is the gateway of the
/// container's network (dropped without one).
fn with_extra_hosts(mut hosts: String, o: &RunOptions, gateway: Option<Ipv4Addr>) -> String {
    for h in &o.extra_hosts {
        let Some((name, ip)) = h.split_once(':') else {
            continue;
        };
        let ip = match (ip, gateway) {
            ("host-gateway", Some(g)) => g.to_string(),
            ("host-gateway", None) => continue,
            (ip, _) => ip.to_string(),
        };
        if !hosts.ends_with('\n') && !hosts.is_empty() {
            hosts.push('\n');
        }
        hosts.push_str(&format!("{ip}\t{name}\n"));
    }
    hosts
}

/// `--dns`, `--dns-search`, `--dns-option` over the resolv.conf made for the container. A
/// user network's embedded DNS (`embedded`) stays its nameserver, as Docker's does (it
/// answers the network's names).
fn with_dns(resolv: String, o: &RunOptions, embedded: Option<Ipv4Addr>) -> String {
    if o.dns.is_empty() && o.dns_search.is_empty() && o.dns_options.is_empty() {
        return resolv;
    }
    let mut servers: Vec<String> = Vec::new();
    let mut search: Vec<String> = Vec::new();
    let mut options: Vec<String> = Vec::new();
    for line in resolv.lines() {
        let mut w = line.split_whitespace();
        match w.next() {
            Some("nameserver") => servers.extend(w.next().map(str::to_string)),
            Some("search" | "domain") => search.extend(w.map(str::to_string)),
            Some("options") => options.extend(w.map(str::to_string)),
            _ => {}
        }
    }
    if !o.dns.is_empty() && embedded.is_none() {
        servers = o.dns.iter().map(|ip| ip.to_string()).collect();
    }
    if !o.dns_search.is_empty() {
        search = o
            .dns_search
            .iter()
            .filter(|d| d.as_str() != ".")
            .cloned()
            .collect();
    }
    if !o.dns_options.is_empty() {
        options = o.dns_options.clone();
    }
    let mut out = String::new();
    for s in servers {
        out.push_str(&format!("nameserver {s}\n"));
    }
    if !search.is_empty() {
        out.push_str(&format!("search {}\n", search.join(" ")));
    }
    if !options.is_empty() {
        out.push_str(&format!("options {}\n", options.join(" ")));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dns_flags_replace_what_they_name() {
        let base = "nameserver 10.0.0.1\nsearch a.example\noptions ndots:2\n".to_string();
        let o = RunOptions {
            dns: vec!["9.9.9.9".parse().unwrap()],
            dns_search: vec!["b.example".into()],
            ..Default::default()
        };
        assert_eq!(
            with_dns(base.clone(), &o, None),
            "nameserver 9.9.9.9\nsearch b.example\noptions ndots:2\n"
        );
        // The embedded DNS of a user network stays.
        assert_eq!(
            with_dns(
                "nameserver 172.18.0.1\n".into(),
                &o,
                Some(Ipv4Addr::new(172, 18, 0, 1))
            ),
            "nameserver 172.18.0.1\nsearch b.example\n"
        );
        let none = RunOptions {
            dns_search: vec![".".into()],
            dns_options: vec!["use-vc".into()],
            ..Default::default()
        };
        assert_eq!(
            with_dns(base, &none, None),
            "nameserver 10.0.0.1\noptions use-vc\n"
        );
    }

    #[test]
    fn extra_hosts_follow_the_others() {
        let o = RunOptions {
            extra_hosts: vec!["db:10.1.2.3".into(), "gw:host-gateway".into()],
            ..Default::default()
        };
        let h = with_extra_hosts("127.0.0.1\tlocalhost\n".into(), &o, None);
        assert_eq!(h, "127.0.0.1\tlocalhost\n10.1.2.3\tdb\n");
        let h = with_extra_hosts(String::new(), &o, Some(Ipv4Addr::new(172, 17, 0, 1)));
        assert_eq!(h, "10.1.2.3\tdb\n172.17.0.1\tgw\n");
    }
}
