//! The embedded DNS of user-defined networks (docs/network-design.md, "Embedded DNS"): one
//! `berth-dns` per network, on its gateway, serving `R/dns/<network id>.hosts`, which lists
//! the network's running containers by name, short ID and aliases.

use super::db::{NetDb, NetworkRow};
use super::{net_lock, shared_file, DEFAULT_NETWORK};
use crate::container::{process_is, Engine};
use crate::crash_point::crash_point;
use crate::{Error, Result};
use std::net::Ipv4Addr;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

fn hosts_file(root: &Path, net: &str) -> PathBuf {
    root.join("dns").join(format!("{net}.hosts"))
}

fn pid_file(root: &Path, net: &str) -> PathBuf {
    root.join("dns").join(format!("{net}.pid"))
}

/// The pid of the network's server if one runs: a live `berth-dns` serving this network's
/// hosts file, found by its pid file or else (a pid file lost to a crash) among all
/// processes, whose pid file is then written again. A pid reused by another network's
/// server, or by anything else, does not count.
fn running_pid(root: &Path, net: &str) -> Option<i32> {
    let hosts = hosts_file(root, net);
    let serves = |pid: i32| process_is(pid, "berth-dns") && serves_file(pid, &hosts);
    let recorded = std::fs::read_to_string(pid_file(root, net))
        .ok()
        .and_then(|t| t.trim().parse::<i32>().ok());
    if let Some(pid) = recorded.filter(|p| serves(*p)) {
        return Some(pid);
    }
    let pid = std::fs::read_dir("/proc")
        .ok()?
        .flatten()
        .filter_map(|p| p.file_name().to_str()?.parse::<i32>().ok())
        .find(|p| serves(*p))?;
    let _ = shared_file::write(&pid_file(root, net), format!("{pid}\n").as_bytes());
    Some(pid)
}

/// Is `pid`'s command line `... --hosts FILE ...`?
fn serves_file(pid: i32, hosts: &Path) -> bool {
    let Ok(cmd) = std::fs::read(format!("/proc/{pid}/cmdline")) else {
        return false;
    };
    let mut args = cmd.split(|b| *b == 0);
    while let Some(a) = args.next() {
        if a == b"--hosts" {
            return args.next() == Some(hosts.as_os_str().as_bytes());
        }
    }
    false
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
///
/// Under the network's lock, each writer reading the leases only once it holds it: the last
/// one to write has read every lease committed before it took the lock, so no name is lost
/// to a writer that read earlier and wrote later, and one server at most is started.
pub fn refresh(e: &Engine, db: &NetDb, n: &NetworkRow) -> Result<()> {
    if n.name == DEFAULT_NETWORK {
        return Ok(());
    }
    let _lock = net_lock::lock(&e.root, &n.id)?;
    if db.network_by_id(&n.id)?.is_none() {
        // Removed meanwhile: its server is stopped and its file gone; neither comes back.
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
    // Temporary files of this network's hosts file are only made under this lock: any
    // found now were left by a writer killed part-way.
    shared_file::remove_leftovers(&path);
    shared_file::write(&path, text.as_bytes())?;
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
    // Generous: many starts at once on a loaded host may keep it from running for a while.
    let deadline = Instant::now() + Duration::from_secs(20);
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

/// At `network rm` (whose caller holds the network's lock): the server goes (it also exits
/// when its hosts file is deleted).
pub fn stop(root: &Path, net: &str) {
    if let Some(pid) = running_pid(root, net) {
        let _ = nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(pid),
            nix::sys::signal::Signal::SIGTERM,
        );
    }
    let hosts = hosts_file(root, net);
    shared_file::remove_leftovers(&hosts);
    let _ = std::fs::remove_file(hosts);
    let _ = std::fs::remove_file(pid_file(root, net));
}
