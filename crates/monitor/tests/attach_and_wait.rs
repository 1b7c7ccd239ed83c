//! `monitor.sock`: attach streams the container's output and forwards stdin; wait answers
//! with the exit code.

mod common;
use common::*;
use std::io::Write;

#[test]
fn attach_streams_output_and_stdin_eof_closes_the_containers_stdin() {
    let bb = busybox();
    // The container echoes its stdin back on stdout, upper-cased, until EOF, then exits 5.
    let mut started = Setup::new(&format!(
        "{bb} sh -c 'echo ready; {bb} tr a-z A-Z; echo done >&2; exit 5'"
    ))
    .stdin()
    .start();
    let mut sock = started.connect();
    request(
        &mut sock,
        r#"{"attach":{"stdin":true,"stdout":true,"stderr":true}}"#,
    );
    sock.write_all(b"hello\nworld\n").unwrap();
    sock.shutdown(std::net::Shutdown::Write).unwrap();
    let (out, err, code) = read_frames(&mut sock);
    let out = String::from_utf8(out).unwrap();
    // "ready" may have been written before the client attached.
    assert!(out.ends_with("HELLO\nWORLD\n"), "{out:?}");
    assert_eq!(err, b"done\n");
    assert_eq!(code, 5);
    assert_eq!(started.finish()["exit_code"], 5);
    let logged: String = log_lines(&started.setup.log_path())
        .iter()
        .map(|l| l["log"].as_str().unwrap().to_string())
        .collect();
    assert!(logged.contains("HELLO\n") && logged.contains("done\n"));
}

#[test]
fn attach_without_stderr_gets_only_stdout() {
    let bb = busybox();
    let mut started = Setup::new(&format!("{bb} sh -c 'read x; echo o; echo e >&2; exit 0'"))
        .stdin()
        .start();
    let mut sock = started.connect();
    request(
        &mut sock,
        r#"{"attach":{"stdin":true,"stdout":true,"stderr":false}}"#,
    );
    sock.write_all(b"go\n").unwrap();
    let (out, err, code) = read_frames(&mut sock);
    assert_eq!(
        (out.as_slice(), err.as_slice(), code),
        (&b"o\n"[..], &b""[..], 0)
    );
    started.finish();
}

#[test]
fn wait_answers_with_the_exit_code_and_after_exit_exit_json_remains() {
    let bb = busybox();
    let mut started = Setup::new(&format!("{bb} sh -c 'read x; exit 42'"))
        .stdin()
        .start();
    let mut waiter = started.connect();
    request(&mut waiter, r#"{"wait":{}}"#);
    let mut feeder = started.connect();
    request(
        &mut feeder,
        r#"{"attach":{"stdin":true,"stdout":false,"stderr":false}}"#,
    );
    feeder.write_all(b"x\n").unwrap();
    let answer: serde_json::Value = serde_json::from_str(&read_line(&mut waiter)).unwrap();
    assert_eq!(answer["exit_code"], 42);
    assert_eq!(started.finish()["exit_code"], 42);
}

#[test]
fn several_clients_see_the_same_output() {
    let bb = busybox();
    let mut started = Setup::new(&format!("{bb} sh -c 'read x; echo shared; exit 1'"))
        .stdin()
        .start();
    let mut a = started.connect();
    request(
        &mut a,
        r#"{"attach":{"stdin":false,"stdout":true,"stderr":true}}"#,
    );
    let mut b = started.connect();
    request(
        &mut b,
        r#"{"attach":{"stdin":true,"stdout":true,"stderr":true}}"#,
    );
    // Let the monitor take both requests before the container prints.
    let mut w = started.connect();
    request(&mut w, r#"{"wait":{}}"#);
    std::thread::sleep(std::time::Duration::from_millis(100));
    b.write_all(b"go\n").unwrap();
    for sock in [&mut a, &mut b] {
        let (out, _, code) = read_frames(sock);
        assert_eq!((out.as_slice(), code), (&b"shared\n"[..], 1));
    }
    started.finish();
}

#[test]
fn wait_attach_keeps_all_output_and_the_exit_for_the_coming_client() {
    let bb = busybox();
    // The container is done long before the client attaches, as with `berth run --rm echo`.
    let mut started = Setup::new(&format!("{bb} sh -c 'echo early; echo warn >&2; exit 4'"))
        .arg("--wait-attach")
        .arg("--auto-remove")
        .start();
    let mut sock = started.connect();
    std::thread::sleep(std::time::Duration::from_millis(300));
    assert!(
        exit_json(started.dir()).is_none(),
        "exit recorded before the client saw it"
    );
    request(
        &mut sock,
        r#"{"attach":{"stdin":false,"stdout":true,"stderr":true}}"#,
    );
    let (out, err, code) = read_frames(&mut sock);
    assert_eq!(
        (out.as_slice(), err.as_slice(), code),
        (&b"early\n"[..], &b"warn\n"[..], 4)
    );
    assert_eq!(started.finish()["exit_code"], 4);
}

/// A client that reads slowly holds the container's output back instead of losing it: far
/// more than the monitor would ever queue for it arrives, every byte in order.
#[test]
fn a_slow_attached_client_gets_every_byte() {
    let bb = busybox();
    let mut setup = Setup::new("");
    let data: Vec<u8> = (0..12u32 << 20)
        .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8)
        .collect();
    let file = setup.root.path().join("data");
    std::fs::write(&file, &data).unwrap();
    setup.command = format!("{bb} sh -c '{bb} cat {}; exit 6'", file.display());
    let mut started = setup
        .arg("--wait-attach")
        .arg("--log-driver")
        .arg("none")
        .start();
    let mut sock = started.connect();
    request(
        &mut sock,
        r#"{"attach":{"stdin":false,"stdout":true,"stderr":true}}"#,
    );
    // Far behind: the container has written what the pipes and the socket hold by now.
    std::thread::sleep(std::time::Duration::from_millis(500));
    let (out, err, code) = read_frames(&mut sock);
    assert_eq!((out.len(), err.len(), code), (data.len(), 0, 6));
    assert!(
        out == data,
        "the output differs from what the container wrote"
    );
    assert_eq!(started.finish()["exit_code"], 6);
}

#[test]
fn clients_that_go_away_are_dropped() {
    let bb = busybox();
    let mut setup = Setup::new("");
    let go = setup.root.path().join("go");
    setup.command = format!("while [ ! -e {} ]; do {bb} sleep 0.05; done", go.display());
    let mut started = setup.start();
    drop(started.connect());
    let monitor = started.monitor_pid();
    // The monitor's sockets: its listener plus one per client.
    let sockets = || {
        std::fs::read_dir(format!("/proc/{monitor}/fd"))
            .unwrap()
            .flatten()
            .filter(|e| {
                std::fs::read_link(e.path())
                    .is_ok_and(|l| l.to_string_lossy().starts_with("socket:"))
            })
            .count()
    };
    wait_until(|| (sockets() == 1).then_some(()));
    let mut waiter = started.connect();
    request(&mut waiter, r#"{"wait":{}}"#);
    let mut attacher = started.connect();
    request(
        &mut attacher,
        r#"{"attach":{"stdin":false,"stdout":true,"stderr":true}}"#,
    );
    wait_until(|| (sockets() == 3).then_some(()));
    drop(waiter);
    drop(attacher);
    wait_until(|| (sockets() == 1).then_some(()));
    std::fs::write(go, "").unwrap();
    assert_eq!(started.finish()["exit_code"], 0);
}
