//! A data root made afresh (a reinstall, `rm -rf` of the root) while the default network's
//! bridge and its rules remain on the host from the earlier root: the new root's default
//! network agrees with the bridge (its address taken, or the bridge given the configured
//! one), so published ports and outbound traffic work; a bridge that containers the new
//! root does not know still use is refused with a clear error, never shared silently.

mod container_support;
use container_support::*;

use std::io::{Read, Write};
use std::process::Command;
use std::time::Duration;

fn http_get(addr: &str) -> std::io::Result<String> {
    let mut s =
        std::net::TcpStream::connect_timeout(&addr.parse().unwrap(), Duration::from_secs(3))?;
    s.set_read_timeout(Some(Duration::from_secs(3)))?;
    s.write_all(b"GET / HTTP/1.0\r\n\r\n")?;
    let mut out = String::new();
    s.read_to_string(&mut out)?;
    Ok(out)
}

fn set_network_json(root: &Root, json: &str) {
    std::fs::write(root.path().join("network.json"), json).unwrap();
}

/// The IPv4 addresses (`A.B.C.D/N`) the host's link `name` has.
fn link_addresses(name: &str) -> Vec<String> {
    let o = Command::new("ip")
        .args(["-4", "-o", "addr", "show", "dev", name])
        .output()
        .unwrap();
    String::from_utf8_lossy(&o.stdout)
        .lines()
        .filter_map(|l| {
            let mut w = l.split_whitespace();
            w.find(|x| *x == "inet")?;
            w.next().map(str::to_string)
        })
        .collect()
}

/// The default network's `Gateway/prefix` as the root sees it.
fn default_network_gateway(root: &Root) -> String {
    let v: serde_json::Value =
        serde_json::from_str(&root.ok(&["network", "inspect", "bridge"])).unwrap();
    let c = &v[0]["IPAM"]["Config"][0];
    let subnet = c["Subnet"].as_str().unwrap();
    let prefix = subnet.split('/').nth(1).unwrap();
    format!("{}/{prefix}", c["Gateway"].as_str().unwrap())
}

/// A root of its own whose default bridge gets `bip`; it makes the bridge, publishes a port
/// through it, and is then deleted as `rm -rf` would (its containers removed first): the
/// bridge and its rules stay on the host. Returns the bridge's name.
fn earlier_root_leaving_its_bridge(bip: &str) -> String {
    let a = Root::new();
    let bridge = a.bridge();
    set_network_json(
        &a,
        &format!("{{\"bridge\": \"{bridge}\", \"bip\": \"{bip}\"}}"),
    );
    let id = a.ok(&["run", "-d", "-p", "80", IMAGE, "sleep", "1000"]);
    a.ok(&["rm", "-f", id.trim()]);
    assert_eq!(link_addresses(&bridge), [bip], "the earlier root's bridge");
    let dir = a.path().to_path_buf();
    // Not its Drop: that would remove the bridge too.
    std::mem::forget(a);
    std::fs::remove_dir_all(&dir).unwrap();
    bridge
}

/// The host's own address towards the outside (the source of its default route), for a
/// container to reach through its gateway; None without a default route.
fn host_address() -> Option<String> {
    let o = Command::new("ip")
        .args(["-4", "-o", "route", "get", "1.1.1.1"])
        .output()
        .ok()?;
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    let mut w = out.split_whitespace();
    w.find(|x| *x == "src")?;
    w.next().map(str::to_string)
}

/// A container on the default network serves a page on a published port, reachable from
/// the host, and reaches the host's own address through its gateway.
fn assert_bridge_works(root: &Root) {
    let id = root
        .ok(&[
            "run",
            "-d",
            "-p",
            "80",
            IMAGE,
            "sh",
            "-c",
            "mkdir -p /www && echo fresh-root > /www/index.html && exec httpd -f -p 80 -h /www",
        ])
        .trim()
        .to_string();
    let port = root
        .ok(&["port", &id, "80"])
        .lines()
        .next()
        .and_then(|l| l.rsplit(':').next())
        .and_then(|p| p.trim().parse::<u16>().ok())
        .expect("a published port");
    let mut body = String::new();
    for _ in 0..100 {
        if let Ok(b) = http_get(&format!("127.0.0.1:{port}")) {
            body = b;
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(
        body.contains("fresh-root"),
        "the published port does not answer from the host: {body:?}"
    );
    match host_address() {
        Some(addr) => {
            let o = root.berth(&["exec", &id, "ping", "-c", "1", "-W", "3", &addr]);
            assert!(
                o.status.success(),
                "the container does not reach the host's {addr} through its gateway: {}",
                String::from_utf8_lossy(&o.stdout)
            );
        }
        None => eprintln!("skipped the outbound check: the host has no default route"),
    }
    root.ok(&["rm", "-f", &id]);
}

fn bip_for(tag: u32) -> String {
    format!("10.{}.{}.1/24", 120 + tag, std::process::id() % 250)
}

#[test]
fn a_fresh_root_without_bip_takes_the_address_of_the_bridge_left_on_the_host() {
    let bip = bip_for(0);
    let bridge = earlier_root_leaving_its_bridge(&bip);
    let b = Root::new();
    set_network_json(&b, &format!("{{\"bridge\": \"{bridge}\"}}"));
    assert_eq!(default_network_gateway(&b), bip);
    assert_eq!(link_addresses(&bridge), [bip]);
    assert_bridge_works(&b);
}

#[test]
fn a_fresh_root_with_another_bip_gives_the_bridge_left_on_the_host_its_address() {
    let old = bip_for(1);
    let new = bip_for(2);
    let bridge = earlier_root_leaving_its_bridge(&old);
    let b = Root::new();
    set_network_json(
        &b,
        &format!("{{\"bridge\": \"{bridge}\", \"bip\": \"{new}\"}}"),
    );
    assert_eq!(default_network_gateway(&b), new);
    assert_eq!(
        link_addresses(&bridge),
        [new],
        "the bridge keeps the old address"
    );
    assert_bridge_works(&b);
}

#[test]
fn a_fresh_root_refuses_a_bridge_that_containers_it_does_not_know_still_use() {
    let bip = bip_for(3);
    let bridge = earlier_root_leaving_its_bridge(&bip);
    // A container of the earlier root still running: its veth on the bridge.
    let veth = format!("{bridge}x");
    let made = Command::new("sh")
        .arg("-c")
        .arg(format!(
            "ip link add {veth} type veth peer name {veth}p && ip link set {veth} master {bridge}"
        ))
        .status()
        .unwrap();
    assert!(made.success());
    let b = Root::new();
    set_network_json(&b, &format!("{{\"bridge\": \"{bridge}\"}}"));
    let o = b.berth(&["run", "-d", IMAGE, "sleep", "1000"]);
    let _ = Command::new("ip").args(["link", "del", &veth]).status();
    assert!(!o.status.success(), "started on a bridge in use");
    let err = stderr(&o);
    assert!(
        err.contains(&bridge) && err.contains("does not know") && err.lines().count() == 1,
        "{err}"
    );
    assert_eq!(link_addresses(&bridge), [bip], "the bridge was changed");
    assert!(b.ids().is_empty(), "a container was left: {:?}", b.ids());
    // Once it is free, the root takes it.
    assert_bridge_works(&b);
}
