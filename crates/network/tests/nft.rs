//! Berth's nftables rules, in a private table per test (`berth_t<random>`), read back with
//! `nft -j list`, and real traffic through them: a network namespace behind a bridge, both
//! made here with `ip`, reached from the host on a published TCP and UDP port. Needs root;
//! traffic stays on this machine.

use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::process::Command;
use std::thread;
use std::time::Duration;

use berth_network::nft::{NetRules, Nft, PortMap, Proto};
use berth_network::ports::random_free;
use berth_network::Ipv4Net;
use serde_json::{json, Value};

fn rand_hex() -> String {
    let mut b = [0u8; 3];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut b))
        .unwrap();
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// A private table, deleted when the test ends however it ends.
struct Table(Nft);

impl Table {
    fn new() -> Table {
        Table(Nft::named(&format!("berth_t{}", rand_hex())))
    }

    /// The table's rules as (chain, comment, rule JSON); `None` if the table is gone.
    fn rules(&self) -> Option<Vec<(String, String, Value)>> {
        let out = Command::new("nft")
            .args(["-j", "list", "table", "ip", self.0.table()])
            .output()
            .unwrap();
        if !out.status.success() {
            return None;
        }
        let v: Value = serde_json::from_slice(&out.stdout).unwrap();
        Some(
            v["nftables"]
                .as_array()
                .unwrap()
                .iter()
                .filter_map(|i| i.get("rule"))
                .map(|r| {
                    (
                        r["chain"].as_str().unwrap().to_string(),
                        r["comment"].as_str().unwrap_or("").to_string(),
                        r["expr"].clone(),
                    )
                })
                .collect(),
        )
    }

    fn tagged(&self, tag: &str) -> Vec<(String, Value)> {
        self.rules()
            .unwrap_or_default()
            .into_iter()
            .filter(|(_, c, _)| c == tag)
            .map(|(chain, _, e)| (chain, e))
            .collect()
    }

    fn set_elements(&self) -> Vec<String> {
        let out = Command::new("nft")
            .args(["-j", "list", "set", "ip", self.0.table(), "bridges"])
            .output()
            .unwrap();
        let v: Value = serde_json::from_slice(&out.stdout).unwrap();
        v["nftables"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|i| i.get("set"))
            .filter_map(|s| s.get("elem"))
            .flat_map(|e| e.as_array().cloned().unwrap_or_default())
            .map(|e| e.as_str().unwrap().to_string())
            .collect()
    }
}

impl Drop for Table {
    fn drop(&mut self) {
        let _ = self.0.delete_table();
    }
}

fn net<'a>(bridge: &'a str, subnet: &str, internal: bool) -> NetRules<'a> {
    NetRules {
        bridge,
        subnet: subnet.parse().unwrap(),
        internal,
    }
}

fn port(
    host_ip: Option<Ipv4Addr>,
    host_port: u16,
    c: [u8; 4],
    cport: u16,
    proto: Proto,
) -> PortMap {
    PortMap {
        host_ip,
        host_port,
        container_ip: Ipv4Addr::from(c),
        container_port: cport,
        proto,
    }
}

/// Whether a rule has the statement `stmt` (compared as JSON values, key order aside).
fn has(expr: &Value, stmt: Value) -> bool {
    expr.as_array().unwrap().contains(&stmt)
}

fn matches(op: &str, left: Value, right: Value) -> Value {
    json!({"match": {"op": op, "left": left, "right": right}})
}

/// The DNAT target of a `ports` rule, as `addr:port`.
fn dnat_of(expr: &Value) -> String {
    let d = expr
        .as_array()
        .unwrap()
        .iter()
        .find_map(|s| s.get("dnat"))
        .expect("a dnat statement");
    format!("{}:{}", d["addr"].as_str().unwrap(), d["port"])
}

#[test]
fn publish_writes_one_dnat_rule_per_port_commented_with_the_container() {
    let t = Table::new();
    t.0.ensure_network(&net("btpub0", "10.250.1.0/24", false))
        .unwrap();
    t.0.publish(
        "c1",
        "btpub0",
        &[
            port(None, 8080, [10, 250, 1, 2], 80, Proto::Tcp),
            port(
                Some(Ipv4Addr::LOCALHOST),
                5353,
                [10, 250, 1, 2],
                53,
                Proto::Udp,
            ),
        ],
    )
    .unwrap();
    let rules = t.tagged("berth:c1");
    assert_eq!(rules.len(), 2, "{rules:?}");
    assert!(rules.iter().all(|(chain, _)| chain == "ports"));
    assert_eq!(dnat_of(&rules[0].1), "10.250.1.2:80");
    assert_eq!(dnat_of(&rules[1].1), "10.250.1.2:53");
    let udp = &rules[1].1;
    let dport = json!({"payload": {"protocol": "udp", "field": "dport"}});
    assert!(has(udp, matches("==", dport, json!(5353))), "{udp}");
    let daddr = json!({"payload": {"protocol": "ip", "field": "daddr"}});
    assert!(has(udp, matches("==", daddr, json!("127.0.0.1"))), "{udp}");
    let tcp = rules[0].1.to_string();
    assert!(
        !tcp.contains("daddr"),
        "no host IP: any local address: {tcp}"
    );
    // The base chains send traffic for local addresses to `ports`.
    let all = t.rules().unwrap();
    for chain in ["prerouting", "output"] {
        let jumps: Vec<_> = all.iter().filter(|(c, _, _)| c == chain).collect();
        assert_eq!(jumps.len(), 1, "{chain}: {jumps:?}");
        let e = jumps[0].2.to_string();
        assert!(
            e.contains(r#""fib""#) && e.contains(r#""target":"ports""#),
            "{e}"
        );
    }
}

#[test]
fn publish_again_replaces_the_containers_rules() {
    let t = Table::new();
    t.0.publish(
        "c1",
        "btrep0",
        &[port(None, 8080, [10, 250, 2, 2], 80, Proto::Tcp)],
    )
    .unwrap();
    t.0.publish(
        "c1",
        "btrep0",
        &[port(None, 9090, [10, 250, 2, 3], 90, Proto::Tcp)],
    )
    .unwrap();
    let rules = t.tagged("berth:c1");
    assert_eq!(rules.len(), 1, "{rules:?}");
    assert_eq!(dnat_of(&rules[0].1), "10.250.2.3:90");
    t.0.publish("c1", "btrep0", &[]).unwrap();
    assert!(t.tagged("berth:c1").is_empty());
}

#[test]
fn unpublish_removes_exactly_that_containers_rules() {
    let t = Table::new();
    let ports = |n: u8| {
        vec![
            port(None, 8000 + u16::from(n), [10, 250, 3, n], 80, Proto::Tcp),
            port(None, 8100 + u16::from(n), [10, 250, 3, n], 81, Proto::Udp),
        ]
    };
    for n in 1..=3 {
        t.0.publish(&format!("c{n}"), "btunp0", &ports(n)).unwrap();
    }
    assert_eq!(t.0.owners().unwrap(), ["c1", "c2", "c3"]);
    t.0.unpublish("c2").unwrap();
    assert!(t.tagged("berth:c2").is_empty());
    assert_eq!(t.tagged("berth:c1").len(), 2);
    assert_eq!(t.tagged("berth:c3").len(), 2);
    assert_eq!(t.0.owners().unwrap(), ["c1", "c3"]);
    // Unpublishing twice, or a container that never published, is fine.
    t.0.unpublish("c2").unwrap();
    t.0.unpublish("never").unwrap();
    assert_eq!(t.0.owners().unwrap(), ["c1", "c3"]);
}

#[test]
fn a_missing_table_has_no_owners_and_nothing_to_remove() {
    let t = Table::new();
    assert!(t.0.owners().unwrap().is_empty());
    t.0.unpublish("c1").unwrap();
    t.0.remove_network("btnone0").unwrap();
    t.0.delete_table().unwrap();
    assert!(t.rules().is_none(), "nothing made the table");
}

#[test]
fn ensure_network_is_idempotent_and_writes_the_design_rules() {
    let t = Table::new();
    let n = net("btidem0", "10.250.4.0/24", false);
    t.0.ensure_network(&n).unwrap();
    let first = t.rules().unwrap();
    t.0.ensure_network(&n).unwrap();
    t.0.ensure_network(&n).unwrap();
    let third = t.rules().unwrap();
    let shape = |r: &[(String, String, Value)]| -> Vec<(String, String, String)> {
        r.iter()
            .map(|(c, m, e)| (c.clone(), m.clone(), e.to_string()))
            .collect()
    };
    let (mut a, mut b) = (shape(&first), shape(&third));
    a.sort();
    b.sort();
    assert_eq!(a, b);

    let mine = t.tagged("berth-net:btidem0");
    let post: Vec<&Value> = mine
        .iter()
        .filter(|(c, _)| c == "postrouting")
        .map(|(_, e)| e)
        .collect();
    assert_eq!(post.len(), 3, "{post:?}");
    assert!(post.iter().all(|e| has(e, json!({"masquerade": null}))));
    let (saddr, oifname) = (
        json!({"payload": {"protocol": "ip", "field": "saddr"}}),
        json!({"meta": {"key": "oifname"}}),
    );
    let subnet = json!({"prefix": {"addr": "10.250.4.0", "len": 24}});
    assert!(has(post[0], matches("==", saddr.clone(), subnet.clone())));
    assert!(has(
        post[0],
        matches("!=", oifname.clone(), json!("btidem0"))
    ));
    assert!(has(
        post[1],
        matches("in", json!({"ct": {"key": "status"}}), json!("dnat"))
    ));
    let lo = json!({"prefix": {"addr": "127.0.0.0", "len": 8}});
    assert!(has(post[2], matches("==", saddr, lo)));
    assert!(has(post[2], matches("==", oifname, json!("btidem0"))));
    let iso: Vec<String> = mine
        .iter()
        .filter(|(c, _)| c == "isolation")
        .map(|(_, e)| e.to_string())
        .collect();
    assert_eq!(iso.len(), 2, "{iso:?}");
    assert!(iso[0].contains("accept") && iso[1].contains("@bridges") && iso[1].contains("drop"));
    assert_eq!(t.set_elements(), ["btidem0"]);
}

#[test]
fn an_internal_network_has_no_masquerade_out_and_drops_other_traffic() {
    let t = Table::new();
    t.0.ensure_network(&net("btint0", "10.250.5.0/24", true))
        .unwrap();
    let mine = t.tagged("berth-net:btint0");
    let post: Vec<String> = mine
        .iter()
        .filter(|(c, _)| c == "postrouting")
        .map(|(_, e)| e.to_string())
        .collect();
    assert!(
        post.iter().all(|e| !e.contains(r#""!=""#)),
        "no masquerade to other interfaces: {post:?}"
    );
    let drops = mine
        .iter()
        .filter(|(c, e)| c == "isolation" && e.to_string().contains("drop"))
        .count();
    assert_eq!(drops, 2, "{mine:?}");
}

#[test]
fn remove_network_and_delete_table_leave_nothing() {
    let t = Table::new();
    t.0.ensure_network(&net("btrm0", "10.250.6.0/24", false))
        .unwrap();
    t.0.ensure_network(&net("btrm1", "10.250.7.0/24", false))
        .unwrap();
    t.0.publish(
        "c1",
        "btrm0",
        &[port(None, 8080, [10, 250, 6, 2], 80, Proto::Tcp)],
    )
    .unwrap();
    t.0.remove_network("btrm0").unwrap();
    assert!(t.tagged("berth-net:btrm0").is_empty());
    assert!(
        !t.tagged("berth-net:btrm1").is_empty(),
        "the other network stays"
    );
    assert_eq!(t.set_elements(), ["btrm1"]);
    t.0.remove_network("btrm0").unwrap();
    t.0.unpublish("c1").unwrap();
    t.0.remove_network("btrm1").unwrap();
    let left: Vec<_> = t
        .rules()
        .unwrap()
        .into_iter()
        .filter(|(_, comment, _)| !comment.is_empty())
        .collect();
    assert!(left.is_empty(), "{left:?}");
    assert!(t.set_elements().is_empty());
    t.0.delete_table().unwrap();
    assert!(t.rules().is_none());
}

#[test]
fn bad_names_are_refused_before_nft_runs() {
    let t = Table::new();
    assert!(t.0.publish("c 1", "btbad0", &[]).is_err());
    assert!(t.0.unpublish("c\"1").is_err());
    assert!(t
        .0
        .ensure_network(&net("../x", "10.250.8.0/24", false))
        .is_err());
    assert!(t.0.remove_network("a-name-too-long-for-linux").is_err());
    assert!(t.rules().is_none());
}

fn ip(args: &[&str]) {
    let out = Command::new("ip").args(args).output().unwrap();
    assert!(
        out.status.success(),
        "ip {}: {}",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A bridge with a gateway address in a /24 that no host route mentions, and "containers":
/// network namespaces whose veth ends are on the bridge. All deleted when the test ends.
struct Lab {
    bridge: String,
    subnet: Ipv4Net,
    containers: Vec<Ctr>,
}

struct Ctr {
    netns: String,
    veth: String,
    ip: Ipv4Addr,
}

impl Lab {
    fn new() -> Lab {
        let id = rand_hex();
        let routes = Command::new("ip")
            .args(["-4", "route"])
            .output()
            .unwrap()
            .stdout;
        let routes = String::from_utf8(routes).unwrap();
        let start = u8::from_str_radix(&id[..2], 16).unwrap();
        let subnet: Ipv4Net = (0..=255u8)
            .map(|i| format!("10.251.{}", start.wrapping_add(i)))
            .find(|s| !routes.contains(&format!("{s}.")))
            .map(|s| format!("{s}.0/24"))
            .unwrap()
            .parse()
            .unwrap();
        let lab = Lab {
            bridge: format!("bt{id}b"),
            subnet,
            containers: Vec::new(),
        };
        ip(&["link", "add", &lab.bridge, "type", "bridge"]);
        let gw = format!("{}/24", lab.gateway());
        ip(&["addr", "add", &gw, "dev", &lab.bridge]);
        ip(&["link", "set", &lab.bridge, "up"]);
        lab
    }

    fn gateway(&self) -> Ipv4Addr {
        Ipv4Addr::from(u32::from(self.subnet.network()) + 1)
    }

    fn rules(&self, internal: bool) -> NetRules<'_> {
        NetRules {
            bridge: &self.bridge,
            subnet: self.subnet,
            internal,
        }
    }

    /// A new container; its index in `containers` is returned.
    fn add(&mut self) -> usize {
        let id = rand_hex();
        let n = self.containers.len();
        let c = Ctr {
            netns: format!("bt{id}"),
            veth: format!("bt{id}h"),
            ip: Ipv4Addr::from(u32::from(self.subnet.network()) + 2 + n as u32),
        };
        // Pushed first, so that a failing step below still gets it deleted.
        self.containers.push(c);
        let c = &self.containers[n];
        ip(&["netns", "add", &c.netns]);
        ip(&[
            "link", "add", &c.veth, "type", "veth", "peer", "name", "eth0", "netns", &c.netns,
        ]);
        ip(&["link", "set", &c.veth, "master", &self.bridge, "up"]);
        // With br_netfilter loaded (as here), a container's packet DNATed back to itself is
        // bridged, not routed: out of the port it came in by, which the bridge refuses
        // unless the port is in hairpin mode (Docker sets it too).
        ip(&[
            "link",
            "set",
            &c.veth,
            "type",
            "bridge_slave",
            "hairpin",
            "on",
        ]);
        let netns = ["-n", c.netns.as_str()];
        let addr = format!("{}/24", c.ip);
        ip(&[&netns[..], &["addr", "add", &addr, "dev", "eth0"]].concat());
        ip(&[&netns[..], &["link", "set", "eth0", "up"]].concat());
        ip(&[&netns[..], &["link", "set", "lo", "up"]].concat());
        let gw = self.gateway().to_string();
        ip(&[&netns[..], &["route", "add", "default", "via", &gw]].concat());
        n
    }
}

impl Ctr {
    /// Runs `f` in a thread inside the container's netns (sockets keep the netns they were
    /// made in, so they may be used from any thread after).
    fn inside<T: Send + 'static>(&self, f: impl FnOnce() -> T + Send + 'static) -> T {
        let path = format!("/run/netns/{}", self.netns);
        thread::spawn(move || {
            let ns = std::fs::File::open(path).unwrap();
            nix::sched::setns(ns, nix::sched::CloneFlags::CLONE_NEWNET).unwrap();
            f()
        })
        .join()
        .unwrap()
    }

    /// A TCP listener and a UDP socket on port 80 answering "tcp-ok" / "udp-ok" to everyone.
    fn serve(&self) {
        let (tcp, udp) = self.inside(|| {
            (
                TcpListener::bind("0.0.0.0:80").unwrap(),
                UdpSocket::bind("0.0.0.0:80").unwrap(),
            )
        });
        thread::spawn(move || {
            for s in tcp.incoming() {
                let Ok(mut s) = s else { continue };
                let _ = s.write_all(b"tcp-ok");
            }
        });
        thread::spawn(move || {
            let mut buf = [0u8; 64];
            while let Ok((_, from)) = udp.recv_from(&mut buf) {
                let _ = udp.send_to(b"udp-ok", from);
            }
        });
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        for c in &self.containers {
            let _ = Command::new("ip").args(["netns", "del", &c.netns]).output();
            let _ = Command::new("ip").args(["link", "del", &c.veth]).output();
        }
        let _ = Command::new("ip")
            .args(["link", "del", &self.bridge])
            .output();
    }
}

fn tcp_get(to: SocketAddr) -> std::io::Result<String> {
    let mut s = TcpStream::connect_timeout(&to, Duration::from_secs(5))?;
    s.set_read_timeout(Some(Duration::from_secs(5)))?;
    let mut got = String::new();
    s.read_to_string(&mut got)?;
    Ok(got)
}

fn udp_ask(to: SocketAddr) -> std::io::Result<String> {
    let s = UdpSocket::bind("0.0.0.0:0")?;
    s.set_read_timeout(Some(Duration::from_secs(5)))?;
    s.connect(to)?;
    s.send(b"hello")?;
    let mut buf = [0u8; 64];
    let n = s.recv(&mut buf)?;
    Ok(String::from_utf8_lossy(&buf[..n]).into_owned())
}

#[test]
fn published_ports_reach_the_container_from_localhost_and_the_bridge_address() {
    let t = Table::new();
    let mut lab = Lab::new();
    let c = lab.add();
    lab.containers[c].serve();
    t.0.ensure_network(&lab.rules(false)).unwrap();
    let route_localnet = format!("/proc/sys/net/ipv4/conf/{}/route_localnet", lab.bridge);
    assert_eq!(std::fs::read_to_string(route_localnet).unwrap().trim(), "1");
    assert_eq!(
        std::fs::read_to_string("/proc/sys/net/ipv4/ip_forward")
            .unwrap()
            .trim(),
        "1"
    );
    let tcp_port = random_free(Proto::Tcp, None, &[]).unwrap();
    let udp_port = random_free(Proto::Udp, None, &[]).unwrap();
    let c = lab.containers[c].ip;
    t.0.publish(
        "e2e",
        &lab.bridge,
        &[
            port(None, tcp_port, c.octets(), 80, Proto::Tcp),
            port(None, udp_port, c.octets(), 80, Proto::Udp),
        ],
    )
    .unwrap();
    for host in [Ipv4Addr::LOCALHOST, lab.gateway()] {
        let tcp = SocketAddr::from((host, tcp_port));
        assert_eq!(tcp_get(tcp).unwrap(), "tcp-ok", "TCP to {tcp}");
        let udp = SocketAddr::from((host, udp_port));
        assert_eq!(udp_ask(udp).unwrap(), "udp-ok", "UDP to {udp}");
    }

    // Bound to 127.0.0.1 only: the bridge address is no longer forwarded to the container
    // (and nothing on the host listens there).
    let lo_port = random_free(Proto::Tcp, None, &[tcp_port]).unwrap();
    t.0.publish(
        "e2e",
        &lab.bridge,
        &[port(
            Some(Ipv4Addr::LOCALHOST),
            lo_port,
            c.octets(),
            80,
            Proto::Tcp,
        )],
    )
    .unwrap();
    assert_eq!(
        tcp_get((Ipv4Addr::LOCALHOST, lo_port).into()).unwrap(),
        "tcp-ok"
    );
    let refused = tcp_get((lab.gateway(), lo_port).into()).unwrap_err();
    assert_eq!(refused.kind(), std::io::ErrorKind::ConnectionRefused);

    // Unpublished: nothing answers any more.
    t.0.unpublish("e2e").unwrap();
    let refused = tcp_get((Ipv4Addr::LOCALHOST, lo_port).into()).unwrap_err();
    assert_eq!(refused.kind(), std::io::ErrorKind::ConnectionRefused);
}

#[test]
fn containers_reach_published_ports_through_the_host_address_hairpin() {
    let t = Table::new();
    let mut lab = Lab::new();
    let (server, client) = (lab.add(), lab.add());
    lab.containers[server].serve();
    t.0.ensure_network(&lab.rules(false)).unwrap();
    let port = random_free(Proto::Tcp, None, &[]).unwrap();
    let sip = lab.containers[server].ip;
    t.0.publish(
        "hairpin",
        &lab.bridge,
        &[
            port_map(sip, port, Proto::Tcp),
            port_map(sip, port, Proto::Udp),
        ],
    )
    .unwrap();
    let gw = lab.gateway();
    // From a neighbour, and from the container itself.
    for c in [client, server] {
        let (tcp, udp) = lab.containers[c].inside(move || {
            (
                tcp_get((gw, port).into()).map_err(|e| e.to_string()),
                udp_ask((gw, port).into()).map_err(|e| e.to_string()),
            )
        });
        assert_eq!(tcp.as_deref(), Ok("tcp-ok"), "container {c}");
        assert_eq!(udp.as_deref(), Ok("udp-ok"), "container {c}");
    }
}

#[test]
fn containers_on_different_berth_bridges_cannot_reach_each_other() {
    let t = Table::new();
    let (mut a, mut b) = (Lab::new(), Lab::new());
    let (ca, cb) = (a.add(), b.add());
    b.containers[cb].serve();
    let to_b: SocketAddr = (b.containers[cb].ip, 80).into();
    t.0.ensure_network(&a.rules(false)).unwrap();
    t.0.ensure_network(&b.rules(false)).unwrap();
    let got = a.containers[ca].inside(move || short_tcp_get(to_b));
    assert_eq!(got.unwrap_err().kind(), std::io::ErrorKind::TimedOut);

    // Without a's rules (and a out of the bridges set) the same connection goes through:
    // the drop above was the isolation rule, not the host's routing.
    t.0.remove_network(&a.bridge).unwrap();
    let got = a.containers[ca].inside(move || short_tcp_get(to_b));
    assert_eq!(got.unwrap(), "tcp-ok");
}

#[test]
fn an_internal_network_reaches_nothing_outside_its_bridge() {
    let t = Table::new();
    let (mut i, mut o) = (Lab::new(), Lab::new());
    let (ci, co, ci2) = (i.add(), o.add(), i.add());
    o.containers[co].serve();
    i.containers[ci2].serve();
    t.0.ensure_network(&i.rules(true)).unwrap();
    let to_o: SocketAddr = (o.containers[co].ip, 80).into();
    let got = i.containers[ci].inside(move || short_tcp_get(to_o));
    assert_eq!(got.unwrap_err().kind(), std::io::ErrorKind::TimedOut);
    // Its own bridge works.
    let to_i2: SocketAddr = (i.containers[ci2].ip, 80).into();
    let got = i.containers[ci].inside(move || short_tcp_get(to_i2));
    assert_eq!(got.unwrap(), "tcp-ok");
}

fn port_map(c: Ipv4Addr, host_port: u16, proto: Proto) -> PortMap {
    port(None, host_port, c.octets(), 80, proto)
}

/// For connections expected to be dropped: a drop is only seen as a timeout.
fn short_tcp_get(to: SocketAddr) -> std::io::Result<String> {
    let mut s = TcpStream::connect_timeout(&to, Duration::from_secs(2))?;
    s.set_read_timeout(Some(Duration::from_secs(5)))?;
    let mut got = String::new();
    s.read_to_string(&mut got)?;
    Ok(got)
}
