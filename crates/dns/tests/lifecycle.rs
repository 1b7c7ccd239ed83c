//! How the engine starts and stops a network's server: pid file once ready, SIGTERM, the
//! hosts file's removal, bad input.

mod common;

use std::fs;
use std::net::UdpSocket;
use std::process::Command;

use common::{addresses, free_port, query, udp, v4, Dns};
use hickory_proto::op::ResponseCode;
use hickory_proto::rr::RecordType;

#[test]
fn pid_file_names_the_server_and_sigterm_stops_it_cleanly() {
    let mut dns = Dns::start("10.89.0.2 web\n", &[]);
    let pid: i32 = fs::read_to_string(&dns.pid_file)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    assert_eq!(pid, dns.pid());
    // Ready as soon as the pid file is there: no retry needed, on either protocol.
    assert_eq!(
        addresses(&udp(dns.addr, &query("web", RecordType::A))),
        vec![v4("10.89.0.2")]
    );
    assert_eq!(
        addresses(&common::tcp(dns.addr, &query("web", RecordType::A))),
        vec![v4("10.89.0.2")]
    );
    let status = dns.terminate();
    assert!(status.success(), "{status}");
    assert!(!dns.pid_file.exists(), "pid file left behind");
}

#[test]
fn removing_the_hosts_file_stops_the_server() {
    let mut dns = Dns::start("10.89.0.2 web\n", &[]);
    fs::remove_file(&dns.hosts).unwrap();
    let status = dns
        .wait_exit()
        .expect("still running after its hosts file was removed");
    assert!(status.success(), "{status}");
    assert!(!dns.pid_file.exists());
}

#[test]
fn malformed_requests_get_formerr_or_nothing_and_the_server_goes_on() {
    let dns = Dns::start("10.89.0.2 web\n", &[]);
    let client = UdpSocket::bind("127.0.0.1:0").unwrap();
    client
        .set_read_timeout(Some(std::time::Duration::from_secs(5)))
        .unwrap();
    // Too short to be DNS: dropped.
    client.send_to(b"hello", dns.addr).unwrap();
    // A header that promises a question it does not carry: FORMERR with its ID.
    client
        .send_to(
            &[0x12, 0x34, 0x01, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xff],
            dns.addr,
        )
        .unwrap();
    let mut buf = [0u8; 512];
    let len = client.recv(&mut buf).unwrap();
    assert_eq!(&buf[..2], &[0x12, 0x34]);
    assert_eq!(
        buf[3] & 0x0f,
        u16::from(ResponseCode::FormErr) as u8,
        "{:?}",
        &buf[..len]
    );
    assert_eq!(
        addresses(&udp(dns.addr, &query("web", RecordType::A))),
        vec![v4("10.89.0.2")]
    );
}

#[test]
fn bad_arguments_and_a_taken_port_fail_with_one_error_line() {
    let bin = env!("CARGO_BIN_EXE_berth-dns");
    let dir = tempfile::tempdir().unwrap();
    let hosts = dir.path().join("h");
    fs::write(&hosts, "").unwrap();
    let taken = UdpSocket::bind("127.0.0.1:0").unwrap();
    let taken = taken.local_addr().unwrap().to_string();
    let missing = dir.path().join("missing").to_string_lossy().into_owned();
    let hosts = hosts.to_string_lossy().into_owned();
    let free = free_port().to_string();
    let cases: [(&[&str], &str); 4] = [
        (&["--hosts", &hosts], "--listen is required"),
        (
            &["--listen", "nonsense", "--hosts", &hosts],
            "--listen nonsense",
        ),
        (&["--listen", &taken, "--hosts", &hosts], "listening on UDP"),
        (
            &["--listen", &free, "--hosts", &missing],
            "reading hosts file",
        ),
    ];
    for (args, expected) in cases {
        let out = Command::new(bin).args(args).output().unwrap();
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        let first = err.lines().next().unwrap_or("");
        assert!(
            first.starts_with("Error: ") && first.contains(expected),
            "{args:?}: {err}"
        );
    }
}
