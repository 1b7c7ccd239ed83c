//! Host ports: is one free (a real bind, as the kernel decides), a random free one, and the
//! parsing of `-p [ip:][hostPort:]containerPort[/tcp|udp]` with Docker's error texts.

use std::fmt;
use std::net::Ipv4Addr;
use std::ops::RangeInclusive;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

use crate::error::{Error, Result};

/// Where random host ports come from: the kernel's default ephemeral range
/// (`net.ipv4.ip_local_port_range`), as Docker does.
pub const RANDOM_PORTS: RangeInclusive<u16> = 32768..=60999;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Proto {
    Tcp,
    Udp,
}

impl Proto {
    pub fn as_str(self) -> &'static str {
        match self {
            Proto::Tcp => "tcp",
            Proto::Udp => "udp",
        }
    }
}

impl fmt::Display for Proto {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Fails with [`Error::PortInUse`] when `port` cannot be bound on `ip` (all addresses when
/// `None`). The socket is bound without SO_REUSEADDR (std sets it for TCP listeners), so a
/// port held by a listener or a socket in TIME_WAIT reads as taken, and closed right away.
pub fn check_free(proto: Proto, ip: Option<Ipv4Addr>, port: u16) -> Result<()> {
    let addr = ip.unwrap_or(Ipv4Addr::UNSPECIFIED);
    let kind = match proto {
        Proto::Tcp => libc::SOCK_STREAM,
        Proto::Udp => libc::SOCK_DGRAM,
    };
    // SAFETY: plain socket(2); the result is checked before use.
    let fd = unsafe { libc::socket(libc::AF_INET, kind | libc::SOCK_CLOEXEC, 0) };
    if fd < 0 {
        return Err(Error::io(
            "create a socket",
            proto,
            std::io::Error::last_os_error(),
        ));
    }
    // SAFETY: fd is a fresh descriptor owned by nobody else; OwnedFd closes it.
    let fd = unsafe { OwnedFd::from_raw_fd(fd) };
    let sin = libc::sockaddr_in {
        sin_family: libc::AF_INET as libc::sa_family_t,
        sin_port: port.to_be(),
        sin_addr: libc::in_addr {
            s_addr: u32::from(addr).to_be(),
        },
        sin_zero: [0; 8],
    };
    // SAFETY: sin is a valid sockaddr_in and the length given is its size.
    let rc = unsafe {
        libc::bind(
            fd.as_raw_fd(),
            &sin as *const libc::sockaddr_in as *const libc::sockaddr,
            std::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t,
        )
    };
    let rc = if rc == 0 && proto == Proto::Tcp {
        // A bound but not listening TCP socket does not clash with every other binder;
        // listening makes the check as strict as the real user of the port will be.
        // SAFETY: listen(2) on our own socket.
        unsafe { libc::listen(fd.as_raw_fd(), 1) }
    } else {
        rc
    };
    if rc == 0 {
        return Ok(());
    }
    let err = std::io::Error::last_os_error();
    if err.raw_os_error() == Some(libc::EADDRINUSE) {
        return Err(Error::PortInUse {
            addr: addr.to_string(),
            port,
        });
    }
    Err(Error::io(
        format!("bind {proto} port"),
        format!("{addr}:{port}"),
        err,
    ))
}

/// A free host port in [`RANDOM_PORTS`] that is not in `avoid` (ports Berth has handed out
/// but that no socket holds, such as published ones: those live in nftables only).
pub fn random_free(proto: Proto, ip: Option<Ipv4Addr>, avoid: &[u16]) -> Result<u16> {
    free_in(proto, ip, RANDOM_PORTS, avoid)
}

/// A free host port in `range` not in `avoid`, starting at a random point of the range and
/// trying every port once (Docker's `8000-8010:80` form picks from the host range).
pub fn free_in(
    proto: Proto,
    ip: Option<Ipv4Addr>,
    range: RangeInclusive<u16>,
    avoid: &[u16],
) -> Result<u16> {
    let (lo, hi) = (u32::from(*range.start()), u32::from(*range.end()));
    if lo > hi {
        return Err(Error::Invalid(format!("empty port range {lo}-{hi}")));
    }
    let len = hi - lo + 1;
    let start = random_u32() % len;
    for i in 0..len {
        let port = (lo + (start + i) % len) as u16;
        if port == 0 || avoid.contains(&port) {
            continue;
        }
        match check_free(proto, ip, port) {
            Ok(()) => return Ok(port),
            Err(Error::PortInUse { .. }) => continue,
            Err(e) => return Err(e),
        }
    }
    Err(Error::Exhausted(format!(
        "no free {proto} host port in {lo}-{hi} on {}",
        ip.unwrap_or(Ipv4Addr::UNSPECIFIED)
    )))
}

fn random_u32() -> u32 {
    let mut b = [0u8; 4];
    // SAFETY: getrandom(2) writes at most b.len() bytes into b.
    let n = unsafe { libc::getrandom(b.as_mut_ptr().cast(), b.len(), 0) };
    if n == 4 {
        return u32::from_ne_bytes(b);
    }
    // getrandom cannot fail for 4 bytes once the pool is ready; the clock is a fine fallback
    // for spreading port picks.
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0)
}

/// One mapping asked for with `-p`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortSpec {
    /// `None`: every host address.
    pub host_ip: Option<Ipv4Addr>,
    /// `None`: a random free host port.
    pub host_port: Option<u16>,
    /// `Some(last)` for Docker's `8000-8010:80`: any free host port from `host_port` to
    /// `last` (a host range given to one container port).
    pub host_port_last: Option<u16>,
    pub container_port: u16,
    pub proto: Proto,
}

/// Parses one `-p`/`--publish` value: `[ip:][hostPort:]containerPort[/tcp|udp]`, where both
/// ports may be ranges of equal size (`8000-8002:80-82`), as Docker's CLI does, with its
/// error texts.
pub fn parse_publish(spec: &str) -> Result<Vec<PortSpec>> {
    let parts: Vec<&str> = spec.split(':').collect();
    let n = parts.len();
    let (ip, host, container) = match n {
        1 => ("", "", parts[0]),
        2 => ("", parts[0], parts[1]),
        _ => (
            &spec[..spec.len() - parts[n - 1].len() - parts[n - 2].len() - 2],
            parts[n - 2],
            parts[n - 1],
        ),
    };
    let (container, proto) = match container.split_once('/') {
        Some((port, proto)) => (port, proto),
        None => (container, "tcp"),
    };
    let host_ip = parse_host_ip(ip)?;
    if container.is_empty() {
        return Err(Error::Invalid(format!("no port specified: {spec}<empty>")));
    }
    let (c_lo, c_hi) = parse_range(container)
        .filter(|&(lo, _)| lo != 0)
        .ok_or_else(|| Error::Invalid(format!("invalid containerPort: {container}")))?;
    let host_range = if host.is_empty() {
        None
    } else {
        Some(parse_range(host).ok_or_else(|| Error::Invalid(format!("invalid hostPort: {host}")))?)
    };
    if let Some((h_lo, h_hi)) = host_range {
        if h_hi - h_lo != c_hi - c_lo && c_lo != c_hi {
            return Err(Error::Invalid(format!(
                "invalid ranges specified for container and host Ports: {container} and {host}"
            )));
        }
    }
    let proto = match proto.to_ascii_lowercase().as_str() {
        "tcp" | "" => Proto::Tcp,
        "udp" => Proto::Udp,
        _ => return Err(Error::Invalid(format!("invalid proto: {proto}"))),
    };
    let mut out = Vec::new();
    for i in 0..=(c_hi - c_lo) {
        let (host_port, host_port_last) = match host_range {
            None | Some((0, 0)) => (None, None),
            Some((h_lo, h_hi)) if c_lo == c_hi && h_lo != h_hi => (Some(h_lo), Some(h_hi)),
            Some((h_lo, _)) => (Some(h_lo + i), None),
        };
        out.push(PortSpec {
            host_ip,
            host_port,
            host_port_last,
            container_port: c_lo + i,
            proto,
        });
    }
    Ok(out)
}

fn parse_host_ip(ip: &str) -> Result<Option<Ipv4Addr>> {
    if ip.is_empty() {
        return Ok(None);
    }
    match ip.parse::<Ipv4Addr>() {
        Ok(a) if a.is_unspecified() => Ok(None),
        Ok(a) => Ok(Some(a)),
        Err(_) if ip.starts_with('[') || ip.parse::<std::net::Ipv6Addr>().is_ok() => Err(
            Error::Invalid(format!("IPv6 host addresses are not supported: {ip}")),
        ),
        Err(_) => Err(Error::Invalid(format!("invalid IP address: {ip}"))),
    }
}

/// `80` or `80-82`; `None` when not a port, not a range, or a reversed range.
fn parse_range(s: &str) -> Option<(u16, u16)> {
    let port = |p: &str| -> Option<u16> {
        if p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        p.parse().ok()
    };
    match s.split_once('-') {
        None => port(s).map(|p| (p, p)),
        Some((a, b)) => {
            let (a, b) = (port(a)?, port(b)?);
            (a <= b).then_some((a, b))
        }
    }
}
