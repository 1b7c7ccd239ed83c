//! The contents of a container's /etc/resolv.conf and /etc/hosts, in Docker's layout.

use std::fmt::Write;
use std::net::{IpAddr, Ipv4Addr};

/// Docker's fallback resolvers when the host has none a container can reach.
const DEFAULT_NAMESERVERS: [Ipv4Addr; 2] = [Ipv4Addr::new(8, 8, 8, 8), Ipv4Addr::new(8, 8, 4, 4)];

/// A container's resolv.conf from the host's. With `nameserver` (a user network's embedded
/// DNS) that is the only nameserver. Without, the host's nameservers minus those a container
/// cannot reach: loopback ones (they would be the container's own loopback) and IPv6 ones
/// (container networks are IPv4-only, and Docker drops them too when IPv6 is off); if none
/// is left, Docker's defaults. `search`, `domain` and `options` lines are kept.
pub fn resolv_conf(host_resolv: &str, nameserver: Option<Ipv4Addr>) -> String {
    let mut servers: Vec<IpAddr> = Vec::new();
    let mut kept: Vec<&str> = Vec::new();
    for line in host_resolv.lines() {
        let mut words = line.split_whitespace();
        match words.next() {
            Some("nameserver") => {
                if let Some(ip) = words.next().and_then(|w| w.parse::<IpAddr>().ok()) {
                    servers.push(ip);
                }
            }
            Some("search" | "domain" | "options") => kept.push(line.trim()),
            _ => {}
        }
    }
    let servers: Vec<IpAddr> = match nameserver {
        Some(ip) => vec![IpAddr::V4(ip)],
        None => {
            let reachable: Vec<IpAddr> = servers
                .into_iter()
                .filter(|ip| matches!(ip, IpAddr::V4(v4) if !v4.is_loopback()))
                .collect();
            if reachable.is_empty() {
                DEFAULT_NAMESERVERS
                    .iter()
                    .map(|ip| IpAddr::V4(*ip))
                    .collect()
            } else {
                reachable
            }
        }
    };
    let mut out = String::new();
    for ip in servers {
        let _ = writeln!(out, "nameserver {ip}");
    }
    for line in kept {
        out.push_str(line);
        out.push('\n');
    }
    out
}

/// A container's /etc/hosts: Docker's fixed localhost and IPv6 lines, then one line per
/// entry, `IP<TAB>NAME [ALIAS...]`.
pub fn hosts(own: &[(Ipv4Addr, Vec<String>)]) -> String {
    let mut out = String::from(
        "127.0.0.1\tlocalhost\n\
         ::1\tlocalhost ip6-localhost ip6-loopback\n\
         fe00::0\tip6-localnet\n\
         ff00::0\tip6-mcastprefix\n\
         ff02::1\tip6-allnodes\n\
         ff02::2\tip6-allrouters\n",
    );
    for (ip, names) in own.iter().filter(|(_, names)| !names.is_empty()) {
        let _ = writeln!(out, "{ip}\t{}", names.join(" "));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOST: &str = "# written by resolvconf\n\
        nameserver 127.0.0.53\n\
        nameserver 10.1.2.3\n\
        nameserver ::1\n\
        nameserver 2001:db8::1\n\
        nameserver 192.0.2.53\n\
        search example.com corp.example\n\
        options ndots:2 timeout:1\n";

    #[test]
    fn host_resolvers_without_loopback_or_ipv6_and_search_options_kept() {
        assert_eq!(
            resolv_conf(HOST, None),
            "nameserver 10.1.2.3\nnameserver 192.0.2.53\n\
             search example.com corp.example\noptions ndots:2 timeout:1\n"
        );
    }

    #[test]
    fn only_loopback_resolvers_give_docker_defaults() {
        let host = "nameserver 127.0.0.53\nnameserver 127.1.1.1\nnameserver ::1\nsearch lan\n";
        assert_eq!(
            resolv_conf(host, None),
            "nameserver 8.8.8.8\nnameserver 8.8.4.4\nsearch lan\n"
        );
        assert_eq!(
            resolv_conf("", None),
            "nameserver 8.8.8.8\nnameserver 8.8.4.4\n"
        );
    }

    #[test]
    fn embedded_dns_is_the_only_nameserver() {
        assert_eq!(
            resolv_conf(HOST, Some(Ipv4Addr::new(172, 18, 0, 1))),
            "nameserver 172.18.0.1\nsearch example.com corp.example\noptions ndots:2 timeout:1\n"
        );
    }

    #[test]
    fn junk_nameserver_lines_are_dropped() {
        let host = "nameserver\nnameserver not-an-ip\nnameserver 10.9.9.9 # comment\n";
        assert_eq!(resolv_conf(host, None), "nameserver 10.9.9.9\n");
    }

    #[test]
    fn hosts_has_docker_layout_then_own_entries() {
        let text = hosts(&[
            (Ipv4Addr::new(172, 17, 0, 2), vec!["0123456789ab".into()]),
            (
                Ipv4Addr::new(172, 18, 0, 5),
                vec!["web".into(), "www".into(), "front".into()],
            ),
            (Ipv4Addr::new(172, 18, 0, 6), vec![]),
        ]);
        assert_eq!(
            text,
            "127.0.0.1\tlocalhost\n\
             ::1\tlocalhost ip6-localhost ip6-loopback\n\
             fe00::0\tip6-localnet\n\
             ff00::0\tip6-mcastprefix\n\
             ff02::1\tip6-allnodes\n\
             ff02::2\tip6-allrouters\n\
             172.17.0.2\t0123456789ab\n\
             172.18.0.5\tweb www front\n"
        );
    }
}
