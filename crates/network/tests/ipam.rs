//! Subnet and address choice (pure; no root needed).

use std::net::Ipv4Addr;

use berth_network::ipam::{
    check_gateway, default_gateway, mac_for, next_free, overlaps, parse_subnet, pick_subnet,
};
use berth_network::{Error, Ipv4Net};

fn net(s: &str) -> Ipv4Net {
    s.parse().unwrap()
}

fn ip(s: &str) -> Ipv4Addr {
    s.parse().unwrap()
}

#[test]
fn first_pool_is_dockers_default_bridge_subnet() {
    assert_eq!(pick_subnet(&[], &[]).unwrap(), net("172.17.0.0/16"));
}

#[test]
fn pools_overlapping_taken_subnets_or_host_routes_are_skipped() {
    let taken = [net("172.17.0.0/16"), net("172.19.5.0/24")];
    let routes = [net("172.18.0.0/15"), net("192.0.2.0/24")];
    // 172.18.0.0/15 covers 172.18 and 172.19.
    assert_eq!(pick_subnet(&taken, &routes).unwrap(), net("172.20.0.0/16"));
    // A wider host route hides the whole 172.16.0.0/12 range.
    let routes = [net("172.16.0.0/12")];
    assert_eq!(pick_subnet(&[], &routes).unwrap(), net("192.168.0.0/20"));
    let routes = [
        net("172.16.0.0/12"),
        net("192.168.1.0/24"),
        net("192.168.17.5/32"),
    ];
    assert_eq!(pick_subnet(&[], &routes).unwrap(), net("192.168.32.0/20"));
}

#[test]
fn default_routes_do_not_hide_every_pool() {
    let routes = [net("0.0.0.0/0"), net("10.0.0.0/8")];
    assert_eq!(pick_subnet(&[], &routes).unwrap(), net("172.17.0.0/16"));
}

#[test]
fn no_pool_left_is_exhausted() {
    let err = pick_subnet(&[net("172.16.0.0/12")], &[net("192.168.0.0/16")]).unwrap_err();
    assert!(matches!(err, Error::Exhausted(_)), "{err}");
    assert!(
        err.to_string()
            .contains("non-overlapping IPv4 address pool"),
        "{err}"
    );
}

#[test]
fn overlap_is_containment_either_way() {
    assert!(overlaps(&net("10.0.0.0/8"), &net("10.1.2.0/24")));
    assert!(overlaps(&net("10.1.2.0/24"), &net("10.0.0.0/8")));
    assert!(overlaps(&net("10.1.2.0/24"), &net("10.1.2.0/24")));
    assert!(overlaps(&net("10.1.2.0/24"), &net("10.1.2.200/32")));
    assert!(!overlaps(&net("10.1.2.0/24"), &net("10.1.3.0/24")));
    assert!(!overlaps(&net("172.17.0.0/16"), &net("172.18.0.0/16")));
}

#[test]
fn next_free_skips_network_gateway_broadcast_and_used() {
    let subnet = net("10.9.0.0/29"); // .0 network, .7 broadcast
    let gw = ip("10.9.0.1");
    assert_eq!(next_free(subnet, gw, &[]).unwrap(), ip("10.9.0.2"));
    assert_eq!(
        next_free(subnet, gw, &[ip("10.9.0.2"), ip("10.9.0.4")]).unwrap(),
        ip("10.9.0.3")
    );
    // A gateway in the middle is skipped too.
    assert_eq!(
        next_free(subnet, ip("10.9.0.3"), &[ip("10.9.0.1"), ip("10.9.0.2")]).unwrap(),
        ip("10.9.0.4")
    );
    let full: Vec<Ipv4Addr> = (2..=6).map(|n| Ipv4Addr::new(10, 9, 0, n)).collect();
    let err = next_free(subnet, gw, &full).unwrap_err();
    assert!(matches!(err, Error::Exhausted(_)), "{err}");
    assert!(err.to_string().contains("10.9.0.0/29"), "{err}");
    // Only the gateway fits in a /30 besides one container.
    let tiny = net("10.9.0.0/30");
    assert_eq!(
        next_free(tiny, ip("10.9.0.1"), &[]).unwrap(),
        ip("10.9.0.2")
    );
    assert!(next_free(tiny, ip("10.9.0.1"), &[ip("10.9.0.2")]).is_err());
}

#[test]
fn next_free_fills_a_slash_24_exactly() {
    let subnet = net("172.30.0.0/24");
    let gw = default_gateway(subnet);
    assert_eq!(gw, ip("172.30.0.1"));
    let mut used = Vec::new();
    while let Ok(a) = next_free(subnet, gw, &used) {
        assert!(subnet.contains(&a) && a != gw && a != subnet.network() && a != subnet.broadcast());
        assert!(!used.contains(&a));
        used.push(a);
    }
    assert_eq!(used.len(), 253);
}

#[test]
fn mac_is_docker_prefix_and_ip_bytes() {
    assert_eq!(mac_for(ip("172.17.0.2")), [0x02, 0x42, 172, 17, 0, 2]);
    assert_eq!(mac_for(ip("10.255.1.254")), [0x02, 0x42, 10, 255, 1, 254]);
}

#[test]
fn bad_subnets_are_one_clear_error() {
    for (text, why) in [
        ("foo", "invalid subnet foo: invalid CIDR block notation"),
        (
            "10.0.0.0",
            "invalid subnet 10.0.0.0: invalid CIDR block notation",
        ),
        (
            "10.0.0.0/33",
            "invalid subnet 10.0.0.0/33: invalid CIDR block notation",
        ),
        (
            "fd00::/64",
            "invalid subnet fd00::/64: invalid CIDR block notation",
        ),
        (
            "10.0.0.1/24",
            "invalid subnet 10.0.0.1/24: it should be 10.0.0.0/24",
        ),
        ("10.0.0.0/31", "invalid subnet 10.0.0.0/31: too small"),
    ] {
        let err = parse_subnet(text).unwrap_err();
        assert!(matches!(err, Error::Invalid(_)), "{err}");
        assert!(err.to_string().starts_with(why), "{text}: {err}");
    }
    assert_eq!(parse_subnet("10.1.0.0/16").unwrap(), net("10.1.0.0/16"));
}

#[test]
fn gateways_outside_or_at_the_edges_are_refused() {
    let subnet = net("10.1.0.0/16");
    assert_eq!(
        check_gateway(subnet, "10.1.255.254").unwrap(),
        ip("10.1.255.254")
    );
    for (text, why) in [
        (
            "10.2.0.1",
            "invalid gateway 10.2.0.1: it is not in subnet 10.1.0.0/16",
        ),
        (
            "10.1.0.0",
            "invalid gateway 10.1.0.0: it is the network or broadcast address",
        ),
        (
            "10.1.255.255",
            "invalid gateway 10.1.255.255: it is the network or broadcast address",
        ),
        ("bar", "invalid gateway bar: not an IPv4 address"),
    ] {
        let err = check_gateway(subnet, text).unwrap_err();
        assert!(matches!(err, Error::Invalid(_)), "{err}");
        assert!(err.to_string().starts_with(why), "{text}: {err}");
    }
}
