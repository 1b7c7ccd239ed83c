//! `-p` parsing (Docker's forms and error texts) and host port checks against real sockets.

use std::net::{Ipv4Addr, TcpListener, UdpSocket};

use berth_network::ports::{
    check_free, free_in, parse_publish, random_free, PortSpec, Proto, RANDOM_PORTS,
};
use berth_network::Error;

fn spec(
    host_ip: Option<Ipv4Addr>,
    host_port: Option<u16>,
    container_port: u16,
    proto: Proto,
) -> PortSpec {
    PortSpec {
        host_ip,
        host_port,
        host_port_last: None,
        container_port,
        proto,
    }
}

fn parse_err(s: &str) -> String {
    parse_publish(s).unwrap_err().to_string()
}

#[test]
fn publish_container_port_only_gets_a_random_host_port() {
    assert_eq!(
        parse_publish("80").unwrap(),
        vec![spec(None, None, 80, Proto::Tcp)]
    );
}

#[test]
fn publish_host_and_container_port_with_protocol() {
    assert_eq!(
        parse_publish("8080:80").unwrap(),
        vec![spec(None, Some(8080), 80, Proto::Tcp)]
    );
    assert_eq!(
        parse_publish("5353:53/udp").unwrap(),
        vec![spec(None, Some(5353), 53, Proto::Udp)]
    );
    assert_eq!(
        parse_publish("53/UDP").unwrap(),
        vec![spec(None, None, 53, Proto::Udp)]
    );
}

#[test]
fn publish_with_host_ip_and_empty_host_port() {
    let lo = Some(Ipv4Addr::LOCALHOST);
    assert_eq!(
        parse_publish("127.0.0.1::80").unwrap(),
        vec![spec(lo, None, 80, Proto::Tcp)]
    );
    assert_eq!(
        parse_publish("127.0.0.1:8080:80/tcp").unwrap(),
        vec![spec(lo, Some(8080), 80, Proto::Tcp)]
    );
    // 0.0.0.0 is every address, the same as none.
    assert_eq!(
        parse_publish("0.0.0.0:8080:80").unwrap(),
        vec![spec(None, Some(8080), 80, Proto::Tcp)]
    );
}

#[test]
fn publish_ranges_map_port_by_port() {
    assert_eq!(
        parse_publish("8000-8002:80-82/udp").unwrap(),
        vec![
            spec(None, Some(8000), 80, Proto::Udp),
            spec(None, Some(8001), 81, Proto::Udp),
            spec(None, Some(8002), 82, Proto::Udp),
        ]
    );
    assert_eq!(
        parse_publish("80-81").unwrap(),
        vec![
            spec(None, None, 80, Proto::Tcp),
            spec(None, None, 81, Proto::Tcp)
        ]
    );
}

#[test]
fn publish_host_range_for_one_container_port_picks_from_the_range() {
    let got = parse_publish("8000-8010:80").unwrap();
    assert_eq!(
        got,
        vec![PortSpec {
            host_ip: None,
            host_port: Some(8000),
            host_port_last: Some(8010),
            container_port: 80,
            proto: Proto::Tcp,
        }]
    );
}

#[test]
fn publish_bad_input_has_dockers_messages() {
    assert_eq!(parse_err("80a"), "invalid containerPort: 80a");
    assert_eq!(parse_err("8080:0"), "invalid containerPort: 0");
    assert_eq!(parse_err("8080:70000"), "invalid containerPort: 70000");
    assert_eq!(parse_err("82-80"), "invalid containerPort: 82-80");
    assert_eq!(parse_err("x:80"), "invalid hostPort: x");
    assert_eq!(parse_err("-1:80"), "invalid hostPort: -1");
    assert_eq!(
        parse_err("8000-8001:80-82"),
        "invalid ranges specified for container and host Ports: 80-82 and 8000-8001"
    );
    assert_eq!(parse_err("80/sctp"), "invalid proto: sctp");
    assert_eq!(parse_err("8080:"), "no port specified: 8080:<empty>");
    assert_eq!(
        parse_err("300.1.1.1:80:80"),
        "invalid IP address: 300.1.1.1"
    );
    assert!(parse_err("[::1]:80:80").contains("IPv6"));
}

#[test]
fn a_port_held_by_a_tcp_listener_is_in_use() {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    for ip in [Some(Ipv4Addr::LOCALHOST), None] {
        match check_free(Proto::Tcp, ip, port) {
            Err(e @ Error::PortInUse { .. }) => {
                let addr = ip.unwrap_or(Ipv4Addr::UNSPECIFIED);
                assert_eq!(
                    e.to_string(),
                    format!("Bind for {addr}:{port} failed: port is already allocated")
                );
            }
            other => panic!("{ip:?}:{port} held by a listener: {other:?}"),
        }
    }
    drop(l);
    check_free(Proto::Tcp, Some(Ipv4Addr::LOCALHOST), port).unwrap();
}

#[test]
fn a_port_held_by_a_udp_socket_is_in_use_for_udp_only() {
    let s = UdpSocket::bind("127.0.0.1:0").unwrap();
    let port = s.local_addr().unwrap().port();
    assert!(matches!(
        check_free(Proto::Udp, Some(Ipv4Addr::LOCALHOST), port),
        Err(Error::PortInUse { .. })
    ));
    assert!(matches!(
        check_free(Proto::Udp, None, port),
        Err(Error::PortInUse { .. })
    ));
    // TCP and UDP ports are separate name spaces.
    let tcp_free = check_free(Proto::Tcp, Some(Ipv4Addr::LOCALHOST), port);
    assert!(
        tcp_free.is_ok() || TcpListener::bind(("127.0.0.1", port)).is_err(),
        "{tcp_free:?}"
    );
}

#[test]
fn the_check_leaves_the_port_free() {
    let port = random_free(Proto::Tcp, Some(Ipv4Addr::LOCALHOST), &[]).unwrap();
    check_free(Proto::Tcp, Some(Ipv4Addr::LOCALHOST), port).unwrap();
    // Closed right away, and without SO_REUSEADDR games a real bind right after works.
    TcpListener::bind(("127.0.0.1", port)).unwrap();
}

#[test]
fn random_free_ports_are_in_range_free_and_not_avoided() {
    let held = TcpListener::bind("127.0.0.1:0").unwrap();
    let held_port = held.local_addr().unwrap().port();
    for _ in 0..20 {
        let p = random_free(Proto::Tcp, None, &[held_port]).unwrap();
        assert!(RANDOM_PORTS.contains(&p), "{p}");
        assert_ne!(p, held_port);
    }
    // A range with every port avoided or taken has nothing to give.
    let got = free_in(Proto::Tcp, None, held_port..=held_port, &[]);
    assert!(matches!(got, Err(Error::Exhausted(_))), "{got:?}");
    let got = free_in(Proto::Udp, None, 40000..=40001, &[40000, 40001]);
    assert!(matches!(got, Err(Error::Exhausted(_))), "{got:?}");
}
