//! Names that are not the network's own go to the upstream resolvers. The upstream here is
//! a second berth-dns, so nothing leaves the machine.

mod common;

use std::net::{SocketAddr, UdpSocket};

use common::{addresses, free_port, query, tcp, udp, v4, Dns};
use hickory_proto::op::ResponseCode;
use hickory_proto::rr::RecordType;

const LOCAL: &str = "10.89.0.2 web\n";
const FARAWAY: &str = "192.0.2.7 faraway.example\n";

#[test]
fn unknown_name_is_answered_by_the_upstream() {
    let upstream = Dns::start(FARAWAY, &[]);
    let dns = Dns::start(LOCAL, &[upstream.addr]);
    let reply = udp(dns.addr, &query("faraway.example", RecordType::A));
    assert_eq!(reply.metadata.response_code, ResponseCode::NoError);
    assert_eq!(addresses(&reply), vec![v4("192.0.2.7")]);
    // The network's own names are still answered locally.
    assert_eq!(
        addresses(&udp(dns.addr, &query("web", RecordType::A))),
        vec![v4("10.89.0.2")]
    );
}

#[test]
fn unknown_name_asked_over_tcp_is_forwarded_too() {
    let upstream = Dns::start(FARAWAY, &[]);
    let dns = Dns::start(LOCAL, &[upstream.addr]);
    let reply = tcp(dns.addr, &query("faraway.example", RecordType::A));
    assert_eq!(addresses(&reply), vec![v4("192.0.2.7")]);
}

#[test]
fn upstream_errors_are_passed_on() {
    // The upstream itself has no upstream: its SERVFAIL reaches the client unchanged.
    let upstream = Dns::start(FARAWAY, &[]);
    let dns = Dns::start(LOCAL, &[upstream.addr]);
    let reply = udp(dns.addr, &query("nowhere.example", RecordType::A));
    assert_eq!(reply.metadata.response_code, ResponseCode::ServFail);
}

#[test]
fn upstream_that_never_answers_gives_servfail() {
    let silent = UdpSocket::bind("127.0.0.1:0").unwrap();
    let dns = Dns::start(LOCAL, &[silent.local_addr().unwrap()]);
    let reply = udp(dns.addr, &query("faraway.example", RecordType::A));
    assert_eq!(reply.metadata.response_code, ResponseCode::ServFail);
    assert!(reply.answers.is_empty());
}

#[test]
fn no_upstream_gives_servfail() {
    let dns = Dns::start(LOCAL, &[]);
    let reply = udp(dns.addr, &query("faraway.example", RecordType::A));
    assert_eq!(reply.metadata.response_code, ResponseCode::ServFail);
}

#[test]
fn a_silent_or_closed_first_upstream_falls_back_to_the_next() {
    let upstream = Dns::start(FARAWAY, &[]);
    let silent = UdpSocket::bind("127.0.0.1:0").unwrap();
    let closed: SocketAddr = free_port();
    for first in [silent.local_addr().unwrap(), closed] {
        let dns = Dns::start(LOCAL, &[first, upstream.addr]);
        let reply = udp(dns.addr, &query("faraway.example", RecordType::A));
        assert_eq!(
            addresses(&reply),
            vec![v4("192.0.2.7")],
            "first upstream {first}"
        );
    }
}

#[test]
fn a_slow_answer_does_not_hold_up_local_names() {
    let silent = UdpSocket::bind("127.0.0.1:0").unwrap();
    let dns = Dns::start(LOCAL, &[silent.local_addr().unwrap()]);
    let client = UdpSocket::bind("127.0.0.1:0").unwrap();
    let pending = query("faraway.example", RecordType::A);
    client
        .send_to(&pending.to_vec().unwrap(), dns.addr)
        .unwrap();
    // While that one waits on the silent upstream, a local name is answered first.
    let local = query("web", RecordType::A);
    client.send_to(&local.to_vec().unwrap(), dns.addr).unwrap();
    client
        .set_read_timeout(Some(std::time::Duration::from_secs(6)))
        .unwrap();
    let mut buf = vec![0; 4096];
    let len = client.recv(&mut buf).unwrap();
    let first = hickory_proto::op::Message::from_vec(&buf[..len]).unwrap();
    assert_eq!(first.metadata.id, local.metadata.id);
    let len = client.recv(&mut buf).unwrap();
    let second = hickory_proto::op::Message::from_vec(&buf[..len]).unwrap();
    assert_eq!(second.metadata.id, pending.metadata.id);
    assert_eq!(second.metadata.response_code, ResponseCode::ServFail);
}
