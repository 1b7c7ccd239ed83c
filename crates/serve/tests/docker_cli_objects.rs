//! Images, networks and volumes with the docker CLI through `berth serve`.

mod common;
use common::*;

#[test]
fn images_tag_inspect_history_and_rmi() {
    let s = Server::start();
    let images = s.ok(&["images", "--format", "{{.Repository}}:{{.Tag}}"]);
    assert_eq!(images, "busybox:latest\n");
    s.ok(&["tag", "busybox", "mine:v1"]);
    let id = s.ok(&["image", "inspect", "-f", "{{.Id}}", "mine:v1"]);
    assert!(id.starts_with("sha256:"), "{id}");
    assert_eq!(s.ok(&["image", "inspect", "-f", "{{.Id}}", "busybox"]), id);
    assert!(!s.ok(&["history", "-q", "mine:v1"]).is_empty());
    let out = s.ok(&["rmi", "mine:v1"]);
    assert!(out.contains("Untagged: mine:v1"), "{out}");
    let o = s.docker(&["image", "inspect", "mine:v1"]);
    assert_eq!(o.status.code(), Some(1));
    // In use by a container: a conflict, as dockerd's.
    s.ok(&["create", "--name", "user", "busybox", "true"]);
    let o = s.docker(&["rmi", "busybox"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("conflict") || stderr(&o).contains("being used"),
        "{}",
        stderr(&o)
    );
    s.ok(&["rm", "user"]);
}

#[test]
fn networks_connect_containers_that_reach_each_other_by_name() {
    let s = Server::start();
    let net = format!("n{}", std::process::id());
    s.ok(&["network", "create", &net]);
    assert!(s
        .ok(&["network", "ls", "--format", "{{.Name}}"])
        .lines()
        .any(|l| l == net));
    s.ok(&[
        "run",
        "-d",
        "--name",
        "cli",
        "--network",
        &net,
        "busybox",
        "sleep",
        "1000",
    ]);
    // Started on the default bridge, then connected with an alias: the network's DNS
    // answers for it by name and alias (its own resolv.conf stays the host's, as with
    // dockerd).
    s.ok(&["run", "-d", "--name", "srv", "busybox", "sleep", "1000"]);
    s.ok(&["network", "connect", "--alias", "other", &net, "srv"]);
    let inspect = s.ok(&[
        "network",
        "inspect",
        "-f",
        "{{range .Containers}}{{.Name}} {{end}}",
        &net,
    ]);
    assert!(
        inspect.contains("srv") && inspect.contains("cli"),
        "{inspect}"
    );
    for name in ["srv", "other"] {
        let o = s.docker(&["exec", "cli", "ping", "-c", "1", "-W", "5", name]);
        assert!(o.status.success(), "{name}: {}{}", stdout(&o), stderr(&o));
    }
    s.ok(&["network", "disconnect", &net, "srv"]);
    let o = s.docker(&["network", "rm", &net]);
    assert_eq!(o.status.code(), Some(1), "a network in use is not removed");
    s.ok(&["rm", "-f", "srv", "cli"]);
    s.ok(&["network", "rm", &net]);
}

#[test]
fn volumes_keep_data_across_containers() {
    let s = Server::start();
    s.ok(&["volume", "create", "--label", "k=v", "data"]);
    assert!(s
        .ok(&[
            "volume",
            "ls",
            "--filter",
            "label=k=v",
            "--format",
            "{{.Name}}"
        ])
        .contains("data"));
    s.ok(&[
        "run",
        "--rm",
        "-v",
        "data:/data",
        "busybox",
        "sh",
        "-c",
        "echo kept > /data/f",
    ]);
    assert_eq!(
        s.ok(&[
            "run",
            "--rm",
            "-v",
            "data:/data",
            "busybox",
            "cat",
            "/data/f"
        ]),
        "kept\n"
    );
    assert_eq!(
        s.ok(&[
            "volume",
            "inspect",
            "-f",
            "{{.Driver}} {{.Labels.k}}",
            "data"
        ]),
        "local v\n"
    );
    s.ok(&["volume", "rm", "data"]);
    let df = s.ok(&["system", "df", "--format", "{{.Type}}"]);
    assert!(df.contains("Images") && df.contains("Containers"), "{df}");
}

#[test]
fn container_list_filters_and_prune() {
    let s = Server::start();
    s.ok(&[
        "run", "-d", "--name", "up", "--label", "tier=web", "busybox", "sleep", "1000",
    ]);
    s.ok(&["run", "--name", "done", "busybox", "true"]);
    assert_eq!(s.ok(&["ps", "--format", "{{.Names}}"]), "up\n");
    assert_eq!(
        s.ok(&[
            "ps",
            "-a",
            "--filter",
            "status=exited",
            "--format",
            "{{.Names}}"
        ]),
        "done\n"
    );
    assert_eq!(
        s.ok(&[
            "ps",
            "--filter",
            "label=tier=web",
            "--format",
            "{{.Names}} {{.Status}}"
        ])
        .split_whitespace()
        .take(2)
        .collect::<Vec<_>>(),
        ["up", "Up"]
    );
    let out = s.ok(&["container", "prune", "-f"]);
    assert!(out.contains("Deleted Containers"), "{out}");
    assert_eq!(s.ok(&["ps", "-a", "--format", "{{.Names}}"]), "up\n");
    s.ok(&["rm", "-f", "up"]);
}

#[test]
fn import_a_root_filesystem_tarball_with_changes() {
    let s = Server::start();
    let fs = s.dir.path().join("fs");
    std::fs::create_dir_all(fs.join("bin")).unwrap();
    std::fs::copy("/bin/busybox", fs.join("bin/busybox")).unwrap();
    std::os::unix::fs::symlink("busybox", fs.join("bin/echo")).unwrap();
    let tgz = s.dir.path().join("fs.tgz");
    let st = std::process::Command::new("tar")
        .arg("-C")
        .arg(&fs)
        .arg("-czf")
        .arg(&tgz)
        .arg(".")
        .status()
        .unwrap();
    assert!(st.success());
    let id = s.ok(&[
        "import",
        "-c",
        r#"CMD ["echo", "imported"]"#,
        tgz.to_str().unwrap(),
        "imp:1",
    ]);
    assert!(id.starts_with("sha256:"), "{id}");
    assert_eq!(s.ok(&["run", "--rm", "imp:1"]), "imported\n");
}

#[test]
fn save_load_tag_push_and_pull_back() {
    let s = Server::start();
    let tar = s.dir.path().join("bb.tar");
    s.ok(&["save", "-o", tar.to_str().unwrap(), "busybox"]);
    assert!(std::fs::metadata(&tar).unwrap().len() > 1_000_000);
    s.ok(&["tag", "busybox", "copy:1"]);
    s.ok(&["rmi", "busybox", "copy:1"]);
    assert_eq!(s.ok(&["images", "-q"]), "");
    let out = s.ok(&["load", "-i", tar.to_str().unwrap()]);
    assert_eq!(out, "Loaded image: busybox:latest\n");
    assert_eq!(
        s.ok(&["run", "--rm", "busybox", "echo", "loaded"]),
        "loaded\n"
    );
    let reg = berth_testkit::Registry::start();
    let name = format!("localhost:{}/pushed:1", reg.port);
    s.ok(&["tag", "busybox", &name]);
    let out = s.ok(&["push", &name]);
    assert!(out.contains("Pushed"), "{out}");
    assert!(out.contains("1: digest: sha256:"), "{out}");
    s.ok(&["rmi", &name]);
    let out = s.ok(&["pull", &name]);
    assert!(out.contains("Status: Downloaded newer image"), "{out}");
}

#[test]
fn update_changes_limits_and_the_restart_policy() {
    let s = Server::start();
    s.ok(&["run", "-d", "--name", "upd", "busybox", "sleep", "1000"]);
    s.ok(&[
        "update",
        "--memory",
        "64m",
        "--memory-swap",
        "128m",
        "--pids-limit",
        "50",
        "--restart",
        "on-failure:3",
        "upd",
    ]);
    assert_eq!(
        s.ok(&[
            "inspect",
            "-f",
            "{{.HostConfig.Memory}} {{.HostConfig.PidsLimit}} {{.HostConfig.RestartPolicy.Name}}:{{.HostConfig.RestartPolicy.MaximumRetryCount}}",
            "upd"
        ]),
        "67108864 50 on-failure:3\n"
    );
    let o = s.docker(&["update", "--memory", "-5", "upd"]);
    assert_ne!(o.status.code(), Some(0));
    s.ok(&["rm", "-f", "upd"]);
}

#[test]
fn login_checks_credentials_against_the_registry() {
    let s = Server::start();
    let reg = berth_testkit::Registry::start_with_htpasswd("alice", "s3cret");
    let server = format!("localhost:{}", reg.port);
    let out = s.ok(&["login", "-u", "alice", "-p", "s3cret", &server]);
    assert!(out.contains("Login Succeeded"), "{out}");
    let o = s.docker(&["login", "-u", "alice", "-p", "wrong", &server]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("failed"), "{}", stderr(&o));
}

#[test]
fn search_reports_an_index_it_cannot_search() {
    let s = Server::start();
    // Docker Hub's index, unreachable offline: an error that names it, not a hang.
    let o = s.docker(&["search", "busybox"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("index.docker.io"), "{}", stderr(&o));
    // A registry without the v1 search API says so.
    let reg = berth_testkit::Registry::start();
    let o = s.docker(&["search", &format!("localhost:{}/busybox", reg.port)]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("offers no search"), "{}", stderr(&o));
    // Bad filters are the client's error (400).
    let o = s.docker(&["search", "--filter", "colour=red", "busybox"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("invalid filter"), "{}", stderr(&o));
}
