//! A container on a user network resolves its neighbours by name and alias.

mod common;

use common::{addresses, query, tcp, udp, v4, Dns};
use hickory_proto::op::ResponseCode;
use hickory_proto::rr::{Name, RData, RecordType};

const HOSTS: &str = "\
10.89.0.2 web web-alias
10.89.0.3 db shared
10.89.0.4 cache shared
10.89.0.5 Dotted.
";

#[test]
fn known_name_resolves_to_its_address_with_docker_ttl() {
    let dns = Dns::start(HOSTS, &[]);
    let reply = udp(dns.addr, &query("web", RecordType::A));
    assert_eq!(reply.metadata.response_code, ResponseCode::NoError);
    assert_eq!(addresses(&reply), vec![v4("10.89.0.2")]);
    assert_eq!(reply.answers[0].ttl, 600);
    assert!(reply.metadata.authoritative);
}

#[test]
fn alias_resolves_to_the_same_container() {
    let dns = Dns::start(HOSTS, &[]);
    let reply = udp(dns.addr, &query("web-alias.", RecordType::A));
    assert_eq!(addresses(&reply), vec![v4("10.89.0.2")]);
}

#[test]
fn alias_shared_by_two_containers_gives_both_addresses() {
    let dns = Dns::start(HOSTS, &[]);
    let reply = udp(dns.addr, &query("shared", RecordType::A));
    assert_eq!(addresses(&reply), vec![v4("10.89.0.3"), v4("10.89.0.4")]);
}

#[test]
fn names_match_in_any_case_and_with_a_trailing_dot_in_the_file() {
    let dns = Dns::start(HOSTS, &[]);
    let reply = udp(dns.addr, &query("WeB.", RecordType::A));
    assert_eq!(addresses(&reply), vec![v4("10.89.0.2")]);
    // The answer carries the name as asked, as resolvers expect.
    assert_eq!(reply.answers[0].name, Name::from_ascii("WeB.").unwrap());
    let reply = udp(dns.addr, &query("dotted", RecordType::A));
    assert_eq!(addresses(&reply), vec![v4("10.89.0.5")]);
}

#[test]
fn other_record_types_of_a_known_name_get_an_empty_noerror() {
    let dns = Dns::start(HOSTS, &[]);
    for rtype in [RecordType::AAAA, RecordType::MX, RecordType::TXT] {
        let reply = udp(dns.addr, &query("web", rtype));
        assert_eq!(
            reply.metadata.response_code,
            ResponseCode::NoError,
            "{rtype}"
        );
        assert!(reply.answers.is_empty(), "{rtype}: {:?}", reply.answers);
    }
}

#[test]
fn reverse_lookup_of_a_container_address_gives_its_name() {
    let dns = Dns::start(HOSTS, &[]);
    let reply = udp(dns.addr, &query("3.0.89.10.in-addr.arpa.", RecordType::PTR));
    assert_eq!(reply.metadata.response_code, ResponseCode::NoError);
    let names: Vec<&Name> = reply
        .answers
        .iter()
        .filter_map(|r| match &r.data {
            RData::PTR(ptr) => Some(&ptr.0),
            _ => None,
        })
        .collect();
    assert_eq!(names, vec![&Name::from_ascii("db.").unwrap()]);
}

#[test]
fn tcp_queries_are_answered_like_udp_ones() {
    let dns = Dns::start(HOSTS, &[]);
    let reply = tcp(dns.addr, &query("shared", RecordType::A));
    assert_eq!(addresses(&reply), vec![v4("10.89.0.3"), v4("10.89.0.4")]);
}

#[test]
fn a_new_container_in_the_rewritten_hosts_file_resolves() {
    let dns = Dns::start(HOSTS, &[]);
    let before = udp(dns.addr, &query("newcomer", RecordType::A));
    assert_eq!(
        before.metadata.response_code,
        ResponseCode::ServFail,
        "no upstream to ask"
    );
    dns.rewrite_hosts(&format!("{HOSTS}10.89.0.9 newcomer\n"));
    // The server re-reads the file at most every 100 ms: ask until it has.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    loop {
        let reply = udp(dns.addr, &query("newcomer", RecordType::A));
        if !reply.answers.is_empty() {
            assert_eq!(addresses(&reply), vec![v4("10.89.0.9")]);
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "new name never resolved"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    // And a removed one no longer does.
    dns.rewrite_hosts("10.89.0.9 newcomer\n");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while !udp(dns.addr, &query("web", RecordType::A))
        .answers
        .is_empty()
    {
        assert!(
            std::time::Instant::now() < deadline,
            "removed name still resolves"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

#[test]
fn many_containers_behind_one_alias_truncate_over_udp_and_come_whole_over_tcp() {
    let hosts: String = (1..=100)
        .map(|i| format!("10.89.1.{i} c{i} crowd\n"))
        .collect();
    let dns = Dns::start(&hosts, &[]);
    let over_udp = udp(dns.addr, &query("crowd", RecordType::A));
    assert!(over_udp.metadata.truncation);
    assert!(!over_udp.answers.is_empty() && over_udp.answers.len() < 100);
    let over_tcp = tcp(dns.addr, &query("crowd", RecordType::A));
    assert!(!over_tcp.metadata.truncation);
    let expected: Vec<_> = (1..=100).map(|i| v4(&format!("10.89.1.{i}"))).collect();
    assert_eq!(addresses(&over_tcp), expected);
}
