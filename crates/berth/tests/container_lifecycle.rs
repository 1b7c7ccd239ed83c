//! The life of a container as a docker user drives it: run -d, ps, stop, rm; attached runs
//! and their exit status; names, prefixes and their errors; --rm.

mod container_support;
use container_support::*;

fn state(root: &Root, id: &str) -> serde_json::Value {
    let v: serde_json::Value = serde_json::from_str(&root.ok(&["inspect", id])).unwrap();
    v[0]["State"].clone()
}

#[test]
fn run_detached_then_ps_stop_and_rm_leave_nothing() {
    let root = Root::new();
    let id = root.ok(&["run", "-d", "--name", "web", IMAGE, "sleep", "1000"]);
    let id = id.trim().to_string();
    assert_eq!(id.len(), 64, "{id}");
    let ps = root.ok(&["ps"]);
    let lines: Vec<&str> = ps.lines().collect();
    assert!(lines[0].starts_with("CONTAINER ID   IMAGE"), "{ps}");
    assert!(
        lines[0].contains("COMMAND") && lines[0].ends_with("NAMES"),
        "{ps}"
    );
    assert!(lines[1].starts_with(&id[..12]), "{ps}");
    assert!(
        lines[1].contains("\"sleep 1000\"") && lines[1].contains("Up "),
        "{ps}"
    );
    assert!(lines[1].ends_with("web"), "{ps}");
    let st = state(&root, "web");
    assert_eq!(st["Status"], "running");
    let pid = st["Pid"].as_i64().unwrap();
    assert!(pid > 0 && std::path::Path::new(&format!("/proc/{pid}")).exists());

    // sleep as PID 1 ignores SIGTERM: stop kills it after the timeout.
    assert_eq!(root.ok(&["stop", "-t", "1", "web"]).trim(), "web");
    let st = state(&root, &id);
    assert_eq!(st["Status"], "exited");
    assert_eq!(st["ExitCode"], 137);
    assert!(
        root.ok(&["ps"]).lines().count() == 1,
        "stopped container listed without -a"
    );
    let all = root.ok(&["ps", "-a", "--format", "{{.Names}} {{.Status}}"]);
    assert!(all.starts_with("web Exited (137) "), "{all}");

    assert_eq!(root.ok(&["rm", "web"]).trim(), "web");
    eventually("the process to go", || {
        !std::path::Path::new(&format!("/proc/{pid}")).exists()
    });
    assert_nothing_left(&root, &id);
}

#[test]
fn attached_run_exits_with_the_containers_status_and_prints_its_output() {
    let root = Root::new();
    let o = root.berth(&["run", IMAGE, "sh", "-c", "echo out; echo err >&2; exit 3"]);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    assert_eq!(String::from_utf8_lossy(&o.stdout), "out\n");
    assert!(stderr(&o).contains("err\n"), "{}", stderr(&o));
    let o = root.berth(&["run", IMAGE, "true"]);
    assert_eq!(o.status.code(), Some(0));
    let listed = root.ok(&["ps", "-a", "--format", "{{.Status}}"]);
    assert!(
        listed.lines().any(|l| l.starts_with("Exited (3) ")),
        "{listed}"
    );
}

/// The start child shares the CLI's memory unless the caller has other threads; then it is
/// a fork. Both must start, exit and remove a container alike (the test knob forces a fork).
#[test]
fn a_forked_start_child_works_as_the_shared_one() {
    let root = Root::new();
    for fork in [false, true] {
        let o = cmd_for(&root, fork)
            .args([
                "run",
                "--rm",
                IMAGE,
                "sh",
                "-c",
                "echo out; echo err >&2; exit 3",
            ])
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(3), "fork={fork}: {}", stderr(&o));
        assert_eq!(String::from_utf8_lossy(&o.stdout), "out\n", "fork={fork}");
        assert_eq!(stderr(&o), "err\n", "fork={fork}");
        let o = cmd_for(&root, fork)
            .args(["run", "--rm", IMAGE, "nosuchcommand"])
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(127), "fork={fork}: {}", stderr(&o));
        let id = ok(&cmd_for(&root, fork)
            .args(["run", "-d", IMAGE, "sleep", "1000"])
            .output()
            .unwrap());
        let id = id.trim();
        assert_eq!(root.ok(&["exec", id, "echo", "in"]), "in\n");
        root.ok(&["rm", "-f", id]);
        assert_nothing_left(&root, id);
    }
}

fn cmd_for(root: &Root, fork: bool) -> std::process::Command {
    let mut cmd = berth_command();
    cmd.arg("--root").arg(root.path());
    if fork {
        cmd.env("BERTH_TEST_FORK_START", "1");
    }
    cmd
}

#[test]
fn a_missing_command_is_127_run_errors_are_125_and_other_commands_1() {
    let root = Root::new();
    let o = root.berth(&["run", IMAGE, "no-such-command"]);
    assert_eq!(o.status.code(), Some(127), "{}", stderr(&o));
    let e = stderr(&o);
    assert!(
        e.starts_with("Error: ") && e.contains("no-such-command") && e.lines().count() == 1,
        "{e}"
    );
    let o = root.berth(&["run", IMAGE, "/etc/passwd"]);
    assert_eq!(o.status.code(), Some(126), "{}", stderr(&o));
    let o = root.berth(&["run", "--pull", "never", "no-such-image", "true"]);
    assert_eq!(o.status.code(), Some(125));
    assert!(
        stderr(&o).contains("No such image: no-such-image"),
        "{}",
        stderr(&o)
    );
    let o = root.berth(&["stop", "nothing-here"]);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(stderr(&o), "Error: No such container: nothing-here\n");
    // Image commands fail with 1 too.
    assert_eq!(root.berth(&["rmi", "no-such-image"]).status.code(), Some(1));
}

#[test]
fn names_conflict_and_ids_resolve_by_unique_prefix() {
    let root = Root::new();
    let a = root
        .ok(&["create", "--name", "one", IMAGE, "true"])
        .trim()
        .to_string();
    let o = root.berth(&["create", "--name", "/one", IMAGE, "true"]);
    assert_eq!(o.status.code(), Some(125));
    assert_eq!(
        stderr(&o),
        format!("Error: Conflict. The container name \"/one\" is already in use by container \"{a}\". You have to remove (or rename) that container to be able to reuse that name.\n")
    );
    assert_eq!(
        root.ids(),
        vec![a.clone()],
        "the failed create left something"
    );
    // Full ID, name, /name and unique prefix all find it.
    for arg in [a.as_str(), "one", "/one", &a[..5]] {
        let v: serde_json::Value = serde_json::from_str(&root.ok(&["inspect", arg])).unwrap();
        assert_eq!(v[0]["Id"], a.as_str());
        assert_eq!(v[0]["Name"], "/one");
    }
    // Make two IDs share a first digit, then that digit is ambiguous.
    let mut ids = vec![a.clone()];
    let shared = loop {
        let id = root.ok(&["create", IMAGE, "true"]).trim().to_string();
        ids.push(id.clone());
        if let Some(p) = ids[..ids.len() - 1].iter().find(|x| x[..1] == id[..1]) {
            break p[..1].to_string();
        }
    };
    let o = root.berth(&["rm", &shared]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains(&format!(
            "multiple containers found with provided prefix: {shared}"
        )),
        "{}",
        stderr(&o)
    );
    // Generated names look like docker's.
    let names = root.ok(&["ps", "-a", "--format", "{{.Names}}"]);
    assert!(
        names
            .lines()
            .filter(|n| *n != "one")
            .all(|n| n.contains('_')),
        "{names}"
    );
    root.ok(&["rename", "one", "two"]);
    assert!(root.berth(&["inspect", "one"]).status.code() == Some(1));
    root.ok(&["rm", "two"]);
    assert_nothing_left(&root, &a);
}

#[test]
fn run_rm_leaves_nothing_behind() {
    let root = Root::new();
    let o = root.berth(&["run", "--rm", IMAGE, "sh", "-c", "echo bye; exit 5"]);
    assert_eq!(o.status.code(), Some(5), "{}", stderr(&o));
    assert_eq!(String::from_utf8_lossy(&o.stdout), "bye\n");
    eventually("the --rm container to go", || root.ids().is_empty());
    let id = root
        .ok(&["run", "-d", "--rm", IMAGE, "true"])
        .trim()
        .to_string();
    eventually("the detached --rm container to go", || {
        root.ids().is_empty()
    });
    eventually("its monitor to exit", || processes_with(&id).is_empty());
    assert_nothing_left(&root, &id);
    let dirs: Vec<_> = std::fs::read_dir(root.path().join("containers"))
        .unwrap()
        .collect();
    assert!(dirs.is_empty(), "left in containers/: {dirs:?}");
}

#[test]
fn start_restart_kill_pause_and_wait() {
    let root = Root::new();
    let id = root
        .ok(&["create", "--name", "cc", IMAGE, "sleep", "1000"])
        .trim()
        .to_string();
    assert_eq!(state(&root, "cc")["Status"], "created");
    let ps = root.ok(&["ps", "-a", "--filter", "status=created", "-q"]);
    assert_eq!(ps.trim(), &id[..12]);
    root.ok(&["start", "cc"]);
    let pid1 = state(&root, "cc")["Pid"].as_i64().unwrap();
    root.ok(&["pause", "cc"]);
    assert_eq!(state(&root, "cc")["Status"], "paused");
    assert!(root.ok(&["ps"]).contains("(Paused)"));
    root.ok(&["unpause", "cc"]);
    root.ok(&["restart", "-t", "0", "cc"]);
    let st = state(&root, "cc");
    assert_eq!(st["Status"], "running");
    assert_ne!(st["Pid"].as_i64().unwrap(), pid1);
    let waiter = {
        let p = root.path().to_path_buf();
        std::thread::spawn(move || berth(&p, &["wait", "cc"]))
    };
    root.ok(&["kill", "-s", "KILL", "cc"]);
    let w = waiter.join().unwrap();
    assert_eq!(ok(&w).trim(), "137");
    let o = root.berth(&["kill", "cc"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("is not running"), "{}", stderr(&o));
    let filtered = root.ok(&["ps", "-a", "--filter", "exited=137", "--format", "{{.ID}}"]);
    assert_eq!(filtered.trim(), &id[..12]);
    root.ok(&["rm", "cc"]);
    assert_nothing_left(&root, &id);
}

#[test]
fn rm_refuses_a_running_container_unless_forced() {
    let root = Root::new();
    let id = root
        .ok(&["run", "-d", IMAGE, "sleep", "1000"])
        .trim()
        .to_string();
    let o = root.berth(&["rm", &id[..12]]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("Stop the container before attempting removal or force remove"),
        "{}",
        stderr(&o)
    );
    root.ok(&["rm", "-f", &id[..12]]);
    assert_nothing_left(&root, &id);
}

#[test]
fn image_prune_keeps_images_that_containers_use() {
    let root = Root::new();
    let id = root.ok(&["create", IMAGE, "true"]).trim().to_string();
    root.ok(&["image", "prune", "-a", "-f"]);
    assert_eq!(
        root.ok(&["images", "-q"]).lines().count(),
        1,
        "image of a container pruned"
    );
    root.ok(&["rm", &id]);
    root.ok(&["image", "prune", "-a", "-f"]);
    assert_eq!(root.ok(&["images", "-q"]), "");
}

#[test]
fn rmi_refuses_an_image_a_container_is_made_from() {
    let root = Root::new();
    let id = root.ok(&["create", IMAGE, "true"]).trim().to_string();
    for args in [&["rmi", IMAGE][..], &["rmi", "-f", IMAGE][..]] {
        let o = root.berth(args);
        assert_eq!(o.status.code(), Some(1), "{args:?}");
        assert!(
            stderr(&o).contains(&format!(
                "image is being used by stopped container {}",
                &id[..12]
            )),
            "{}",
            stderr(&o)
        );
    }
    // The container still runs from its image.
    root.ok(&["start", "-a", &id]);
    // A second name can go; the last one cannot while the container exists.
    root.ok(&["tag", IMAGE, "other:1"]);
    root.ok(&["rmi", "other:1"]);
    root.ok(&["rm", &id]);
    root.ok(&["rmi", IMAGE]);
    assert_eq!(root.ok(&["images", "-q"]), "");
}

/// A descriptor berth inherits (a shell's pipe) must not be held by the container's
/// monitor: whoever waits for EOF on it (`$(berth run -d ...)`) would wait for the container.
#[test]
fn the_monitor_holds_no_descriptor_of_the_caller() {
    let root = Root::new();
    let mut fds = [0i32; 2];
    // SAFETY: pipe() fills the two-element array; both ends are ours (no CLOEXEC on purpose).
    assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0);
    let id = root
        .ok(&["run", "-d", IMAGE, "sleep", "1000"])
        .trim()
        .to_string();
    // SAFETY: closing our write end; the read end becomes non-blocking to poll for EOF.
    unsafe {
        libc::close(fds[1]);
        libc::fcntl(fds[0], libc::F_SETFL, libc::O_NONBLOCK);
    }
    eventually("EOF on the caller's pipe", || {
        let mut b = [0u8; 1];
        // SAFETY: reading into a one-byte buffer we own.
        unsafe { libc::read(fds[0], b.as_mut_ptr().cast(), 1) == 0 }
    });
    // SAFETY: our read end.
    unsafe { libc::close(fds[0]) };
    root.ok(&["rm", "-f", &id]);
    assert_nothing_left(&root, &id);
}

#[test]
fn an_attached_run_passes_sigint_to_the_container() {
    let root = Root::new();
    let mut c = std::process::Command::new(BERTH);
    c.arg("--root").arg(root.path()).args([
        "run",
        "--name",
        "trapper",
        IMAGE,
        "sh",
        "-c",
        "trap 'echo got INT; exit 7' INT; echo ready; while true; do sleep 0.05; done",
    ]);
    if let Some(p) = monitor_dir_for_path() {
        c.env(
            "PATH",
            format!(
                "{}:{}",
                p.display(),
                std::env::var("PATH").unwrap_or_default()
            ),
        );
    }
    c.stdout(std::process::Stdio::piped());
    let child = c.spawn().unwrap();
    let log = root.path().join("containers");
    eventually("the container to say ready", || {
        let o = root.berth(&["inspect", "trapper"]);
        let Ok(v) = serde_json::from_slice::<serde_json::Value>(&o.stdout) else {
            return false;
        };
        let id = v[0]["Id"].as_str().unwrap_or("").to_string();
        std::fs::read_to_string(log.join(&id).join(format!("{id}-json.log")))
            .is_ok_and(|l| l.contains("ready"))
    });
    // SAFETY: signalling the berth process this test started.
    assert_eq!(unsafe { libc::kill(child.id() as i32, libc::SIGINT) }, 0);
    let o = child.wait_with_output().unwrap();
    assert_eq!(o.status.code(), Some(7));
    assert_eq!(String::from_utf8_lossy(&o.stdout), "ready\ngot INT\n");
}

#[test]
fn ps_filters_limits_and_formats() {
    let root = Root::new();
    let a = root
        .ok(&["create", "--name", "alpha", IMAGE, "true"])
        .trim()
        .to_string();
    let b = root
        .ok(&["create", "--name", "beta", IMAGE, "true"])
        .trim()
        .to_string();
    let names = |args: &[&str]| -> Vec<String> {
        let mut full = vec!["ps", "--format", "{{.Names}}"];
        full.extend_from_slice(args);
        root.ok(&full).lines().map(str::to_string).collect()
    };
    assert_eq!(
        names(&[]),
        Vec::<String>::new(),
        "created containers listed without -a"
    );
    assert_eq!(names(&["-a"]), ["beta", "alpha"], "newest first");
    assert_eq!(names(&["-l"]), ["beta"]);
    assert_eq!(names(&["-n", "2"]), ["beta", "alpha"]);
    assert_eq!(names(&["-a", "--filter", "name=alp"]), ["alpha"]);
    assert_eq!(
        names(&["-a", "--filter", &format!("id={}", &b[..6])]),
        ["beta"]
    );
    assert_eq!(names(&["-a", "--filter", "ancestor=bb"]).len(), 2);
    assert_eq!(names(&["-a", "--filter", "ancestor=other"]).len(), 0);
    assert_eq!(
        names(&["-a", "-f", "name=alpha", "-f", "name=beta"]).len(),
        2
    );
    assert_eq!(
        root.ok(&["ps", "-aq"]).lines().collect::<Vec<_>>(),
        [&b[..12], &a[..12]]
    );
    let json = root.ok(&["ps", "-a", "--format", "json"]);
    let first: serde_json::Value = serde_json::from_str(json.lines().next().unwrap()).unwrap();
    assert_eq!(first["Names"], "beta");
    assert_eq!(first["State"], "created");
    assert_eq!(first["Status"], "Created");
    assert_eq!(first["Command"], "\"true\"");
    let o = root.berth(&["ps", "--filter", "color=red"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("invalid filter 'color'"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn inspect_gives_dockers_shape_and_falls_back_to_images() {
    let root = Root::new();
    let id = root.ok(&[
        "create", "--name", "shape", "-e", "A=1", "-w", "/tmp", IMAGE, "echo", "hi",
    ]);
    let id = id.trim();
    let text = root.ok(&["inspect", "shape", IMAGE]);
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    let c = &v[0];
    assert!(text.starts_with("[\n    {\n        \"Id\": "), "{text}");
    assert_eq!(c["Id"], id);
    assert_eq!(c["Name"], "/shape");
    assert_eq!(c["Path"], "echo");
    assert_eq!(c["Args"], serde_json::json!(["hi"]));
    assert_eq!(c["State"]["Status"], "created");
    assert_eq!(c["State"]["StartedAt"], "0001-01-01T00:00:00Z");
    assert_eq!(c["Config"]["WorkingDir"], "/tmp");
    assert!(c["Config"]["Env"]
        .as_array()
        .unwrap()
        .contains(&"A=1".into()));
    assert_eq!(c["Config"]["Image"], IMAGE);
    assert!(c["Image"].as_str().unwrap().starts_with("sha256:"));
    assert_eq!(v[1]["Id"], c["Image"], "the image after the container");
    let o = root.berth(&["inspect", "nothing-by-that-name"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("No such object: nothing-by-that-name"));
}

#[test]
fn run_i_feeds_our_stdin_to_the_container_until_eof() {
    use std::io::Write;
    let root = Root::new();
    let mut c = std::process::Command::new(BERTH);
    c.arg("--root").arg(root.path());
    c.args(["run", "--rm", "-i", IMAGE, "sh", "-c", "tr a-z A-Z; exit 4"]);
    if let Some(p) = monitor_dir_for_path() {
        c.env(
            "PATH",
            format!(
                "{}:{}",
                p.display(),
                std::env::var("PATH").unwrap_or_default()
            ),
        );
    }
    c.stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped());
    let mut child = c.spawn().unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"hello\nworld\n")
        .unwrap();
    let mut done = None;
    eventually("the container to end at stdin's EOF", || {
        done = child.try_wait().unwrap();
        done.is_some()
    });
    let o = child.wait_with_output().unwrap();
    assert_eq!(o.status.code(), Some(4));
    assert_eq!(String::from_utf8_lossy(&o.stdout), "HELLO\nWORLD\n");
    // -t (a pty, see container_tty.rs) with --rm goes the same way.
    let o = root.berth(&["run", "--rm", "-t", IMAGE, "true"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    // The --rm containers go (their monitors remove them).
    eventually("no container left", || root.ids().is_empty());
}

/// With --rm the monitor waits for the clients it told of the exit to hang up before it
/// removes the container (so the removal does not compete with `berth run`'s own end), but
/// only for a moment: a waiter that never hangs up does not keep the container.
#[test]
fn run_rm_removal_does_not_wait_for_a_waiter_that_stays() {
    use std::io::{BufRead, Write};
    let root = Root::new();
    let id = root
        .ok(&["run", "-d", "--rm", IMAGE, "sh", "-c", "sleep 1; exit 4"])
        .trim()
        .to_string();
    let sock = root
        .path()
        .join("containers")
        .join(&id)
        .join("monitor.sock");
    // The monitor binds its socket just after `run -d` returns.
    let mut conn = None;
    eventually("the monitor's socket", || {
        conn = std::os::unix::net::UnixStream::connect(&sock).ok();
        conn.is_some()
    });
    let mut waiter = conn.unwrap();
    waiter.write_all(b"{\"wait\":{}}\n").unwrap();
    let mut line = String::new();
    std::io::BufReader::new(&waiter)
        .read_line(&mut line)
        .unwrap();
    assert_eq!(line.trim(), "{\"exit_code\":4}");
    eventually("the --rm container to go while the waiter stays", || {
        root.ids().is_empty()
    });
    drop(waiter);
    eventually("its monitor to exit", || processes_with(&id).is_empty());
    assert_nothing_left(&root, &id);
}

/// A relative `--root` is taken from the working directory, once: the runtime and the
/// monitor get absolute paths under it.
#[test]
fn a_relative_root_runs_a_container() {
    let root = Root::new();
    let dir = root.path();
    let o = berth_command()
        .current_dir(dir.parent().unwrap())
        .arg("--root")
        .arg(dir.file_name().unwrap())
        .args([
            "run",
            "--rm",
            "--network",
            "none",
            IMAGE,
            "echo",
            "relative",
        ])
        .output()
        .unwrap();
    assert_eq!(ok(&o).trim(), "relative");
}
