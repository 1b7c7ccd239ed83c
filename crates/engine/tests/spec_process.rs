//! The container's process: command (Entrypoint/Cmd rules), user and groups from the
//! image's own /etc/passwd and /etc/group (never through a symlink out of the root), the
//! environment merge, working directory, hostname, limits, rlimits, --init, --userns,
//! --network, labels.

mod common;
use berth_engine::image_config::ImageConfig;
use berth_engine::options::{parse, Network, RunOptions, Userns};
use berth_engine::spec::{command, stop_signal};
use common::*;
use serde_json::json;

fn args(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

#[test]
fn entrypoint_and_cmd_rules() {
    let img = ImageConfig {
        entrypoint: Some(args(&["/entry"])),
        cmd: Some(args(&["default-arg"])),
        ..Default::default()
    };
    let run = |ep: Option<&[&str]>, cmd: &[&str]| {
        let o = RunOptions {
            entrypoint: ep.map(args),
            cmd: args(cmd),
            ..Default::default()
        };
        command(&o, &img)
    };
    assert_eq!(run(None, &[]).unwrap(), args(&["/entry", "default-arg"]));
    assert_eq!(run(None, &["x"]).unwrap(), args(&["/entry", "x"]));
    assert_eq!(
        run(Some(&["/other"]), &[]).unwrap(),
        args(&["/other"]),
        "--entrypoint drops Cmd"
    );
    assert_eq!(
        run(Some(&["/other"]), &["y"]).unwrap(),
        args(&["/other", "y"])
    );
    assert_eq!(
        run(Some(&[]), &["ls"]).unwrap(),
        args(&["ls"]),
        "--entrypoint \"\""
    );
    assert_eq!(
        run(Some(&[]), &[]).unwrap_err().to_string(),
        "no command specified"
    );
}

fn user_of(spec_user: &str) -> berth_engine::Result<serde_json::Value> {
    let r = rootfs();
    let o = RunOptions {
        user: Some(spec_user.into()),
        ..Default::default()
    };
    try_build_in(r.path(), &o, &image(&["sh"]), &mut DirVolumes::new(), None)
}

#[test]
fn user_names_and_groups_come_from_the_images_files() {
    let s = user_of("app").unwrap();
    assert_eq!(
        s["process"]["user"],
        json!({"uid": 1000, "gid": 1000, "additionalGids": [50, 29]})
    );
    assert!(env(&s).contains(&"HOME=/home/app".into()));
    assert!(
        strs(&s["process"]["capabilities"]["effective"]).is_empty(),
        "non-root: no effective caps"
    );
    assert_eq!(strs(&s["process"]["capabilities"]["bounding"]).len(), 14);

    let s = user_of("nobody:staff").unwrap();
    assert_eq!(s["process"]["user"], json!({"uid": 65534, "gid": 50}));
    assert!(env(&s).contains(&"HOME=/nonexistent".into()));

    let s = user_of("4242").unwrap();
    assert_eq!(s["process"]["user"], json!({"uid": 4242, "gid": 0}));
    assert!(env(&s).contains(&"HOME=/".into()));
    assert_eq!(
        user_of("1000:7").unwrap()["process"]["user"],
        json!({"uid": 1000, "gid": 7})
    );
    assert_eq!(
        user_of("root").unwrap()["process"]["user"],
        json!({"uid": 0, "gid": 0})
    );

    assert_eq!(
        user_of("ghost").unwrap_err().to_string(),
        "unable to find user ghost: no matching entries in passwd file"
    );
    assert_eq!(
        user_of("app:ghosts").unwrap_err().to_string(),
        "unable to find group ghosts: no matching entries in group file"
    );
    assert!(user_of("99999999999").is_err());
}

#[test]
fn image_user_applies_unless_u_is_given() {
    let r = rootfs();
    let mut img = image(&["sh"]);
    img.user = Some("app".into());
    let s = build_in(
        r.path(),
        &RunOptions::default(),
        &img,
        &mut DirVolumes::new(),
    );
    assert_eq!(s["process"]["user"]["uid"], 1000);
    let o = RunOptions {
        user: Some("0".into()),
        ..Default::default()
    };
    let s = build_in(r.path(), &o, &img, &mut DirVolumes::new());
    assert_eq!(s["process"]["user"]["uid"], 0);
}

#[test]
fn symlinked_passwd_pointing_outside_the_root_is_not_followed_out() {
    let outside = tempfile::tempdir().unwrap();
    let evil = outside.path().join("passwd");
    std::fs::write(&evil, "evil:x:4242:4242::/evil:/bin/sh\n").unwrap();
    for target in [
        evil.clone(),
        std::path::PathBuf::from(format!("../../../../../../..{}", evil.display())),
    ] {
        let r = tempfile::tempdir().unwrap();
        std::fs::create_dir(r.path().join("etc")).unwrap();
        std::os::unix::fs::symlink(&target, r.path().join("etc/passwd")).unwrap();
        let o = RunOptions {
            user: Some("evil".into()),
            ..Default::default()
        };
        let e =
            try_build_in(r.path(), &o, &image(&["sh"]), &mut DirVolumes::new(), None).unwrap_err();
        assert!(
            e.to_string().contains("unable to find user evil"),
            "{target:?}: {e}"
        );
        // The same path inside the root is what the symlink means there.
        let inside = r.path().join(evil.strip_prefix("/").unwrap());
        std::fs::create_dir_all(inside.parent().unwrap()).unwrap();
        std::fs::write(&inside, "evil:x:77:78::/in:/bin/sh\n").unwrap();
        let s = build_in(r.path(), &o, &image(&["sh"]), &mut DirVolumes::new());
        assert_eq!(s["process"]["user"]["uid"], 77, "{target:?}");
    }
}

#[test]
fn a_fifo_or_directory_at_etc_passwd_is_refused_without_hanging() {
    let r = tempfile::tempdir().unwrap();
    std::fs::create_dir(r.path().join("etc")).unwrap();
    nix::unistd::mkfifo(
        &r.path().join("etc/passwd"),
        nix::sys::stat::Mode::from_bits(0o644).unwrap(),
    )
    .unwrap();
    let o = RunOptions {
        user: Some("app".into()),
        ..Default::default()
    };
    let e = try_build_in(r.path(), &o, &image(&["sh"]), &mut DirVolumes::new(), None).unwrap_err();
    assert!(e.to_string().contains("not a regular file"), "{e}");
    std::fs::remove_file(r.path().join("etc/passwd")).unwrap();
    std::fs::create_dir(r.path().join("etc/passwd")).unwrap();
    let e = try_build_in(r.path(), &o, &image(&["sh"]), &mut DirVolumes::new(), None).unwrap_err();
    assert!(e.to_string().contains("not a regular file"), "{e}");
}

#[test]
fn environment_merge() {
    let r = rootfs();
    let img = ImageConfig {
        env: args(&["PATH=/custom/bin", "A=image", "KEEP=1"]),
        cmd: Some(args(&["sh"])),
        ..Default::default()
    };
    let o = RunOptions {
        env: args(&["A=cli", "B=2", "HOSTNAME=override"]),
        tty: true,
        hostname: Some("box".into()),
        ..Default::default()
    };
    let s = build_in(r.path(), &o, &img, &mut DirVolumes::new());
    assert_eq!(
        env(&s),
        args(&[
            "HOSTNAME=override",
            "TERM=xterm",
            "PATH=/custom/bin",
            "A=cli",
            "KEEP=1",
            "B=2",
            "HOME=/root"
        ])
    );
    assert_eq!(s["process"]["terminal"], true);
    assert_eq!(s["hostname"], "box");
    let s = build_in(
        r.path(),
        &RunOptions::default(),
        &image(&["sh"]),
        &mut DirVolumes::new(),
    );
    assert_eq!(
        env(&s),
        args(&[
            "HOSTNAME=0123456789ab",
            "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
            "HOME=/root"
        ])
    );
    assert_eq!(s["hostname"], "0123456789ab");
    assert_eq!(s["process"]["terminal"], false);
}

#[test]
fn a_bare_env_name_unsets_it_and_is_never_filled_from_the_engines_environment() {
    let r = rootfs();
    let img = ImageConfig {
        env: args(&["DROPPED=image", "KEEP=1"]),
        cmd: Some(args(&["sh"])),
        ..Default::default()
    };
    // PATH and HOME are in this test process's environment: they must not come from it.
    let o = RunOptions {
        env: args(&["DROPPED", "HOME", "NEW=2"]),
        ..Default::default()
    };
    let s = build_in(r.path(), &o, &img, &mut DirVolumes::new());
    assert_eq!(
        env(&s),
        args(&[
            "HOSTNAME=0123456789ab",
            "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
            "KEEP=1",
            "NEW=2",
            "HOME=/root"
        ])
    );
}

#[test]
fn working_dir_from_w_then_image_then_root() {
    let r = rootfs();
    let mut img = image(&["sh"]);
    img.working_dir = Some("/srv".into());
    let s = build_in(
        r.path(),
        &RunOptions::default(),
        &img,
        &mut DirVolumes::new(),
    );
    assert_eq!(s["process"]["cwd"], "/srv");
    let o = RunOptions {
        workdir: Some("/tmp".into()),
        ..Default::default()
    };
    assert_eq!(
        build_in(r.path(), &o, &img, &mut DirVolumes::new())["process"]["cwd"],
        "/tmp"
    );
    let o = RunOptions {
        workdir: Some("rel".into()),
        ..Default::default()
    };
    assert!(try_build(&o)
        .unwrap_err()
        .to_string()
        .contains("needs to be an absolute path"));
}

#[test]
fn resources_into_linux_resources() {
    let o = RunOptions {
        memory: Some(parse::memory("-m", "512m").unwrap()),
        memory_reservation: Some(256 << 20),
        nano_cpus: Some(parse::cpus("1").unwrap() / 2),
        cpu_shares: Some(512),
        cpuset_cpus: Some("0".into()),
        pids_limit: Some(100),
        ..Default::default()
    };
    let s = build(&o);
    let r = &s["linux"]["resources"];
    assert_eq!(r["memory"]["limit"], 512 << 20);
    assert_eq!(r["memory"]["reservation"], 256 << 20);
    if berth_engine::spec::resources::swap_limit_supported() {
        assert_eq!(r["memory"]["swap"], 1024 << 20, "docker: swap = 2 x memory");
    }
    assert_eq!(
        r["cpu"],
        json!({"quota": 50000, "period": 100000, "shares": 512, "cpus": "0"})
    );
    assert_eq!(r["pids"], json!({"limit": 100}));
    let o = RunOptions {
        memory: Some(64 << 20),
        memory_swap: Some(-1),
        pids_limit: Some(-1),
        ..Default::default()
    };
    let r = &build(&o)["linux"]["resources"];
    if berth_engine::spec::resources::swap_limit_supported() {
        assert_eq!(r["memory"]["swap"], -1);
    }
    assert!(r.get("pids").is_none());
}

#[test]
fn memory_flag_combinations_docker_refuses() {
    let err = |o: RunOptions| try_build(&o).unwrap_err().to_string();
    assert_eq!(
        err(RunOptions {
            memory: Some(4 << 20),
            ..Default::default()
        }),
        "Minimum memory limit allowed is 6MB"
    );
    assert!(err(RunOptions {
        memory_swap: Some(1 << 30),
        ..Default::default()
    })
    .contains("always set the Memory limit"));
    assert!(err(RunOptions {
        memory: Some(1 << 30),
        memory_swap: Some(512 << 20),
        ..Default::default()
    })
    .contains("Minimum memoryswap limit should be larger than memory limit"));
    assert!(err(RunOptions {
        memory: Some(64 << 20),
        memory_reservation: Some(128 << 20),
        ..Default::default()
    })
    .contains("can not be less than memory reservation"));
}

#[test]
fn ulimits_become_rlimits() {
    let o = RunOptions {
        ulimits: vec![
            parse::ulimit("nofile=100:200").unwrap(),
            parse::ulimit("nproc=50").unwrap(),
        ],
        ..Default::default()
    };
    assert_eq!(
        build(&o)["process"]["rlimits"],
        json!([{"type": "RLIMIT_NOFILE", "soft": 100, "hard": 200}, {"type": "RLIMIT_NPROC", "soft": 50, "hard": 50}])
    );
}

#[test]
fn init_runs_first_from_a_read_only_bind() {
    let r = rootfs();
    let o = RunOptions {
        init: true,
        cmd: args(&["sleep", "1"]),
        ..Default::default()
    };
    let bin = std::path::Path::new("/bin/true");
    let s = try_build_in(
        r.path(),
        &o,
        &image(&["sh"]),
        &mut DirVolumes::new(),
        Some(bin),
    )
    .unwrap();
    assert_eq!(
        strs(&s["process"]["args"]),
        args(&["/sbin/berth-init", "--", "sleep", "1"])
    );
    let m = mount(&s, "/sbin/berth-init").unwrap();
    assert_eq!(m["source"], "/bin/true");
    assert!(strs(&m["options"]).contains(&"ro".into()));
    let e = try_build_in(r.path(), &o, &image(&["sh"]), &mut DirVolumes::new(), None).unwrap_err();
    assert!(e.to_string().contains("berth-init"));
}

#[test]
fn userns_private_maps_root_to_an_unprivileged_range() {
    let o = RunOptions {
        userns: Userns::Private {
            host_id: 1_000_000_000,
            size: 65536,
        },
        ..Default::default()
    };
    let s = build(&o);
    let m = json!([{"containerID": 0, "hostID": 1_000_000_000u32, "size": 65536}]);
    assert_eq!(s["linux"]["uidMappings"], m);
    assert_eq!(s["linux"]["gidMappings"], m);
    assert!(s["linux"]["namespaces"]
        .as_array()
        .unwrap()
        .contains(&json!({"type": "user"})));
    assert!(build(&RunOptions::default())["linux"]
        .get("uidMappings")
        .is_none());
}

#[test]
fn network_modes() {
    let ns = |n: Network| {
        let o = RunOptions {
            network: n,
            ..Default::default()
        };
        try_build(&o).map(|s| {
            s["linux"]["namespaces"]
                .as_array()
                .unwrap()
                .iter()
                .find(|x| x["type"] == "network")
                .cloned()
        })
    };
    assert_eq!(ns(Network::None).unwrap(), Some(json!({"type": "network"})));
    assert_eq!(
        ns(Network::Default).unwrap(),
        Some(json!({"type": "network"}))
    );
    assert_eq!(ns(Network::Host).unwrap(), None);
    let host = RunOptions {
        network: Network::Host,
        ..Default::default()
    };
    assert!(
        build(&host)["linux"].get("sysctl").is_none(),
        "host network: no sysctls"
    );
    assert_eq!(
        build(&RunOptions::default())["linux"]["sysctl"]["net.ipv4.ip_unprivileged_port_start"],
        "0"
    );
    assert_eq!(
        ns(Network::Path("/run/netns/x".into())).unwrap(),
        Some(json!({"type": "network", "path": "/run/netns/x"}))
    );
    // Outside the engine (no namespace made for it) another container's cannot be
    // joined, and a bridge network gets a namespace of its own.
    assert!(ns(Network::Container("web".into()))
        .unwrap_err()
        .to_string()
        .contains("no network namespace to join"));
    assert_eq!(
        ns(Network::Named("bridge".into())).unwrap(),
        Some(json!({"type": "network"}))
    );
    let o = RunOptions {
        network: Network::Host,
        ..Default::default()
    };
    let host = nix::unistd::gethostname().unwrap().into_string().unwrap();
    assert_eq!(build(&o)["hostname"], host);
}

#[test]
fn labels_become_annotations_and_read_only_root() {
    let r = rootfs();
    let mut img = image(&["sh"]);
    img.labels.insert("from".into(), "image".into());
    img.labels.insert("both".into(), "image".into());
    let mut o = RunOptions {
        read_only: true,
        ..Default::default()
    };
    o.labels.insert("both".into(), "cli".into());
    let s = build_in(r.path(), &o, &img, &mut DirVolumes::new());
    assert_eq!(s["annotations"], json!({"both": "cli", "from": "image"}));
    assert_eq!(s["root"]["readonly"], true);
    assert_eq!(s["root"]["path"], r.path().to_str().unwrap());
}

#[test]
fn stop_signal_from_flag_then_image_then_sigterm() {
    let mut img = ImageConfig::default();
    assert_eq!(stop_signal(&RunOptions::default(), &img).unwrap(), 15);
    img.stop_signal = Some("SIGQUIT".into());
    assert_eq!(stop_signal(&RunOptions::default(), &img).unwrap(), 3);
    let o = RunOptions {
        stop_signal: Some("9".into()),
        ..Default::default()
    };
    assert_eq!(stop_signal(&o, &img).unwrap(), 9);
    img.stop_signal = Some("SIGNOPE".into());
    assert!(stop_signal(&RunOptions::default(), &img).is_err());
}
