//! `--format` as Go templates with docker's functions, on every command that takes one:
//! inspect (containers, images, volumes, networks), ps, images, volume ls, network ls, info
//! and version; `table` headers; template errors and their exit statuses.

mod container_support;
use container_support::*;

fn out(root: &Root, args: &[&str]) -> String {
    root.ok(args)
}

#[test]
fn inspect_templates_use_fields_functions_and_actions() {
    let root = Root::new();
    let vol = root.ok(&["volume", "create", "tdata"]);
    assert_eq!(vol.trim(), "tdata");
    let id = root.ok(&[
        "run",
        "-d",
        "--name",
        "tmpl",
        "-l",
        "k=v",
        "-l",
        "team=core",
        "-v",
        "tdata:/data",
        IMAGE,
        "sleep",
        "1000",
    ]);
    let id = id.trim();
    let f = |t: &str| out(&root, &["inspect", "-f", t, "tmpl"]);
    assert_eq!(f("{{.State.Status}}"), "running\n");
    assert_eq!(f("{{.Id}}"), format!("{id}\n"));
    assert_eq!(
        f("{{json .Config.Labels}}"),
        "{\"k\":\"v\",\"team\":\"core\"}\n"
    );
    assert_eq!(f("{{index .Config.Labels \"team\"}}"), "core\n");
    assert_eq!(
        f("{{range .Mounts}}{{.Name}}:{{.Destination}}{{end}}"),
        "tdata:/data\n"
    );
    // A volume's source is where its data is on the host, as in Docker.
    assert_eq!(
        f("{{range .Mounts}}{{.Source}}{{end}}"),
        format!("{}/volumes/tdata/_data\n", root.path().display())
    );
    assert_eq!(f("{{upper .Name}}"), "/TMPL\n");
    assert_eq!(
        f("{{lower \"ABC\"}} {{title \"hello world\"}}"),
        "abc Hello World\n"
    );
    assert_eq!(f("{{join .Config.Cmd \",\"}}"), "sleep,1000\n");
    assert_eq!(f("{{index (split .Name \"/\") 1}}"), "tmpl\n");
    assert_eq!(f("{{len .Config.Cmd}}"), "2\n");
    assert_eq!(f("{{printf \"%s=%d\" .Name .RestartCount}}"), "/tmpl=0\n");
    assert_eq!(f("{{println .State.Running}}"), "true\n\n");
    assert_eq!(
        f("{{if .State.Running}}up{{else}}down{{end}} {{with .Config.Labels}}{{.k}}{{end}}"),
        "up v\n"
    );
    assert_eq!(
        f("{{range $k, $v := .Config.Labels}}{{$k}}={{$v}};{{end}}"),
        "k=v;team=core;\n"
    );
    let ip = f("{{.NetworkSettings.Networks.bridge.IPAddress}}");
    assert!(ip.starts_with("10."), "{ip}");
    assert_eq!(
        f("{{.HostConfig.NetworkMode}} {{.HostConfig.RestartPolicy.Name}}"),
        "bridge no\n"
    );
    // A key that is not there prints <no value>, as docker's raw-JSON fallback does.
    assert_eq!(f("{{.Nope}}"), "<no value>\n");
    // `container inspect` and `--format json` too.
    assert_eq!(
        out(
            &root,
            &["container", "inspect", "--format", "{{.Config.Image}}", id]
        ),
        format!("{IMAGE}\n")
    );
    let j: serde_json::Value =
        serde_json::from_str(&out(&root, &["inspect", "--format", "json", "tmpl"])).unwrap();
    assert_eq!(j[0]["Id"], id);

    // Images, volumes and networks take templates too.
    assert_eq!(
        out(
            &root,
            &["image", "inspect", "-f", "{{.Os}}/{{len .RepoTags}}", IMAGE]
        ),
        "linux/1\n"
    );
    assert_eq!(
        out(&root, &["inspect", "-f", "{{index .RepoTags 0}}", IMAGE]),
        format!("{IMAGE}\n")
    );
    assert_eq!(
        out(
            &root,
            &["volume", "inspect", "-f", "{{.Name}} {{.Driver}}", "tdata"]
        ),
        "tdata local\n"
    );
    assert_eq!(
        out(
            &root,
            &[
                "network",
                "inspect",
                "-f",
                "{{.Name}} {{.Driver}}",
                "bridge"
            ]
        ),
        "bridge bridge\n"
    );
}

#[test]
fn list_templates_keep_dockers_field_names_and_table_headers() {
    let root = Root::new();
    root.ok(&[
        "run", "-d", "--name", "alpha", "-l", "tier=web", IMAGE, "sleep", "1000",
    ]);
    root.ok(&["create", "--name", "beta", IMAGE, "true"]);
    let ps = out(
        &root,
        &[
            "ps",
            "-a",
            "--format",
            "{{.Names}} {{.State}} {{.Label \"tier\"}}",
        ],
    );
    let mut lines: Vec<&str> = ps.lines().collect();
    lines.sort();
    assert_eq!(lines, ["alpha running web", "beta created "], "{ps}");
    let ps = out(
        &root,
        &[
            "ps",
            "--format",
            "table {{.Names}}\\t{{upper .Status}}\\t{{.Networks}}",
        ],
    );
    let lines: Vec<&str> = ps.lines().collect();
    assert_eq!(lines.len(), 2, "{ps}");
    assert!(
        lines[0].starts_with("NAMES") && lines[0].contains("STATUS"),
        "{ps}"
    );
    assert!(lines[0].trim_end().ends_with("NETWORKS"), "{ps}");
    assert!(
        lines[1].starts_with("alpha") && lines[1].contains("UP "),
        "{ps}"
    );
    assert!(lines[1].trim_end().ends_with("bridge"), "{ps}");
    let json_row: serde_json::Value =
        serde_json::from_str(out(&root, &["ps", "--format", "{{json .}}"]).trim()).unwrap();
    assert_eq!(json_row["Names"], "alpha");
    assert_eq!(json_row["Labels"], "tier=web");

    let images = out(
        &root,
        &[
            "images",
            "--format",
            "table {{.Repository}}:{{.Tag}}\\t{{lower .ID}}",
        ],
    );
    let lines: Vec<&str> = images.lines().collect();
    assert!(
        lines[0].starts_with("REPOSITORY:TAG") && lines[0].contains("IMAGE ID"),
        "{images}"
    );
    assert!(lines[1].starts_with("bb:latest"), "{images}");

    root.ok(&["volume", "create", "--label", "a=b", "v1"]);
    assert_eq!(
        out(
            &root,
            &[
                "volume",
                "ls",
                "--format",
                "{{.Name}}|{{.Driver}}|{{.Label \"a\"}}"
            ]
        ),
        "v1|local|b\n"
    );
    let vols = out(
        &root,
        &["volume", "ls", "--format", "table {{.Name}}\\t{{.Driver}}"],
    );
    assert!(vols.starts_with("VOLUME NAME   DRIVER\nv1"), "{vols}");

    let nets = out(
        &root,
        &[
            "network",
            "ls",
            "--format",
            "{{if eq .Name \"bridge\"}}{{.Name}} {{.Driver}}{{end}}",
        ],
    );
    assert!(nets.lines().any(|l| l == "bridge bridge"), "{nets}");
    let nets = out(
        &root,
        &["network", "ls", "--format", "table {{.Name}}\\t{{.Scope}}"],
    );
    assert!(nets.starts_with("NAME"), "{nets}");
}

#[test]
fn info_and_version_take_templates() {
    let root = Root::new();
    let info = out(
        &root,
        &["info", "--format", "{{.OSType}} {{printf \"%d\" .Images}}"],
    );
    assert_eq!(info, "linux 1\n");
    let j: serde_json::Value =
        serde_json::from_str(&out(&root, &["info", "--format", "{{json .}}"])).unwrap();
    assert_eq!(j["Images"], 1);
    let v = out(
        &root,
        &["version", "--format", "{{.Client.Version}} {{.Server.Os}}"],
    );
    let version = env!("CARGO_PKG_VERSION");
    assert_eq!(v, format!("{version} linux\n"));
    let comps = out(
        &root,
        &[
            "version",
            "-f",
            "{{range .Server.Components}}{{.Name}},{{end}}",
        ],
    );
    assert!(comps.starts_with("Engine,"), "{comps}");
    let j: serde_json::Value =
        serde_json::from_str(&out(&root, &["version", "-f", "json"])).unwrap();
    assert_eq!(j["Server"]["Version"], version);
}

#[test]
fn template_errors_are_reported_with_dockers_statuses() {
    let root = Root::new();
    root.ok(&["create", "--name", "cc", IMAGE, "true"]);
    // A template that does not parse: 64 for inspect, info and version, as docker.
    for args in [
        &["inspect", "-f", "{{.Name", "cc"][..],
        &["container", "inspect", "-f", "{{.Name", "cc"][..],
        &["image", "inspect", "-f", "{{.Id", IMAGE][..],
        &["inspect", "-f", "{{nofunc .Name}}", "cc"][..],
        &["info", "-f", "{{.Nope"][..],
        &["version", "-f", "{{.Nope"][..],
        &["volume", "inspect", "-f", "{{", "x"][..],
    ] {
        let o = root.berth(args);
        assert_eq!(o.status.code(), Some(64), "{args:?}: {}", stderr(&o));
        assert!(
            stderr(&o).contains("template parsing error"),
            "{args:?}: {}",
            stderr(&o)
        );
        assert!(o.stdout.is_empty(), "{args:?}");
    }
    // In list commands: status 1, for a bad template and for a field rows do not have.
    for args in [
        &["ps", "-a", "--format", "{{.Names"][..],
        &["ps", "-a", "--format", "{{.Nope}}"][..],
        &["images", "--format", "{{.Nope}}"][..],
        &["volume", "ls", "--format", "{{nofunc .Name}}"][..],
        &["network", "ls", "--format", "{{.Name"][..],
    ] {
        let o = root.berth(args);
        assert_eq!(o.status.code(), Some(1), "{args:?}: {}", stderr(&o));
        assert!(stderr(&o).contains("template"), "{args:?}: {}", stderr(&o));
    }
    // info and version are structs in docker: an unknown field is an error there too.
    for args in [
        &["info", "-f", "{{.Nope}}"][..],
        &["version", "-f", "{{.Client.Nope}}"][..],
    ] {
        let o = root.berth(args);
        assert_eq!(o.status.code(), Some(1), "{args:?}: {}", stderr(&o));
        assert!(
            stderr(&o).contains("can't evaluate field Nope"),
            "{}",
            stderr(&o)
        );
    }
    let o = root.berth(&["ps", "-a", "--format", "{{.Nope}}"]);
    assert!(stderr(&o).contains("Nope"), "{}", stderr(&o));
}

#[test]
fn ps_shows_published_ports_mounts_and_networks_as_docker() {
    let root = Root::new();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let publish = format!("127.0.0.1:{port}:80");
    root.ok(&[
        "run",
        "-d",
        "--name",
        "pub",
        "-p",
        &publish,
        "-v",
        "cache:/cache",
        IMAGE,
        "sleep",
        "1000",
    ]);
    let row = out(
        &root,
        &[
            "ps",
            "--format",
            "{{.Ports}}|{{.Mounts}}|{{.LocalVolumes}}|{{.Networks}}",
        ],
    );
    assert_eq!(row, format!("127.0.0.1:{port}->80/tcp|cache|1|bridge\n"));
    let table = out(&root, &["ps"]);
    assert!(
        table.contains(&format!("127.0.0.1:{port}->80/tcp")),
        "{table}"
    );
    root.ok(&["stop", "-t", "0", "pub"]);
    let row = out(&root, &["ps", "-a", "--format", "[{{.Ports}}]"]);
    assert_eq!(row, "[]\n", "a stopped container publishes nothing");
}
