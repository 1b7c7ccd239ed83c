//! The run flags for the container's view of the host, each seen from inside a container:
//! --add-host, --dns*, --sysctl, --shm-size, --pid/--ipc/--uts, --group-add and -u's
//! groups, --cidfile, --volumes-from, --oom-score-adj, --security-opt labels, --platform,
//! -w and -v sources that do not exist, and the health flags in inspect.

mod container_support;
use container_support::*;

fn run_none(root: &Root, args: &[&str]) -> String {
    let mut all = vec!["run", "--rm", "--network", "none"];
    all.extend_from_slice(args);
    root.ok(&all)
}

fn host_ns(kind: &str) -> String {
    std::fs::read_link(format!("/proc/self/ns/{kind}"))
        .unwrap()
        .to_string_lossy()
        .into_owned()
}

#[test]
fn add_host_and_dns_flags_write_hosts_and_resolv_conf() {
    let root = Root::new();
    let out = run_none(
        &root,
        &[
            "--add-host",
            "db.local:10.1.2.3",
            "--dns",
            "9.9.9.9",
            "--dns-search",
            "corp.example",
            "--dns-option",
            "ndots:3",
            IMAGE,
            "sh",
            "-c",
            "cat /etc/hosts; echo ---; cat /etc/resolv.conf",
        ],
    );
    let (hosts, resolv) = out.split_once("---\n").unwrap();
    assert!(hosts.contains("10.1.2.3\tdb.local\n"), "{hosts}");
    assert_eq!(
        resolv, "nameserver 9.9.9.9\nsearch corp.example\noptions ndots:3\n",
        "{resolv}"
    );
    // On a bridge network, host-gateway is the network's gateway.
    let gw = {
        let v: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(root.path().join("network.json")).unwrap(),
        )
        .unwrap();
        v["bip"]
            .as_str()
            .unwrap()
            .split('/')
            .next()
            .unwrap()
            .to_string()
    };
    let out = root.ok(&[
        "run",
        "--rm",
        "--add-host",
        "host.docker.internal:host-gateway",
        IMAGE,
        "cat",
        "/etc/hosts",
    ]);
    assert!(
        out.contains(&format!("{gw}\thost.docker.internal\n")),
        "{out}"
    );
    let o = root.berth(&["run", "--rm", "--add-host", "nocolon", IMAGE, "true"]);
    assert_eq!(o.status.code(), Some(125));
    assert!(
        stderr(&o).contains("bad format for add-host"),
        "{}",
        stderr(&o)
    );
    let o = root.berth(&["run", "--rm", "--dns", "not-an-ip", IMAGE, "true"]);
    assert_eq!(o.status.code(), Some(125));
    assert!(
        stderr(&o).contains("is not an ip address"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn sysctls_are_set_in_the_containers_namespaces() {
    let root = Root::new();
    let out = run_none(
        &root,
        &[
            "--sysctl",
            "net.ipv4.ip_forward=1",
            "--sysctl",
            "kernel.shmmni=1234",
            IMAGE,
            "sh",
            "-c",
            "cat /proc/sys/net/ipv4/ip_forward /proc/sys/kernel/shmmni",
        ],
    );
    assert_eq!(out, "1\n1234\n");
    let o = root.berth(&[
        "run",
        "--rm",
        "--sysctl",
        "kernel.hostname=x",
        IMAGE,
        "true",
    ]);
    assert_eq!(o.status.code(), Some(125));
    assert!(stderr(&o).contains("is not allowed"), "{}", stderr(&o));
    let o = root.berth(&[
        "run",
        "--rm",
        "--network",
        "host",
        "--sysctl",
        "net.ipv4.ip_forward=1",
        IMAGE,
        "true",
    ]);
    assert_eq!(o.status.code(), Some(125));
    assert!(
        stderr(&o).contains("not allowed in host network namespace"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn shm_size_sizes_dev_shm() {
    let root = Root::new();
    let out = run_none(&root, &["--shm-size", "96m", IMAGE, "df", "-k", "/dev/shm"]);
    let kb: Vec<&str> = out.lines().nth(1).unwrap().split_whitespace().collect();
    assert_eq!(kb[1], "98304", "{out}");
    let out = run_none(&root, &[IMAGE, "df", "-k", "/dev/shm"]);
    assert!(out.contains(" 65536 "), "the default is 64 MiB: {out}");
}

#[test]
fn pid_ipc_and_uts_namespaces_of_the_host_or_another_container() {
    let root = Root::new();
    let out = run_none(
        &root,
        &[
            "--pid",
            "host",
            "--ipc",
            "host",
            "--uts",
            "host",
            IMAGE,
            "sh",
            "-c",
            "for n in pid ipc uts; do readlink /proc/self/ns/$n; done",
        ],
    );
    assert_eq!(
        out,
        format!(
            "{}\n{}\n{}\n",
            host_ns("pid"),
            host_ns("ipc"),
            host_ns("uts")
        )
    );
    let host_name = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap();
    assert_eq!(
        run_none(&root, &["--uts", "host", IMAGE, "hostname"]),
        host_name
    );

    let x = root
        .ok(&[
            "run",
            "-d",
            "--network",
            "none",
            "--ipc",
            "shareable",
            IMAGE,
            "sh",
            "-c",
            "echo shared > /dev/shm/f; sleep 1000",
        ])
        .trim()
        .to_string();
    let pid = root.inspect(&x)["State"]["Pid"].as_i64().unwrap();
    let ns = |k: &str| {
        std::fs::read_link(format!("/proc/{pid}/ns/{k}"))
            .unwrap()
            .to_string_lossy()
            .into_owned()
    };
    eventually("the shm file", || {
        std::path::Path::new(&format!("/proc/{pid}/root/dev/shm/f")).exists()
    });
    let target = format!("container:{x}");
    let out = run_none(
        &root,
        &[
            "--pid",
            &target,
            "--ipc",
            &target,
            IMAGE,
            "sh",
            "-c",
            "readlink /proc/self/ns/pid; readlink /proc/self/ns/ipc; cat /dev/shm/f; ps -o comm | grep -c sleep",
        ],
    );
    assert_eq!(out, format!("{}\n{}\nshared\n1\n", ns("pid"), ns("ipc")));
    root.ok(&["stop", "-t", "0", &x]);
    let o = root.berth(&["run", "--rm", "--pid", &target, IMAGE, "true"]);
    assert_eq!(o.status.code(), Some(125));
    assert!(
        stderr(&o).contains("cannot join PID of a non running container"),
        "{}",
        stderr(&o)
    );
    let o = root.berth(&["run", "--rm", "--pid", "sideways", IMAGE, "true"]);
    assert_eq!(o.status.code(), Some(125));
}

/// `bb` with groups: staff (50) lists nobody, audio (29) nobody is not in.
fn group_image(root: &Root) -> &'static str {
    root.ok(&[
        "run",
        "--name",
        "grp",
        "--network",
        "none",
        IMAGE,
        "sh",
        "-c",
        "echo staff:x:50:nobody >> /etc/group; echo audio:x:29: >> /etc/group",
    ]);
    root.ok(&["commit", "grp", "grp:latest"]);
    root.ok(&["rm", "grp"]);
    "grp:latest"
}

#[test]
fn group_add_and_the_users_groups_from_the_images_group_file() {
    let root = Root::new();
    let img = group_image(&root);
    let ids = |args: &[&str]| -> Vec<u32> {
        let mut all = vec!["run", "--rm", "--network", "none"];
        all.extend_from_slice(args);
        all.extend_from_slice(&[img, "id", "-G"]);
        let mut v: Vec<u32> = root
            .ok(&all)
            .split_whitespace()
            .map(|g| g.parse().unwrap())
            .collect();
        v.sort();
        v.dedup();
        v
    };
    // A user by name or by uid gets the groups that list it.
    assert_eq!(ids(&["-u", "nobody"]), vec![50, 65534]);
    assert_eq!(ids(&["-u", "65534"]), vec![50, 65534]);
    // An explicit group is the only one, as docker (runc's user lookup) does.
    assert_eq!(ids(&["-u", "65534:65534"]), vec![65534]);
    assert_eq!(
        ids(&[
            "-u",
            "65534:65534",
            "--group-add",
            "audio",
            "--group-add",
            "4321"
        ]),
        vec![29, 4321, 65534]
    );
    let o = root.berth(&["run", "--rm", "--group-add", "ghosts", img, "true"]);
    assert_eq!(o.status.code(), Some(125));
    assert!(
        stderr(&o).contains("Unable to find group ghosts"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn cidfile_gets_the_id_and_an_existing_one_is_refused() {
    let root = Root::new();
    let cid = root.path().join("cid");
    let id = root
        .ok(&["create", "--cidfile", cid.to_str().unwrap(), IMAGE, "true"])
        .trim()
        .to_string();
    assert_eq!(std::fs::read_to_string(&cid).unwrap(), id);
    let o = root.berth(&["create", "--cidfile", cid.to_str().unwrap(), IMAGE, "true"]);
    assert_eq!(o.status.code(), Some(125));
    assert!(
        stderr(&o).contains("container ID file found"),
        "{}",
        stderr(&o)
    );
    assert_eq!(root.ids(), vec![id], "the refused create made a container");
    // A create that fails leaves no file.
    let other = root.path().join("cid2");
    let o = root.berth(&[
        "create",
        "--cidfile",
        other.to_str().unwrap(),
        "--pull",
        "never",
        "no-such-image",
    ]);
    assert_eq!(o.status.code(), Some(125));
    assert!(!other.exists());
}

#[test]
fn volumes_from_mounts_the_other_containers_volumes_and_binds() {
    let root = Root::new();
    let host = root.path().join("hostdir");
    std::fs::create_dir(&host).unwrap();
    std::fs::write(host.join("h"), "from host\n").unwrap();
    let bind = format!("{}:/bound", host.display());
    root.ok(&[
        "run",
        "--name",
        "src",
        "--network",
        "none",
        "-v",
        "named:/named",
        "-v",
        "/anon",
        "-v",
        &bind,
        IMAGE,
        "sh",
        "-c",
        "echo n > /named/f; echo a > /anon/f",
    ]);
    let out = run_none(
        &root,
        &[
            "--volumes-from",
            "src",
            IMAGE,
            "sh",
            "-c",
            "cat /named/f /anon/f /bound/h",
        ],
    );
    assert_eq!(out, "n\na\nfrom host\n");
    let o = root.berth(&[
        "run",
        "--rm",
        "--network",
        "none",
        "--volumes-from",
        "src:ro",
        IMAGE,
        "touch",
        "/named/g",
    ]);
    assert_ne!(o.status.code(), Some(0), "ro volumes-from could write");
    assert!(stderr(&o).contains("Read-only"), "{}", stderr(&o));
    let o = root.berth(&[
        "run",
        "--rm",
        "--volumes-from",
        "nobody-here",
        IMAGE,
        "true",
    ]);
    assert_eq!(o.status.code(), Some(125));
    assert!(stderr(&o).contains("No such container: nobody-here"));
}

#[test]
fn oom_score_adj_and_oom_kill_disable() {
    let root = Root::new();
    // Raising needs no privilege (lowering needs CAP_SYS_RESOURCE, which the caller may
    // lack: docker's runc fails the same way then).
    let out = run_none(
        &root,
        &[
            "--oom-score-adj",
            "300",
            "--oom-kill-disable",
            "-m",
            "64m",
            IMAGE,
            "cat",
            "/proc/self/oom_score_adj",
        ],
    );
    assert_eq!(out, "300\n");
    let o = root.berth(&["run", "--rm", "--oom-score-adj", "1001", IMAGE, "true"]);
    assert_eq!(o.status.code(), Some(125));
    assert!(
        stderr(&o).contains("range for oom score adj"),
        "{}",
        stderr(&o)
    );
    let id = root
        .ok(&[
            "create",
            "--oom-kill-disable",
            "--oom-score-adj",
            "5",
            IMAGE,
            "true",
        ])
        .trim()
        .to_string();
    let hc = &root.inspect(&id)["HostConfig"];
    assert_eq!(
        (hc["OomKillDisable"].clone(), hc["OomScoreAdj"].clone()),
        (true.into(), 5.into())
    );
}

#[test]
fn lsm_security_opts_are_accepted_when_they_need_no_lsm() {
    let root = Root::new();
    let out = run_none(
        &root,
        &[
            "--security-opt",
            "apparmor=unconfined",
            "--security-opt",
            "label=disable",
            IMAGE,
            "echo",
            "ok",
        ],
    );
    assert_eq!(out, "ok\n");
    let lsms = std::fs::read_to_string("/sys/kernel/security/lsm").unwrap_or_default();
    if lsms.split(',').any(|l| l.trim() == "apparmor") {
        eprintln!("skipped the unsupported-profile check: AppArmor is enabled on this host");
        return;
    }
    let o = root.berth(&[
        "run",
        "--rm",
        "--security-opt",
        "apparmor=my-profile",
        IMAGE,
        "true",
    ]);
    assert_eq!(o.status.code(), Some(125));
    assert!(
        stderr(&o).contains("AppArmor is not enabled on this host"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn platform_must_match_the_image() {
    let root = Root::new();
    let arch = match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        a => a,
    };
    let here = format!("linux/{arch}");
    assert_eq!(
        run_none(&root, &["--platform", &here, IMAGE, "echo", "ok"]),
        "ok\n"
    );
    let other = if arch == "amd64" {
        "linux/arm64"
    } else {
        "linux/amd64"
    };
    let o = root.berth(&["run", "--rm", "--platform", other, IMAGE, "true"]);
    assert_eq!(o.status.code(), Some(125));
    assert!(
        stderr(&o).contains("does not match the specified platform"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn missing_workdir_and_v_source_are_made_but_mount_source_is_not() {
    let root = Root::new();
    let out = run_none(
        &root,
        &[
            "-u",
            "nobody",
            "-w",
            "/new/work",
            IMAGE,
            "sh",
            "-c",
            "pwd; stat -c %u:%a .",
        ],
    );
    assert_eq!(out, "/new/work\n0:755\n", "docker makes it root's, 0755");
    let src = root.path().join("made/by/v");
    let spec = format!("{}:/data", src.display());
    run_none(&root, &["-v", &spec, IMAGE, "touch", "/data/x"]);
    assert!(src.join("x").is_file());
    let gone = root.path().join("not-made");
    let m = format!("type=bind,source={},target=/data", gone.display());
    let o = root.berth(&["run", "--rm", "--mount", &m, IMAGE, "true"]);
    assert_eq!(o.status.code(), Some(125));
    assert!(
        stderr(&o).contains("bind source path does not exist"),
        "{}",
        stderr(&o)
    );
    assert!(!gone.exists());
}

#[test]
fn health_flags_show_in_inspect() {
    let root = Root::new();
    let id = root
        .ok(&[
            "create",
            "--health-cmd",
            "test -e /tmp/ok",
            "--health-interval",
            "5s",
            "--health-timeout",
            "2s",
            "--health-retries",
            "4",
            "--health-start-period",
            "1m30s",
            IMAGE,
            "true",
        ])
        .trim()
        .to_string();
    assert_eq!(
        root.inspect(&id)["Config"]["Healthcheck"],
        serde_json::json!({
            "Test": ["CMD-SHELL", "test -e /tmp/ok"],
            "Interval": 5_000_000_000i64,
            "Timeout": 2_000_000_000i64,
            "StartPeriod": 90_000_000_000i64,
            "Retries": 4,
        })
    );
    let id = root
        .ok(&["create", "--no-healthcheck", IMAGE, "true"])
        .trim()
        .to_string();
    assert_eq!(
        root.inspect(&id)["Config"]["Healthcheck"],
        serde_json::json!({"Test": ["NONE"]})
    );
    let o = root.berth(&["create", "--no-healthcheck", "--health-retries", "2", IMAGE]);
    assert_eq!(o.status.code(), Some(125));
    assert!(stderr(&o).contains("conflicts with --health-* options"));
    let o = root.berth(&["create", "--health-interval", "-1s", IMAGE]);
    assert_eq!(o.status.code(), Some(125));
    assert!(stderr(&o).contains("--health-interval cannot be negative"));
}

#[test]
fn ipc_container_needs_a_shareable_donor_and_rm_takes_its_shm_away() {
    let root = Root::new();
    let private = root
        .ok(&["run", "-d", "--network", "none", IMAGE, "sleep", "1000"])
        .trim()
        .to_string();
    let target = format!("container:{private}");
    let o = root.berth(&[
        "run",
        "--rm",
        "--network",
        "none",
        "--ipc",
        &target,
        IMAGE,
        "true",
    ]);
    assert_eq!(o.status.code(), Some(125));
    assert!(stderr(&o).contains("non-shareable IPC"), "{}", stderr(&o));
    let out = run_none(
        &root,
        &[
            "--ipc",
            "none",
            IMAGE,
            "sh",
            "-c",
            "test -d /dev/shm || echo none",
        ],
    );
    assert_eq!(out, "none\n");
    let shareable = root
        .ok(&[
            "run",
            "-d",
            "--network",
            "none",
            "--ipc",
            "shareable",
            "--shm-size",
            "8m",
            IMAGE,
            "sleep",
            "1000",
        ])
        .trim()
        .to_string();
    let out = run_none(
        &root,
        &[
            "--ipc",
            &format!("container:{shareable}"),
            IMAGE,
            "df",
            "-k",
            "/dev/shm",
        ],
    );
    assert!(out.contains(" 8192 "), "the donor's 8 MiB /dev/shm: {out}");
    root.ok(&["rm", "-f", &shareable, &private]);
    let mounts = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
    assert!(!mounts.contains(&shareable), "its shm is still mounted");
    assert_nothing_left(&root, &shareable);
}

#[test]
fn bare_e_takes_the_clients_value_and_is_left_out_when_the_client_has_none() {
    let root = Root::new();
    let out = berth_command()
        .arg("--root")
        .arg(root.path())
        .env("BERTH_CLIENT_VALUE", "from-client")
        .env_remove("BERTH_CLIENT_UNSET")
        .args([
            "run",
            "--rm",
            "--network",
            "none",
            "-e",
            "BERTH_CLIENT_VALUE",
            "-e",
            "BERTH_CLIENT_UNSET",
            IMAGE,
            "sh",
            "-c",
            "echo \"$BERTH_CLIENT_VALUE\"; env | grep BERTH_CLIENT_UNSET || echo absent",
        ])
        .output()
        .unwrap();
    assert_eq!(ok(&out), "from-client\nabsent\n");
}
