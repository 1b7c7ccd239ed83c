//! The real docker CLI (Debian's 20.10, and a newer one when the machine has it) against
//! `berth serve`: what a Docker user types, with the same output and exit codes.

mod common;
use common::*;
use std::io::Write;
use std::process::Stdio;

#[test]
fn version_negotiates_and_info_answers() {
    let s = Server::start();
    assert_eq!(
        s.ok(&["version", "--format", "{{.Server.APIVersion}}"])
            .trim(),
        "1.45"
    );
    // The 20.10 CLI speaks 1.41 to a newer server.
    assert_eq!(
        s.ok(&["version", "--format", "{{.Client.APIVersion}}"])
            .trim(),
        "1.41"
    );
    assert_eq!(s.ok(&["info", "--format", "{{.OSType}}"]).trim(), "linux");
}

#[test]
fn run_rm_gives_output_streams_and_exit_status_and_leaves_nothing() {
    let s = Server::start();
    let o = s.docker(&[
        "run",
        "--rm",
        "busybox",
        "sh",
        "-c",
        "echo out; echo err >&2; exit 3",
    ]);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    assert_eq!(stdout(&o), "out\n");
    assert_eq!(stderr(&o), "err\n");
    assert_eq!(s.ok(&["ps", "-aq"]), "");
    // The same name again at once: the first is gone before its run returned.
    for _ in 0..2 {
        assert_eq!(
            s.ok(&["run", "--rm", "--name", "again", "busybox", "echo", "x"]),
            "x\n"
        );
    }
}

#[test]
fn binary_output_arrives_byte_for_byte() {
    let s = Server::start();
    let o = s.docker(&["run", "--rm", "busybox", "cat", "/bin/busybox"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let want = std::fs::read("/bin/busybox").unwrap();
    assert_eq!(o.stdout.len(), want.len());
    assert!(o.stdout == want, "the bytes differ");
}

#[test]
fn a_command_that_cannot_run_exits_127_as_with_dockerd() {
    let s = Server::start();
    let o = s.docker(&["run", "--rm", "busybox", "no-such-command"]);
    assert_eq!(o.status.code(), Some(127), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("executable file not found"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn detached_container_lifecycle() {
    let s = Server::start();
    let id = s.ok(&["run", "-d", "--name", "web", "busybox", "sleep", "1000"]);
    let id = id.trim();
    assert_eq!(id.len(), 64, "{id}");
    assert!(s.ok(&["ps", "--format", "{{.Names}}"]).contains("web"));
    assert_eq!(
        s.ok(&["inspect", "-f", "{{.State.Status}} {{.Name}}", "web"]),
        "running /web\n"
    );
    assert_eq!(s.ok(&["exec", "web", "echo", "hi"]), "hi\n");
    let o = s.docker(&["exec", "web", "sh", "-c", "exit 7"]);
    assert_eq!(o.status.code(), Some(7));
    // Piped stdin, closed at its end: the command sees EOF.
    let mut c = s
        .cli(DOCKER)
        .args(["exec", "-i", "web", "sh", "-c", "cat; echo done"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    c.stdin.take().unwrap().write_all(b"abc\n").unwrap();
    let o = c.wait_with_output().unwrap();
    assert_eq!(stdout(&o), "abc\ndone\n");
    // The CLI and the server share the root.
    let b = s.berth(&["ps", "--format", "{{.Names}}"]);
    assert_eq!(stdout(&b), "web\n");
    s.ok(&["stop", "-t", "1", "web"]);
    assert_eq!(
        s.ok(&["inspect", "-f", "{{.State.Status}}", "web"]),
        "exited\n"
    );
    s.ok(&["start", "web"]);
    s.ok(&["restart", "-t", "1", "web"]);
    assert_eq!(
        s.ok(&["inspect", "-f", "{{.State.Running}}", "web"]),
        "true\n"
    );
    s.ok(&["kill", "web"]);
    assert_eq!(s.ok(&["wait", "web"]), "137\n");
    s.ok(&["rm", "web"]);
    let o = s.docker(&["inspect", "web"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("No such"), "{}", stderr(&o));
}

#[test]
fn logs_of_a_container() {
    let s = Server::start();
    s.ok(&[
        "run",
        "-d",
        "--name",
        "talk",
        "busybox",
        "sh",
        "-c",
        "echo one; echo two >&2; echo three",
    ]);
    assert_eq!(s.ok(&["wait", "talk"]), "0\n");
    let o = s.docker(&["logs", "talk"]);
    assert_eq!(stdout(&o), "one\nthree\n");
    assert_eq!(stderr(&o), "two\n");
    // One entry of the three, whichever stream it is on (the two pipes are read apart).
    let o = s.docker(&["logs", "--tail", "1", "talk"]);
    assert_eq!(stdout(&o).lines().count() + stderr(&o).lines().count(), 1);
    s.ok(&["run", "-d", "--name", "count", "busybox", "seq", "1", "5"]);
    s.ok(&["wait", "count"]);
    assert_eq!(s.ok(&["logs", "--tail", "2", "count"]), "4\n5\n");
}

#[test]
fn pull_from_a_registry_then_run() {
    let s = Server::start();
    let reg = berth_testkit::Registry::start();
    let layout = s.dir.path().join("layout");
    berth_testkit::busybox_layout(&layout);
    let name = format!("localhost:{}/bb:1", reg.port);
    berth_testkit::push(&layout, &name);
    let out = s.ok(&["pull", &name]);
    assert!(out.contains("Pull complete"), "{out}");
    assert!(out.contains("Status: Downloaded newer image"), "{out}");
    assert_eq!(
        s.ok(&["run", "--rm", &name, "sh", "-c", "echo pulled"]),
        "pulled\n"
    );
    let o = s.docker(&["pull", &format!("localhost:{}/missing:1", reg.port)]);
    assert_eq!(o.status.code(), Some(1));
}

#[test]
fn the_newer_docker_cli_works_too() {
    if !std::path::Path::new(NEW_DOCKER).exists() {
        eprintln!("skipped: no newer docker CLI at {NEW_DOCKER}");
        return;
    }
    let s = Server::start();
    let run = |args: &[&str]| {
        let o = s.cli(NEW_DOCKER).args(args).output().unwrap();
        assert!(o.status.success(), "{args:?}: {}", stderr(&o));
        stdout(&o)
    };
    assert_eq!(run(&["run", "--rm", "busybox", "echo", "new"]), "new\n");
    run(&["run", "-d", "--name", "nn", "busybox", "sleep", "1000"]);
    assert_eq!(run(&["exec", "nn", "echo", "x"]), "x\n");
    run(&["rm", "-f", "nn"]);
}

#[test]
fn unknown_endpoints_and_bad_json_get_docker_errors_and_the_server_stays_up() {
    let s = Server::start();
    let a = s.raw(b"GET /v1.41/nope HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    assert!(a.starts_with("HTTP/1.1 404"), "{a}");
    assert!(a.contains("{\"message\":\"page not found\"}"), "{a}");
    let body = b"{not json";
    let req = format!(
        "POST /v1.41/containers/create HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    let a = s.raw(&[req.as_bytes(), body].concat());
    assert!(a.starts_with("HTTP/1.1 400"), "{a}");
    assert!(a.contains("\"message\":"), "{a}");
    let a = s.raw(b"GET /v1.12/version HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    assert!(a.starts_with("HTTP/1.1 400"), "{a}");
    assert!(a.contains("too old"), "{a}");
    let a = s.raw(b"this is not http\r\n\r\n");
    assert!(a.is_empty() || a.starts_with("HTTP/1.1 400"), "{a}");
    let a = s.raw(b"HEAD /_ping HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    assert!(a.starts_with("HTTP/1.1 200"), "{a}");
    assert!(a.to_ascii_lowercase().contains("api-version: 1.45"), "{a}");
    assert!(a.to_ascii_lowercase().contains("ostype: linux"), "{a}");
    assert_eq!(s.ok(&["run", "--rm", "busybox", "echo", "up"]), "up\n");
}

#[test]
fn a_stopped_server_leaves_containers_running_and_a_new_one_finds_them() {
    let mut s = Server::start();
    s.ok(&["run", "-d", "--name", "stay", "busybox", "sleep", "1000"]);
    s.restart();
    assert_eq!(
        s.ok(&["inspect", "-f", "{{.State.Running}}", "stay"]),
        "true\n"
    );
    assert_eq!(s.ok(&["exec", "stay", "echo", "still"]), "still\n");
    // Killed outright: the same.
    s.restart_after(libc::SIGKILL);
    assert_eq!(s.ok(&["exec", "stay", "echo", "again"]), "again\n");
    s.ok(&["rm", "-f", "stay"]);
}

/// `docker run -it` and `exec -it` at a terminal (`script` gives the CLI one): the container
/// gets a terminal, what is typed reaches it, its status is the CLI's.
#[test]
fn run_it_and_exec_it_at_a_terminal() {
    if std::process::Command::new("script")
        .arg("--version")
        .output()
        .is_err()
    {
        eprintln!("skipped: script (util-linux) is not installed");
        return;
    }
    let s = Server::start();
    let at_terminal = |cmd: &str, typed: &str| {
        let mut c = std::process::Command::new("script")
            .args(["-eqc", cmd, "/dev/null"])
            .env("DOCKER_HOST", s.host())
            .env("DOCKER_CONFIG", s.dir.path().join("docker-config"))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        c.stdin.take().unwrap().write_all(typed.as_bytes()).unwrap();
        c.wait_with_output().unwrap()
    };
    let o = at_terminal(
        &format!("{DOCKER} run -it --rm busybox sh -c 'tty; exit 3'"),
        "",
    );
    assert_eq!(o.status.code(), Some(3), "{}", stdout(&o));
    assert!(stdout(&o).contains("/dev/pts/"), "{}", stdout(&o));
    let o = at_terminal(
        &format!("{DOCKER} run -it --rm busybox sh"),
        "echo typed-$((40+2))\nexit 4\n",
    );
    assert_eq!(o.status.code(), Some(4), "{}", stdout(&o));
    assert!(stdout(&o).contains("typed-42"), "{}", stdout(&o));
    s.ok(&["run", "-d", "--name", "tt", "busybox", "sleep", "1000"]);
    let o = at_terminal(&format!("{DOCKER} exec -it tt sh -c 'tty; exit 5'"), "");
    assert_eq!(o.status.code(), Some(5), "{}", stdout(&o));
    assert!(stdout(&o).contains("/dev/pts/"), "{}", stdout(&o));
    s.ok(&["rm", "-f", "tt"]);
}
