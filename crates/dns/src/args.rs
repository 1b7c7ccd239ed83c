//! The command line. Parsed by hand: four options do not justify clap's start-up and size
//! in a process that runs once per network for its whole life.

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;

pub const USAGE: &str =
    "Usage: berth-dns --listen IP:PORT --hosts FILE [--upstream IP[:PORT]]... [--pid-file FILE]";

#[derive(Debug)]
pub struct Args {
    pub listen: SocketAddr,
    pub hosts: PathBuf,
    pub upstreams: Vec<SocketAddr>,
    pub pid_file: Option<PathBuf>,
}

/// `Ok(None)`: help was asked for.
pub fn parse(mut argv: impl Iterator<Item = String>) -> Result<Option<Args>, String> {
    let (mut listen, mut hosts, mut upstreams, mut pid_file) = (None, None, Vec::new(), None);
    while let Some(arg) = argv.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((flag, value)) if flag.starts_with("--") => {
                (flag.to_string(), Some(value.to_string()))
            }
            _ => (arg, None),
        };
        if flag == "--help" || flag == "-h" {
            return Ok(None);
        }
        let mut value = || {
            inline
                .clone()
                .or_else(|| argv.next())
                .ok_or_else(|| format!("{flag} needs a value"))
        };
        match flag.as_str() {
            "--listen" => {
                let v = value()?;
                listen = Some(
                    v.parse()
                        .map_err(|_| format!("--listen {v}: not an IP:PORT"))?,
                );
            }
            "--hosts" => hosts = Some(PathBuf::from(value()?)),
            "--upstream" => {
                let v = value()?;
                upstreams.push(
                    upstream(&v).ok_or_else(|| format!("--upstream {v}: not an IP or IP:PORT"))?,
                );
            }
            "--pid-file" => pid_file = Some(PathBuf::from(value()?)),
            _ => return Err(format!("unknown argument {flag}")),
        }
    }
    let listen: SocketAddr = listen.ok_or("--listen is required")?;
    // A request for an unknown name would come back to this server, again and again.
    if upstreams.contains(&listen) {
        return Err(format!("--upstream {listen} is this server's own address"));
    }
    Ok(Some(Args {
        listen,
        hosts: hosts.ok_or("--hosts is required")?,
        upstreams,
        pid_file,
    }))
}

/// `IP`, `IP:PORT`, `[IPv6]:PORT` or a bare IPv6 address; port 53 when none is given.
fn upstream(s: &str) -> Option<SocketAddr> {
    s.parse::<SocketAddr>()
        .ok()
        .or_else(|| s.parse::<IpAddr>().ok().map(|ip| SocketAddr::new(ip, 53)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(s: &str) -> Result<Option<Args>, String> {
        parse(s.split_whitespace().map(String::from))
    }

    #[test]
    fn all_options_both_forms() {
        let a = args("--listen 10.1.0.1:53 --hosts=/r/h --upstream 8.8.8.8 --upstream=[::1]:5353 --pid-file /r/p")
            .unwrap()
            .unwrap();
        assert_eq!(a.listen, "10.1.0.1:53".parse().unwrap());
        assert_eq!(a.hosts, PathBuf::from("/r/h"));
        assert_eq!(
            a.upstreams,
            vec!["8.8.8.8:53".parse().unwrap(), "[::1]:5353".parse().unwrap()]
        );
        assert_eq!(a.pid_file, Some(PathBuf::from("/r/p")));
    }

    #[test]
    fn bad_input_is_named() {
        assert!(args("--hosts /h").unwrap_err().contains("--listen"));
        assert!(args("--listen 1.2.3.4 --hosts /h")
            .unwrap_err()
            .contains("IP:PORT"));
        assert!(args("--listen 1.2.3.4:53 --hosts /h --upstream x")
            .unwrap_err()
            .contains("--upstream x"));
        assert!(args("--listen 1.2.3.4:53 --hosts")
            .unwrap_err()
            .contains("needs a value"));
        assert!(args("--bogus").unwrap_err().contains("--bogus"));
        assert!(args("--listen 1.2.3.4:53 --hosts /h --upstream 1.2.3.4")
            .unwrap_err()
            .contains("own address"));
        assert!(args("--help").unwrap().is_none());
    }
}
