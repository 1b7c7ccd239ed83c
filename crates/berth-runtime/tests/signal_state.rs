//! The container's process starts with every signal at its default action and none blocked,
//! whatever its starter had: a shell's background job or script ignores SIGINT and SIGQUIT,
//! and an ignored or blocked signal would survive into the container (Ctrl-C and `kill`
//! would never reach it). Each test starts the runtime with SIGINT, SIGQUIT, SIGPIPE and
//! SIGTERM ignored and blocked, and reads the container process's own /proc status.

mod common;
use common::*;
use std::os::unix::process::CommandExt;
use std::process::Command;

const STARTER_SIGNALS: [libc::c_int; 4] =
    [libc::SIGINT, libc::SIGQUIT, libc::SIGPIPE, libc::SIGTERM];

/// `c`, started the way a background job or a careless parent would start it.
fn ignoring_and_blocking(c: &mut Command) -> &mut Command {
    // SAFETY: between fork and exec the closure makes only async-signal-safe calls
    // (sigaction, sigprocmask) on structures of its own stack.
    unsafe {
        c.pre_exec(|| {
            let mut ign: libc::sigaction = std::mem::zeroed();
            ign.sa_sigaction = libc::SIG_IGN;
            let mut set: libc::sigset_t = std::mem::zeroed();
            libc::sigemptyset(&mut set);
            for sig in STARTER_SIGNALS {
                libc::sigaction(sig, &ign, std::ptr::null_mut());
                libc::sigaddset(&mut set, sig);
            }
            libc::sigprocmask(libc::SIG_BLOCK, &set, std::ptr::null_mut());
            Ok(())
        })
    }
}

/// The starter's state really is what the tests claim: a shell that runs `grep` under it.
#[test]
fn the_starter_state_is_inherited_by_a_plain_child() {
    let o = capture(ignoring_and_blocking(Command::new("/bin/busybox").args([
        "grep",
        "-E",
        "^Sig(Blk|Ign)",
        "/proc/self/status",
    ])));
    let out = ok(&o);
    // SIGINT 2, SIGQUIT 3, SIGPIPE 13, SIGTERM 15: bits 1, 2, 12, 14.
    for field in ["SigBlk", "SigIgn"] {
        let mask = field_mask(&out, field);
        assert_eq!(mask & 0x5006, 0x5006, "{field}: {out}");
    }
}

fn field_mask(status: &str, field: &str) -> u64 {
    let line = status
        .lines()
        .find_map(|l| l.strip_prefix(&format!("{field}:")))
        .unwrap_or_else(|| panic!("no {field} in {status}"));
    u64::from_str_radix(line.trim(), 16).unwrap()
}

/// SigBlk, SigIgn and SigCgt of `out` (a grep of /proc/self/status).
#[track_caller]
fn assert_default_signal_state(out: &str) {
    for field in ["SigBlk", "SigIgn", "SigCgt"] {
        assert_eq!(field_mask(out, field), 0, "{field} not empty: {out}");
    }
}

const STATUS: [&str; 4] = ["grep", "-E", "^Sig(Blk|Ign|Cgt)", "/proc/self/status"];

#[test]
fn run_started_with_signals_ignored_and_blocked_gives_the_container_default_signals() {
    let b = Bundle::new(&STATUS);
    let o = capture(ignoring_and_blocking(b.cmd().args([
        "run",
        "--bundle",
        b.path().to_str().unwrap(),
        &b.id,
    ])));
    assert_default_signal_state(&ok(&o));
}

#[test]
fn create_started_with_signals_ignored_and_blocked_gives_the_container_default_signals() {
    let b = Bundle::with(&STATUS, |c| {
        c["process"]["args"] = serde_json::json!([
            "sh",
            "-c",
            "exec grep -E '^Sig(Blk|Ign|Cgt)' /proc/self/status > /status"
        ]);
    });
    ok(&capture(ignoring_and_blocking(b.cmd().args([
        "create",
        "--bundle",
        b.path().to_str().unwrap(),
        &b.id,
    ]))));
    ok(&capture(ignoring_and_blocking(
        b.cmd().args(["start", &b.id]),
    )));
    let status = b.rootfs().join("status");
    assert!(
        eventually(|| b.status() == "stopped"),
        "the container did not finish"
    );
    assert_default_signal_state(&std::fs::read_to_string(status).unwrap());
}

#[test]
fn exec_started_with_signals_ignored_and_blocked_gives_the_process_default_signals() {
    let b = Bundle::new(&["sleep", "30"]);
    ok(&b.create());
    ok(&b.rt(&["start", &b.id]));
    let o = capture(ignoring_and_blocking(
        b.cmd().arg("exec").arg(&b.id).args(STATUS),
    ));
    assert_default_signal_state(&ok(&o));
}

#[test]
fn ctrl_c_reaches_a_container_whose_starter_ignored_it() {
    // Not pid 1 of a pid namespace, which the kernel shields from signals it has no
    // handler for: an inherited SIG_IGN is then the only thing that could save it.
    let b = Bundle::with(&["sleep", "30"], |c| drop_ns(c, "pid"));
    ok(&capture(ignoring_and_blocking(b.cmd().args([
        "create",
        "--bundle",
        b.path().to_str().unwrap(),
        &b.id,
    ]))));
    ok(&b.rt(&["start", &b.id]));
    ok(&b.rt(&["kill", &b.id, "INT"]));
    assert!(
        eventually(|| b.status() == "stopped"),
        "SIGINT did not stop the container: {}",
        b.status()
    );
}

#[test]
fn run_started_with_sigchld_ignored_still_returns_the_containers_status() {
    // With SIGCHLD ignored the kernel reaps children itself: a runtime that kept that
    // disposition would wait forever or lose the status.
    let b = Bundle::new(&["sh", "-c", "exit 3"]);
    let mut c = b.cmd();
    c.args(["run", "--bundle", b.path().to_str().unwrap(), &b.id]);
    // SAFETY: only signal(2) between fork and exec.
    unsafe {
        c.pre_exec(|| {
            libc::signal(libc::SIGCHLD, libc::SIG_IGN);
            Ok(())
        });
    }
    let mut child = c
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut status = None;
    for _ in 0..1200 {
        status = child.try_wait().unwrap();
        if status.is_some() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let Some(status) = status else {
        let _ = child.kill();
        let _ = child.wait();
        panic!("berth-runtime run did not return within a minute");
    };
    assert_eq!(status.code(), Some(3));
}
