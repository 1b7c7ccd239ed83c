//! The embedded DNS of user-defined networks (docs/network-design.md, "Embedded DNS"): one
//! `berth-dns` per network, on its gateway, serving `R/dns/<network id>.hosts`, which lists
//! the network's running containers by name, short ID and aliases.

use super::db::{NetDb, NetworkRow};
use super::DEFAULT_NETWORK;
use crate::container::{process_is, Engine};
use crate::crash_point::crash_point;
use crate::{Error, Result};
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

fn hosts_file(root: &Path, net: &str) -> PathBuf {
    root.join("dns").join(format!("{net}.hosts"))
}

fn pid_file(root: &Path, net: &str) -> PathBuf {
    root.join("dns").join(format!("{net}.pid"))
}

fn running_pid(root: &Path, net: &str) -> Option<i32> {
    let pid: i32 = std::fs::read_to_string(pid_file(root, net))
        .ok()?
        .trim()
        .parse()
        .ok()?;
    process_is(pid, "berth-dns").then_some(pid)
}

/// The host's IPv4 resolvers, loopback ones included: the server runs in the host's
/// network namespace, where they answer.
fn upstreams() -> Vec<String> {
    std::fs::read_to_string("/etc/resolv.conf")
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.trim().strip_prefix("nameserver"))
        .map(|s| s.trim().to_string())
        .filter(|s| s.parse::<Ipv4Addr>().is_ok())
        .collect()
}

/// Rewrite the network's names from its leased attachments; start its server if it has
/// names and none runs. The default network has no embedded DNS (as Docker's).
pub fn refresh(e: &Engine, db: &NetDb, n: &NetworkRow) -> Result<()> {
    if n.name == DEFAULT_NETWORK {
        return Ok(());
    }
    let mut text = String::new();
    for a in db.attachments_on(&n.id)? {
        let Some(ip) = a.ip else { continue };
        let Ok(Some(row)) = e.store.get(&a.container) else {
            continue;
        };
        text.push_str(&format!("{ip} {} {}", row.name, &row.id[..12]));
        for al in &a.aliases {
            text.push(' ');
            text.push_str(al);
        }
        text.push('\n');
    }
    let dir = e.root.join("dns");
    std::fs::create_dir_all(&dir).map_err(|er| Error::io("create", &dir, er))?;
    let path = hosts_file(&e.root, &n.id);
    crate::container::create::write_atomic(&path, text.as_bytes())?;
    if !text.is_empty() && running_pid(&e.root, &n.id).is_none() {
        crash_point("net-up:dns-hosts");
        start(&e.root, n)?;
        crash_point("net-up:dns-server");
    }
    Ok(())
}

fn start(root: &Path, n: &NetworkRow) -> Result<()> {
    let bin = crate::container::start::find_binary("berth-dns")?;
    let pid = pid_file(root, &n.id);
    let _ = std::fs::remove_file(&pid);
    let mut cmd = std::process::Command::new(&bin);
    cmd.arg("--listen")
        .arg(format!("{}:53", n.gateway))
        .arg("--hosts")
        .arg(hosts_file(root, &n.id))
        .arg("--pid-file")
        .arg(&pid);
    for u in upstreams() {
        cmd.arg("--upstream").arg(u);
    }
    use std::os::unix::process::CommandExt;
    cmd.stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    // SAFETY: setsid is async-signal-safe; the closure runs in the child between fork and
    // exec and touches nothing else. Its own session: no terminal's hangup reaches it.
    unsafe {
        cmd.pre_exec(|| {
            libc::setsid();
            Ok(())
        });
    }
    let mut child = cmd.spawn().map_err(|er| Error::io("start", &bin, er))?;
    // It writes its pid file once its sockets are bound.
    let deadline = Instant::now() + Duration::from_secs(2);
    while Instant::now() < deadline {
        if pid.exists() {
            // Reaped by whoever outlives us; we do not wait for a daemon.
            std::mem::forget(child);
            return Ok(());
        }
        if let Ok(Some(st)) = child.try_wait() {
            return Err(Error::InvalidArgument(format!(
                "the DNS server of network {} exited at start ({st})",
                n.name
            )));
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    let _ = child.kill();
    Err(Error::InvalidArgument(format!(
        "the DNS server of network {} did not start",
        n.name
    )))
}

/// At `network rm`: the server goes (it also exits when its hosts file is deleted).
pub fn stop(root: &Path, net: &str) {
    if let Some(pid) = running_pid(root, net) {
        let _ = nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(pid),
            nix::sys::signal::Signal::SIGTERM,
        );
    }
    let _ = std::fs::remove_file(hosts_file(root, net));
    let _ = std::fs::remove_file(pid_file(root, net));
}
