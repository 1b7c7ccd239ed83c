//! The Engine API's `POST /containers/create` body as the engine's options: the bodies real
//! clients sent to dockerd (docker CLI 20.10 and 28, docker-compose 1.29, python3-docker,
//! saved under `api_create_bodies/`), every HostConfig key Berth maps, and each refusal.

use berth_engine::options::api::{parse_request, run_options, CreateRequest};
use berth_engine::options::{
    IpcMode, LogDriver, Mount, MountKind, NamespaceMode, Network, RestartPolicy, RunOptions,
    Seccomp,
};
use berth_engine::Error;
use serde_json::{json, Value};

fn body(name: &str) -> Vec<u8> {
    let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/api_create_bodies")
        .join(name);
    std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

fn from_file(name: &str, container: Option<&str>) -> RunOptions {
    let req = parse_request(&body(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
    run_options(&req, container).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn from_json(v: Value) -> berth_engine::Result<RunOptions> {
    run_options(&parse_request(v.to_string().as_bytes())?, None)
}

/// `v` with `patch`'s keys set in its HostConfig (a docker CLI 20.10 body as the base).
fn with_host_config(patch: Value) -> berth_engine::Result<RunOptions> {
    let mut v: Value = serde_json::from_slice(&body("docker20-run-d-chat.json")).unwrap();
    for (k, x) in patch.as_object().unwrap() {
        v["HostConfig"][k] = x.clone();
    }
    from_json(v)
}

fn err_of(r: berth_engine::Result<RunOptions>) -> Error {
    r.expect_err("an error was expected")
}

fn mount(kind: MountKind, source: Option<&str>, target: &str, ro: bool, opts: &[&str]) -> Mount {
    Mount {
        kind,
        source: source.map(String::from),
        target: target.into(),
        read_only: ro,
        create_source: false,
        options: opts.iter().map(|s| s.to_string()).collect(),
    }
}

#[test]
fn docker_run_with_ports_volume_env_restart_and_limits_maps_to_the_flags_values() {
    // docker 20.10: run -d --name x -p 8080:80 -v vol:/data -e A=B --restart always
    // --memory 64m --cpus 0.5 busybox sleep 100
    let o = from_file(
        "docker20-run-d-publish-volume-restart-limits.json",
        Some("web"),
    );
    assert_eq!(o.name.as_deref(), Some("web"));
    assert_eq!(o.image, "busybox");
    assert_eq!(o.cmd, vec!["sleep", "100"]);
    assert_eq!(o.env, vec!["A=B"]);
    assert!(o.detach && !o.tty && !o.interactive && !o.auto_remove);
    assert_eq!(o.ports.len(), 1);
    let p = &o.ports[0];
    assert_eq!(
        (p.host_ip, p.host_port, p.container_port, p.proto.as_str()),
        (None, Some(8080), 80, "tcp")
    );
    assert_eq!(o.exposed_ports, vec!["80/tcp"]);
    assert_eq!(
        o.mounts,
        vec![mount(MountKind::Volume, Some("vol"), "/data", false, &[])]
    );
    assert_eq!(o.restart, RestartPolicy::Always);
    assert_eq!(o.memory, Some(64 << 20));
    assert_eq!(o.nano_cpus, Some(500_000_000));
    assert_eq!(o.network, Network::Default);
    // Every zero value of the body is "unset".
    assert_eq!(
        (
            o.memory_swap,
            o.memory_reservation,
            o.cpu_shares,
            o.pids_limit
        ),
        (None, None, None, None)
    );
    assert_eq!(
        (o.shm_size, o.oom_score_adj, o.cpu_period, o.cpu_quota),
        (None, None, None, None)
    );
    assert_eq!(o.log.driver, LogDriver::JsonFile);
    assert_eq!(o.pull, berth_engine::options::PullPolicy::Never);
}

#[test]
fn docker20_create_with_many_flags_maps_every_key() {
    let o = from_file("docker20-create-many-flags.json", Some("full"));
    assert_many_flags(&o);
}

#[test]
fn docker28_create_with_many_flags_maps_like_docker20() {
    let o = from_file("docker28-create-many-flags.json", Some("full"));
    assert_many_flags(&o);
    assert_eq!(
        o,
        from_file("docker20-create-many-flags.json", Some("full")),
        "the two CLIs' bodies for the same flags"
    );
}

fn assert_many_flags(o: &RunOptions) {
    assert_eq!(o.hostname.as_deref(), Some("box"));
    assert_eq!(o.user.as_deref(), Some("1000"));
    assert_eq!(o.workdir.as_deref(), Some("/srv"));
    assert!(o.tty && o.interactive && !o.detach);
    assert_eq!(o.cmd, vec!["sh"]);
    assert_eq!(o.entrypoint, None);
    let h = o.healthcheck.as_ref().unwrap();
    assert_eq!(h.test, vec!["CMD-SHELL", "true"]);
    assert_eq!((h.interval, h.retries, h.timeout), (5_000_000_000, 2, 0));
    assert_eq!(o.labels.get("k").map(String::as_str), Some("v"));
    assert_eq!(o.stop_signal.as_deref(), Some("SIGINT"));
    assert_eq!(o.stop_timeout, Some(5));
    assert_eq!(
        o.mounts,
        vec![
            mount(MountKind::Tmpfs, None, "/m", false, &["size=1048576"]),
            mount(MountKind::Bind, Some("/tmp"), "/h", true, &[]),
            mount(MountKind::Volume, Some("data"), "/v", false, &["nocopy"]),
            berth_engine::options::parse::tmpfs("/run:size=64m").unwrap(),
            mount(MountKind::Volume, None, "/anon", false, &[]),
        ]
    );
    assert_eq!(
        (o.log.driver.clone(), o.log.max_size),
        (LogDriver::JsonFile, Some(10 << 20))
    );
    assert_eq!(o.network, Network::Named("mynet".into()));
    assert_eq!(o.network_aliases, vec!["web"]);
    assert_eq!(o.ip, Some("172.30.0.5".parse().unwrap()));
    assert_eq!(o.cap_add, vec!["CAP_NET_ADMIN"]);
    assert_eq!(o.cap_drop, vec!["CAP_MKNOD"]);
    assert_eq!(o.dns, vec!["1.1.1.1".parse::<std::net::IpAddr>().unwrap()]);
    assert_eq!(o.dns_search, vec!["example.com"]);
    assert_eq!(o.dns_options, vec!["ndots:2"]);
    assert_eq!(o.extra_hosts, vec!["db:10.0.0.2"]);
    assert_eq!(o.group_add, vec!["audio"]);
    assert_eq!(o.pid_mode, NamespaceMode::Host);
    assert_eq!(o.ipc_mode, IpcMode::Shareable);
    assert!(o.read_only && o.init && o.no_new_privileges && !o.privileged);
    assert_eq!(o.shm_size, Some(128 << 20));
    assert_eq!(o.sysctls["net.core.somaxconn"], "1024");
    assert_eq!(o.oom_score_adj, Some(-5));
    assert_eq!(o.cpu_shares, Some(512));
    assert_eq!(
        (o.memory, o.memory_reservation, o.memory_swap),
        (Some(64 << 20), Some(32 << 20), Some(128 << 20))
    );
    assert_eq!(o.cpuset_cpus.as_deref(), Some("0"));
    assert_eq!(o.devices.len(), 1);
    assert_eq!(
        (
            o.devices[0].host_path.as_str(),
            o.devices[0].container_path.as_str(),
            o.devices[0].permissions.as_str()
        ),
        ("/dev/null", "/dev/n", "rw")
    );
    assert_eq!(o.pids_limit, Some(100));
    assert_eq!(
        (
            o.ulimits[0].name.as_str(),
            o.ulimits[0].soft,
            o.ulimits[0].hard
        ),
        ("nofile", 10, 20)
    );
    assert_eq!(o.exposed_ports, vec!["53/udp"]);
}

#[test]
fn every_captured_client_body_is_accepted() {
    for f in std::fs::read_dir(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/api_create_bodies"
    ))
    .unwrap()
    {
        let name = f.unwrap().file_name().into_string().unwrap();
        from_file(&name, None);
    }
}

#[test]
fn docker_run_it_rm_is_attached_interactive_with_a_tty_and_auto_removed() {
    for f in ["docker20-run-it.json", "docker28-run-it.json"] {
        let o = from_file(f, None);
        assert!(o.tty && o.interactive && o.auto_remove && !o.detach, "{f}");
        assert_eq!(o.name, None);
        assert_eq!(o.cmd, vec!["sh", "-c", "echo x; exit 3"]);
    }
}

#[test]
fn docker28_endpoint_named_default_keeps_the_default_network() {
    let o = from_file("docker28-run-d-web.json", Some("web"));
    assert_eq!(o.network, Network::Default);
    assert!(o.network_aliases.is_empty() && o.ip.is_none());
}

#[test]
fn compose_service_joins_its_network_with_its_alias_and_named_volume() {
    let o = from_file("compose-web.json", Some("cap_web_1"));
    assert_eq!(o.network, Network::Named("cap_appnet".into()));
    assert_eq!(o.network_aliases, vec!["web"]);
    // Binds' cap_data:/data takes the place of the Volumes entry for /data.
    assert_eq!(
        o.mounts,
        vec![mount(
            MountKind::Volume,
            Some("cap_data"),
            "/data",
            false,
            &[]
        )]
    );
    assert_eq!(o.ports[0].host_port, Some(8080));
    assert_eq!(o.env, vec!["FOO=bar"]);
    assert_eq!(
        o.labels
            .get("com.docker.compose.service")
            .map(String::as_str),
        Some("web")
    );
    assert!(o.detach);
}

#[test]
fn python_sdk_bodies_with_only_a_few_keys() {
    let o = from_file("dockerpy-run-detached.json", Some("pyc"));
    assert_eq!(
        (o.env.as_slice(), o.detach),
        (&["A=1".to_string()][..], true)
    );
    let o = from_file("dockerpy-run-foreground.json", None);
    assert_eq!(
        (o.cmd.as_slice(), o.detach),
        (&["echo".into(), "fg".into()][..], false)
    );
    assert_eq!(o.network, Network::Default);
}

#[test]
fn null_is_allowed_for_every_key() {
    let mut v: Value = serde_json::from_slice(&body("docker20-create-many-flags.json")).unwrap();
    for (k, x) in v["HostConfig"].as_object_mut().unwrap() {
        let _ = k;
        *x = Value::Null;
    }
    for (k, x) in v.as_object_mut().unwrap() {
        if k != "Image" && k != "HostConfig" {
            *x = Value::Null;
        }
    }
    let o = from_json(v).unwrap();
    assert_eq!(
        o,
        RunOptions {
            image: "busybox".into(),
            detach: true,
            pull: berth_engine::options::PullPolicy::Never,
            ..Default::default()
        }
    );
    // Items too, read as Go reads them: "".
    let o = from_json(
        json!({"Image": "busybox", "Env": ["A=1", null], "Cmd": ["x", null],
        "Labels": {"a": null}, "HostConfig": {"DnsOptions": [null]}}),
    )
    .unwrap();
    assert_eq!(
        (o.env, o.cmd),
        (vec!["A=1".into(), "".into()], vec!["x".into(), "".into()])
    );
    assert_eq!(
        (o.labels["a"].as_str(), o.dns_options),
        ("", vec![String::new()])
    );
    let o = from_json(json!({"Image": "busybox", "HostConfig": null, "NetworkingConfig": null}))
        .unwrap();
    assert_eq!(o.network, Network::Default);
    let o = from_json(
        json!({"Image": "busybox", "NetworkingConfig": {"EndpointsConfig": {"n1": null}}}),
    )
    .unwrap();
    assert_eq!(o.network, Network::Named("n1".into()));
}

#[test]
fn unknown_fields_are_ignored_as_dockerd_does() {
    let o = from_json(json!({"Image": "busybox", "Frobnicate": 3, "HostConfig": {"Nope": []}}))
        .unwrap();
    assert_eq!(o.image, "busybox");
}

#[test]
fn zero_values_mean_unset_and_minus_one_pids_is_unlimited() {
    let o = with_host_config(json!({
        "Memory": 0, "MemorySwap": 0, "PidsLimit": -1, "ShmSize": 0, "OomScoreAdj": 0,
        "CpuShares": 0, "NanoCpus": 0, "BlkioWeight": 0, "CpuQuota": -1
    }))
    .unwrap();
    assert_eq!(
        (o.memory, o.memory_swap, o.pids_limit, o.shm_size),
        (None, None, None, None)
    );
    assert_eq!(
        (o.oom_score_adj, o.cpu_shares, o.nano_cpus),
        (None, None, None)
    );
    assert_eq!((o.blkio_weight, o.cpu_quota), (None, None));
    let o =
        with_host_config(json!({"PidsLimit": 0, "MemorySwap": -1, "Memory": 67108864})).unwrap();
    assert_eq!((o.pids_limit, o.memory_swap), (None, Some(-1)));
}

#[test]
fn env_entries_without_equals_are_kept_as_given() {
    let o = from_json(json!({"Image": "busybox", "Env": ["A=1", "HOME", "PATH"]})).unwrap();
    assert_eq!(o.env, vec!["A=1", "HOME", "PATH"]);
    // In the container, a bare name unsets it (the image's value too), as dockerd does.
    let env = berth_engine::spec::env::merge(
        &["KEEP=1".into(), "DROP=2".into()],
        &["DROP".into(), "NEW=3".into()],
        "h",
        false,
        "/root",
    );
    assert!(env.contains(&"KEEP=1".to_string()) && env.contains(&"NEW=3".to_string()));
    assert!(!env.iter().any(|e| e.starts_with("DROP")), "{env:?}");
    let e = err_of(from_json(json!({"Image": "busybox", "Env": ["=x"]})));
    assert!(
        matches!(e, Error::InvalidValue { ref flag, .. } if flag == "Env"),
        "{e}"
    );
}

#[test]
fn the_environment_of_the_engine_never_fills_a_bare_name() {
    // A name this test process surely has.
    assert!(std::env::var_os("PATH").is_some());
    let o = from_json(json!({"Image": "busybox", "Env": ["PATH"]})).unwrap();
    assert_eq!(o.env, vec!["PATH"]);
    let none = |_: &str| None;
    assert_eq!(
        berth_engine::options::parse::env("PATH", &none).unwrap(),
        None
    );
}

#[test]
fn cmd_and_entrypoint_take_a_string_or_a_list_and_an_empty_entrypoint_clears_the_images() {
    let o = from_json(json!({"Image": "i", "Cmd": "echo hi", "Entrypoint": "/bin/sh"})).unwrap();
    assert_eq!(
        (o.cmd, o.entrypoint),
        (vec!["echo hi".into()], Some(vec!["/bin/sh".into()]))
    );
    for e in [json!([""]), json!([])] {
        let o = from_json(json!({"Image": "i", "Entrypoint": e})).unwrap();
        assert_eq!(o.entrypoint, Some(vec![]));
    }
    let o = from_json(json!({"Image": "i", "Entrypoint": ["a", "b"], "Cmd": ["c"]})).unwrap();
    assert_eq!(o.entrypoint, Some(vec!["a".into(), "b".into()]));
}

#[test]
fn mounts_of_each_type_and_tmpfs_map() {
    let o = with_host_config(json!({
        "Mounts": [
            {"Type": "bind", "Source": "/srv", "Target": "/b",
             "BindOptions": {"Propagation": "rslave", "CreateMountpoint": true}},
            {"Type": "volume", "Source": "", "Target": "/anon"},
            {"Type": "tmpfs", "Target": "/t", "TmpfsOptions": {"SizeBytes": 65536, "Mode": 448}},
        ],
        "Tmpfs": {"/run": "", "/cache": "size=1m,mode=700"},
    }))
    .unwrap();
    let mut bind = mount(MountKind::Bind, Some("/srv"), "/b", false, &["rslave"]);
    bind.create_source = true;
    assert_eq!(o.mounts[0], bind);
    assert_eq!(
        o.mounts[1],
        mount(MountKind::Volume, None, "/anon", false, &[])
    );
    assert_eq!(
        o.mounts[2],
        mount(
            MountKind::Tmpfs,
            None,
            "/t",
            false,
            &["size=65536", "mode=700"]
        )
    );
    let targets: Vec<&str> = o.mounts[3..].iter().map(|m| m.target.as_str()).collect();
    assert_eq!(targets, vec!["/cache", "/run"]);
    let e = err_of(with_host_config(
        json!({"Mounts": [{"Type": "npipe", "Target": "/x"}]}),
    ));
    assert!(
        matches!(e, Error::InvalidValue { ref flag, ref why, .. }
            if flag == "HostConfig.Mounts[0]" && why.contains("invalid value for type")),
        "{e}"
    );
    let e = err_of(with_host_config(
        json!({"Mounts": [{"Type": "bind", "Target": "/x"}]}),
    ));
    assert!(
        e.to_string().contains("field Source must not be empty"),
        "{e}"
    );
    let e = err_of(with_host_config(
        json!({"Mounts": [{"Type": "volume", "Source": "v", "Target": "/x", "VolumeOptions": {"Subpath": "a"}}]}),
    ));
    assert!(
        e.to_string()
            .contains("HostConfig.Mounts[0].VolumeOptions.Subpath"),
        "{e}"
    );
}

#[test]
fn binds_go_through_the_volume_flags_parser_named_by_field() {
    let o = with_host_config(json!({"Binds": ["/h:/c:ro", "named:/n", "/anon"]})).unwrap();
    assert_eq!(o.mounts[0], {
        let mut m = mount(MountKind::Bind, Some("/h"), "/c", true, &[]);
        m.create_source = true;
        m
    });
    assert_eq!(o.mounts[1].kind, MountKind::Volume);
    assert_eq!(o.mounts[2].source, None);
    let e = err_of(with_host_config(json!({"Binds": ["a:b:c:d"]})));
    assert_eq!(
        e.to_string(),
        "invalid argument \"a:b:c:d\" for \"HostConfig.Binds\": invalid volume specification: 'a:b:c:d'"
    );
    assert_eq!(e.exit_code(), 125);
}

#[test]
fn network_modes() {
    for (mode, want) in [
        ("", Network::Default),
        ("default", Network::Default),
        ("bridge", Network::Named("bridge".into())),
        ("none", Network::None),
        ("host", Network::Host),
        ("container:db", Network::Container("db".into())),
        ("mynet", Network::Named("mynet".into())),
    ] {
        let o = with_host_config(json!({"NetworkMode": mode})).unwrap();
        assert_eq!(o.network, want, "{mode}");
    }
    let e = err_of(with_host_config(json!({"NetworkMode": "/proc/1/ns/net"})));
    assert!(matches!(e, Error::InvalidValue { ref flag, .. } if flag == "HostConfig.NetworkMode"));
    let o = from_json(json!({"Image": "i", "NetworkDisabled": true})).unwrap();
    assert_eq!(o.network, Network::None);
}

#[test]
fn one_endpoint_at_create_with_its_aliases_and_address() {
    let o = from_json(json!({"Image": "i", "HostConfig": {"NetworkMode": "n1"},
        "NetworkingConfig": {"EndpointsConfig": {"n1": {"Aliases": ["a", "b"],
            "IPAMConfig": {"IPv4Address": "10.1.2.3", "IPv6Address": ""}}}}}))
    .unwrap();
    assert_eq!(o.network_aliases, vec!["a", "b"]);
    assert_eq!(o.ip, Some("10.1.2.3".parse().unwrap()));
    // NetworkMode left at the default: the endpoint's network is the container's.
    let o = from_json(json!({"Image": "i", "NetworkingConfig": {"EndpointsConfig": {"n2": {}}}}))
        .unwrap();
    assert_eq!(o.network, Network::Named("n2".into()));
    for (v, want) in [
        (
            json!({"EndpointsConfig": {"n1": {}, "n2": {}}}),
            "Container cannot be connected to network endpoints: n1, n2",
        ),
        (
            json!({"EndpointsConfig": {"other": {}}}),
            "NetworkingConfig.EndpointsConfig.other",
        ),
        (
            json!({"EndpointsConfig": {"n1": {"IPAMConfig": {"IPv4Address": "nope"}}}}),
            "invalid IPv4 address",
        ),
        (
            json!({"EndpointsConfig": {"n1": {"IPAMConfig": {"IPv6Address": "fd00::2"}}}}),
            "IPAMConfig.IPv6Address",
        ),
        (
            json!({"EndpointsConfig": {"n1": {"Links": ["db"]}}}),
            "Links",
        ),
    ] {
        let e = err_of(from_json(
            json!({"Image": "i", "HostConfig": {"NetworkMode": "n1"}, "NetworkingConfig": v}),
        ));
        assert!(e.to_string().contains(want), "{want}: {e}");
    }
}

#[test]
fn port_bindings_with_host_ip_random_port_range_and_udp() {
    let o = with_host_config(json!({
        "PortBindings": {
            "53/udp": [{"HostIp": "127.0.0.1", "HostPort": "5353"}],
            "80/tcp": [{"HostIp": "", "HostPort": ""}, {"HostIp": "", "HostPort": "8000-8010"}],
            "81": null,
        },
        "PublishAllPorts": true,
    }))
    .unwrap();
    assert!(o.publish_all);
    let got: Vec<String> = o
        .ports
        .iter()
        .map(|p| {
            format!(
                "{:?} {:?}-{:?} {}/{}",
                p.host_ip, p.host_port, p.host_port_last, p.container_port, p.proto
            )
        })
        .collect();
    assert_eq!(
        got,
        vec![
            "Some(127.0.0.1) Some(5353)-None 53/udp",
            "None None-None 80/tcp",
            "None Some(8000)-Some(8010) 80/tcp",
        ]
    );
    let e = err_of(with_host_config(json!({"PortBindings": {"80/sctp": [{}]}})));
    assert!(e.to_string().contains("invalid proto"), "{e}");
}

#[test]
fn exposed_ports_are_checked_and_ranges_expanded() {
    let o = from_json(
        json!({"Image": "i", "ExposedPorts": {"53/udp": {}, "7000-7001/tcp": {}, "90": null}}),
    )
    .unwrap();
    assert_eq!(
        o.exposed_ports,
        vec!["53/udp", "7000/tcp", "7001/tcp", "90/tcp"]
    );
    let e = err_of(from_json(
        json!({"Image": "i", "ExposedPorts": {"http/tcp": {}}}),
    ));
    assert!(
        matches!(e, Error::InvalidValue { ref flag, .. } if flag == "ExposedPorts"),
        "{e:?}"
    );
}

#[test]
fn restart_policies_and_the_auto_remove_conflict() {
    for (name, count, want) in [
        ("", 0, RestartPolicy::No),
        ("no", 0, RestartPolicy::No),
        ("always", 0, RestartPolicy::Always),
        ("unless-stopped", 0, RestartPolicy::UnlessStopped),
        ("on-failure", 0, RestartPolicy::OnFailure(0)),
        ("on-failure", 3, RestartPolicy::OnFailure(3)),
    ] {
        let o =
            with_host_config(json!({"RestartPolicy": {"Name": name, "MaximumRetryCount": count}}))
                .unwrap();
        assert_eq!(o.restart, want, "{name}:{count}");
    }
    let o = with_host_config(json!({"RestartPolicy": null})).unwrap();
    assert_eq!(o.restart, RestartPolicy::No);
    for (policy, want) in [
        (json!({"Name": "sometimes"}), "unknown policy 'sometimes'"),
        (
            json!({"Name": "always", "MaximumRetryCount": 2}),
            "maximum retry count cannot be used with restart policy 'always'",
        ),
        (
            json!({"Name": "on-failure", "MaximumRetryCount": -1}),
            "maximum retry count cannot be negative",
        ),
    ] {
        let e = err_of(with_host_config(json!({"RestartPolicy": policy})));
        assert!(e.to_string().contains(want), "{want}: {e}");
        assert!(
            matches!(e, Error::InvalidValue { ref flag, .. } if flag == "HostConfig.RestartPolicy"),
            "{e:?}"
        );
    }
    let e = err_of(with_host_config(
        json!({"AutoRemove": true, "RestartPolicy": {"Name": "always"}}),
    ));
    assert_eq!(
        e.to_string(),
        "conflicting options: AutoRemove and restart policy"
    );
    assert!(matches!(e, Error::InvalidArgument(_)));
    let o = with_host_config(json!({"AutoRemove": true, "RestartPolicy": {"Name": "no"}})).unwrap();
    assert!(o.auto_remove);
}

#[test]
fn resources_and_their_checks() {
    let o = with_host_config(json!({
        "CpuPeriod": 50000, "CpuQuota": 25000, "CpusetMems": "0", "BlkioWeight": 300,
        "OomKillDisable": true, "MemoryReservation": 16777216, "Memory": 33554432,
        "Ulimits": [{"Name": "nproc", "Soft": -1, "Hard": -1}],
    }))
    .unwrap();
    assert_eq!((o.cpu_period, o.cpu_quota), (Some(50000), Some(25000)));
    assert_eq!(
        (o.cpuset_mems.as_deref(), o.blkio_weight),
        (Some("0"), Some(300))
    );
    assert!(o.oom_kill_disable);
    assert_eq!(o.ulimits[0].soft, u64::MAX);
    for (patch, want) in [
        (
            json!({"Memory": 1024}),
            "Minimum memory limit allowed is 6MB",
        ),
        (json!({"Memory": -5}), "Minimum memory limit allowed is 6MB"),
        (
            json!({"MemorySwap": 134217728}),
            "You should always set the Memory limit when using Memoryswap limit",
        ),
        (json!({"NanoCpus": -1}), "range of CPUs is from 0.01"),
        (
            json!({"NanoCpus": 999_000_000_000i64}),
            "range of CPUs is from 0.01",
        ),
        (
            json!({"NanoCpus": 500000000, "CpuPeriod": 100000}),
            "Nano CPUs and CPU Period cannot both be set",
        ),
        (
            json!({"CpuPeriod": 10}),
            "CPU cfs period can not be less than 1ms",
        ),
        (
            json!({"CpuQuota": 10}),
            "CPU cfs quota can not be less than 1ms",
        ),
        (json!({"CpuShares": -2}), "invalid syntax"),
        (json!({"CpusetCpus": "0-4096"}), "not available"),
        (
            json!({"CpusetMems": "x"}),
            "invalid value x for cpuset mems",
        ),
        (
            json!({"BlkioWeight": 5}),
            "Range of blkio weight is from 10 to 1000",
        ),
        (
            json!({"OomScoreAdj": 2000}),
            "range for oom score adj is [-1000, 1000]",
        ),
        (json!({"ShmSize": -1}), "SHM size can not be less than 0"),
        (
            json!({"Ulimits": [{"Name": "nofiles", "Soft": 1, "Hard": 1}]}),
            "invalid ulimit type: nofiles",
        ),
        (
            json!({"Ulimits": [{"Name": "nofile", "Soft": 2, "Hard": 1}]}),
            "soft limit must be less than or equal to hard limit",
        ),
        (
            json!({"MemorySwappiness": 60}),
            "HostConfig.MemorySwappiness",
        ),
        (
            json!({"MemorySwappiness": 200}),
            "valid memory swappiness range is 0-100",
        ),
    ] {
        let e = err_of(with_host_config(patch.clone()));
        assert!(e.to_string().contains(want), "{patch}: {e}");
        assert_eq!(e.exit_code(), 125);
    }
}

#[test]
fn security_capabilities_sysctls_and_devices() {
    let profile = r#"{"defaultAction":"SCMP_ACT_ALLOW"}"#;
    let o = with_host_config(json!({
        "CapAdd": ["sys_admin", "CAP_NET_RAW"], "CapDrop": ["ALL"], "Privileged": true,
        "SecurityOpt": ["no-new-privileges:true", format!("seccomp={profile}"), "label=disable"],
        "Sysctls": {"kernel.shmmax": "1000"},
        "Devices": [{"PathOnHost": "/dev/fuse", "PathInContainer": "", "CgroupPermissions": ""}],
    }))
    .unwrap();
    assert_eq!(o.cap_add, vec!["CAP_SYS_ADMIN", "CAP_NET_RAW"]);
    assert_eq!(o.cap_drop, vec!["ALL"]);
    assert!(o.privileged && o.no_new_privileges);
    assert_eq!(o.seccomp, Seccomp::Inline(profile.into()));
    assert_eq!(o.security_labels, vec!["label=disable"]);
    assert_eq!(o.sysctls["kernel.shmmax"], "1000");
    assert_eq!(
        (
            o.devices[0].container_path.as_str(),
            o.devices[0].permissions.as_str()
        ),
        ("/dev/fuse", "rwm")
    );
    let o = with_host_config(json!({"SecurityOpt": ["seccomp=unconfined"]})).unwrap();
    assert_eq!(o.seccomp, Seccomp::Unconfined);
    for (patch, field, want) in [
        (
            json!({"CapAdd": ["nope"]}),
            "HostConfig.CapAdd",
            "unknown capability",
        ),
        (
            json!({"SecurityOpt": ["seccomp={bad"]}),
            "HostConfig.SecurityOpt",
            "decoding seccomp profile",
        ),
        (
            json!({"SecurityOpt": ["seccomp="]}),
            "HostConfig.SecurityOpt",
            "decoding seccomp profile",
        ),
        (
            json!({"SecurityOpt": ["bogus"]}),
            "HostConfig.SecurityOpt",
            "Invalid --security-opt",
        ),
        (
            json!({"Sysctls": {"vm.swappiness": "1"}}),
            "HostConfig.Sysctls",
            "is not allowed",
        ),
        (
            json!({"Devices": [{"PathOnHost": "rel"}]}),
            "HostConfig.Devices",
            "invalid device",
        ),
        (
            json!({"Dns": ["x"]}),
            "HostConfig.Dns",
            "is not an ip address",
        ),
        (
            json!({"ExtraHosts": ["db"]}),
            "HostConfig.ExtraHosts",
            "bad format",
        ),
        (
            json!({"DnsSearch": ["-x"]}),
            "HostConfig.DnsSearch",
            "is not a valid domain",
        ),
        (
            json!({"LogConfig": {"Type": "syslog"}}),
            "HostConfig.LogConfig.Type",
            "not found",
        ),
        (
            json!({"LogConfig": {"Type": "", "Config": {"mode": "x"}}}),
            "HostConfig.LogConfig.Config",
            "unknown log opt",
        ),
        (
            json!({"PidMode": "sideways"}),
            "HostConfig.PidMode",
            "invalid PID mode",
        ),
        (
            json!({"IpcMode": "x"}),
            "HostConfig.IpcMode",
            "invalid IPC mode",
        ),
        (
            json!({"UTSMode": "container:x"}),
            "HostConfig.UTSMode",
            "invalid UTS mode",
        ),
        (
            json!({"UsernsMode": "auto"}),
            "HostConfig.UsernsMode",
            "invalid USER mode",
        ),
    ] {
        let e = err_of(with_host_config(patch.clone()));
        match &e {
            Error::InvalidValue { flag, why, .. } => {
                assert_eq!(flag, field, "{patch}");
                assert!(why.contains(want), "{patch}: {e}");
            }
            _ => panic!("{patch}: not InvalidValue: {e:?}"),
        }
    }
}

#[test]
fn namespaces_log_config_and_options_checked_against_each_other() {
    let o = with_host_config(json!({
        "PidMode": "container:db", "IpcMode": "none", "UTSMode": "host", "UsernsMode": "host",
        "LogConfig": {"Type": "json-file", "Config": {"max-size": "1m", "max-file": "2"}},
        "Runtime": "/usr/bin/crun", "Init": true, "ReadonlyRootfs": true,
    }))
    .unwrap();
    assert_eq!(o.pid_mode, NamespaceMode::Container("db".into()));
    assert_eq!(
        (o.ipc_mode, o.uts_mode),
        (IpcMode::None, NamespaceMode::Host)
    );
    assert_eq!((o.log.max_size, o.log.max_file), (Some(1 << 20), Some(2)));
    assert_eq!(
        o.runtime.as_deref(),
        Some(std::path::Path::new("/usr/bin/crun"))
    );
    assert!(o.init && o.read_only);
    let e = err_of(from_json(
        json!({"Image": "i", "Hostname": "box", "HostConfig": {"UTSMode": "host"}}),
    ));
    assert!(e.to_string().contains("hostname and the UTS mode"), "{e}");
    let e = err_of(with_host_config(
        json!({"NetworkMode": "host", "Sysctls": {"net.ipv4.ip_forward": "1"}}),
    ));
    assert!(
        e.to_string()
            .contains("not allowed in host network namespace"),
        "{e}"
    );
}

#[test]
fn healthcheck_in_nanoseconds_with_dockerds_checks() {
    let o = from_json(
        json!({"Image": "i", "Healthcheck": {"Test": ["CMD", "true"],
        "Interval": 1_000_000_000i64, "Timeout": 2_000_000_000i64,
        "StartPeriod": 3_000_000_000i64, "Retries": 4}}),
    )
    .unwrap();
    let h = o.healthcheck.unwrap();
    assert_eq!(h.test, vec!["CMD", "true"]);
    assert_eq!(
        (h.interval, h.timeout, h.start_period, h.retries),
        (1_000_000_000, 2_000_000_000, 3_000_000_000, 4)
    );
    let o = from_json(json!({"Image": "i", "Healthcheck": {"Test": ["NONE"]}})).unwrap();
    assert_eq!(o.healthcheck.unwrap().test, vec!["NONE"]);
    let o = from_json(json!({"Image": "i", "Healthcheck": {"Test": null, "Interval": 0}})).unwrap();
    assert_eq!(o.healthcheck, None);
    for (h, want) in [
        (
            json!({"Interval": 5}),
            "Interval in Healthcheck cannot be less than 1ms",
        ),
        (
            json!({"Timeout": -1}),
            "Timeout in Healthcheck cannot be less than 1ms",
        ),
        (
            json!({"Retries": -1}),
            "Retries in Healthcheck cannot be negative",
        ),
        (
            json!({"Test": ["SOMETIMES"]}),
            "must start with NONE, CMD or CMD-SHELL",
        ),
    ] {
        let e = err_of(from_json(json!({"Image": "i", "Healthcheck": h})));
        assert!(e.to_string().contains(want), "{want}: {e}");
    }
}

#[test]
fn config_values_and_names() {
    let o = run_options(
        &parse_request(br#"{"Image":"i","WorkingDir":"/w","StopSignal":"USR1","StopTimeout":3}"#)
            .unwrap(),
        Some("/web"),
    )
    .unwrap();
    assert_eq!(
        o.name.as_deref(),
        Some("web"),
        "the leading / of a name is dropped"
    );
    assert_eq!(
        (o.workdir.as_deref(), o.stop_signal.as_deref()),
        (Some("/w"), Some("USR1"))
    );
    assert_eq!(o.stop_timeout, Some(3));
    let req = parse_request(br#"{"Image":"i"}"#).unwrap();
    assert!(run_options(&req, Some("bad/name"))
        .unwrap_err()
        .to_string()
        .contains("Invalid container name"));
    for (v, want) in [
        (json!({"Image": ""}), "Config.Image is empty"),
        (json!({"Cmd": ["true"]}), "Config.Image is empty"),
        (
            json!({"Image": "i", "WorkingDir": "rel"}),
            "needs to be an absolute path",
        ),
        (
            json!({"Image": "i", "StopSignal": "SIGFOO"}),
            "Invalid signal: SIGFOO",
        ),
        (
            json!({"Image": "i", "Domainname": "example.com"}),
            "Domainname",
        ),
        (
            json!({"Image": "i", "MacAddress": "02:42:ac:11:00:02"}),
            "MacAddress",
        ),
    ] {
        let e = err_of(from_json(v.clone()));
        assert!(e.to_string().contains(want), "{v}: {e}");
    }
}

#[test]
fn values_berth_cannot_honour_are_refused_by_name() {
    for (patch, field) in [
        (json!({"CgroupParent": "/x"}), "HostConfig.CgroupParent"),
        (json!({"Cgroup": "container:x"}), "HostConfig.Cgroup"),
        (json!({"CgroupnsMode": "host"}), "HostConfig.CgroupnsMode"),
        (json!({"Links": ["db:db"]}), "HostConfig.Links"),
        (json!({"VolumeDriver": "nfs"}), "HostConfig.VolumeDriver"),
        (
            json!({"DeviceRequests": [{"Count": -1}]}),
            "HostConfig.DeviceRequests",
        ),
        (
            json!({"DeviceCgroupRules": ["c 1:3 rwm"]}),
            "HostConfig.DeviceCgroupRules",
        ),
        (
            json!({"BlkioDeviceReadBps": [{"Path": "/dev/sda", "Rate": 1}]}),
            "HostConfig.BlkioDeviceReadBps",
        ),
        (json!({"KernelMemory": 1}), "HostConfig.KernelMemory"),
        (
            json!({"CpuRealtimeRuntime": 1}),
            "HostConfig.CpuRealtimeRuntime",
        ),
        (json!({"MaskedPaths": []}), "HostConfig.MaskedPaths"),
        (
            json!({"ReadonlyPaths": ["/proc"]}),
            "HostConfig.ReadonlyPaths",
        ),
        (json!({"Isolation": "hyperv"}), "HostConfig.Isolation"),
        (
            json!({"StorageOpt": {"size": "1G"}}),
            "HostConfig.StorageOpt",
        ),
        (json!({"Annotations": {"a": "b"}}), "HostConfig.Annotations"),
        (json!({"CpuCount": 2}), "HostConfig.CpuCount"),
    ] {
        let e = err_of(with_host_config(patch.clone()));
        assert!(matches!(e, Error::InvalidArgument(_)), "{patch}: {e:?}");
        assert!(
            e.to_string().starts_with(field) && e.to_string().contains("not supported by Berth"),
            "{patch}: {e}"
        );
    }
    // Their empty and default values are fine (what the docker CLI sends).
    with_host_config(json!({"CgroupnsMode": "private", "VolumeDriver": "local",
        "Isolation": "default", "Links": [], "MaskedPaths": null}))
    .unwrap();
}

#[test]
fn malformed_bodies_are_invalid_argument_errors_naming_the_field() {
    let cases: [(&[u8], &str); 6] = [
        (
            br#"{"Image":"i","HostConfig":{"Memory":"64m"}}"#,
            "invalid JSON at HostConfig.Memory",
        ),
        (br#"{"Image":"i","Env":"A=1"}"#, "invalid JSON at Env"),
        (
            br#"{"Image":"i","HostConfig":{"PortBindings":{"80/tcp":[{"HostPort":80}]}}}"#,
            "HostConfig.PortBindings.80/tcp[0].HostPort",
        ),
        (br#"{"Image":"i""#, "invalid JSON"),
        (br#"{"Image":"i"} x"#, "invalid JSON"),
        (b"  ", "config cannot be empty"),
    ];
    for (b, want) in cases {
        let e = parse_request(b).map(|_: CreateRequest| ()).unwrap_err();
        assert!(matches!(e, Error::InvalidArgument(_)), "{e:?}");
        assert!(e.to_string().contains(want), "{want}: {e}");
    }
}
