//! Many berth commands at once on one network, as scripts and CI jobs run them: rounds of
//! 50 parallel `run -d` while two `ps` loops run beside them (every command repairs what it
//! finds dead, so the loops look at containers mid-start all the time), then 50 parallel
//! `rm -f`. Every container must end up with its own address, the one its lease says, and
//! on a user network every name must resolve to it, from one container and in every one;
//! one DNS server per network; no name left after the removal.
//!
//! `BERTH_NET_STRESS_ROUNDS` sets the rounds per network (default 4: about a minute per
//! network on a loaded 2-core machine; 20 for a long run).

mod container_support;
use container_support::*;

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Instant;

const CONTAINERS: usize = 50;

fn rounds() -> usize {
    std::env::var("BERTH_NET_STRESS_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(4)
}

/// Two loops of `ps` / `ps -a` until dropped; counts how many ran.
struct PsLoops {
    stop: Arc<AtomicBool>,
    ran: Arc<AtomicUsize>,
    threads: Vec<std::thread::JoinHandle<()>>,
}

impl PsLoops {
    fn start(root: &Path) -> PsLoops {
        let stop = Arc::new(AtomicBool::new(false));
        let ran = Arc::new(AtomicUsize::new(0));
        let threads = [&["ps"][..], &["ps", "-a"][..]]
            .into_iter()
            .map(|args| {
                let (root, stop, ran) = (root.to_path_buf(), stop.clone(), ran.clone());
                std::thread::spawn(move || {
                    while !stop.load(Ordering::SeqCst) {
                        let _ = berth(&root, args);
                        ran.fetch_add(1, Ordering::SeqCst);
                    }
                })
            })
            .collect();
        PsLoops { stop, ran, threads }
    }

    fn stop(self) -> usize {
        self.stop.store(true, Ordering::SeqCst);
        for t in self.threads {
            t.join().unwrap();
        }
        self.ran.load(Ordering::SeqCst)
    }
}

/// `berth ARGS(i)` for i in 0..n, all at once; the failures as "what: error" lines.
fn all_at_once(root: &Path, n: usize, args: impl Fn(usize) -> Vec<String>) -> Vec<String> {
    let threads: Vec<_> = (0..n)
        .map(|i| {
            let (root, args) = (root.to_path_buf(), args(i));
            std::thread::spawn(move || {
                let a: Vec<&str> = args.iter().map(String::as_str).collect();
                let o = berth(&root, &a);
                (!o.status.success()).then(|| format!("{}: {}", args.join(" "), stderr(&o).trim()))
            })
        })
        .collect();
    threads
        .into_iter()
        .filter_map(|t| t.join().unwrap())
        .collect()
}

fn name(i: usize) -> String {
    format!("s{i}")
}

/// The IPv4 address (`A.B.C.D/N`) of eth0 inside `container`, None if it has none.
fn address_inside(root: &Root, container: &str) -> Option<String> {
    let o = root.berth(&["exec", container, "ip", "-4", "-o", "addr", "show", "eth0"]);
    let out = String::from_utf8_lossy(&o.stdout);
    let mut words = out.split_whitespace();
    words.find(|w| *w == "inet")?;
    words.next().map(str::to_string)
}

/// What `names` resolve to inside `container` (through its resolv.conf's server); "none"
/// for a name that does not resolve.
fn resolve_inside(root: &Root, container: &str, names: &[String]) -> BTreeMap<String, String> {
    let script = format!(
        "for n in {}; do a=$(nslookup $n 2>/dev/null | awk '/^Address: /{{print $2; exit}}'); echo \"$n ${{a:-none}}\"; done",
        names.join(" ")
    );
    let o = root.berth(&["exec", container, "sh", "-c", &script]);
    String::from_utf8_lossy(&o.stdout)
        .lines()
        .filter_map(|l| l.split_once(' '))
        .map(|(n, a)| (n.to_string(), a.to_string()))
        .collect()
}

/// The leases `network inspect` reports: container name -> `A.B.C.D/N`.
fn leases(root: &Root, network: &str) -> BTreeMap<String, String> {
    let v: serde_json::Value =
        serde_json::from_str(&root.ok(&["network", "inspect", network])).unwrap();
    v[0]["Containers"]
        .as_object()
        .map(|m| {
            m.values()
                .map(|c| {
                    (
                        c["Name"].as_str().unwrap_or_default().to_string(),
                        c["IPv4Address"].as_str().unwrap_or_default().to_string(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

fn network_id(root: &Root, network: &str) -> String {
    let v: serde_json::Value =
        serde_json::from_str(&root.ok(&["network", "inspect", network])).unwrap();
    v[0]["Id"].as_str().unwrap().to_string()
}

/// Live `berth-dns` processes serving the hosts file of network `id`.
fn dns_servers(root: &Root, id: &str) -> usize {
    let hosts = root.path().join("dns").join(format!("{id}.hosts"));
    processes_with(&hosts.display().to_string())
        .into_iter()
        .filter(|p| {
            std::fs::read_to_string(format!("/proc/{p}/stat"))
                .map(|s| !s.contains(") Z "))
                .unwrap_or(false)
        })
        .count()
}

/// What is wrong after the parallel starts: containers without an address, addresses held
/// twice, addresses that differ from the container's lease, and on a user network names
/// that do not resolve to their container's address.
fn check_started(root: &Root, network: &str, user_network: bool) -> Vec<String> {
    let mut problems = Vec::new();
    let names: Vec<String> = (0..CONTAINERS).map(name).collect();
    let leased = leases(root, network);
    let mut inside: BTreeMap<String, String> = BTreeMap::new();
    for n in &names {
        match address_inside(root, n) {
            Some(a) => {
                if leased.get(n) != Some(&a) {
                    problems.push(format!(
                        "{n} has {a} but its lease says {:?}",
                        leased.get(n)
                    ));
                }
                inside.insert(n.clone(), a);
            }
            None => problems.push(format!("{n} has no address on eth0")),
        }
    }
    let mut seen: BTreeMap<&str, &str> = BTreeMap::new();
    for (n, a) in &inside {
        if let Some(other) = seen.insert(a, n) {
            problems.push(format!("{a} is held by both {other} and {n}"));
        }
    }
    if !user_network {
        return problems;
    }
    let want = |n: &str| {
        inside
            .get(n)
            .and_then(|a| a.split('/').next())
            .unwrap_or("")
    };
    // Every name from one container...
    for (n, got) in resolve_inside(root, &names[0], &names) {
        if got != want(&n) {
            problems.push(format!(
                "{n} resolves to {got} from {}, not {}",
                names[0],
                want(&n)
            ));
        }
    }
    // ...and from every container, one other's name (each name asked by one).
    for (i, from) in names.iter().enumerate() {
        let target = names[(i + 1) % names.len()].clone();
        let got = resolve_inside(root, from, std::slice::from_ref(&target));
        let got = got.get(&target).map(String::as_str).unwrap_or("none");
        if got != want(&target) {
            problems.push(format!(
                "{target} resolves to {got} from {from}, not {}",
                want(&target)
            ));
        }
    }
    problems
}

/// After the parallel removal: no container, netns, veth or process of `ids` left.
fn check_removed(root: &Root, ids: &[String]) -> Vec<String> {
    let mut problems = Vec::new();
    let left = root.ok(&["ps", "-aq", "--no-trunc"]);
    if !left.trim().is_empty() {
        problems.push(format!("containers left: {}", left.trim()));
    }
    if let Ok(d) = std::fs::read_dir(root.path().join("netns")) {
        for e in d.flatten() {
            let n = e.file_name().to_string_lossy().into_owned();
            if !n.starts_with('.') {
                problems.push(format!("network namespace {n} left"));
            }
        }
    }
    let links = std::process::Command::new("ip")
        .args(["-o", "link"])
        .output()
        .unwrap();
    let links = String::from_utf8_lossy(&links.stdout);
    for id in ids {
        if links.contains(&format!("vb{}", &id[..6])) {
            problems.push(format!("a veth of {id} left"));
        }
        if !processes_with(id).is_empty() {
            problems.push(format!("processes of {id} left"));
        }
    }
    problems
}

/// Rounds of 50 parallel `run -d` on `network` (None: the default bridge) beside two `ps`
/// loops, checked, then 50 parallel `rm -f`, checked. Panics with every problem found.
fn stress(root: &Root, network: Option<&str>) {
    let user_network = network.is_some();
    let net = network.unwrap_or("bridge");
    let net_id = network_id(root, net);
    let mut problems: Vec<String> = Vec::new();
    let started = Instant::now();
    for round in 0..rounds() {
        let ps = PsLoops::start(root.path());
        let failed_runs = all_at_once(root.path(), CONTAINERS, |i| {
            let mut a = vec!["run".to_string(), "-d".into(), "--name".into(), name(i)];
            if let Some(n) = network {
                a.extend(["--network".to_string(), n.to_string()]);
            }
            a.extend([IMAGE.to_string(), "sleep".into(), "100000".into()]);
            a
        });
        let ps_runs = ps.stop();
        let wrong = check_started(root, net, user_network);
        let servers = user_network.then(|| dns_servers(root, &net_id));
        let ids = root.ids();
        let ps = PsLoops::start(root.path());
        let failed_rms = all_at_once(root.path(), ids.len(), |i| {
            vec!["rm".to_string(), "-f".into(), ids[i].clone()]
        });
        ps.stop();
        let left = check_removed(root, &ids);
        let hosts =
            std::fs::read_to_string(root.path().join("dns").join(format!("{net_id}.hosts")))
                .unwrap_or_default();
        eprintln!(
            "{net} round {}: {} run failures, {} wrong addresses or names, {:?} DNS servers, \
             {} rm failures, {} things left, {} names left; {ps_runs} ps beside the runs",
            round + 1,
            failed_runs.len(),
            wrong.len(),
            servers,
            failed_rms.len(),
            left.len(),
            hosts.lines().count(),
        );
        let tag = |p: String| format!("round {}: {p}", round + 1);
        problems.extend(failed_runs.into_iter().map(tag));
        problems.extend(wrong.into_iter().map(tag));
        if let Some(s) = servers.filter(|s| *s != 1) {
            problems.push(tag(format!("{s} DNS servers for {net}")));
        }
        problems.extend(failed_rms.into_iter().map(tag));
        problems.extend(left.into_iter().map(tag));
        if !hosts.trim().is_empty() {
            problems.push(tag(format!("names left after rm: {hosts}")));
        }
        // Keep the report readable: a broken build fails every round the same way.
        if problems.len() > 200 {
            break;
        }
    }
    eprintln!(
        "{net}: {} rounds in {:.1} s",
        rounds(),
        started.elapsed().as_secs_f64()
    );
    assert!(
        problems.is_empty(),
        "{} problems:\n{}",
        problems.len(),
        problems.join("\n")
    );
}

#[test]
fn fifty_parallel_runs_on_a_user_network_beside_ps_loops_all_get_an_address_and_a_name() {
    let root = Root::new();
    // A subnet of its own (10.160.<pid>.0/24): tests in other files make user networks at
    // the same time.
    let subnet = format!("10.160.{}.0/24", std::process::id() % 250);
    root.ok(&["network", "create", "--subnet", &subnet, "stress"]);
    stress(&root, Some("stress"));
    root.ok(&["network", "rm", "stress"]);
}

#[test]
fn fifty_parallel_runs_on_the_default_bridge_beside_ps_loops_all_get_an_address() {
    let root = Root::new();
    // Made on first use; the rounds need its ID up front.
    root.ok(&["network", "ls"]);
    stress(&root, None);
}
