//! Networking end to end through the CLI the default bridge, published ports from
//! the host, user networks with names, isolation, internal networks, NAT to an "outside" that
//! is a network namespace the test makes, container:NAME, bad input, and nothing left behind.
//! Traffic stays on this machine: loopback, the tests' own bridges and namespaces.

mod container_support;
use container_support::*;
use std::io::{Read, Write};
use std::process::Command;
use std::time::Duration;

fn run_d(root: &Root, args: &[&str]) -> String {
    let mut a = vec!["run", "-d"];
    a.extend_from_slice(args);
    root.ok(&a).trim().to_string()
}

/// A web server in a container: busybox httpd serving `text` at /index.html on port 80.
fn web_args(text: &str) -> Vec<String> {
    vec![
        IMAGE.into(),
        "sh".into(),
        "-c".into(),
        format!("mkdir -p /www && echo {text} > /www/index.html && exec httpd -f -p 80 -h /www"),
    ]
}

fn exec_out(root: &Root, id: &str, cmd: &[&str]) -> std::process::Output {
    let mut a = vec!["exec", id];
    a.extend_from_slice(cmd);
    root.berth(&a)
}

/// A free subnet for a test network: 10.<t>.<n>.0/24 with t from the test's name.
fn subnet(tag: u8) -> String {
    format!("10.{}.{}.0/24", 180 + tag, std::process::id() % 250)
}

/// A TCP port nobody holds now (the kernel's pick), for a fixed `-p HOST:CTR`.
fn free_port() -> u16 {
    std::net::TcpListener::bind("0.0.0.0:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The MTU of the link the host's default route leaves by (1500 without one).
fn host_mtu() -> u32 {
    let o = Command::new("ip")
        .args(["-4", "-o", "route", "show", "default"])
        .output()
        .unwrap();
    let route = String::from_utf8_lossy(&o.stdout).into_owned();
    match route.split_whitespace().skip_while(|w| *w != "dev").nth(1) {
        Some(dev) => std::fs::read_to_string(format!("/sys/class/net/{dev}/mtu"))
            .unwrap()
            .trim()
            .parse()
            .unwrap(),
        None => 1500,
    }
}

fn http_get(addr: &str) -> std::io::Result<String> {
    let mut s =
        std::net::TcpStream::connect_timeout(&addr.parse().unwrap(), Duration::from_secs(3))?;
    s.set_read_timeout(Some(Duration::from_secs(3)))?;
    s.write_all(b"GET / HTTP/1.0\r\n\r\n")?;
    let mut out = String::new();
    s.read_to_string(&mut out)?;
    Ok(out)
}

#[test]
fn default_bridge_gives_an_address_a_route_hosts_and_resolv_conf() {
    let root = Root::new();
    let id = run_d(&root, &[IMAGE, "sleep", "1000"]);
    let n = root.inspect(&id);
    let ip = n["NetworkSettings"]["IPAddress"]
        .as_str()
        .unwrap()
        .to_string();
    let gw = n["NetworkSettings"]["Gateway"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(ip.starts_with("10."), "{n}");
    let addr = String::from_utf8_lossy(
        &exec_out(&root, &id, &["ip", "-4", "addr", "show", "eth0"]).stdout,
    )
    .into_owned();
    assert!(addr.contains(&ip), "{addr}");
    let route =
        String::from_utf8_lossy(&exec_out(&root, &id, &["ip", "route"]).stdout).into_owned();
    assert!(route.contains(&format!("default via {gw}")), "{route}");
    // The links take 64 KiB frames (traffic on this host); the default route holds what
    // leaves it to the MTU of the host's own default route.
    let link_mtu = exec_out(&root, &id, &["cat", "/sys/class/net/eth0/mtu"]).stdout;
    assert_eq!(String::from_utf8_lossy(&link_mtu).trim(), "65520");
    let ns = root.path().join("netns").join(&id);
    let inside = Command::new("nsenter")
        .arg(format!("--net={}", ns.display()))
        .args(["ip", "-4", "route", "show", "default"])
        .output()
        .unwrap();
    let inside = String::from_utf8_lossy(&inside.stdout).into_owned();
    assert!(inside.contains(&format!("mtu {}", host_mtu())), "{inside}");
    let hosts =
        String::from_utf8_lossy(&exec_out(&root, &id, &["cat", "/etc/hosts"]).stdout).into_owned();
    assert!(
        hosts.contains("localhost") && hosts.contains(&ip),
        "{hosts}"
    );
    let resolv =
        String::from_utf8_lossy(&exec_out(&root, &id, &["cat", "/etc/resolv.conf"]).stdout)
            .into_owned();
    assert!(resolv.contains("nameserver"), "{resolv}");
    assert!(!resolv.contains("nameserver 127."), "{resolv}");
    // The container reaches its gateway (the host) over the bridge.
    let ping = exec_out(&root, &id, &["ping", "-c", "1", "-W", "2", &gw]);
    assert!(
        ping.status.success(),
        "{}",
        String::from_utf8_lossy(&ping.stdout)
    );
    root.ok(&["rm", "-f", &id]);
    assert_nothing_left(&root, &id);
}

#[test]
fn published_tcp_port_answers_on_localhost_and_goes_away_on_stop() {
    let root = Root::new();
    let port = free_port();
    let mut a = vec!["-p".to_string(), format!("127.0.0.1:{port}:80")];
    a.extend(web_args("hello-from-web"));
    let a: Vec<&str> = a.iter().map(String::as_str).collect();
    let id = run_d(&root, &a);
    let mapping = root.ok(&["port", &id]);
    assert_eq!(mapping.trim(), format!("80/tcp -> 127.0.0.1:{port}"));
    let mut body = String::new();
    eventually("httpd to answer", || {
        match http_get(&format!("127.0.0.1:{port}")) {
            Ok(b) => {
                body = b;
                true
            }
            Err(_) => false,
        }
    });
    assert!(body.contains("hello-from-web"), "{body}");
    assert!(
        nft_table().contains(&format!("berth:{id}")),
        "{}",
        nft_table()
    );
    root.ok(&["stop", "-t", "1", &id]);
    assert!(
        !nft_table().contains(&format!("berth:{id}")),
        "rules left after stop"
    );
    assert!(
        http_get(&format!("127.0.0.1:{port}")).is_err(),
        "still answering after stop"
    );
    root.ok(&["rm", &id]);
    assert_nothing_left(&root, &id);
}

/// A DNS question for an A record, as bytes (to probe a UDP server without a client tool).
fn dns_query(name: &str) -> Vec<u8> {
    let mut q = vec![0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0];
    for label in name.split('.') {
        q.push(label.len() as u8);
        q.extend_from_slice(label.as_bytes());
    }
    q.extend_from_slice(&[0, 0, 1, 0, 1]);
    q
}

/// Busybox here has no UDP server: an image with Berth's own DNS server (a static binary)
/// serves as one.
fn dns_image(root: &Root) -> &'static str {
    let bin = std::path::Path::new(BERTH).with_file_name("berth-dns");
    assert!(
        bin.exists(),
        "{} is built with the workspace",
        bin.display()
    );
    let tree = root.path().join("dns-rootfs");
    std::fs::create_dir_all(tree.join("bin")).unwrap();
    std::fs::copy(&bin, tree.join("bin/berth-dns")).unwrap();
    let tar = root.path().join("dns.tar");
    let made = Command::new("tar")
        .arg("-C")
        .arg(&tree)
        .arg("-cf")
        .arg(&tar)
        .arg("bin")
        .status()
        .unwrap();
    assert!(made.success());
    root.ok(&["import", tar.to_str().unwrap(), "dnsonly:latest"]);
    "dnsonly:latest"
}

#[test]
fn random_host_ports_publish_all_and_udp() {
    let root = Root::new();
    // -P: the image's exposed ports, each on a random host port.
    let tgz = root.path().join("busybox.tgz");
    root.ok(&[
        "import",
        "-c",
        "EXPOSE 80",
        tgz.to_str().unwrap(),
        "bbexp:latest",
    ]);
    let web = web_args("published-all");
    let mut a = vec!["-P", "bbexp:latest"];
    a.extend(web.iter().skip(1).map(String::as_str));
    let id = run_d(&root, &a);
    let out = root.ok(&["port", &id]);
    let tcp: u16 = out
        .lines()
        .find(|l| l.starts_with("80/tcp -> 0.0.0.0:"))
        .and_then(|l| l.rsplit(':').next())
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("{out}"));
    assert!((32768..=60999).contains(&tcp), "{out}");
    let mut body = String::new();
    eventually("the -P port to answer", || {
        match http_get(&format!("127.0.0.1:{tcp}")) {
            Ok(b) => {
                body = b;
                true
            }
            Err(_) => false,
        }
    });
    assert!(body.contains("published-all"), "{body}");
    let o = root.berth(&["port", &id, "81"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("No public port '81/tcp' published"),
        "{}",
        stderr(&o)
    );

    // UDP: a random host port to a DNS server in the container.
    let img = dns_image(&root);
    let hosts = root.path().join("udp-hosts");
    std::fs::write(&hosts, "10.9.8.7 udp-probe\n").unwrap();
    let mount = format!("{}:/h:ro", hosts.display());
    let u = run_d(
        &root,
        &[
            "-p",
            "5353/udp",
            "-v",
            &mount,
            img,
            "/bin/berth-dns",
            "--listen",
            "0.0.0.0:5353",
            "--hosts",
            "/h",
        ],
    );
    let udp: u16 = root
        .ok(&["port", &u, "5353/udp"])
        .trim()
        .rsplit(':')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let s = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    s.set_read_timeout(Some(Duration::from_millis(300)))
        .unwrap();
    let mut answered = false;
    eventually("the UDP answer", || {
        let _ = s.send_to(&dns_query("udp-probe"), ("127.0.0.1", udp));
        let mut buf = [0u8; 512];
        if let Ok(n) = s.recv(&mut buf) {
            answered = buf[..n].windows(4).any(|w| w == [10, 9, 8, 7]);
        }
        answered
    });
    root.ok(&["rm", "-f", &id, &u]);
    let table = nft_table();
    assert!(!table.contains(&format!("berth:{id}")) && !table.contains(&format!("berth:{u}")));
    assert_nothing_left(&root, &id);
    assert_nothing_left(&root, &u);
}

#[test]
fn containers_on_a_user_network_find_each_other_by_name_and_alias() {
    let root = Root::new();
    root.ok(&["network", "create", "--subnet", &subnet(1), "appnet"]);
    let mut a = vec![
        "--network",
        "appnet",
        "--name",
        "web",
        "--network-alias",
        "www",
    ];
    let web = web_args("by-name");
    a.extend(web.iter().map(String::as_str));
    let w = run_d(&root, &a);
    let c = run_d(
        &root,
        &[
            "--network",
            "appnet",
            "--name",
            "client",
            IMAGE,
            "sleep",
            "1000",
        ],
    );
    for name in ["web", "www"] {
        let mut got = String::new();
        eventually("the name to resolve and answer", || {
            let o = exec_out(
                &root,
                &c,
                &[
                    "timeout",
                    "3",
                    "wget",
                    "-q",
                    "-O",
                    "-",
                    &format!("http://{name}/"),
                ],
            );
            got = String::from_utf8_lossy(&o.stdout).into_owned();
            got.contains("by-name")
        });
    }
    // Names outside the network's containers are forwarded (here: no answer is fine, but
    // the server must answer something rather than hang).
    let ns = exec_out(&root, &c, &["nslookup", "web"]);
    assert!(
        String::from_utf8_lossy(&ns.stdout).contains("Address"),
        "{}",
        String::from_utf8_lossy(&ns.stdout)
    );
    let net: serde_json::Value =
        serde_json::from_str(&root.ok(&["network", "inspect", "appnet"])).unwrap();
    assert_eq!(net[0]["Containers"].as_object().unwrap().len(), 2, "{net}");
    let o = root.berth(&["network", "rm", "appnet"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("active endpoints"), "{}", stderr(&o));
    root.ok(&["rm", "-f", &w, &c]);
    root.ok(&["network", "rm", "appnet"]);
    assert_nothing_left(&root, &w);
    assert_nothing_left(&root, &c);
}

#[test]
fn two_user_networks_are_isolated_and_an_internal_one_has_no_way_out() {
    let root = Root::new();
    root.ok(&["network", "create", "--subnet", &subnet(2), "left"]);
    root.ok(&["network", "create", "--subnet", &subnet(3), "right"]);
    root.ok(&[
        "network",
        "create",
        "--internal",
        "--subnet",
        &subnet(4),
        "inside",
    ]);
    let web = web_args("right-side");
    let mut a = vec!["--network", "right"];
    a.extend(web.iter().map(String::as_str));
    let r = run_d(&root, &a);
    let l = run_d(&root, &["--network", "left", IMAGE, "sleep", "1000"]);
    let i = run_d(&root, &["--network", "inside", IMAGE, "sleep", "1000"]);
    // On a user network the address is the endpoint's (top-level fields are the default
    // bridge's, as in Docker).
    let rip = root.inspect(&r)["NetworkSettings"]["Networks"]["right"]["IPAddress"]
        .as_str()
        .unwrap()
        .to_string();
    // Same network: reachable (checked from a second container on `right`).
    let r2 = run_d(&root, &["--network", "right", IMAGE, "sleep", "1000"]);
    eventually("httpd on right to answer its neighbour", || {
        exec_out(
            &root,
            &r2,
            &[
                "timeout",
                "3",
                "wget",
                "-q",
                "-O",
                "-",
                &format!("http://{rip}/"),
            ],
        )
        .status
        .success()
    });
    let o = exec_out(
        &root,
        &l,
        &[
            "timeout",
            "3",
            "wget",
            "-q",
            "-O",
            "-",
            &format!("http://{rip}/"),
        ],
    );
    assert!(
        !o.status.success(),
        "left reached right: {}",
        String::from_utf8_lossy(&o.stdout)
    );
    let route = String::from_utf8_lossy(&exec_out(&root, &i, &["ip", "route"]).stdout).into_owned();
    assert!(
        !route.contains("default"),
        "internal network with a default route: {route}"
    );
    let o = exec_out(
        &root,
        &i,
        &[
            "timeout",
            "3",
            "wget",
            "-q",
            "-O",
            "-",
            &format!("http://{rip}/"),
        ],
    );
    assert!(!o.status.success(), "internal reached right");
    root.ok(&["rm", "-f", &r, &l, &i, &r2]);
    for n in ["left", "right", "inside"] {
        root.ok(&["network", "rm", n]);
    }
}

/// "Outside" is a network namespace with a veth to the host and no route back to the
/// containers' subnet: only masquerading gets the answers back.
#[test]
fn outbound_traffic_is_masqueraded() {
    let root = Root::new();
    let tag = format!("bo{:x}", std::process::id() % 0xffff);
    let net = format!("10.253.{}", std::process::id() % 250);
    let sh = |c: &str| {
        let o = Command::new("sh").arg("-c").arg(c).output().unwrap();
        assert!(
            o.status.success(),
            "{c}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
    };
    struct Outside(String);
    impl Drop for Outside {
        fn drop(&mut self) {
            let _ = Command::new("ip").args(["netns", "del", &self.0]).output();
            let _ = Command::new("ip")
                .args(["link", "del", &format!("{}h", self.0)])
                .output();
        }
    }
    let _out = Outside(tag.clone());
    sh(&format!("ip netns add {tag}"));
    sh(&format!("ip link add {tag}h type veth peer name {tag}p"));
    sh(&format!("ip link set {tag}p netns {tag}"));
    sh(&format!(
        "ip addr add {net}.1/30 dev {tag}h && ip link set {tag}h up"
    ));
    sh(&format!("ip -n {tag} addr add {net}.2/30 dev {tag}p && ip -n {tag} link set {tag}p up && ip -n {tag} link set lo up"));
    let www = tempfile::tempdir().unwrap();
    std::fs::write(www.path().join("index.html"), "outside-world\n").unwrap();
    let mut httpd = Command::new("ip")
        .args([
            "netns",
            "exec",
            &tag,
            "busybox",
            "httpd",
            "-f",
            "-p",
            &format!("{net}.2:80"),
            "-h",
        ])
        .arg(www.path())
        .spawn()
        .unwrap();
    let c = run_d(&root, &[IMAGE, "sleep", "1000"]);
    let mut ok = false;
    for _ in 0..20 {
        let o = exec_out(
            &root,
            &c,
            &[
                "timeout",
                "3",
                "wget",
                "-q",
                "-O",
                "-",
                &format!("http://{net}.2/"),
            ],
        );
        if String::from_utf8_lossy(&o.stdout).contains("outside-world") {
            ok = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let _ = httpd.kill();
    let _ = httpd.wait();
    root.ok(&["rm", "-f", &c]);
    assert!(
        ok,
        "the container did not reach the outside namespace through NAT"
    );
}

#[test]
fn container_mode_shares_the_other_containers_network() {
    let root = Root::new();
    let web = web_args("shared-netns");
    let w = run_d(&root, &web.iter().map(String::as_str).collect::<Vec<_>>());
    let c = run_d(
        &root,
        &[
            "--network",
            &format!("container:{w}"),
            IMAGE,
            "sleep",
            "1000",
        ],
    );
    eventually("localhost of the shared namespace to answer", || {
        let o = exec_out(
            &root,
            &c,
            &["timeout", "3", "wget", "-q", "-O", "-", "http://127.0.0.1/"],
        );
        String::from_utf8_lossy(&o.stdout).contains("shared-netns")
    });
    root.ok(&["rm", "-f", &c, &w]);
}

#[test]
fn bad_network_input_is_one_clear_line_and_leaves_nothing() {
    let root = Root::new();
    let cases: Vec<(Vec<String>, &str)> = vec![
        (
            vec![
                "network".into(),
                "create".into(),
                "--subnet".into(),
                "10.1.2.300/24".into(),
                "bad1".into(),
            ],
            "subnet",
        ),
        (
            vec![
                "network".into(),
                "create".into(),
                "--subnet".into(),
                subnet(5),
                "--gateway".into(),
                "192.0.2.77".into(),
                "bad2".into(),
            ],
            "gateway",
        ),
    ];
    for (args, word) in cases {
        let a: Vec<&str> = args.iter().map(String::as_str).collect();
        let o = root.berth(&a);
        assert_ne!(o.status.code(), Some(0), "{a:?}");
        let e = stderr(&o);
        assert_eq!(e.trim().lines().count(), 1, "{e}");
        assert!(e.to_lowercase().contains(word), "{a:?}: {e}");
    }
    // A subnet that a host route covers (one the test adds, on loopback).
    let routed = format!("10.177.{}.0/24", std::process::id() % 250);
    struct Route(String);
    impl Drop for Route {
        fn drop(&mut self) {
            let _ = Command::new("ip")
                .args(["route", "del", &self.0, "dev", "lo"])
                .output();
        }
    }
    let added = Command::new("ip")
        .args(["route", "add", &routed, "dev", "lo"])
        .status()
        .unwrap();
    assert!(added.success());
    let _route = Route(routed.clone());
    let o = root.berth(&["network", "create", "--subnet", &routed, "routed"]);
    assert_ne!(o.status.code(), Some(0));
    assert!(stderr(&o).contains("overlaps"), "{}", stderr(&o));
    root.ok(&["network", "create", "--subnet", &subnet(6), "first"]);
    let o = root.berth(&["network", "create", "--subnet", &subnet(6), "second"]);
    assert!(stderr(&o).contains("overlaps"), "{}", stderr(&o));
    let o = root.berth(&["network", "connect", "nosuchnet", "x"]);
    assert_ne!(o.status.code(), Some(0));
    let o = root.berth(&["run", "--rm", "--network", "nosuchnet", IMAGE, "true"]);
    assert_eq!(o.status.code(), Some(125));
    assert!(stderr(&o).contains("nosuchnet"), "{}", stderr(&o));
    assert!(
        root.ids().is_empty(),
        "a container was left: {:?}",
        root.ids()
    );
    // A host port that is taken: refused before the container starts.
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    let o = root.berth(&[
        "run",
        "-d",
        "-p",
        &format!("127.0.0.1:{port}:80"),
        IMAGE,
        "sleep",
        "100",
    ]);
    assert_eq!(o.status.code(), Some(125), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("already allocated") || stderr(&o).contains("in use"),
        "{}",
        stderr(&o)
    );
    for id in root.ids() {
        let st = root.inspect(&id)["State"]["Status"].clone();
        assert_ne!(st, "running", "{id} runs although its port was taken");
        assert!(
            !root.path().join("netns").join(&id).exists(),
            "netns left for {id}"
        );
    }
    root.ok(&["network", "rm", "first"]);
}

#[test]
fn hundred_containers_on_one_network_then_nothing_left() {
    let root = Root::new();
    root.ok(&["network", "create", "--subnet", &subnet(7), "many"]);
    let mut ids = Vec::new();
    for _ in 0..100 {
        ids.push(run_d(&root, &["--network", "many", IMAGE, "sleep", "1000"]));
    }
    let net: serde_json::Value =
        serde_json::from_str(&root.ok(&["network", "inspect", "many"])).unwrap();
    let addrs: std::collections::BTreeSet<String> = net[0]["Containers"]
        .as_object()
        .unwrap()
        .values()
        .map(|c| c["IPv4Address"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(addrs.len(), 100, "distinct addresses: {}", addrs.len());
    let mut args = vec!["rm", "-f"];
    args.extend(ids.iter().map(String::as_str));
    root.ok(&args);
    let table = nft_table();
    for id in &ids {
        assert_nothing_left(&root, id);
        assert!(
            !table.contains(&format!("berth:{id}")),
            "rules of {id} left"
        );
    }
    root.ok(&["network", "rm", "many"]);
}

#[test]
fn killed_container_and_monitor_leave_networking_that_the_next_command_takes_back() {
    let root = Root::new();
    let id = run_d(&root, &["-p", "80", IMAGE, "sleep", "1000"]);
    let init = root.inspect(&id)["State"]["Pid"].as_i64().unwrap() as i32;
    assert!(nft_table().contains(&format!("berth:{id}")));
    // Kill its monitor and its init without berth knowing.
    let mut pids = processes_with(&id);
    pids.push(init);
    for pid in &pids {
        // SAFETY: kill(2) with a pid and a signal number; no memory is involved.
        unsafe { libc::kill(*pid, libc::SIGKILL) };
    }
    eventually("its processes to be gone", || {
        pids.iter().all(|p| {
            std::fs::read_to_string(format!("/proc/{p}/stat"))
                .map(|s| s.contains(") Z "))
                .unwrap_or(true)
        })
    });
    // The next command repairs, unless the monitor's watcher outran its own kill and holds
    // the container's lock while it repairs: then its repair is waited for.
    eventually("the repair to take the rules and the netns back", || {
        root.ok(&["ps", "-a"]);
        !nft_table().contains(&format!("berth:{id}"))
            && !root.path().join("netns").join(&id).exists()
    });
    // And it starts again with working networking.
    root.ok(&["start", &id]);
    let ip = root.inspect(&id)["NetworkSettings"]["IPAddress"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(!ip.is_empty());
    root.ok(&["rm", "-f", &id]);
    assert_nothing_left(&root, &id);
}

/// A restart policy restarts the container with working networking; when it ends for good
/// (no berth command involved) its monitor gives its network back.
#[test]
fn a_restarted_container_gets_networking_again_and_gives_it_back_at_the_end() {
    let root = Root::new();
    let id = run_d(
        &root,
        &[
            "--restart",
            "on-failure:1",
            "-p",
            "80",
            IMAGE,
            "sh",
            "-c",
            "ip -4 addr show eth0 | grep -q inet || exit 9; ping -c 1 -W 2 $(ip route | awk '/default/ {print $3}') >/dev/null || exit 8; sleep 1; exit 3",
        ],
    );
    eventually("the restart and the final exit", || {
        let v = root.inspect(&id);
        v["State"]["Status"] == "exited" && v["RestartCount"] == 1
    });
    assert_eq!(root.inspect(&id)["State"]["ExitCode"], 3);
    eventually("its rules and namespace to go", || {
        !nft_table().contains(&format!("berth:{id}"))
            && !root.path().join("netns").join(&id).exists()
    });
    root.ok(&["rm", &id]);
    assert_nothing_left(&root, &id);
}

/// `--ip`, `network ls`, `connect --alias` of a running container (a second interface, its
/// alias resolvable there), `disconnect`, `prune`; and hairpin: a container reaching a
/// neighbour's published port through the host's address on the bridge.
#[test]
fn fixed_address_connect_disconnect_ls_prune_and_hairpin() {
    let root = Root::new();
    let sub = subnet(8);
    let base = sub.trim_end_matches(".0/24");
    root.ok(&["network", "create", "--subnet", &sub, "front"]);
    root.ok(&["network", "create", "--subnet", &subnet(9), "back"]);
    let ls = root.ok(&["network", "ls"]);
    assert!(ls.starts_with("NETWORK ID"), "{ls}");
    for n in ["bridge", "front", "back"] {
        assert!(ls.lines().any(|l| l.contains(&format!(" {n} "))), "{ls}");
    }
    let fixed = format!("{base}.77");
    let web = web_args("hairpin-ok");
    let port = free_port();
    let publish = format!("{port}:80");
    let mut a = vec!["--network", "front", "--ip", &fixed, "-p", &publish];
    a.extend(web.iter().map(String::as_str));
    let w = run_d(&root, &a);
    assert_eq!(
        root.inspect(&w)["NetworkSettings"]["Networks"]["front"]["IPAddress"],
        fixed.as_str()
    );
    // On the default network --ip is refused, as docker does.
    let o = root.berth(&["run", "--rm", "--ip", &fixed, IMAGE, "true"]);
    assert_eq!(o.status.code(), Some(125));
    // Hairpin: a container on the same network, through the gateway (a host address).
    let c = run_d(&root, &["--network", "front", IMAGE, "sleep", "1000"]);
    let gw = root.inspect(&c)["NetworkSettings"]["Networks"]["front"]["Gateway"]
        .as_str()
        .unwrap()
        .to_string();
    eventually("the published port through the host's address", || {
        let o = exec_out(
            &root,
            &c,
            &[
                "timeout",
                "3",
                "wget",
                "-q",
                "-O",
                "-",
                &format!("http://{gw}:{port}/"),
            ],
        );
        String::from_utf8_lossy(&o.stdout).contains("hairpin-ok")
    });
    // A client on `back` only: connect the web server there too, with an alias.
    let b = run_d(&root, &["--network", "back", IMAGE, "sleep", "1000"]);
    root.ok(&["network", "connect", "--alias", "api", "back", &w]);
    let addrs = String::from_utf8_lossy(&exec_out(&root, &w, &["ip", "-o", "-4", "addr"]).stdout)
        .into_owned();
    assert!(addrs.contains("eth1"), "{addrs}");
    eventually("the alias on the second network", || {
        let o = exec_out(
            &root,
            &b,
            &["timeout", "3", "wget", "-q", "-O", "-", "http://api/"],
        );
        String::from_utf8_lossy(&o.stdout).contains("hairpin-ok")
    });
    root.ok(&["network", "disconnect", "back", &w]);
    let addrs = String::from_utf8_lossy(&exec_out(&root, &w, &["ip", "-o", "-4", "addr"]).stdout)
        .into_owned();
    assert!(!addrs.contains("eth1"), "{addrs}");
    let o = root.berth(&["network", "connect", "nosuchnet", &w]);
    assert_ne!(o.status.code(), Some(0));
    assert!(stderr(&o).contains("nosuchnet"), "{}", stderr(&o));
    root.ok(&["rm", "-f", &w, &c, &b]);
    // Prune removes the unused user networks, not the default one.
    let out = root.ok(&["network", "prune", "-f"]);
    assert!(out.contains("front") && out.contains("back"), "{out}");
    let ls = root.ok(&["network", "ls", "--format", "{{.Name}}"]);
    assert_eq!(ls.trim(), "bridge");
}

/// `--network PATH`: a network namespace made outside Berth (as a pod's), joined as it is.
#[test]
fn a_network_namespace_path_is_joined() {
    let root = Root::new();
    let name = format!("bp{:x}", std::process::id() % 0xffff);
    struct Ns(String);
    impl Drop for Ns {
        fn drop(&mut self) {
            let _ = Command::new("ip").args(["netns", "del", &self.0]).output();
        }
    }
    assert!(Command::new("ip")
        .args(["netns", "add", &name])
        .status()
        .unwrap()
        .success());
    let _ns = Ns(name.clone());
    let addr = format!("10.178.{}.9/32", std::process::id() % 250);
    assert!(Command::new("ip")
        .args(["-n", &name, "addr", "add", &addr, "dev", "lo"])
        .status()
        .unwrap()
        .success());
    let out = root.ok(&[
        "run",
        "--rm",
        "--network",
        &format!("/run/netns/{name}"),
        IMAGE,
        "ip",
        "-o",
        "-4",
        "addr",
    ]);
    assert!(out.contains(&addr), "{out}");
    assert!(!out.contains("eth0"), "{out}");
}

/// `n` consecutive TCP ports nobody holds now: the kernel picks the first, the rest are
/// checked with a real bind.
fn free_ports(n: u16) -> u16 {
    for _ in 0..100 {
        let lo = free_port();
        if lo.checked_add(n - 1).is_none() {
            continue;
        }
        if (lo..lo + n).all(|p| std::net::TcpListener::bind(("0.0.0.0", p)).is_ok()) {
            return lo;
        }
    }
    panic!("no {n} consecutive free ports");
}

/// `-p LO-HI:80` publishes one free host port of the range (docker's rule), skipping ports
/// that are taken (by a socket or published by another container) and failing when all are;
/// `-p LO-HI:A-B` maps each port to its peer.
#[test]
fn a_host_port_range_publishes_one_free_port_and_two_ranges_map_port_by_port() {
    let root = Root::new();
    let lo = free_ports(3);
    let held: Vec<_> = [lo, lo + 1]
        .into_iter()
        .map(|p| std::net::TcpListener::bind(("0.0.0.0", p)).unwrap())
        .collect();
    let range = format!("{lo}-{}:80", lo + 2);
    let mut a = vec!["-p", &range];
    let web = web_args("one-of-the-range");
    a.extend(web.iter().map(String::as_str));
    let one = run_d(&root, &a);
    assert_eq!(
        root.ok(&["port", &one]),
        format!("80/tcp -> 0.0.0.0:{}\n", lo + 2)
    );
    let mut body = String::new();
    eventually("httpd on the range's free port", || {
        match http_get(&format!("127.0.0.1:{}", lo + 2)) {
            Ok(b) => {
                body = b;
                true
            }
            Err(_) => false,
        }
    });
    assert!(body.contains("one-of-the-range"), "{body}");
    // Every port of the range taken (two by the test, one published): refused before start.
    let o = root.berth(&["run", "-d", "-p", &range, IMAGE, "sleep", "100"]);
    assert_eq!(o.status.code(), Some(125), "{}", stderr(&o));
    assert_eq!(stderr(&o).trim().lines().count(), 1, "{}", stderr(&o));
    assert!(
        stderr(&o).contains(&format!("{lo}-{}", lo + 2)),
        "{}",
        stderr(&o)
    );
    // So is that one port asked for alone, as docker says.
    let taken = format!("{}:80", lo + 2);
    let o = root.berth(&["run", "-d", "-p", &taken, IMAGE, "sleep", "100"]);
    assert_eq!(o.status.code(), Some(125), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("port is already allocated"),
        "{}",
        stderr(&o)
    );
    drop(held);

    // Two ranges of one size: host port LO+i to container port 81+i.
    let hosts = free_ports(3);
    let ranges = format!("{hosts}-{}:81-83", hosts + 2);
    let three = run_d(
        &root,
        &[
            "-p",
            &ranges,
            IMAGE,
            "sh",
            "-c",
            "for p in 81 82 83; do mkdir -p /w$p && echo port-$p > /w$p/index.html && \
             httpd -p $p -h /w$p; done; exec sleep 1000",
        ],
    );
    let want: String = (0..3)
        .map(|i| format!("{}/tcp -> 0.0.0.0:{}\n", 81 + i, hosts + i))
        .collect();
    assert_eq!(root.ok(&["port", &three]), want);
    assert_eq!(
        root.ok(&["port", &three, "82"]),
        format!("0.0.0.0:{}\n", hosts + 1)
    );
    for i in 0..3 {
        let mut body = String::new();
        eventually("each host port of the range to answer", || {
            match http_get(&format!("127.0.0.1:{}", hosts + i)) {
                Ok(b) => {
                    body = b;
                    true
                }
                Err(_) => false,
            }
        });
        assert!(body.contains(&format!("port-{}", 81 + i)), "{body}");
    }
    let ids = root.ids();
    let mut rm = vec!["rm", "-f"];
    rm.extend(ids.iter().map(String::as_str));
    root.ok(&rm);
    let table = nft_table();
    for id in &ids {
        assert!(!table.contains(&format!("berth:{id}")), "{table}");
        assert_nothing_left(&root, id);
    }
}

/// `network create --label`: the labels in `network inspect` and in `network ls`'s
/// `{{.Labels}}`. (`network ls --filter` is not implemented in Berth.)
#[test]
fn network_labels_show_in_inspect_and_ls() {
    let root = Root::new();
    root.ok(&[
        "network",
        "create",
        "--subnet",
        &subnet(10),
        "--label",
        "k=v",
        "--label",
        "k2=v2",
        "--label",
        "k3=a=b",
        "labelled",
    ]);
    let v: serde_json::Value =
        serde_json::from_str(&root.ok(&["network", "inspect", "labelled"])).unwrap();
    assert_eq!(
        v[0]["Labels"],
        serde_json::json!({"k": "v", "k2": "v2", "k3": "a=b"})
    );
    assert_eq!(
        root.ok(&["network", "inspect", "-f", "{{json .Labels}}", "labelled"])
            .trim(),
        r#"{"k":"v","k2":"v2","k3":"a=b"}"#
    );
    let ls = root.ok(&["network", "ls", "--format", "{{.Name}} [{{.Labels}}]"]);
    let mut lines: Vec<&str> = ls.lines().collect();
    lines.sort();
    assert_eq!(lines, ["bridge []", "labelled [k=v,k2=v2,k3=a=b]"], "{ls}");
    root.ok(&["network", "rm", "labelled"]);
}
