//! Crash safety of networking berth killed with SIGKILL at each named
//! point of network setup and teardown (`berth_engine::crash_point`, through
//! `BERTH_TEST_CRASH_AT`), then the next command repairs: no veth, netns, nft rule, DNS name
//! or lease is left, and the container started again has working networking (its published
//! port answers on 127.0.0.1, its name resolves and answers from a neighbour).
//!
//! Every point of `NETWORK_CRASH_POINTS` is visited; a point the command never reaches
//! fails the test (the process must have died by SIGKILL), except where a point cannot be
//! reached by design (DNS on the default network, `rm`'s last step on `stop`), where the
//! command must then succeed.

mod container_support;
use berth_engine::crash_point::NETWORK_CRASH_POINTS;
use container_support::*;
use std::io::{Read, Write};
use std::process::Command;
use std::time::Duration;

const NET: &str = "crashnet";
const TEXT: &str = "crash-safe";

fn points(prefix: &str) -> impl Iterator<Item = &'static str> + '_ {
    NETWORK_CRASH_POINTS
        .iter()
        .copied()
        .filter(move |p| p.starts_with(prefix))
}

/// A subnet for this test's user network: 10.<170+tag>.<pid>.0/24.
fn subnet(tag: u8) -> String {
    format!("10.{}.{}.0/24", 170 + tag, std::process::id() % 250)
}

/// The web server: busybox httpd serving TEXT on port 80.
fn web(args: &mut Vec<String>) {
    args.extend(
        [
            IMAGE,
            "sh",
            "-c",
            &format!(
                "mkdir -p /www && echo {TEXT} > /www/index.html && exec httpd -f -p 80 -h /www"
            ),
        ]
        .map(String::from),
    );
}

fn run_args(network: Option<&str>) -> Vec<String> {
    let mut a: Vec<String> = ["run", "-d", "-p", "80", "--name", "web"]
        .map(String::from)
        .into();
    if let Some(n) = network {
        a.extend(["--network", n, "--network-alias", "www"].map(String::from));
    }
    web(&mut a);
    a
}

fn strs(a: &[String]) -> Vec<&str> {
    a.iter().map(String::as_str).collect()
}

fn links() -> String {
    let o = Command::new("ip").args(["-o", "link"]).output().unwrap();
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn on_bridge(bridge: &str) -> String {
    let o = Command::new("ip")
        .args(["-o", "link", "show", "master", bridge])
        .output()
        .unwrap();
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn http_get(port: &str) -> std::io::Result<String> {
    let addr = format!("127.0.0.1:{port}").parse().unwrap();
    let mut s = std::net::TcpStream::connect_timeout(&addr, Duration::from_secs(3))?;
    s.set_read_timeout(Some(Duration::from_secs(3)))?;
    s.write_all(b"GET / HTTP/1.0\r\n\r\n")?;
    let mut out = String::new();
    s.read_to_string(&mut out)?;
    Ok(out)
}

/// The network's Linux bridge and its containers (those holding a lease), from inspect.
fn network(root: &Root, name: &str) -> (String, serde_json::Value) {
    let v: serde_json::Value =
        serde_json::from_str(&root.ok(&["network", "inspect", name])).unwrap();
    (
        v[0]["Options"]["com.docker.network.bridge.name"]
            .as_str()
            .unwrap()
            .to_string(),
        v[0]["Containers"].clone(),
    )
}

/// Nothing of `id`'s networking is left: no veth, pinned netns, ports.json, nft rule, DNS
/// name or lease on `net`.
fn assert_no_networking(root: &Root, id: &str, net: &str, at: &str) {
    assert!(
        !links().contains(&format!("vb{}", &id[..6])),
        "{at}: a veth is left"
    );
    assert!(
        !root.path().join("netns").join(id).exists(),
        "{at}: the netns is left"
    );
    assert!(
        !root
            .path()
            .join("containers")
            .join(id)
            .join("ports.json")
            .exists(),
        "{at}: ports.json is left"
    );
    let table = nft_table();
    assert!(
        !table.contains(&format!("berth:{id}")),
        "{at}: nft rules are left: {table}"
    );
    for e in std::fs::read_dir(root.path().join("dns"))
        .into_iter()
        .flatten()
        .flatten()
    {
        let text = std::fs::read_to_string(e.path()).unwrap_or_default();
        assert!(
            !text.contains(&id[..12]),
            "{at}: a DNS name is left in {}: {text}",
            e.path().display()
        );
    }
    let (bridge, containers) = network(root, net);
    assert_eq!(
        containers.as_object().map(|m| m.len()),
        Some(0),
        "{at}: a lease is left: {containers}"
    );
    let left = on_bridge(&bridge);
    assert!(left.trim().is_empty(), "{at}: veths on {bridge}: {left}");
}

/// After a repair: the container starts again with working networking (its published port
/// answers on 127.0.0.1; on a user network its name and alias answer from a neighbour),
/// then `rm -f` leaves nothing.
fn start_works_then_rm_leaves_nothing(root: &Root, id: &str, net: &str, user: bool, at: &str) {
    root.ok(&["start", id]);
    let port = root.inspect(id)["NetworkSettings"]["Ports"]["80/tcp"][0]["HostPort"]
        .as_str()
        .unwrap_or_else(|| panic!("{at}: no published port"))
        .to_string();
    let mut got = String::new();
    for _ in 0..100 {
        got = http_get(&port).unwrap_or_else(|e| e.to_string());
        if got.contains(TEXT) {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(
        got.contains(TEXT),
        "{at}: the published port does not answer on 127.0.0.1:{port}: {got}"
    );
    if user {
        for name in ["web", "www"] {
            assert!(
                neighbour_reaches(root, net, name),
                "{at}: no answer from {name} to a neighbour"
            );
        }
    }
    root.ok(&["rm", "-f", id]);
    assert_nothing_left(root, id);
    assert_no_networking(root, id, net, at);
}

/// The user network goes with nothing of it left: bridge, its rules, its DNS server.
fn remove_network(root: &Root, net: &str, at: &str) {
    let v: serde_json::Value =
        serde_json::from_str(&root.ok(&["network", "inspect", net])).unwrap();
    let id = v[0]["Id"].as_str().unwrap().to_string();
    let (bridge, _) = network(root, net);
    root.ok(&["network", "rm", net]);
    eventually("its DNS server to end", || processes_with(&id).is_empty());
    let dns: Vec<_> = std::fs::read_dir(root.path().join("dns"))
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.file_name())
        .filter(|n| n.to_string_lossy().starts_with(&id))
        .collect();
    assert!(dns.is_empty(), "{at}: DNS files left: {dns:?}");
    assert!(
        !links().contains(&format!(" {bridge}:")),
        "{at}: bridge {bridge} left"
    );
    let table = nft_table();
    assert!(
        !table.contains(&format!("\"{bridge}\"")),
        "{at}: rules of {bridge} left: {table}"
    );
}

fn the_one_container(root: &Root) -> String {
    let ids = root.ids();
    assert_eq!(ids.len(), 1, "{ids:?}");
    ids[0].clone()
}

/// `run -d -p 80 --network <user network> --network-alias www` killed at each setup point:
/// the next command takes back what it made, and a start gives working networking.
#[test]
fn a_run_killed_at_each_setup_point_on_a_user_network_is_repaired_and_starts_again() {
    let root = Root::new();
    let args = run_args(Some(NET));
    for point in points("net-up:") {
        // A new network each time: its bridge, rules and DNS server are made by this run.
        root.ok(&["network", "create", "--subnet", &subnet(0), NET]);
        let o = berth_crashing_at(&root, point, &strs(&args));
        assert_killed(&o, point, "run");
        let id = the_one_container(&root);
        root.ok(&["ps", "-a"]);
        assert_no_networking(&root, &id, NET, point);
        start_works_then_rm_leaves_nothing(&root, &id, NET, true, point);
        remove_network(&root, NET, point);
    }
}

/// The same on the default bridge (its bridge made anew each time); DNS points are not
/// reached there (no embedded DNS on the default network, as Docker).
#[test]
fn a_run_killed_at_each_setup_point_on_the_default_bridge_is_repaired_and_starts_again() {
    let root = Root::new();
    let args = run_args(None);
    for point in points("net-up:") {
        remove_bridge(&root.bridge());
        let o = berth_crashing_at(&root, point, &strs(&args));
        let id = the_one_container(&root);
        if point.starts_with("net-up:dns-") {
            ok(&o);
            root.ok(&["rm", "-f", &id]);
            assert_nothing_left(&root, &id);
            continue;
        }
        assert_killed(&o, point, "run");
        root.ok(&["ps", "-a"]);
        assert_no_networking(&root, &id, "bridge", point);
        start_works_then_rm_leaves_nothing(&root, &id, "bridge", false, point);
    }
}

/// `rm -f` of a running container on a user network killed at each teardown point: the next
/// command finishes the removal and nothing is left.
#[test]
fn an_rm_killed_at_each_teardown_point_is_finished_by_the_next_command() {
    let root = Root::new();
    root.ok(&["network", "create", "--subnet", &subnet(1), NET]);
    let args = run_args(Some(NET));
    for point in points("net-down:") {
        let id = root.ok(&strs(&args)).trim().to_string();
        let o = berth_crashing_at(&root, point, &["rm", "-f", &id]);
        assert_killed(&o, point, "rm");
        eventually("its processes to end", || processes_with(&id).is_empty());
        root.ok(&["ps", "-a"]);
        assert_nothing_left(&root, &id);
        assert_no_networking(&root, &id, NET, point);
    }
    remove_network(&root, NET, "the end");
}

/// `stop` killed at each teardown point (`net-down:detached` is `rm`'s only): the next
/// command takes the network back, and the container starts again with working networking.
#[test]
fn a_stop_killed_at_each_teardown_point_is_repaired_and_starts_again() {
    let root = Root::new();
    root.ok(&["network", "create", "--subnet", &subnet(2), NET]);
    let args = run_args(Some(NET));
    for point in points("net-down:") {
        let id = root.ok(&strs(&args)).trim().to_string();
        let o = berth_crashing_at(&root, point, &["stop", "-t", "0", &id]);
        if point == "net-down:detached" {
            ok(&o);
            root.ok(&["rm", "-f", &id]);
            assert_nothing_left(&root, &id);
            continue;
        }
        assert_killed(&o, point, "stop");
        eventually("its processes to end", || processes_with(&id).is_empty());
        root.ok(&["ps", "-a"]);
        assert_no_networking(&root, &id, NET, point);
        start_works_then_rm_leaves_nothing(&root, &id, NET, true, point);
    }
    remove_network(&root, NET, "the end");
}

const NET2: &str = "crashnet2";

/// `name` answers with TEXT from a neighbour on `net` (removed before this returns: an
/// `--rm` one would hold its lease until its monitor has removed it).
fn answers_from_neighbour(root: &Root, net: &str, name: &str) -> bool {
    let url = format!("http://{name}/");
    let o = root.berth(&[
        "run",
        "--name",
        "neighbour",
        "--network",
        net,
        IMAGE,
        // (busybox's wget -T crashes: timeout(1) bounds it instead.)
        "timeout",
        "3",
        "wget",
        "-q",
        "-O",
        "-",
        &url,
    ]);
    root.ok(&["rm", "-f", "neighbour"]);
    String::from_utf8_lossy(&o.stdout).contains(TEXT)
}

/// [`answers_from_neighbour`], a few tries: the DNS server re-reads its names at most every
/// 100 ms, and a repair just before a start rewrote them twice.
fn neighbour_reaches(root: &Root, net: &str, name: &str) -> bool {
    (0..20).any(|_| answers_from_neighbour(root, net, name))
}

/// `id` is off NET2 for good: not in its inspect, no lease, veth, DNS name or repair mark.
fn assert_off(root: &Root, id: &str, at: &str) {
    let v = root.inspect(id);
    assert!(
        v["NetworkSettings"]["Networks"].get(NET2).is_none(),
        "{at}: still on {NET2}: {}",
        v["NetworkSettings"]["Networks"]
    );
    let (bridge, containers) = network(root, NET2);
    assert_eq!(
        containers.as_object().map(|m| m.len()),
        Some(0),
        "{at}: a lease on {NET2} is left: {containers}"
    );
    let left = on_bridge(&bridge);
    assert!(left.trim().is_empty(), "{at}: veths on {bridge}: {left}");
    let names = root.ok(&["network", "inspect", "-f", "{{.Id}}", NET2]);
    let hosts = root
        .path()
        .join("dns")
        .join(format!("{}.hosts", names.trim()));
    let text = std::fs::read_to_string(&hosts).unwrap_or_default();
    assert!(!text.contains(&id[..12]), "{at}: DNS name left: {text}");
    // Its other network is untouched.
    assert!(
        neighbour_reaches(root, NET, "www"),
        "{at}: no answer on {NET}"
    );
}

/// `network connect` and `network disconnect` of a running container killed at each of
/// their points: the next command leaves the container off the network (the connect undone,
/// the disconnect finished), and it can be connected again.
#[test]
fn a_connect_or_disconnect_killed_at_each_point_leaves_the_container_off_the_network() {
    let root = Root::new();
    root.ok(&["network", "create", "--subnet", &subnet(3), NET]);
    let id = root.ok(&strs(&run_args(Some(NET)))).trim().to_string();
    let connect = ["network", "connect", "--alias", "w2", NET2, &id];
    // Plugging a network into a running container: no netns, ports or files of its own.
    let not_on_connect = [
        "net-up:netns",
        "net-up:ports-file",
        "net-up:port-rules",
        "net-up:files",
        "net-up:done",
    ];
    for point in points("net-up:").chain(points("net-connect:")) {
        // A new network each time: its bridge, rules and DNS server are made by the connect.
        root.ok(&["network", "create", "--subnet", &subnet(4), NET2]);
        let o = berth_crashing_at(&root, point, &connect);
        if not_on_connect.contains(&point) {
            ok(&o);
        } else {
            assert_killed(&o, point, "network connect");
            root.ok(&["ps", "-a"]);
            assert_off(&root, &id, point);
            root.ok(&connect);
        }
        assert!(
            neighbour_reaches(&root, NET2, "w2"),
            "{point}: no answer on {NET2} after a connect"
        );
        root.ok(&["network", "disconnect", NET2, &id]);
        remove_network(&root, NET2, point);
    }
    for point in points("net-disconnect:") {
        root.ok(&["network", "create", "--subnet", &subnet(4), NET2]);
        root.ok(&connect);
        let o = berth_crashing_at(&root, point, &["network", "disconnect", NET2, &id]);
        assert_killed(&o, point, "network disconnect");
        root.ok(&["ps", "-a"]);
        assert_off(&root, &id, point);
        remove_network(&root, NET2, point);
    }
    root.ok(&["rm", "-f", &id]);
    assert_nothing_left(&root, &id);
    remove_network(&root, NET, "the end");
}

/// A kill inside the bridge's creation (after the link is made, before its gateway address
/// is on it: steps of one `berth-network` call, where no crash point can be) leaves a bridge
/// without an address, made here by hand: the next start completes it.
#[test]
fn a_bridge_left_without_its_address_is_completed_by_the_next_start() {
    let root = Root::new();
    root.ok(&["network", "create", "--subnet", &subnet(5), NET]);
    let (bridge, _) = network(&root, NET);
    for args in [
        vec!["link", "add", "name", &bridge, "type", "bridge"],
        vec!["link", "set", &bridge, "up"],
    ] {
        let o = Command::new("ip").args(&args).output().unwrap();
        assert!(o.status.success(), "ip {args:?}: {}", stderr(&o));
    }
    let id = root.ok(&strs(&run_args(Some(NET)))).trim().to_string();
    root.ok(&["stop", "-t", "0", &id]);
    start_works_then_rm_leaves_nothing(&root, &id, NET, true, "a bare bridge");
    remove_network(&root, NET, "the end");
}
