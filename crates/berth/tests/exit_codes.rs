//! Docker's exit codes: 125 for a bad flag and for run/create's own failures, 1 for the
//! other commands' failures and for missing arguments, 126 when exec's process cannot start.

mod container_support;
use container_support::*;

#[test]
fn unknown_flags_exit_125_and_name_the_flag() {
    let root = Root::new();
    let o = root.berth(&["run", "--no-such-flag", IMAGE, "true"]);
    assert_eq!(o.status.code(), Some(125), "{}", stderr(&o));
    assert_eq!(
        stderr(&o),
        "Error: unknown flag: --no-such-flag\nSee 'berth run --help'.\n"
    );
    let o = root.berth(&["ps", "--bogus"]);
    assert_eq!(o.status.code(), Some(125));
    assert!(
        stderr(&o).contains("unknown flag: --bogus"),
        "{}",
        stderr(&o)
    );
    let o = root.berth(&["images", "-Z"]);
    assert_eq!(o.status.code(), Some(125));
    assert!(
        stderr(&o).contains("unknown shorthand flag: 'Z' in -Z"),
        "{}",
        stderr(&o)
    );
    let o = root.berth(&["run", "--cpu-shares", "lots", IMAGE]);
    assert_eq!(o.status.code(), Some(125), "{}", stderr(&o));
    // Missing arguments are 1, as docker's "requires at least 1 argument".
    assert_eq!(root.berth(&["run"]).status.code(), Some(1));
    assert_eq!(root.berth(&["rm"]).status.code(), Some(1));
}

#[test]
fn a_missing_container_is_1_for_rm_stop_inspect_and_logs() {
    let root = Root::new();
    for (cmd, msg) in [
        ("rm", "No such container: ghost"),
        ("stop", "No such container: ghost"),
        ("logs", "No such container: ghost"),
        ("inspect", "No such object: ghost"),
    ] {
        let o = root.berth(&[cmd, "ghost"]);
        assert_eq!(o.status.code(), Some(1), "{cmd}: {}", stderr(&o));
        assert!(stderr(&o).contains(msg), "{cmd}: {}", stderr(&o));
    }
    // run and create keep 125 for their own failures.
    let o = root.berth(&["run", "--pull", "never", "no-such-image"]);
    assert_eq!(o.status.code(), Some(125));
    let o = root.berth(&["create", "--name", "bad/name", IMAGE]);
    assert_eq!(o.status.code(), Some(125));
}

#[test]
fn rm_of_a_running_container_without_force_is_1() {
    let root = Root::new();
    let id = root
        .ok(&["run", "-d", "--network", "none", IMAGE, "sleep", "1000"])
        .trim()
        .to_string();
    let o = root.berth(&["rm", &id]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("Stop the container before attempting removal or force remove"),
        "{}",
        stderr(&o)
    );
    root.ok(&["rm", "-f", &id]);
}

#[test]
fn exec_with_an_unknown_user_or_a_missing_workdir_is_126() {
    let root = Root::new();
    let id = root
        .ok(&["run", "-d", "--network", "none", IMAGE, "sleep", "1000"])
        .trim()
        .to_string();
    let o = root.berth(&["exec", "-u", "nosuchuser", &id, "true"]);
    assert_eq!(o.status.code(), Some(126), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("unable to find user nosuchuser"),
        "{}",
        stderr(&o)
    );
    let o = root.berth(&["exec", "-w", "/missing", &id, "true"]);
    assert_eq!(o.status.code(), Some(126), "{}", stderr(&o));
    assert!(stderr(&o).contains("/missing"), "{}", stderr(&o));
    // The command not found stays 127.
    let o = root.berth(&["exec", &id, "no-such-command"]);
    assert_eq!(o.status.code(), Some(127), "{}", stderr(&o));
    root.ok(&["rm", "-f", &id]);
}

/// A listing whose reader has gone (`berth network inspect N | head -0`) ends as docker's
/// does, killed by SIGPIPE without a word, never with a Rust panic (exit 101).
#[test]
fn a_listing_into_a_closed_pipe_ends_quietly_by_sigpipe() {
    use std::os::unix::process::ExitStatusExt;
    use std::process::Stdio;
    let root = Root::new();
    root.ok(&["network", "create", "pipe-net"]);
    for args in [
        &["network", "inspect", "pipe-net"][..],
        &["images"][..],
        &["ps", "-a"][..],
    ] {
        let mut c = berth_command();
        c.arg("--root").arg(root.path()).args(args);
        let mut child = c
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // The reader goes before berth writes a byte.
        drop(child.stdout.take());
        let o = child.wait_with_output().unwrap();
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(!err.contains("panicked"), "{args:?}: {err}");
        assert!(
            o.status.signal() == Some(libc::SIGPIPE) || o.status.code() == Some(0),
            "{args:?}: {:?} {err}",
            o.status
        );
    }
    root.ok(&["network", "rm", "pipe-net"]);
}
