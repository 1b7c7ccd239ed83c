//! OCI runtime-spec 1.2, config-linux.md: namespaces (new, joined by path, inherited), user
//! namespace id mappings, time offsets, hostname/domainname, sysctl; and the runc-compatible
//! CLI surface (option order, --version, features, spec --rootless).
//! One test per MUST, named after the behaviour.

mod common;
use common::*;
use serde_json::{json, Value};
use std::os::unix::fs::MetadataExt;
use std::path::Path;

/// The container's link for namespace `ns` next to this test's own.
fn inside_and_host(ns: &str, edit: impl FnOnce(&mut Value)) -> (String, String) {
    let b = Bundle::with(&["readlink", &format!("/proc/self/ns/{ns}")], edit);
    let inside = ok(&b.run()).trim().to_string();
    assert!(
        inside.starts_with(&format!("{ns}:[")),
        "unexpected link {inside:?}"
    );
    (inside, ns_link("self", ns))
}

#[track_caller]
fn assert_new_ns(ns: &str, edit: impl FnOnce(&mut Value)) {
    let (inside, host) = inside_and_host(ns, edit);
    assert_ne!(inside, host, "container shares the host's {ns} namespace");
}

const UID_BASE: u32 = 100_000;
const GID_BASE: u32 = 200_000;

/// A bundle whose container runs in a new user namespace: container 0..65536 -> host
/// UID_BASE.. (uids) and GID_BASE.. (gids); the rootfs is owned by the mapped root.
fn userns_bundle(args: &[&str], edit: impl FnOnce(&mut Value)) -> Bundle {
    // Every directory on the way to the rootfs must be searchable by the mapped root, and
    // /tmp may be 0700: use /var/tmp (1777).
    let dir = tempfile::Builder::new()
        .prefix("berth-test-userns-")
        .tempdir_in("/var/tmp")
        .unwrap();
    let b = Bundle::in_dir(dir, args, |c| {
        add_ns(c, "user", None);
        c["linux"]["uidMappings"] = json!([{"containerID": 0, "hostID": UID_BASE, "size": 65536}]);
        c["linux"]["gidMappings"] = json!([{"containerID": 0, "hostID": GID_BASE, "size": 65536}]);
        edit(c);
    });
    fn chown_tree(p: &Path) {
        std::os::unix::fs::lchown(p, Some(UID_BASE), Some(GID_BASE)).unwrap();
        if p.symlink_metadata().unwrap().is_dir() {
            for e in std::fs::read_dir(p).unwrap() {
                chown_tree(&e.unwrap().path());
            }
        }
    }
    chown_tree(&b.rootfs());
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(b.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    b
}

#[test]
fn new_pid_namespace_differs_from_host_and_process_is_pid_1() {
    assert_new_ns("pid", |_| {});
    assert_eq!(sh_run("echo $$", |_| {}).trim(), "1");
}

#[test]
fn new_mount_namespace_differs_from_host() {
    assert_new_ns("mnt", |_| {});
}

#[test]
fn new_uts_namespace_differs_from_host() {
    assert_new_ns("uts", |_| {});
}

#[test]
fn new_ipc_namespace_differs_from_host() {
    assert_new_ns("ipc", |_| {});
}

#[test]
fn new_network_namespace_differs_from_host() {
    assert_new_ns("net", |_| {});
}

#[test]
fn new_cgroup_namespace_differs_from_host() {
    assert_new_ns("cgroup", |_| {});
}

#[test]
fn new_time_namespace_differs_from_host() {
    assert_new_ns("time", |c| add_ns(c, "time", None));
}

#[test]
fn new_user_namespace_differs_from_host() {
    let b = userns_bundle(&["readlink", "/proc/self/ns/user"], |_| {});
    let inside = ok(&b.run()).trim().to_string();
    assert!(inside.starts_with("user:["), "{inside}");
    assert_ne!(inside, ns_link("self", "user"));
}

#[test]
fn namespace_not_listed_is_inherited_from_the_runtime() {
    let (inside, host) = inside_and_host("net", |c| drop_ns(c, "network"));
    assert_eq!(
        inside, host,
        "container got a network namespace it did not ask for"
    );
}

#[test]
fn namespaces_given_by_path_are_joined() {
    let h = Helper::spawn(
        std::process::Command::new("unshare").args(["--net", "--uts", "--ipc", "sleep", "60"]),
    );
    let pid = h.pid().to_string();
    assert!(
        eventually(|| ns_link(&pid, "net") != ns_link("self", "net")),
        "helper never entered its namespaces"
    );
    let b = Bundle::with(
        &[
            "sh",
            "-c",
            "for n in net uts ipc; do readlink /proc/self/ns/$n; done",
        ],
        |c| {
            // Setting a hostname would change the helper's namespace.
            c.as_object_mut().unwrap().remove("hostname");
            for (typ, f) in [("network", "net"), ("uts", "uts"), ("ipc", "ipc")] {
                add_ns(c, typ, Some(&format!("/proc/{pid}/ns/{f}")));
            }
        },
    );
    let out = ok(&b.run());
    let links: Vec<&str> = out.lines().collect();
    assert_eq!(
        links,
        vec![
            ns_link(&pid, "net"),
            ns_link(&pid, "uts"),
            ns_link(&pid, "ipc")
        ],
        "container did not join the helper's namespaces"
    );
}

#[test]
fn namespace_path_that_cannot_be_joined_fails_create() {
    let b = Bundle::new(&["true"]);
    // A regular file is no namespace: setns must fail and create must report it.
    let not_ns = b.path().join("config.json");
    let cfg_path = b.path().join("config.json");
    let mut cfg: Value = serde_json::from_slice(&std::fs::read(&cfg_path).unwrap()).unwrap();
    add_ns(&mut cfg, "network", Some(not_ns.to_str().unwrap()));
    std::fs::write(&cfg_path, serde_json::to_vec(&cfg).unwrap()).unwrap();
    let o = b.create();
    assert!(!o.status.success(), "create joined a non-namespace file");
    assert!(stderr(&o).contains("namespace"), "{}", stderr(&o));
    assert!(!b.root.join(&b.id).exists(), "state left behind");
    assert!(cgroup_dirs(&b.id).is_empty(), "cgroup left behind");
}

#[test]
fn user_namespace_has_the_configured_uid_and_gid_maps() {
    let b = userns_bundle(
        &["sh", "-c", "cat /proc/self/uid_map /proc/self/gid_map"],
        |_| {},
    );
    let out = ok(&b.run());
    let rows: Vec<Vec<&str>> = out
        .lines()
        .map(|l| l.split_whitespace().collect())
        .collect();
    assert_eq!(
        rows,
        vec![vec!["0", "100000", "65536"], vec!["0", "200000", "65536"]],
        "{out}"
    );
}

#[test]
fn file_created_by_container_root_is_owned_by_mapped_host_ids() {
    let b = userns_bundle(
        &[
            "sh",
            "-c",
            "touch /tmp/made-inside && id -u && stat -c '%u %g' /etc/host-owned",
        ],
        |_| {},
    );
    // A file of an unmapped host user shows up as the overflow id inside.
    let host_owned = b.rootfs().join("etc/host-owned");
    std::fs::write(&host_owned, "x").unwrap();
    std::os::unix::fs::lchown(&host_owned, Some(0), Some(0)).unwrap();
    let out = ok(&b.run());
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines, vec!["0", "65534 65534"], "{out}");
    let m = std::fs::metadata(b.rootfs().join("tmp/made-inside")).unwrap();
    assert_eq!((m.uid(), m.gid()), (UID_BASE, GID_BASE));
}

#[test]
fn time_offsets_shift_the_container_clocks() {
    const YEAR: i64 = 365 * 24 * 3600;
    let out = sh_run("cut -d. -f1 /proc/uptime", |c| {
        add_ns(c, "time", None);
        c["linux"]["timeOffsets"] = json!({"monotonic": {"secs": YEAR, "nanosecs": 0}, "boottime": {"secs": YEAR, "nanosecs": 0}});
    });
    let inside: i64 = out.trim().parse().unwrap();
    let host: f64 = std::fs::read_to_string("/proc/uptime")
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        inside >= YEAR + host as i64 - 5,
        "uptime inside {inside}s, host {host}s: boottime offset not applied"
    );
}

#[test]
fn hostname_and_domainname_are_set() {
    let out = sh_run("hostname; cat /proc/sys/kernel/domainname", |c| {
        c["hostname"] = json!("spec-host");
        c["domainname"] = json!("spec.example");
    });
    assert_eq!(
        out.lines().collect::<Vec<_>>(),
        vec!["spec-host", "spec.example"]
    );
}

#[test]
fn sysctl_is_applied_inside_the_network_namespace_only() {
    let host_before = std::fs::read_to_string("/proc/sys/net/ipv4/ip_forward").unwrap();
    let out = sh_run("cat /proc/sys/net/ipv4/ip_forward", |c| {
        c["linux"]["sysctl"] = json!({"net.ipv4.ip_forward": "1"});
    });
    assert_eq!(out.trim(), "1");
    assert_eq!(
        std::fs::read_to_string("/proc/sys/net/ipv4/ip_forward").unwrap(),
        host_before,
        "sysctl leaked to the host"
    );
}

#[test]
fn a_network_namespace_the_runtime_makes_has_loopback_up() {
    // As runc: 127.0.0.1 works in a container without networking. A connection to a port
    // nobody listens on is refused (lo is up) rather than unreachable (lo down).
    let out = sh_run(
        "cat /sys/class/net/lo/operstate /sys/class/net/lo/flags; \
         nc 127.0.0.1 1 </dev/null 2>&1; true",
        |c| add_ns(c, "network", None),
    );
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], "unknown", "lo's operstate: {out}");
    let flags = u32::from_str_radix(lines[1].trim_start_matches("0x"), 16).unwrap();
    assert_eq!(
        flags & libc::IFF_UP as u32,
        libc::IFF_UP as u32,
        "lo is down: {out}"
    );
    assert!(
        lines[2].contains("Connection refused"),
        "127.0.0.1 is not reachable: {out}"
    );
}

#[test]
fn options_may_come_before_or_after_the_container_id() {
    let b = Bundle::new(&["sleep", "30"]);
    let bundle = b.path().to_str().unwrap();
    ok(&b.rt(&["create", &b.id, "--bundle", bundle]));
    assert_eq!(b.status(), "created");
    ok(&b.rt(&["delete", "--force", &b.id]));
    ok(&b.rt(&["create", "--bundle", bundle, &b.id]));
    let st = b.state();
    assert_eq!(st["status"], "created");
    assert_eq!(
        Path::new(st["bundle"].as_str().unwrap()),
        std::fs::canonicalize(b.path()).unwrap()
    );
    // Global options after the sub-command, too.
    let o = capture(std::process::Command::new(BIN).args([
        "state",
        &b.id,
        "--root",
        b.root.to_str().unwrap(),
    ]));
    assert!(ok(&o).contains("\"created\""));
}

#[test]
fn version_names_the_runtime_and_the_spec() {
    let out = ok(&capture(std::process::Command::new(BIN).arg("--version")));
    assert!(out.contains(env!("CARGO_PKG_VERSION")), "{out}");
    assert!(out.contains("spec: 1.2"), "{out}");
}

#[test]
fn features_is_valid_json_with_version_and_namespaces() {
    let out = ok(&capture(std::process::Command::new(BIN).arg("features")));
    let v: Value = serde_json::from_str(&out).expect("features is not JSON");
    assert_eq!(v["ociVersionMax"], "1.2.0");
    let nss: Vec<&str> = v["linux"]["namespaces"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n.as_str().unwrap())
        .collect();
    for ns in [
        "cgroup", "ipc", "mount", "network", "pid", "time", "user", "uts",
    ] {
        assert!(nss.contains(&ns), "{ns} missing from {nss:?}");
    }
}

#[test]
fn spec_rootless_has_a_user_namespace_with_mappings() {
    let d = tempfile::tempdir().unwrap();
    ok(&capture(
        std::process::Command::new(BIN)
            .args(["spec", "--rootless", "--bundle"])
            .arg(d.path()),
    ));
    let v: Value =
        serde_json::from_slice(&std::fs::read(d.path().join("config.json")).unwrap()).unwrap();
    let nss = v["linux"]["namespaces"].as_array().unwrap();
    assert!(nss.iter().any(|n| n["type"] == "user"), "{nss:?}");
    // SAFETY: geteuid/getegid cannot fail.
    let (uid, gid) = unsafe { (libc::geteuid(), libc::getegid()) };
    assert_eq!(
        v["linux"]["uidMappings"],
        json!([{"containerID": 0, "hostID": uid, "size": 1}])
    );
    assert_eq!(
        v["linux"]["gidMappings"],
        json!([{"containerID": 0, "hostID": gid, "size": 1}])
    );
}

#[test]
fn duplicate_namespace_type_is_an_error() {
    let b = Bundle::with(&["true"], |c| {
        c["linux"]["namespaces"]
            .as_array_mut()
            .unwrap()
            .push(json!({"type": "network"}))
    });
    let o = b.create();
    assert!(
        !o.status.success(),
        "create accepted two network namespaces"
    );
    assert!(stderr(&o).contains("linux.namespaces"), "{}", stderr(&o));
    assert!(!b.root.join(&b.id).exists());
}

// runtime.md operations.

#[test]
fn config_changes_after_create_have_no_effect() {
    let b = Bundle::new(&["sh", "-c", "echo original > /tmp/ran"]);
    ok(&b.create());
    let marker = b.path().join("poststart-ran");
    let cfg_path = b.path().join("config.json");
    let mut cfg: Value = serde_json::from_slice(&std::fs::read(&cfg_path).unwrap()).unwrap();
    cfg["process"]["args"] = json!(["sh", "-c", "echo changed > /tmp/ran"]);
    cfg["hooks"] = json!({"poststart": [{"path": "/bin/touch", "args": ["touch", marker]}]});
    std::fs::write(&cfg_path, serde_json::to_vec(&cfg).unwrap()).unwrap();
    ok(&b.rt(&["start", &b.id]));
    let ran = b.rootfs().join("tmp/ran");
    assert!(eventually(|| ran.exists()));
    assert!(eventually(|| std::fs::read_to_string(&ran)
        .unwrap_or_default()
        == "original\n"));
    assert!(!marker.exists(), "a hook added after create ran");
}

#[test]
fn start_of_a_stopped_container_fails_and_changes_nothing() {
    let b = Bundle::new(&["true"]);
    ok(&b.create());
    ok(&b.rt(&["start", &b.id]));
    assert!(eventually(|| b.status() == "stopped"));
    let o = b.rt(&["start", &b.id]);
    assert!(
        !o.status.success(),
        "start of a stopped container succeeded"
    );
    assert_eq!(b.status(), "stopped");
}

#[test]
fn kill_of_a_stopped_container_fails() {
    let b = Bundle::new(&["true"]);
    ok(&b.create());
    ok(&b.rt(&["start", &b.id]));
    assert!(eventually(|| b.status() == "stopped"));
    let o = b.rt(&["kill", &b.id, "KILL"]);
    assert!(!o.status.success(), "kill of a stopped container succeeded");
    assert_eq!(b.status(), "stopped");
}

#[test]
fn state_reports_id_status_pid_bundle_and_version() {
    let b = Bundle::new(&["sleep", "30"]);
    ok(&b.create());
    let st = b.state();
    assert_eq!(st["ociVersion"], "1.2.0");
    assert_eq!(st["id"], b.id.as_str());
    assert_eq!(st["status"], "created");
    let pid = st["pid"].as_i64().unwrap();
    // The pid is the init as the host sees it.
    let cmd = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    assert!(
        cmd.contains("NSpid:") && cmd.contains(&format!("\t{pid}\t1")),
        "{cmd}"
    );
    assert_eq!(
        Path::new(st["bundle"].as_str().unwrap()),
        std::fs::canonicalize(b.path()).unwrap()
    );
}
