//! Where `berth serve` listens: a unix socket (mode 0660), a socket passed by systemd (socket
//! activation, `-H fd://`), TCP only when asked for without TLS, and a clear error otherwise.

mod common;
use common::*;
use std::os::unix::fs::PermissionsExt;
use std::process::{Command, Stdio};

#[test]
fn the_unix_socket_is_for_root_and_its_group_only() {
    let s = Server::start();
    let mode = std::fs::metadata(s.socket()).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o660);
}

#[test]
fn plain_tcp_is_refused_without_insecure_tcp_and_served_with_it() {
    let dir = tempfile::tempdir().unwrap();
    let o = Command::new(bin("berth-serve"))
        .arg("--root")
        .arg(dir.path())
        .args(["-H", "tcp://127.0.0.1:0"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("--insecure-tcp"), "{}", stderr(&o));
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut child = Command::new(bin("berth-serve"))
        .arg("--root")
        .arg(dir.path())
        .args(["-H", &format!("tcp://127.0.0.1:{port}"), "--insecure-tcp"])
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut ok = false;
    for _ in 0..300 {
        let o = Command::new(DOCKER)
            .args([
                "-H",
                &format!("tcp://127.0.0.1:{port}"),
                "version",
                "--format",
                "{{.Server.Os}}",
            ])
            .env("DOCKER_CONFIG", dir.path().join("cfg"))
            .output()
            .unwrap();
        if o.status.success() {
            assert_eq!(stdout(&o), "linux\n");
            ok = true;
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let _ = child.kill();
    let _ = child.wait();
    assert!(ok, "the docker CLI never reached the server over TCP");
}

#[test]
fn a_socket_passed_by_systemd_is_served() {
    if Command::new("systemd-socket-activate")
        .arg("--help")
        .output()
        .is_err()
    {
        eprintln!("skipped: systemd-socket-activate is not installed");
        return;
    }
    let s = Server::start();
    let sock = s.dir.path().join("activated.sock");
    let mut child = Command::new("systemd-socket-activate")
        .arg("-l")
        .arg(&sock)
        .arg(bin("berth-serve"))
        .arg("--root")
        .arg(s.root())
        .args(["-H", "fd://"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // The socket exists before the server does: the first request starts it.
    for _ in 0..300 {
        if sock.exists() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let o = s
        .cli(DOCKER)
        .env("DOCKER_HOST", format!("unix://{}", sock.display()))
        .args(["run", "--rm", "busybox", "echo", "activated"])
        .output()
        .unwrap();
    let _ = child.kill();
    let _ = child.wait();
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(stdout(&o), "activated\n");
}

#[test]
fn fd_without_systemd_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let o = Command::new(bin("berth-serve"))
        .arg("--root")
        .arg(dir.path())
        .args(["-H", "fd://"])
        .env_remove("LISTEN_FDS")
        .env_remove("LISTEN_PID")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("LISTEN_FDS"), "{}", stderr(&o));
}

/// TCP with TLS and client verification, as dockerd's `--tlsverify`: the docker CLI with a
/// certificate the CA signed gets in, one without a certificate does not.
#[test]
fn tls_with_client_verification() {
    let tls = berth_testkit::Tls::make();
    let dir = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut child = Command::new(bin("berth-serve"))
        .arg("--root")
        .arg(dir.path())
        .args(["-H", &format!("tcp://127.0.0.1:{port}"), "--tlsverify"])
        .arg("--tlscacert")
        .arg(tls.ca_cert())
        .arg("--tlscert")
        .arg(tls.server_cert())
        .arg("--tlskey")
        .arg(tls.server_key())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let host = format!("tcp://127.0.0.1:{port}");
    let with_cert = || {
        Command::new(DOCKER)
            .args(["-H", &host, "--tlsverify"])
            .arg("--tlscacert")
            .arg(tls.ca_cert())
            .arg("--tlscert")
            .arg(tls.client_cert())
            .arg("--tlskey")
            .arg(tls.client_key())
            .args(["version", "--format", "{{.Server.Os}}"])
            .env("DOCKER_CONFIG", dir.path().join("cfg"))
            .output()
            .unwrap()
    };
    let mut ok = None;
    for _ in 0..300 {
        let o = with_cert();
        if o.status.success() {
            ok = Some(o);
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    // Without a client certificate: refused.
    let without = Command::new(DOCKER)
        .args(["-H", &host, "--tls"])
        .arg("--tlscacert")
        .arg(tls.ca_cert())
        .args(["version", "--format", "{{.Server.Os}}"])
        .env("DOCKER_CONFIG", dir.path().join("cfg"))
        .output()
        .unwrap();
    // Plain HTTP on the TLS port: refused too.
    let plain = Command::new(DOCKER)
        .args(["-H", &host, "version", "--format", "{{.Server.Os}}"])
        .env("DOCKER_CONFIG", dir.path().join("cfg"))
        .output()
        .unwrap();
    let _ = child.kill();
    let _ = child.wait();
    let ok = ok.expect("the docker CLI with a client certificate never got in");
    assert_eq!(stdout(&ok), "linux\n");
    assert!(!without.status.success(), "{}", stdout(&without));
    assert!(!plain.status.success(), "{}", stdout(&plain));
}
