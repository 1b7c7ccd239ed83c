//! Specs built by the engine, run by the real runtime (in-process, as the engine will):
//! docker's capabilities and seccomp profile, users, rlimits, cgroup limits, privileged
//! containers, private user namespaces and a mount target behind a symlink that points
//! out of the root, observed from inside the container. Needs root and busybox-static.

mod common;
use berth_engine::image_config::ImageConfig;
use berth_engine::options::parse::{self, CAPABILITIES};
use berth_engine::options::{Mount, MountKind, RunOptions, Seccomp, Userns};
use berth_engine::spec::{self, caps::DOCKER_DEFAULT, SpecInput};
use berth_runtime::{CreateOpts, Runtime};
use common::DirVolumes;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};

static N: AtomicUsize = AtomicUsize::new(0);

/// One container at a time: an in-process create clones the whole test process, and a
/// sibling test's create would leave its state-dir lock fd in that clone until it execs
/// (the engine creates from a single-threaded child, so it never meets this).
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn busybox_rootfs(root: &Path) {
    let bin = root.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    std::fs::copy("/bin/busybox", bin.join("busybox"))
        .expect("busybox-static must be installed (apt-get install busybox-static)");
    let out = std::process::Command::new("/bin/busybox")
        .arg("--list")
        .output()
        .unwrap();
    for applet in String::from_utf8_lossy(&out.stdout).lines() {
        if applet != "busybox" {
            std::os::unix::fs::symlink("busybox", bin.join(applet)).unwrap();
        }
    }
    for d in ["etc", "proc", "sys", "dev", "tmp", "root", "mnt", "out"] {
        std::fs::create_dir_all(root.join(d)).unwrap();
    }
    std::fs::write(root.join("etc/passwd"), common::PASSWD).unwrap();
    std::fs::write(root.join("etc/group"), common::GROUP).unwrap();
}

struct Ran {
    status: i32,
    out: String,
}

/// Build the spec for `o` (running `script` with its output in /out/log), run it to the
/// end with the runtime library, delete it.
fn run(mut o: RunOptions, script: &str, setup: impl FnOnce(&Path)) -> Ran {
    let _one = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    // Under the target dir, not /tmp (0700): a private user namespace's root must be able
    // to reach the bundle.
    let bundle = tempfile::Builder::new()
        .prefix("spec-rt-")
        .tempdir_in(env!("CARGO_TARGET_TMPDIR"))
        .unwrap();
    std::fs::set_permissions(bundle.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let rootfs = bundle.path().join("rootfs");
    busybox_rootfs(&rootfs);
    setup(&rootfs);
    let out = bundle.path().join("out");
    std::fs::create_dir(&out).unwrap();
    std::fs::set_permissions(&out, std::fs::Permissions::from_mode(0o777)).unwrap();
    o.mounts.push(Mount {
        kind: MountKind::Bind,
        source: Some(out.to_string_lossy().into()),
        target: "/out".into(),
        read_only: false,
        create_source: false,
        options: vec![],
    });
    o.cmd = vec![
        "sh".into(),
        "-c".into(),
        format!("exec >/out/log 2>&1; {script}"),
    ];
    let id = format!(
        "spec-rt-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    );
    let mut vols = DirVolumes::new();
    let s = spec::build(SpecInput {
        id: &id,
        opts: &o,
        image: &ImageConfig::default(),
        rootfs: &rootfs,
        volumes: &mut vols,
        init_binary: None,
        netns: None,
        etc_files: None,
        joined: &Default::default(),
    })
    .unwrap();
    std::fs::write(
        bundle.path().join("config.json"),
        serde_json::to_vec(&s).unwrap(),
    )
    .unwrap();
    let rt = Runtime::new(bundle.path().join("state"));
    let created = rt
        .create(&CreateOpts {
            id: id.clone(),
            bundle: bundle.path().to_path_buf(),
            ..Default::default()
        })
        .unwrap_or_else(|e| panic!("create: {e}"));
    rt.start(&id).unwrap();
    let st = nix::sys::wait::waitpid(nix::unistd::Pid::from_raw(created.pid), None).unwrap();
    let status = match st {
        nix::sys::wait::WaitStatus::Exited(_, c) => c,
        other => panic!("container did not exit: {other:?}"),
    };
    rt.delete(&id, true).unwrap();
    let out = std::fs::read_to_string(out.join("log")).unwrap_or_default();
    Ran { status, out }
}

fn line<'a>(out: &'a str, key: &str) -> &'a str {
    out.lines()
        .find_map(|l| l.find(key).map(|i| &l[i + key.len()..]))
        .unwrap_or_else(|| panic!("no {key} in {out}"))
        .trim()
}

fn cap_mask(names: &[&str]) -> u64 {
    names
        .iter()
        .map(|n| 1u64 << CAPABILITIES.iter().position(|c| c == n).unwrap())
        .sum()
}

const PROBE: &str = "grep -E '^(CapEff|CapBnd|Seccomp|NoNewPrivs):' /proc/self/status; \
    echo uid=$(id -u) gid=$(id -g) groups=$(id -G); \
    unshare -U true 2>/dev/null && echo unshare=ok || echo unshare=denied; \
    mount -t tmpfs none /mnt 2>/dev/null && echo mount=ok || echo mount=denied";

#[test]
fn default_container_has_dockers_caps_and_its_seccomp_denies_unshare() {
    let r = run(RunOptions::default(), PROBE, |_| {});
    assert_eq!(r.status, 0, "{}", r.out);
    let eff = u64::from_str_radix(line(&r.out, "CapEff:"), 16).unwrap();
    assert_eq!(eff, cap_mask(DOCKER_DEFAULT), "{}", r.out);
    assert_eq!(line(&r.out, "CapBnd:"), line(&r.out, "CapEff:"));
    assert_eq!(line(&r.out, "Seccomp:"), "2");
    assert_eq!(line(&r.out, "NoNewPrivs:"), "0");
    assert!(r.out.contains("uid=0 gid=0"), "{}", r.out);
    assert!(r.out.contains("unshare=denied"), "{}", r.out);
    assert!(r.out.contains("mount=denied"), "{}", r.out);
}

#[test]
fn seccomp_is_what_denies_unshare_unconfined_allows_it() {
    let o = RunOptions {
        seccomp: Seccomp::Unconfined,
        ..Default::default()
    };
    let r = run(o, PROBE, |_| {});
    assert_eq!(line(&r.out, "Seccomp:"), "0");
    assert!(r.out.contains("unshare=ok"), "{}", r.out);
}

#[test]
fn privileged_has_every_capability_no_seccomp_and_may_mount() {
    let o = RunOptions {
        privileged: true,
        ..Default::default()
    };
    let r = run(o, PROBE, |_| {});
    assert_eq!(r.status, 0, "{}", r.out);
    let all = berth_engine::spec::caps::all();
    let all: Vec<&str> = all.iter().map(String::as_str).collect();
    assert_eq!(
        u64::from_str_radix(line(&r.out, "CapEff:"), 16).unwrap(),
        cap_mask(&all),
        "{}",
        r.out
    );
    assert_eq!(line(&r.out, "Seccomp:"), "0");
    assert!(r.out.contains("mount=ok"), "{}", r.out);
}

#[test]
fn cap_add_sys_admin_brings_back_mount() {
    let o = RunOptions {
        cap_add: vec!["CAP_SYS_ADMIN".into()],
        ..Default::default()
    };
    let r = run(o, PROBE, |_| {});
    assert_eq!(line(&r.out, "Seccomp:"), "2");
    assert!(r.out.contains("mount=ok"), "{}", r.out);
}

#[test]
fn user_groups_rlimits_and_cgroup_limits_apply() {
    let o = RunOptions {
        user: Some("app".into()),
        ulimits: vec![parse::ulimit("nofile=100:200").unwrap()],
        memory: Some(64 << 20),
        pids_limit: Some(50),
        nano_cpus: Some(500_000_000),
        no_new_privileges: true,
        ..Default::default()
    };
    let script = "echo uid=$(id -u) gid=$(id -g) groups=$(id -G); \
        echo soft=$(ulimit -n) hard=$(ulimit -Hn); \
        grep -E '^(CapEff|NoNewPrivs):' /proc/self/status; echo HOME=$HOME; \
        for f in memory/memory.limit_in_bytes memory.max pids/pids.max pids.max \
                 cpu/cpu.cfs_quota_us cpu,cpuacct/cpu.cfs_quota_us cpu.max; do \
          [ -f /sys/fs/cgroup/$f ] && echo \"$f=$(cat /sys/fs/cgroup/$f)\"; done; true";
    let r = run(o, script, |_| {});
    assert_eq!(r.status, 0, "{}", r.out);
    assert!(
        r.out.contains("uid=1000 gid=1000 groups=1000 "),
        "{}",
        r.out
    );
    let groups = line(&r.out, "uid=1000 gid=1000 groups=");
    let mut groups: Vec<&str> = groups.split_whitespace().collect();
    groups.sort();
    assert_eq!(groups, vec!["1000", "29", "50"], "{}", r.out);
    assert!(r.out.contains("soft=100 hard=200"), "{}", r.out);
    assert_eq!(line(&r.out, "CapEff:"), "0000000000000000");
    assert_eq!(line(&r.out, "NoNewPrivs:"), "1");
    assert!(r.out.contains("HOME=/home/app"), "{}", r.out);
    let mem = r
        .out
        .lines()
        .find(|l| l.starts_with("memory"))
        .unwrap_or_else(|| panic!("{}", r.out));
    assert!(mem.ends_with(&(64u64 << 20).to_string()), "{}", r.out);
    let pids = r
        .out
        .lines()
        .find(|l| l.starts_with("pids"))
        .unwrap_or_else(|| panic!("{}", r.out));
    assert!(pids.ends_with("=50"), "{}", r.out);
    let cpu = r
        .out
        .lines()
        .find(|l| l.starts_with("cpu"))
        .unwrap_or_else(|| panic!("{}", r.out));
    assert!(
        cpu.ends_with("=50000") || cpu.ends_with("=50000 100000"),
        "{}",
        r.out
    );
}

#[test]
fn a_mount_target_through_a_symlink_out_of_the_root_stays_inside() {
    let outside = tempfile::tempdir().unwrap();
    let src = tempfile::tempdir().unwrap();
    std::fs::write(src.path().join("marker"), "from-src").unwrap();
    let outside_path = outside.path().to_path_buf();
    let mut o = RunOptions::default();
    o.mounts
        .push(parse::volume(&format!("{}:/data", src.path().display())).unwrap());
    let script = format!(
        "cat /data/marker; echo; ls {}/marker && echo resolved-inside",
        outside_path.display()
    );
    let r = run(o, &script, |root| {
        std::os::unix::fs::symlink(&outside_path, root.join("data")).unwrap();
    });
    assert_eq!(r.status, 0, "{}", r.out);
    assert!(r.out.contains("from-src"), "{}", r.out);
    assert!(r.out.contains("resolved-inside"), "{}", r.out);
    assert_eq!(
        std::fs::read_dir(outside.path()).unwrap().count(),
        0,
        "nothing may appear in the host directory the symlink names"
    );
}

#[test]
fn userns_private_maps_container_root_to_an_unprivileged_host_range() {
    let o = RunOptions {
        userns: Userns::Private {
            host_id: 1_000_000_000,
            size: 65536,
        },
        ..Default::default()
    };
    let r = run(
        o,
        "cat /proc/self/uid_map /proc/self/gid_map; id -u",
        |_| {},
    );
    assert_eq!(r.status, 0, "{}", r.out);
    let maps: Vec<Vec<&str>> = r
        .out
        .lines()
        .take(2)
        .map(|l| l.split_whitespace().collect())
        .collect();
    assert_eq!(maps, vec![vec!["0", "1000000000", "65536"]; 2], "{}", r.out);
}

#[test]
fn read_only_root_with_tmpfs_ro_bind_env_workdir_and_hostname() {
    let src = tempfile::tempdir().unwrap();
    let mut o = RunOptions {
        read_only: true,
        hostname: Some("box".into()),
        workdir: Some("/tmp".into()),
        env: vec!["GREETING=hi".into()],
        ..Default::default()
    };
    o.mounts.push(parse::tmpfs("/tmp").unwrap());
    o.mounts
        .push(parse::volume(&format!("{}:/ro:ro", src.path().display())).unwrap());
    let script = "touch /root/x 2>/dev/null && echo root=rw || echo root=ro; \
        touch /tmp/x && echo tmp=rw; touch /ro/x 2>/dev/null && echo bind=rw || echo bind=ro; \
        echo port_start=$(cat /proc/sys/net/ipv4/ip_unprivileged_port_start); \
        echo cwd=$(pwd) host=$(hostname) env=$GREETING shm=$(df -k /dev/shm | tail -1 | awk '{print $2}')";
    let r = run(o, script, |_| {});
    assert_eq!(r.status, 0, "{}", r.out);
    for want in [
        "root=ro",
        "tmp=rw",
        "bind=ro",
        "cwd=/tmp host=box env=hi shm=65536",
    ] {
        assert!(r.out.contains(want), "{want}: {}", r.out);
    }
}

/// Run inside a container by `the_default_profile_filters_syscall_arguments`: this very test
/// binary (a static executable) copied into the root, with BERTH_SECCOMP_PROBE set.
#[test]
fn seccomp_probe_entry() {
    if std::env::var_os("BERTH_SECCOMP_PROBE").is_none() {
        return;
    }
    let errno = |r: libc::c_long| {
        if r < 0 {
            std::io::Error::last_os_error().raw_os_error().unwrap_or(0)
        } else {
            0
        }
    };
    // SAFETY: each call either fails or has an effect confined to this short-lived process:
    // clone with SIGCHLD only returns twice, the child exits at once, personality(0) is the
    // default persona, and keyctl(GET_KEYRING_ID) only reads.
    unsafe {
        let r = libc::syscall(
            libc::SYS_clone,
            (libc::CLONE_NEWUSER | libc::SIGCHLD) as libc::c_long,
            0,
            0,
            0,
            0,
        );
        if r == 0 {
            libc::_exit(0);
        }
        println!("clone_newuser={}", errno(r));
        let r = libc::syscall(libc::SYS_clone, libc::SIGCHLD as libc::c_long, 0, 0, 0, 0);
        if r == 0 {
            libc::_exit(0);
        }
        println!("clone_plain={}", errno(r));
        let mut buf = [0u8; 88];
        println!(
            "clone3={}",
            errno(libc::syscall(libc::SYS_clone3, buf.as_mut_ptr(), buf.len()))
        );
        println!(
            "personality_bsd={}",
            errno(libc::syscall(libc::SYS_personality, 0x6 as libc::c_long))
        );
        println!(
            "personality_linux={}",
            errno(libc::syscall(libc::SYS_personality, 0 as libc::c_long))
        );
        println!(
            "keyctl={}",
            errno(libc::syscall(
                libc::SYS_keyctl,
                0 as libc::c_long,
                -3 as libc::c_long,
                0
            ))
        );
        println!(
            "userfaultfd={}",
            errno(libc::syscall(libc::SYS_userfaultfd, 0 as libc::c_long))
        );
        let mut w = 0;
        libc::wait(&mut w);
        libc::wait(&mut w);
    }
}

#[test]
fn the_default_profile_filters_syscall_arguments() {
    let me = std::env::current_exe().unwrap();
    let r = run(
        RunOptions::default(),
        "BERTH_SECCOMP_PROBE=1 /probe --exact seccomp_probe_entry --nocapture --test-threads=1",
        |root| {
            std::fs::copy(&me, root.join("probe")).unwrap();
        },
    );
    assert_eq!(r.status, 0, "{}", r.out);
    for (k, v) in [
        ("clone_newuser=", libc::EPERM),
        ("clone_plain=", 0),
        ("clone3=", libc::ENOSYS),
        ("personality_bsd=", libc::EPERM),
        ("personality_linux=", 0),
        ("keyctl=", libc::EPERM),
        ("userfaultfd=", libc::EPERM),
    ] {
        assert_eq!(line(&r.out, k), v.to_string(), "{k} {}", r.out);
    }
}
