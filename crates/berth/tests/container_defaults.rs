//! What every container gets by default, whoever started berth and on whichever network: a
//! process with default signal dispositions and an empty signal mask; unprivileged ping and
//! low ports for any user on the default bridge and on user networks, as with
//! `--network none`; no /dev/net/tun; /sys/dev/block hidden.

mod container_support;
use container_support::*;
use std::os::unix::process::CommandExt;
use std::process::Output;

/// `berth ARGS` started the way a background job, a script or a careless parent starts it:
/// SIGINT, SIGQUIT, SIGPIPE and SIGTERM ignored and blocked.
fn berth_ignoring_and_blocking(root: &Root, args: &[&str]) -> Output {
    let mut c = berth_command();
    c.arg("--root").arg(root.path()).args(args);
    // SAFETY: between fork and exec the closure makes only async-signal-safe calls
    // (sigaction, sigprocmask) on structures of its own stack.
    unsafe {
        c.pre_exec(|| {
            let mut ign: libc::sigaction = std::mem::zeroed();
            ign.sa_sigaction = libc::SIG_IGN;
            let mut set: libc::sigset_t = std::mem::zeroed();
            libc::sigemptyset(&mut set);
            for sig in [libc::SIGINT, libc::SIGQUIT, libc::SIGPIPE, libc::SIGTERM] {
                libc::sigaction(sig, &ign, std::ptr::null_mut());
                libc::sigaddset(&mut set, sig);
            }
            libc::sigprocmask(libc::SIG_BLOCK, &set, std::ptr::null_mut());
            Ok(())
        });
    }
    c.output().unwrap()
}

const SIGNAL_STATUS: [&str; 4] = ["grep", "-E", "^Sig(Blk|Ign|Cgt)", "/proc/self/status"];

#[track_caller]
fn assert_default_signal_state(out: &str) {
    for field in ["SigBlk", "SigIgn", "SigCgt"] {
        let mask = out
            .lines()
            .find_map(|l| l.strip_prefix(&format!("{field}:")))
            .unwrap_or_else(|| panic!("no {field} in {out:?}"));
        assert_eq!(mask.trim(), "0000000000000000", "{field}: {out}");
    }
}

#[test]
fn run_and_exec_started_with_signals_ignored_and_blocked_give_default_signals() {
    let root = Root::new();
    let mut run = vec!["run", "--rm", IMAGE];
    run.extend(SIGNAL_STATUS);
    assert_default_signal_state(&ok(&berth_ignoring_and_blocking(&root, &run)));

    // berth-init in between changes nothing.
    let mut run = vec!["run", "--rm", "--init", IMAGE];
    run.extend(SIGNAL_STATUS);
    assert_default_signal_state(&ok(&berth_ignoring_and_blocking(&root, &run)));

    let id = ok(&berth_ignoring_and_blocking(
        &root,
        &["run", "-d", IMAGE, "sleep", "1000"],
    ))
    .trim()
    .to_string();
    let mut exec = vec!["exec", &id];
    exec.extend(SIGNAL_STATUS);
    assert_default_signal_state(&ok(&berth_ignoring_and_blocking(&root, &exec)));
    let status = root.ok(&["exec", &id, "cat", "/proc/1/status"]);
    assert_default_signal_state(&status);

    // The exec'd process dies of SIGINT instead of ignoring it (not pid 1, which the
    // kernel shields from signals it has no handler for).
    let o = berth_ignoring_and_blocking(
        &root,
        &[
            "exec",
            &id,
            "sh",
            "-c",
            "kill -INT $$; sleep 5; echo survived",
        ],
    );
    assert_eq!(o.status.code(), Some(130), "{}", stderr(&o));
    ok(&root.berth(&["rm", "-f", &id]));
}

/// Run inside a container by the network tests below: this test binary (a static
/// executable) bound into the root, with BERTH_ICMP_PROBE set to the address to ping. It
/// sends one ICMP echo from a datagram socket, what an unprivileged `ping` uses (this
/// busybox's ping only knows raw sockets, which need CAP_NET_RAW).
#[test]
fn icmp_probe_entry() {
    let Some(addr) = std::env::var_os("BERTH_ICMP_PROBE") else {
        return;
    };
    let addr: std::net::Ipv4Addr = addr.to_str().unwrap().parse().unwrap();
    println!(
        "{}",
        icmp_echo(addr).unwrap_or_else(|e| format!("ICMP_FAILED: {e}"))
    );
}

fn icmp_echo(addr: std::net::Ipv4Addr) -> std::io::Result<String> {
    use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
    let last = std::io::Error::last_os_error;
    // SAFETY: socket(2) with constant arguments; the fd is owned right away.
    let fd = unsafe { libc::socket(libc::AF_INET, libc::SOCK_DGRAM, libc::IPPROTO_ICMP) };
    if fd < 0 {
        return Err(last());
    }
    // SAFETY: a fresh descriptor nothing else owns.
    let sock = unsafe { OwnedFd::from_raw_fd(fd) };
    let timeout = libc::timeval {
        tv_sec: 20,
        tv_usec: 0,
    };
    // SAFETY: SO_RCVTIMEO reads a timeval of the given size.
    unsafe {
        libc::setsockopt(
            sock.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_RCVTIMEO,
            (&timeout as *const libc::timeval).cast(),
            std::mem::size_of::<libc::timeval>() as u32,
        )
    };
    // SAFETY: sockaddr_in is plain data; zero is a valid value.
    let mut to: libc::sockaddr_in = unsafe { std::mem::zeroed() };
    to.sin_family = libc::AF_INET as u16;
    to.sin_addr.s_addr = u32::from(addr).to_be();
    // Echo request: the kernel fills in the identifier and the checksum.
    let msg = [8u8, 0, 0, 0, 0, 0, 0, 1, b'b', b'e', b'r', b't', b'h'];
    // SAFETY: sendto reads `msg` and `to`, both alive for the call.
    let n = unsafe {
        libc::sendto(
            sock.as_raw_fd(),
            msg.as_ptr().cast(),
            msg.len(),
            0,
            (&to as *const libc::sockaddr_in).cast(),
            std::mem::size_of::<libc::sockaddr_in>() as u32,
        )
    };
    if n < 0 {
        return Err(last());
    }
    let mut reply = [0u8; 64];
    // SAFETY: recv writes at most `reply.len()` bytes into our buffer.
    let n = unsafe { libc::recv(sock.as_raw_fd(), reply.as_mut_ptr().cast(), reply.len(), 0) };
    if n < 0 {
        return Err(last());
    }
    Ok(if reply[0] == 0 {
        "PINGED".into()
    } else {
        format!("ICMP type {}", reply[0])
    })
}

/// As user 1000: the two sysctls, an ICMP echo to the gateway from the probe, and a
/// listener on port 80.
const UNPRIVILEGED_NETWORK: &str = "\
    cat /proc/sys/net/ipv4/ip_unprivileged_port_start /proc/sys/net/ipv4/ping_group_range; \
    gw=$(ip route | awk '/^default/ {print $3}'); \
    BERTH_ICMP_PROBE=${gw:-127.0.0.1} /probe --exact icmp_probe_entry --nocapture --test-threads=1 \
      | grep -oE 'PINGED|ICMP.*'; \
    nc -l -p 80 & p=$!; i=0; \
    while [ $i -lt 200 ]; do \
      netstat -ltn | grep -q ':80 ' && { echo BOUND; break; }; \
      kill -0 $p 2>/dev/null || { echo NOT_BOUND; break; }; \
      sleep 0.1; i=$((i+1)); \
    done; kill $p 2>/dev/null; id -u";

fn probe_volume() -> String {
    format!("{}:/probe:ro", std::env::current_exe().unwrap().display())
}

#[track_caller]
fn assert_unprivileged_network(root: &Root, network: &str) {
    let out = root.ok(&[
        "run",
        "--rm",
        "-u",
        "1000",
        "-v",
        &probe_volume(),
        "--network",
        network,
        IMAGE,
        "sh",
        "-c",
        UNPRIVILEGED_NETWORK,
    ]);
    let lines: Vec<&str> = out.lines().map(str::trim).collect();
    let range: Vec<&str> = lines[1].split_whitespace().collect();
    assert_eq!(
        (lines[0], range),
        ("0", vec!["0", "2147483647"]),
        "{network}: {out}"
    );
    assert!(lines.contains(&"PINGED"), "{network}: ping failed: {out}");
    assert!(
        lines.contains(&"BOUND"),
        "{network}: port 80 not bound: {out}"
    );
    assert_eq!(lines.last(), Some(&"1000"), "{network}: {out}");
}

#[test]
fn a_non_root_user_can_ping_and_bind_low_ports_on_bridge_and_user_networks() {
    let root = Root::new();
    assert_unprivileged_network(&root, "bridge");
    let subnet = format!("10.170.{}.0/24", std::process::id() % 250);
    root.ok(&["network", "create", "--subnet", &subnet, "defaults-net"]);
    assert_unprivileged_network(&root, "defaults-net");
    // As it already was without a network (the probe pings 127.0.0.1: no gateway).
    assert_unprivileged_network(&root, "none");
}

#[test]
fn tun_device_is_not_there_and_cannot_be_made_usable() {
    let root = Root::new();
    // Docker's default capabilities include CAP_MKNOD: only the device rules stop it.
    let out = root.ok(&[
        "run",
        "--rm",
        IMAGE,
        "sh",
        "-c",
        "[ -e /dev/net/tun ] && echo PRESENT; \
         mkdir -p /dev/net && mknod /dev/net/tun c 10 200 && echo MADE; \
         (exec 3<>/dev/net/tun) 2>/dev/null && echo OPENED; \
         (exec 3<>/dev/null) && echo NULL_OPENS",
    ]);
    assert_eq!(out, "MADE\nNULL_OPENS\n", "{out}");
    // An explicit --device still works.
    if std::path::Path::new("/dev/net/tun").exists() {
        let out = root.ok(&[
            "run",
            "--rm",
            "--device",
            "/dev/net/tun",
            IMAGE,
            "sh",
            "-c",
            "(exec 3<>/dev/net/tun) 2>&1 && echo OPENED",
        ]);
        assert!(out.contains("OPENED"), "--device /dev/net/tun: {out}");
    } else {
        eprintln!("skipped the --device half: the host has no /dev/net/tun");
    }
}

#[test]
fn sys_dev_block_is_masked() {
    let root = Root::new();
    let host = std::fs::read_dir("/sys/dev/block").map_or(0, |d| d.count());
    let out = root.ok(&[
        "run",
        "--rm",
        IMAGE,
        "sh",
        "-c",
        "ls -A /sys/dev/block | wc -l; ls -A /sys/dev/char | wc -l",
    ]);
    let counts: Vec<usize> = out.lines().map(|l| l.trim().parse().unwrap()).collect();
    assert_eq!(counts[0], 0, "/sys/dev/block shows {} entries", counts[0]);
    if host == 0 {
        eprintln!("note: the host has no block devices under /sys/dev/block either");
    }
    // Only that directory: its sibling is still there.
    assert!(counts[1] > 0, "/sys/dev/char is empty too: {out}");
    // --privileged shows the host's devices, as Docker does.
    let out = root.ok(&[
        "run",
        "--rm",
        "--privileged",
        IMAGE,
        "sh",
        "-c",
        "ls -A /sys/dev/block | wc -l",
    ]);
    assert_eq!(out.trim().parse::<usize>().unwrap(), host, "{out}");
}
