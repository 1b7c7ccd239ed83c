//! `berth-init` as the PID 1 of a new pid namespace (the test makes one: root needed):
//! orphans are reaped, signals reach the child, and the child's status is the exit status.

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const INIT: &str = env!("CARGO_BIN_EXE_berth-init");

/// Start `berth-init ARGS` as PID 1 of a new pid namespace. The unshare is done in a thread
/// of its own: it only changes the pid namespace of that thread's future children.
fn spawn_pid1(args: &[&str]) -> Child {
    let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    std::thread::spawn(move || {
        // SAFETY: unshare has no memory arguments.
        let r = unsafe { libc::unshare(libc::CLONE_NEWPID) };
        assert_eq!(
            r,
            0,
            "unshare(CLONE_NEWPID) (run as root): {}",
            std::io::Error::last_os_error()
        );
        Command::new(INIT)
            .args(&args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap()
    })
    .join()
    .unwrap()
}

fn read_line(child: &mut Child) -> String {
    let mut line = String::new();
    let out = child.stdout.as_mut().unwrap();
    // One byte at a time so nothing after the line is buffered away.
    let mut r = BufReader::with_capacity(1, out);
    r.read_line(&mut line).unwrap();
    line.trim().to_string()
}

/// (pid, state) of every process whose parent is `pid`, from /proc (host pids).
fn children(pid: u32) -> Vec<(u32, char)> {
    let mut out = Vec::new();
    for e in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(stat) = std::fs::read_to_string(e.path().join("stat")) else {
            continue;
        };
        // pid (comm) state ppid ...: comm may hold spaces, so split after the last ')'.
        let Some((head, rest)) = stat.rsplit_once(')') else {
            continue;
        };
        let f: Vec<&str> = rest.split_whitespace().collect();
        if f.len() > 1 && f[1] == pid.to_string() {
            let me: u32 = head.split_whitespace().next().unwrap().parse().unwrap();
            out.push((me, f[0].chars().next().unwrap()));
        }
    }
    out
}

#[test]
fn the_command_runs_as_the_child_of_pid_1_and_its_status_passes_through() {
    let mut c = spawn_pid1(&["--", "/bin/sh", "-c", "echo $$ $PPID; exit 3"]);
    assert_eq!(read_line(&mut c), "2 1");
    assert_eq!(c.wait().unwrap().code(), Some(3));

    let c = spawn_pid1(&["/bin/sh", "-c", "kill -KILL $$"]);
    assert_eq!(c.wait_with_output().unwrap().status.code(), Some(137));

    let c = spawn_pid1(&["/no/such/command"]);
    assert_eq!(c.wait_with_output().unwrap().status.code(), Some(127));
}

#[test]
fn orphans_are_reaped() {
    // Each `(true &)` leaves a `true` whose parent exits at once: it is re-parented to PID 1
    // and becomes a zombie when it ends, unless PID 1 reaps it.
    let mut c = spawn_pid1(&[
        "/bin/sh",
        "-c",
        "for i in 1 2 3 4 5 6 7 8; do (true &); done; echo ready $$; read x; exit 0",
    ]);
    let init = c.id();
    assert_eq!(read_line(&mut c), "ready 2");
    // By now every orphan has been re-parented to init (their parents have exited): once
    // init's only child is the shell, they were all reaped.
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut kids = children(init);
    while kids.len() != 1 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
        kids = children(init);
    }
    assert_eq!(kids.len(), 1, "children of PID 1 left: {kids:?}");
    assert!(kids.iter().all(|(_, state)| *state != 'Z'), "{kids:?}");
    c.stdin.as_mut().unwrap().write_all(b"\n").unwrap();
    assert_eq!(c.wait().unwrap().code(), Some(0));
}

#[test]
fn sigterm_sent_to_pid_1_reaches_the_child() {
    // PID 1 of a namespace gets only the signals it has a handler for: this is what `docker
    // stop` sends, and a shell as PID 1 would never see it.
    let mut c = spawn_pid1(&[
        "/bin/sh",
        "-c",
        "trap 'exit 42' TERM; echo ready; while :; do sleep 0.1; done",
    ]);
    assert_eq!(read_line(&mut c), "ready");
    // SAFETY: kill has no memory arguments; the pid is our child's.
    assert_eq!(unsafe { libc::kill(c.id() as i32, libc::SIGTERM) }, 0);
    assert_eq!(c.wait().unwrap().code(), Some(42));
}

#[test]
fn with_g_signals_reach_the_whole_process_group() {
    // The shell survives TERM (its trap is not inherited by `sleep`); the sleep is cut short
    // (exit 5) only when the signal goes to the whole group, else it ends normally (exit 6).
    let mut c = spawn_pid1(&[
        "-g",
        "/bin/sh",
        "-c",
        "trap 'echo term' TERM; echo ready; sleep 30 || exit 5; exit 6",
    ]);
    assert_eq!(read_line(&mut c), "ready");
    // Wait for the sleep to exist, so the signal cannot arrive before it does.
    let init = c.id();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let shells = children(init);
        // The shell's child counts once it is `sleep`: before its exec it still runs the
        // shell's trap.
        let sleeping = shells.iter().any(|(sh, _)| {
            children(*sh).iter().any(|(p, _)| {
                std::fs::read_to_string(format!("/proc/{p}/comm"))
                    .is_ok_and(|c| c.trim() == "sleep")
            })
        });
        if sleeping || Instant::now() > deadline {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    // SAFETY: as above.
    assert_eq!(unsafe { libc::kill(init as i32, libc::SIGTERM) }, 0);
    assert_eq!(c.wait().unwrap().code(), Some(5));
}
