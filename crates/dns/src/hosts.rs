//! The names a network's containers answer to, parsed from its hosts file
//! (`IP NAME [ALIAS...]` lines, as the engine writes `R/dns/<network id>.hosts`).

use std::collections::HashMap;
use std::net::IpAddr;

/// Lookup tables for one version of the hosts file.
#[derive(Debug, Default)]
pub struct Hosts {
    /// Lower-case name (no trailing dot) to its addresses, in file order, without repeats:
    /// several containers may share an alias, and a client should get all of them.
    by_name: HashMap<String, Vec<IpAddr>>,
    /// Address to the first name given for it on its first line (the container's name).
    by_ip: HashMap<IpAddr, String>,
}

impl Hosts {
    /// Lines that do not start with an address, or have no name, are skipped: one bad line
    /// must not take every other container's name away.
    pub fn parse(text: &str) -> Hosts {
        let mut hosts = Hosts::default();
        for line in text.lines() {
            let line = line.split('#').next().unwrap_or("");
            let mut fields = line.split_whitespace();
            let Some(Ok(ip)) = fields.next().map(str::parse::<IpAddr>) else {
                continue;
            };
            for (i, name) in fields.enumerate() {
                let name = normalize(name);
                if name.is_empty() {
                    continue;
                }
                if i == 0 {
                    hosts.by_ip.entry(ip).or_insert_with(|| name.clone());
                }
                let ips = hosts.by_name.entry(name).or_default();
                if !ips.contains(&ip) {
                    ips.push(ip);
                }
            }
        }
        hosts
    }

    /// The addresses of `name` (any case, with or without its trailing dot), or None if the
    /// file does not know it.
    pub fn lookup(&self, name: &str) -> Option<&[IpAddr]> {
        self.by_name.get(&normalize(name)).map(Vec::as_slice)
    }

    pub fn name_of(&self, ip: IpAddr) -> Option<&str> {
        self.by_ip.get(&ip).map(String::as_str)
    }
}

fn normalize(name: &str) -> String {
    name.strip_suffix('.').unwrap_or(name).to_ascii_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_aliases_and_shared_aliases() {
        let hosts = Hosts::parse(
            "# comment\n10.0.0.2 web web-alias\n\n10.0.0.3 Db shared\nbad line\n10.0.0.4 other shared # tail\n10.0.0.5\n",
        );
        assert_eq!(
            hosts.lookup("web"),
            Some(&["10.0.0.2".parse().unwrap()][..])
        );
        assert_eq!(hosts.lookup("WEB-ALIAS."), hosts.lookup("web"));
        assert_eq!(hosts.lookup("db").unwrap().len(), 1);
        let shared: Vec<IpAddr> = vec!["10.0.0.3".parse().unwrap(), "10.0.0.4".parse().unwrap()];
        assert_eq!(hosts.lookup("shared"), Some(&shared[..]));
        assert_eq!(hosts.lookup("bad"), None);
        assert_eq!(hosts.name_of("10.0.0.3".parse().unwrap()), Some("db"));
        assert_eq!(hosts.name_of("10.0.0.5".parse().unwrap()), None);
    }

    #[test]
    fn a_repeated_line_gives_one_address() {
        let hosts = Hosts::parse("10.0.0.2 web\n10.0.0.2 web\n");
        assert_eq!(hosts.lookup("web").unwrap().len(), 1);
    }
}
