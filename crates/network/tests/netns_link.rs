//! Pinned network namespaces, bridges and veth pairs on the real kernel (needs root).
//! Every test makes its own bridges (`bt<random>`) and netns files (a temp dir under
//! /var/tmp) and removes them even when it fails; traffic stays on those bridges.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddrV4, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use berth_network::ipam::{self, overlaps};
use berth_network::link::{Attach, Netlink, LOCAL_MTU};
use berth_network::netns::{create_pinned, delete_pinned, in_netns};
use berth_network::{Error, Ipv4Net};

/// What a test made; dropped (even on panic) it removes all of it.
struct Lab {
    dir: tempfile::TempDir,
    bridges: Vec<String>,
    netns: Vec<PathBuf>,
    tag: String,
}

impl Lab {
    fn new() -> Lab {
        let dir = tempfile::Builder::new()
            .prefix("berth-net-test")
            .tempdir_in("/var/tmp")
            .unwrap();
        let tag = format!(
            "{:06x}",
            RandomState::new().build_hasher().finish() & 0xff_ffff
        );
        Lab {
            dir,
            bridges: Vec::new(),
            netns: Vec::new(),
            tag,
        }
    }

    /// A bridge name of this test (not yet made), at most 15 bytes.
    fn bridge(&mut self, n: u32) -> String {
        let name = format!("bt{}{n}", self.tag);
        self.bridges.push(name.clone());
        name
    }

    /// A host-side veth name of this test; it goes with its netns or its bridge.
    fn host_if(&self, n: u32) -> String {
        format!("vt{}{n}", self.tag)
    }

    fn netns(&mut self, name: &str) -> PathBuf {
        let path = self.dir.path().join(name);
        create_pinned(&path, SYSCTLS).unwrap();
        self.netns.push(path.clone());
        path
    }

    /// A /24 in 10.0.0.0/8 that no host route overlaps.
    fn subnet(&self) -> Ipv4Net {
        let routes = Netlink::open().unwrap().host_routes().unwrap();
        let mut seed = RandomState::new().build_hasher().finish();
        loop {
            let candidate = Ipv4Net::new(
                Ipv4Addr::new(10, 200 + (seed % 50) as u8, (seed >> 8) as u8, 0),
                24,
            )
            .unwrap();
            if !routes.iter().any(|r| overlaps(r, &candidate)) {
                return candidate;
            }
            seed = seed.rotate_left(13).wrapping_add(0x9e37_79b9);
        }
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        for path in &self.netns {
            let _ = delete_pinned(path);
        }
        if let Ok(mut nl) = Netlink::open() {
            for name in &self.bridges {
                let _ = nl.delete_link(name);
            }
        }
        for name in &self.bridges {
            if Path::new("/sys/class/net").join(name).exists() {
                let _ = Command::new("ip").args(["link", "del", name]).status();
            }
        }
    }
}

/// `ip ARGS` run inside the netns pinned at `ns` (or on the host), its stdout.
fn ip(ns: Option<&Path>, args: &[&str]) -> String {
    let mut cmd = match ns {
        Some(ns) => {
            let mut c = Command::new("nsenter");
            c.arg(format!("--net={}", ns.display())).arg("ip");
            c
        }
        None => Command::new("ip"),
    };
    let out = cmd.args(args).output().unwrap();
    assert!(
        out.status.success(),
        "ip {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn host(subnet: Ipv4Net, n: u32) -> Ipv4Addr {
    Ipv4Addr::from(u32::from(subnet.network()) + n)
}

fn with_prefix(ip: Ipv4Addr, subnet: Ipv4Net) -> Ipv4Net {
    Ipv4Net::new(ip, subnet.prefix_len()).unwrap()
}

fn netns_id(path: &str) -> PathBuf {
    std::fs::read_link(path).unwrap()
}

/// Attaches a container end `eth0` at `.n` of `subnet` to `bridge`; returns its address.
fn attach(
    nl: &mut Netlink,
    bridge: &str,
    host_if: &str,
    ns: &Path,
    subnet: Ipv4Net,
    n: u32,
) -> Ipv4Addr {
    let ip = host(subnet, n);
    let started = Instant::now();
    nl.attach_container(&Attach {
        bridge,
        host_ifname: host_if,
        netns: ns,
        ifname: "eth0",
        addr: with_prefix(ip, subnet),
        gateway: Some(host(subnet, 1)),
        mac: ipam::mac_for(ip),
        mtu: 1400,
        route_mtu: None,
    })
    .unwrap();
    eprintln!("attach_container({host_if}) took {:?}", started.elapsed());
    ip
}

/// What every lab netns gets, as a container's would; the last one the kernel lacks.
const SYSCTLS: &[(&str, &str)] = &[
    ("net.ipv4.ip_unprivileged_port_start", "0"),
    ("net.ipv4.ping_group_range", "0 2147483647"),
    ("net.ipv4.no_such_sysctl", "1"),
];

fn sysctl(name: &str) -> String {
    std::fs::read_to_string(format!("/proc/sys/net/ipv4/{name}"))
        .unwrap()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

#[test]
fn pinned_netns_has_loopback_up_and_leaves_the_caller_where_it_was() {
    let mut lab = Lab::new();
    let before = netns_id("/proc/thread-self/ns/net");
    let started = Instant::now();
    let ns = lab.netns("c1");
    eprintln!("create_pinned took {:?}", started.elapsed());
    assert_eq!(netns_id("/proc/thread-self/ns/net"), before);

    let inside = in_netns(&ns, || Ok(netns_id("/proc/thread-self/ns/net"))).unwrap();
    assert_ne!(inside, before);
    assert_eq!(netns_id("/proc/thread-self/ns/net"), before);

    let host_port_start = sysctl("ip_unprivileged_port_start");
    let set = in_netns(&ns, || {
        Ok((
            sysctl("ip_unprivileged_port_start"),
            sysctl("ping_group_range"),
        ))
    })
    .unwrap();
    assert_eq!(set, ("0".into(), "0 2147483647".into()));
    assert_eq!(
        sysctl("ip_unprivileged_port_start"),
        host_port_start,
        "the host's own value is left alone"
    );

    let lo = ip(Some(&ns), &["-o", "link", "show", "lo"]);
    assert!(lo.contains("<LOOPBACK,UP,LOWER_UP>"), "{lo}");
    let links = ip(Some(&ns), &["-o", "link", "show"]);
    assert_eq!(
        links.lines().count(),
        1,
        "a new netns holds only lo: {links}"
    );

    // An existing file is refused and left as it was.
    let err = create_pinned(&ns, &[]).unwrap_err();
    assert!(err.to_string().contains("create netns file"), "{err}");

    delete_pinned(&ns).unwrap();
    assert!(!ns.exists());
    delete_pinned(&ns).unwrap();
    assert!(in_netns(&ns, || Ok(())).is_err());
}

#[test]
fn bridge_is_made_once_with_its_gateway_mtu_and_up() {
    let mut lab = Lab::new();
    let name = lab.bridge(0);
    let subnet = lab.subnet();
    let gateway = with_prefix(host(subnet, 1), subnet);
    let mut nl = Netlink::open().unwrap();
    assert!(!nl.link_exists(&name).unwrap());

    let index = nl.ensure_bridge(&name, gateway, 1400).unwrap();
    assert_eq!(nl.ensure_bridge(&name, gateway, 1400).unwrap(), index);
    assert!(nl.link_exists(&name).unwrap());
    assert_eq!(nl.links_with_prefix(&name).unwrap(), vec![name.clone()]);

    let link = ip(None, &["-o", "-d", "link", "show", &name]);
    assert!(link.contains("mtu 1400"), "{link}");
    assert!(link.contains(",UP"), "{link}");
    assert!(link.contains("bridge "), "{link}");
    let addrs = ip(None, &["-o", "-4", "addr", "show", "dev", &name]);
    assert_eq!(addrs.matches("inet ").count(), 1, "{addrs}");
    assert!(
        addrs.contains(&format!("inet {gateway} brd {}", subnet.broadcast())),
        "{addrs}"
    );
    assert!(nl.host_routes().unwrap().contains(&subnet));

    let localnet = format!("/proc/sys/net/ipv4/conf/{name}/route_localnet");
    assert_eq!(std::fs::read_to_string(&localnet).unwrap(), "0\n");
    berth_network::link::enable_route_localnet(&name).unwrap();
    berth_network::link::enable_route_localnet(&name).unwrap();
    assert_eq!(std::fs::read_to_string(&localnet).unwrap(), "1\n");

    // A changed MTU is applied to the existing bridge.
    assert_eq!(nl.ensure_bridge(&name, gateway, 1300).unwrap(), index);
    assert!(ip(None, &["-o", "link", "show", &name]).contains("mtu 1300"));

    nl.delete_link(&name).unwrap();
    assert!(!nl.link_exists(&name).unwrap());
    nl.delete_link(&name).unwrap();
}

#[test]
fn bridge_state_reports_addresses_and_ports_and_readdress_leaves_one_address() {
    let mut lab = Lab::new();
    let name = lab.bridge(0);
    let old_subnet = lab.subnet();
    let old = with_prefix(host(old_subnet, 1), old_subnet);
    let mut nl = Netlink::open().unwrap();
    assert_eq!(nl.bridge_state(&name).unwrap(), None);
    nl.ensure_bridge(&name, old, 1400).unwrap();
    let state = nl.bridge_state(&name).unwrap().unwrap();
    assert_eq!((state.addresses, state.ports), (vec![old], 0));

    let ns = lab.netns("a");
    attach(&mut nl, &name, &lab.host_if(0), &ns, old_subnet, 2);
    assert_eq!(nl.bridge_state(&name).unwrap().unwrap().ports, 1);

    // Another subnet: the old address and its route go, the new one is the only one.
    let new_subnet = loop {
        let s = lab.subnet();
        if s != old_subnet {
            break s;
        }
    };
    let new = with_prefix(host(new_subnet, 1), new_subnet);
    nl.readdress_bridge(&name, new).unwrap();
    assert_eq!(nl.bridge_state(&name).unwrap().unwrap().addresses, [new]);
    let routes = nl.host_routes().unwrap();
    assert!(routes.contains(&new_subnet) && !routes.contains(&old_subnet));
    // Again: nothing changes.
    nl.readdress_bridge(&name, new).unwrap();
    assert_eq!(nl.bridge_state(&name).unwrap().unwrap().addresses, [new]);

    // Not a bridge: an error, as for ensure_bridge.
    let veth = lab.bridge(1);
    let peer = format!("{veth}p");
    ip(
        None,
        &["link", "add", &veth, "type", "veth", "peer", "name", &peer],
    );
    assert!(nl.bridge_state(&veth).is_err());
}

#[test]
fn ensure_bridge_refuses_a_link_that_is_not_a_bridge_and_bad_mtu() {
    let mut lab = Lab::new();
    let name = lab.bridge(0);
    let subnet = lab.subnet();
    let gateway = with_prefix(host(subnet, 1), subnet);
    // (This kernel has no dummy links; a veth is not a bridge either.)
    ip(
        None,
        &[
            "link",
            "add",
            &name,
            "type",
            "veth",
            "peer",
            "name",
            &format!("{name}p"),
        ],
    );
    let mut nl = Netlink::open().unwrap();
    let err = nl.ensure_bridge(&name, gateway, 1500).unwrap_err();
    assert!(matches!(err, Error::Invalid(_)), "{err}");
    assert!(err.to_string().contains("not a bridge"), "{err}");
    nl.delete_link(&name).unwrap();

    let err = nl.ensure_bridge(&name, gateway, 20).unwrap_err();
    let text = err.to_string();
    // The kernel's extended-ack reason comes along.
    assert!(text.contains("mtu less than device minimum"), "{text}");
    assert!(matches!(err, Error::Netlink { .. }), "{text}");
    assert!(text.contains(&format!("create bridge {name}")), "{text}");
    assert!(text.contains("Invalid argument"), "{text}");
    assert!(!nl.link_exists(&name).unwrap());
}

#[test]
fn container_end_has_its_name_address_mac_mtu_and_default_route() {
    let mut lab = Lab::new();
    let bridge = lab.bridge(0);
    let subnet = lab.subnet();
    let gw = host(subnet, 1);
    let mut nl = Netlink::open().unwrap();
    nl.ensure_bridge(&bridge, with_prefix(gw, subnet), 1400)
        .unwrap();
    let ns = lab.netns("c1");
    let host_if = lab.host_if(1);
    let ip2 = attach(&mut nl, &bridge, &host_if, &ns, subnet, 2);

    let eth0 = ip(Some(&ns), &["-o", "link", "show", "eth0"]);
    assert!(eth0.contains("mtu 1400"), "{eth0}");
    assert!(eth0.contains(",UP"), "{eth0}");
    let mac = ipam::mac_for(ip2).map(|b| format!("{b:02x}")).join(":");
    assert!(eth0.contains(&format!("link/ether {mac} ")), "{eth0}");
    let addrs = ip(Some(&ns), &["-o", "-4", "addr", "show", "dev", "eth0"]);
    assert!(
        addrs.contains(&format!("inet {}", with_prefix(ip2, subnet))),
        "{addrs}"
    );
    let routes = ip(Some(&ns), &["-4", "route", "show"]);
    assert!(
        routes.contains(&format!("default via {gw} dev eth0")),
        "{routes}"
    );

    let host_end = ip(None, &["-o", "link", "show", &host_if]);
    assert!(host_end.contains(&format!("master {bridge}")), "{host_end}");
    assert!(host_end.contains(",UP"), "{host_end}");
    assert!(host_end.contains("mtu 1400"), "{host_end}");
    assert!(nl.links_with_prefix(&host_if).unwrap().contains(&host_if));
}

#[test]
fn default_route_holds_outward_traffic_to_the_route_mtu() {
    let mut lab = Lab::new();
    let bridge = lab.bridge(0);
    let subnet = lab.subnet();
    let gw = host(subnet, 1);
    let mut nl = Netlink::open().unwrap();
    nl.ensure_bridge(&bridge, with_prefix(gw, subnet), LOCAL_MTU)
        .unwrap();
    let ns = lab.netns("c1");
    let ip2 = host(subnet, 2);
    nl.attach_container(&Attach {
        bridge: &bridge,
        host_ifname: &lab.host_if(1),
        netns: &ns,
        ifname: "eth0",
        addr: with_prefix(ip2, subnet),
        gateway: Some(gw),
        mac: ipam::mac_for(ip2),
        mtu: LOCAL_MTU,
        route_mtu: Some(1400),
    })
    .unwrap();
    let eth0 = ip(Some(&ns), &["-o", "link", "show", "eth0"]);
    assert!(eth0.contains(&format!("mtu {LOCAL_MTU} ")), "{eth0}");
    let routes = ip(Some(&ns), &["-4", "route", "show", "default"]);
    assert!(
        routes.contains(&format!("default via {gw} dev eth0")) && routes.contains("mtu 1400"),
        "{routes}"
    );
    // What leaves the host goes by the default route and its MTU; the bridge's
    // neighbours (the host through the gateway, other containers) by the link's.
    let out = ip(Some(&ns), &["-4", "route", "get", "192.0.2.9"]);
    assert!(out.contains("mtu 1400"), "{out}");
    let local = ip(Some(&ns), &["-4", "route", "get", &gw.to_string()]);
    assert!(!local.contains("mtu 1400"), "{local}");
    let host_end = ip(None, &["-o", "link", "show", &lab.host_if(1)]);
    assert!(
        host_end.contains(&format!("mtu {LOCAL_MTU} ")),
        "{host_end}"
    );
}

#[test]
fn internal_container_end_has_no_default_route() {
    let mut lab = Lab::new();
    let bridge = lab.bridge(0);
    let subnet = lab.subnet();
    let mut nl = Netlink::open().unwrap();
    nl.ensure_bridge(&bridge, with_prefix(host(subnet, 1), subnet), 1500)
        .unwrap();
    let ns = lab.netns("c1");
    let ip2 = host(subnet, 2);
    nl.attach_container(&Attach {
        bridge: &bridge,
        host_ifname: &lab.host_if(1),
        netns: &ns,
        ifname: "eth1",
        addr: with_prefix(ip2, subnet),
        gateway: None,
        mac: ipam::mac_for(ip2),
        mtu: 1500,
        route_mtu: None,
    })
    .unwrap();
    let routes = ip(Some(&ns), &["-4", "route", "show"]);
    assert!(!routes.contains("default"), "{routes}");
    assert!(routes.contains(&format!("{subnet} dev eth1")), "{routes}");
}

#[test]
fn two_namespaces_talk_over_the_bridge_and_reach_the_gateway() {
    let mut lab = Lab::new();
    let bridge = lab.bridge(0);
    let subnet = lab.subnet();
    let gw = host(subnet, 1);
    let mut nl = Netlink::open().unwrap();
    nl.ensure_bridge(&bridge, with_prefix(gw, subnet), 1400)
        .unwrap();
    let a = lab.netns("a");
    let b = lab.netns("b");
    let ip_a = attach(&mut nl, &bridge, &lab.host_if(1), &a, subnet, 2);
    let ip_b = attach(&mut nl, &bridge, &lab.host_if(2), &b, subnet, 3);

    if Path::new("/bin/busybox").exists() {
        let ping = Command::new("nsenter")
            .arg(format!("--net={}", a.display()))
            .args([
                "/bin/busybox",
                "ping",
                "-c",
                "1",
                "-W",
                "5",
                &ip_b.to_string(),
            ])
            .output()
            .unwrap();
        assert!(
            ping.status.success(),
            "ping {ip_b} from {ip_a}: {}",
            String::from_utf8_lossy(&ping.stdout)
        );
    }

    // TCP from a to a listener made inside b (a socket stays in the netns it was made in).
    let listener = in_netns(&b, || {
        Ok(TcpListener::bind(SocketAddrV4::new(ip_b, 0)).unwrap())
    })
    .unwrap();
    let port = listener.local_addr().unwrap().port();
    let sent = in_netns(&a, || {
        let mut s = TcpStream::connect_timeout(
            &SocketAddrV4::new(ip_b, port).into(),
            Duration::from_secs(5),
        )
        .unwrap();
        s.write_all(b"hi from a").unwrap();
        Ok(s.local_addr().unwrap().ip())
    })
    .unwrap();
    let (mut conn, peer) = listener.accept().unwrap();
    assert_eq!(sent, ip_a);
    assert_eq!(peer.ip(), ip_a);
    let mut got = String::new();
    conn.read_to_string(&mut got).unwrap();
    assert_eq!(got, "hi from a");

    // And to the host, on the bridge's gateway address.
    let on_host = TcpListener::bind(SocketAddrV4::new(gw, 0)).unwrap();
    let port = on_host.local_addr().unwrap().port();
    in_netns(&b, || {
        TcpStream::connect_timeout(&SocketAddrV4::new(gw, port).into(), Duration::from_secs(5))
            .unwrap();
        Ok(())
    })
    .unwrap();
    assert_eq!(on_host.accept().unwrap().1.ip(), ip_b);
}

#[test]
fn deleting_the_pinned_netns_removes_the_veth() {
    let mut lab = Lab::new();
    let bridge = lab.bridge(0);
    let subnet = lab.subnet();
    let mut nl = Netlink::open().unwrap();
    nl.ensure_bridge(&bridge, with_prefix(host(subnet, 1), subnet), 1500)
        .unwrap();
    let ns = lab.netns("c1");
    let host_if = lab.host_if(1);
    attach(&mut nl, &bridge, &host_if, &ns, subnet, 2);
    assert!(nl.link_exists(&host_if).unwrap());

    delete_pinned(&ns).unwrap();
    assert!(!ns.exists());
    // The kernel tears a netns down in a work queue: wait for it, do not time it.
    let deadline = Instant::now() + Duration::from_secs(30);
    while nl.link_exists(&host_if).unwrap() {
        assert!(Instant::now() < deadline, "{host_if} outlived its netns");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn failed_attach_leaves_no_veth() {
    let mut lab = Lab::new();
    let bridge = lab.bridge(0);
    let subnet = lab.subnet();
    let mut nl = Netlink::open().unwrap();
    nl.ensure_bridge(&bridge, with_prefix(host(subnet, 1), subnet), 1500)
        .unwrap();
    let ns = lab.netns("c1");
    attach(&mut nl, &bridge, &lab.host_if(1), &ns, subnet, 2);

    // The name is taken in the netns: the kernel makes nothing.
    let ip3 = host(subnet, 3);
    let taken = Attach {
        bridge: &bridge,
        host_ifname: &lab.host_if(2),
        netns: &ns,
        ifname: "eth0",
        addr: with_prefix(ip3, subnet),
        gateway: Some(host(subnet, 1)),
        mac: ipam::mac_for(ip3),
        mtu: 1500,
        route_mtu: None,
    };
    let err = nl.attach_container(&taken).unwrap_err().to_string();
    assert!(
        err.contains(&format!("create veth {}", lab.host_if(2))),
        "{err}"
    );
    assert!(err.contains("File exists"), "{err}");
    assert!(!nl.link_exists(&lab.host_if(2)).unwrap());

    // The gateway is off the container's subnet: the route fails after the pair exists,
    // and the pair is removed again.
    let unreachable = Attach {
        ifname: "eth1",
        gateway: Some(Ipv4Addr::new(192, 0, 2, 77)),
        ..taken
    };
    let err = nl.attach_container(&unreachable).unwrap_err().to_string();
    assert!(err.contains("add default route"), "{err}");
    assert!(!nl.link_exists(&lab.host_if(2)).unwrap());
    let links = ip(Some(&ns), &["-o", "link", "show"]);
    assert!(!links.contains("eth1"), "{links}");

    let missing = Attach {
        bridge: "btnosuchbridge",
        ..unreachable
    };
    let err = nl.attach_container(&missing).unwrap_err().to_string();
    assert!(err.contains("no such bridge"), "{err}");
}

#[test]
fn default_mtu_is_the_default_route_links() {
    let mut nl = Netlink::open().unwrap();
    let route = ip(None, &["-4", "-o", "route", "show", "default"]);
    let want = match route.split_whitespace().skip_while(|w| *w != "dev").nth(1) {
        Some(dev) => std::fs::read_to_string(format!("/sys/class/net/{dev}/mtu"))
            .unwrap()
            .trim()
            .parse()
            .unwrap(),
        None => 1500,
    };
    assert_eq!(nl.default_mtu().unwrap(), want);
}

#[test]
fn host_routes_match_the_kernels_main_table() {
    let mut nl = Netlink::open().unwrap();
    let ours = nl.host_routes().unwrap();
    for line in ip(None, &["-4", "-o", "route", "show"]).lines() {
        let dst = line.split_whitespace().next().unwrap();
        if dst == "default" {
            continue;
        }
        let net: Ipv4Net = if dst.contains('/') {
            dst.parse().unwrap()
        } else {
            format!("{dst}/32").parse().unwrap()
        };
        assert!(ours.contains(&net), "{net} missing from {ours:?}");
    }
    assert!(ours.iter().all(|r| r.prefix_len() > 0));
}

#[test]
fn links_with_prefix_reads_a_dump_spanning_many_datagrams() {
    let mut lab = Lab::new();
    let prefix = format!("bt{}", lab.tag);
    // 60 veth pairs give ~180 KB of link messages, several datagrams of a dump.
    let names: Vec<String> = (0..60).map(|n| format!("{prefix}{n:02}")).collect();
    let mut batch = String::new();
    for name in &names {
        lab.bridges.push(name.clone());
        batch.push_str(&format!("link add {name} type veth peer name {name}p\n"));
    }
    let mut child = Command::new("ip")
        .args(["-batch", "-"])
        .stdin(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(batch.as_bytes())
        .unwrap();
    assert!(child.wait().unwrap().success());

    let mut got = Netlink::open().unwrap().links_with_prefix(&prefix).unwrap();
    got.sort();
    let mut want: Vec<String> = names
        .iter()
        .flat_map(|n| [n.clone(), format!("{n}p")])
        .collect();
    want.sort();
    assert_eq!(got, want);
}

#[test]
fn racing_ensure_bridge_calls_agree_on_one_bridge() {
    let mut lab = Lab::new();
    let name = lab.bridge(0);
    let subnet = lab.subnet();
    let gateway = with_prefix(host(subnet, 1), subnet);
    let indexes: Vec<u32> = std::thread::scope(|s| {
        let racers: Vec<_> = (0..4)
            .map(|_| {
                s.spawn(|| {
                    Netlink::open()
                        .unwrap()
                        .ensure_bridge(&name, gateway, 1500)
                        .unwrap()
                })
            })
            .collect();
        racers.into_iter().map(|r| r.join().unwrap()).collect()
    });
    assert!(indexes.iter().all(|i| *i == indexes[0]), "{indexes:?}");
    let addrs = ip(None, &["-o", "-4", "addr", "show", "dev", &name]);
    assert_eq!(addrs.matches("inet ").count(), 1, "{addrs}");
}

/// The kernel's (major, minor), from uname.
fn kernel_version() -> (u32, u32) {
    let release = nix::sys::utsname::uname().unwrap();
    let release = release.release().to_str().unwrap().to_string();
    let mut parts = release.split(|c: char| !c.is_ascii_digit());
    let major = parts.next().unwrap().parse().unwrap();
    let minor = parts.next().unwrap().parse().unwrap();
    (major, minor)
}

#[test]
fn veths_and_bridge_get_big_tcp_sizes_where_the_kernel_has_them() {
    let mut lab = Lab::new();
    let bridge = lab.bridge(0);
    let subnet = lab.subnet();
    let mut nl = Netlink::open().unwrap();
    nl.ensure_bridge(&bridge, with_prefix(host(subnet, 1), subnet), 1400)
        .unwrap();
    let ns = lab.netns("c1");
    let host_if = lab.host_if(1);
    attach(&mut nl, &bridge, &host_if, &ns, subnet, 2);

    let want = if kernel_version() >= (6, 3) {
        196_608
    } else {
        65_536
    };
    for (where_, link) in [
        (None, &bridge),
        (None, &host_if),
        (Some(&*ns), &"eth0".to_string()),
    ] {
        let details = ip(where_, &["-d", "link", "show", link]);
        for field in ["gso_max_size", "gro_max_size"] {
            assert!(
                details.contains(&format!("{field} {want} ")),
                "{link}: want {field} {want}: {details}"
            );
        }
    }
    // A second container on the same bridge gets them too, and the bridge keeps them.
    let ns2 = lab.netns("c2");
    attach(&mut nl, &bridge, &lab.host_if(2), &ns2, subnet, 3);
    let eth0 = ip(Some(&ns2), &["-d", "link", "show", "eth0"]);
    assert!(eth0.contains(&format!("gso_max_size {want} ")), "{eth0}");
}
