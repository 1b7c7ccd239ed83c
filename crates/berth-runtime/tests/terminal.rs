//! `process.terminal` without --console-socket: `run` makes and proxies the pty itself (as
//! `runc run` does); detached runs refuse, as runc does.

mod common;
use common::*;

#[test]
fn foreground_run_with_terminal_gets_a_pty_and_the_exit_code() {
    let b = Bundle::with(&["sh", "-c", "tty; echo hi; exit 5"], |c| {
        c["process"]["terminal"] = true.into()
    });
    // `script` gives the runtime a terminal of its own, like an interactive shell would.
    let cmd = format!(
        "{BIN} --root {} run --bundle {} {}",
        b.root.display(),
        b.path().display(),
        b.id
    );
    let o = capture(std::process::Command::new("script").args(["-qec", &cmd, "/dev/null"]));
    let out = stdout(&o);
    assert!(
        out.contains("/dev/pts/0"),
        "no pty inside: {out:?} {}",
        stderr(&o)
    );
    assert!(out.contains("hi"), "{out:?}");
    assert_eq!(o.status.code(), Some(5), "{out:?}");
    assert!(
        !b.root.join(&b.id).exists(),
        "container not deleted after run"
    );
}

#[test]
fn detached_terminal_without_console_socket_is_refused() {
    let b = Bundle::with(&["true"], |c| c["process"]["terminal"] = true.into());
    for args in [vec!["run", "--detach"], vec!["create"]] {
        let mut a = args.clone();
        a.extend(["--bundle", b.path().to_str().unwrap(), &b.id]);
        let o = b.rt(&a);
        assert!(!o.status.success(), "{args:?} succeeded");
        assert!(stderr(&o).contains("cannot allocate tty"), "{}", stderr(&o));
        assert!(!b.root.join(&b.id).exists());
    }
}
