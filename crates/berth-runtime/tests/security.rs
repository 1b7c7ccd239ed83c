//! Security: one test per attack the runtime stops, named after it.

mod common;
use common::*;
use std::os::unix::process::CommandExt;

/// Spawn berth-runtime with `fd` (opened on `path`) inherited at number `target`.
fn with_inherited_fd(b: &Bundle, args: &[&str], path: &str, target: i32) -> std::process::Output {
    let f = std::fs::File::open(path).unwrap();
    let raw = std::os::fd::AsRawFd::as_raw_fd(&f);
    let mut c = b.cmd();
    c.args(args);
    // SAFETY: dup2 in the child between fork and exec, async-signal-safe.
    unsafe {
        c.pre_exec(move || {
            if raw == target {
                // dup2 onto itself keeps O_CLOEXEC: clear it by hand.
                libc::fcntl(raw, libc::F_SETFD, 0);
            } else if libc::dup2(raw, target) < 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let o = capture(&mut c);
    drop(f);
    o
}

#[test]
fn no_host_fd_leaks_into_the_container() {
    let b = Bundle::new(&["ls", "/proc/self/fd"]);
    let o = with_inherited_fd(
        &b,
        &["run", "--bundle", b.path().to_str().unwrap(), &b.id],
        "/",
        7,
    );
    let fds: Vec<String> = ok(&o).split_whitespace().map(String::from).collect();
    // 0-2 plus the directory ls itself opened.
    assert!(fds.len() <= 4, "unexpected fds in container: {fds:?}");
    assert!(!fds.contains(&"7".to_string()), "host fd 7 leaked: {fds:?}");
}

#[test]
fn preserved_fds_reach_the_container() {
    let b = Bundle::new(&["sh", "-c", "readlink /proc/self/fd/3"]);
    let o = with_inherited_fd(
        &b,
        &[
            "run",
            "--preserve-fds",
            "1",
            "--bundle",
            b.path().to_str().unwrap(),
            &b.id,
        ],
        "/etc/hostname",
        3,
    );
    assert!(
        ok(&o).contains("hostname"),
        "fd 3 not preserved: {}",
        stdout(&o)
    );
}

#[test]
fn cve_2024_21626_cwd_through_leaked_host_fd_is_refused() {
    // A host directory fd at 7 and a cwd that tries to reach it.
    let b = Bundle::with(&["sh", "-c", "ls .. > /dev/null; pwd"], |c| {
        c["process"]["cwd"] = "/proc/self/fd/7".into()
    });
    let o = with_inherited_fd(
        &b,
        &["run", "--bundle", b.path().to_str().unwrap(), &b.id],
        "/sys/fs/cgroup",
        7,
    );
    assert!(
        !o.status.success(),
        "container started with a host cwd: {}",
        stdout(&o)
    );
    assert!(
        !stdout(&o).contains("cgroup"),
        "reached host dir: {}",
        stdout(&o)
    );
}

#[test]
fn cve_2024_21626_exec_cwd_through_leaked_host_fd_is_refused() {
    let b = Bundle::new(&["sleep", "30"]);
    ok(&b.create());
    ok(&b.rt(&["start", &b.id]));
    let o = with_inherited_fd(
        &b,
        &["exec", "--cwd", "/proc/self/fd/7", &b.id, "pwd"],
        "/sys/fs/cgroup",
        7,
    );
    assert!(
        !o.status.success(),
        "exec ran with a host cwd: {}",
        stdout(&o)
    );
}

#[test]
fn cve_2019_5736_container_init_exe_cannot_be_reopened_for_writing() {
    let b = Bundle::new(&["sleep", "30"]);
    ok(&b.create());
    let pid = b.state()["pid"].as_i64().unwrap();
    // The attack: hold /proc/PID/exe of a process running our code, wait for it to exit (so
    // ETXTBSY no longer protects the file), then reopen it for writing.
    let held = std::fs::File::open(format!("/proc/{pid}/exe")).unwrap();
    ok(&b.rt(&["delete", "--force", &b.id]));
    assert!(eventually(|| !std::path::Path::new(&format!(
        "/proc/{pid}/exe"
    ))
    .exists()));
    let fd = std::os::fd::AsRawFd::as_raw_fd(&held);
    let reopen = || {
        std::fs::OpenOptions::new()
            .write(true)
            .open(format!("/proc/self/fd/{fd}"))
    };
    // ETXTBSY only says that some process (another test's runtime) still executes this
    // binary, and the kernel checks it before the mount: wait until it is free.
    let mut w = reopen();
    for _ in 0..500 {
        match &w {
            Err(e) if e.raw_os_error() == Some(libc::ETXTBSY) => {
                std::thread::sleep(std::time::Duration::from_millis(10));
                w = reopen();
            }
            _ => break,
        }
    }
    let e = w.expect_err("the runtime binary behind a container init was writable");
    assert!(
        matches!(e.raw_os_error(), Some(libc::EROFS) | Some(libc::EPERM)),
        "expected a read-only or sealed file, got {e}"
    );
}

#[test]
fn cve_2019_5736_host_runtime_cannot_be_overwritten_from_inside() {
    let before = std::fs::read(BIN).unwrap();
    let b = Bundle::new(&["sleep", "30"]);
    ok(&b.create());
    // pid 1 in the container is still our init; try to write through its exe link.
    let o = b.rt(&["exec", &b.id, "sh", "-c", "echo pwned >> /proc/1/exe && echo WROTE; for p in /proc/[0-9]*; do echo pwned >> $p/exe 2>/dev/null && echo WROTE; done; true"]);
    assert!(
        !stdout(&o).contains("WROTE"),
        "wrote through /proc/PID/exe: {}",
        stdout(&o)
    );
    assert_eq!(std::fs::read(BIN).unwrap(), before, "host binary changed");
}

#[test]
fn cve_2021_30465_symlinked_mount_destination_stays_inside_root() {
    let host_target = std::env::temp_dir().join(uid("berth-escape"));
    let b = Bundle::with(&["true"], |c| {
        c["mounts"].as_array_mut().unwrap().push(
            serde_json::json!({"destination": "/escape/sub", "type": "tmpfs", "source": "tmpfs"}),
        );
    });
    // The image links /escape to a host path.
    std::os::unix::fs::symlink(&host_target, b.rootfs().join("escape")).unwrap();
    ok(&b.run());
    assert!(
        !host_target.exists(),
        "mount target created on the host at {host_target:?}"
    );
    let inside = b.rootfs().join(host_target.strip_prefix("/").unwrap());
    assert!(
        inside.join("sub").is_dir(),
        "target should be created inside the root at {inside:?}"
    );
    let mi = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
    assert!(
        !mi.contains(host_target.to_str().unwrap()),
        "host mount table has the escaped mount"
    );
}

#[test]
fn cve_2021_30465_dotdot_symlink_in_bind_destination_stays_inside_root() {
    let b = Bundle::with(&["true"], |c| {
        c["mounts"].as_array_mut().unwrap().push(serde_json::json!({"destination": "/up/x", "type": "bind", "source": "/etc", "options": ["rbind", "ro"]}));
    });
    std::os::unix::fs::symlink("../../../../../../../../..", b.rootfs().join("up")).unwrap();
    ok(&b.run());
    assert!(
        !std::path::Path::new("/x").exists(),
        "bind target created at host /x"
    );
    assert!(b.rootfs().join("x").is_dir());
}

#[test]
fn cve_2025_31133_fake_dev_null_is_not_used_for_masking() {
    // No /dev tmpfs: the image's own /dev is used, and its "null" is a regular file.
    let b = Bundle::with(&["true"], |c| {
        c["mounts"].as_array_mut().unwrap().retain(|m| {
            m["destination"] != "/dev"
                && m["destination"] != "/dev/pts"
                && m["destination"] != "/dev/shm"
                && m["destination"] != "/dev/mqueue"
        });
    });
    std::fs::write(b.rootfs().join("dev/null"), "not a device").unwrap();
    let o = b.run();
    assert!(!o.status.success(), "masked paths with a fake /dev/null");
    assert!(stderr(&o).contains("/dev/null"), "{}", stderr(&o));
    assert!(!b.root.join(&b.id).exists(), "state left behind");
}

#[test]
fn spec_carries_runc_default_masked_readonly_paths_and_minimal_caps() {
    let c = default_config(&["sh"]);
    let masked: Vec<&str> = c["linux"]["maskedPaths"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    for p in [
        "/proc/kcore",
        "/proc/keys",
        "/proc/timer_list",
        "/sys/firmware",
        "/proc/scsi",
        "/proc/acpi",
    ] {
        assert!(masked.contains(&p), "{p} not masked");
    }
    let ro: Vec<&str> = c["linux"]["readonlyPaths"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    for p in [
        "/proc/bus",
        "/proc/fs",
        "/proc/irq",
        "/proc/sys",
        "/proc/sysrq-trigger",
    ] {
        assert!(ro.contains(&p), "{p} not read-only");
    }
    let caps = c["process"]["capabilities"]["bounding"].as_array().unwrap();
    assert_eq!(caps.len(), 3, "{caps:?}");
    assert_eq!(c["process"]["noNewPrivileges"], true);
}

#[test]
fn masked_and_readonly_paths_are_enforced_inside() {
    let b = Bundle::new(&[
        "sh",
        "-c",
        "wc -c < /proc/timer_list; echo 1 > /proc/sys/kernel/domainname && echo WROTE; true",
    ]);
    let out = ok(&b.run());
    assert!(
        out.trim_start().starts_with('0'),
        "timer_list (masked) readable: {out}"
    );
    assert!(!out.contains("WROTE"), "/proc/sys writable: {out}");
}

#[test]
fn tun_device_cannot_be_opened_even_when_its_node_is_made() {
    // A tunnel device would let the container add interfaces to its network: not allowed by
    // default (as Podman and runc 1.2), so only the device rules stand between a container
    // with CAP_MKNOD and /dev/net/tun.
    let b = Bundle::with(
        &[
            "sh",
            "-c",
            "mkdir -p /dev/net && mknod /dev/net/tun c 10 200 && echo MADE; \
             (exec 3<>/dev/net/tun) 2>/dev/null && echo OPENED; \
             (exec 3</dev/null) && echo NULL_OPENS",
        ],
        |c| {
            for set in ["bounding", "effective", "permitted"] {
                c["process"]["capabilities"][set]
                    .as_array_mut()
                    .unwrap()
                    .push("CAP_MKNOD".into());
            }
        },
    );
    let out = ok(&b.run());
    assert!(out.contains("MADE"), "mknod failed: {out}");
    assert!(out.contains("NULL_OPENS"), "{out}");
    assert!(
        !out.contains("OPENED"),
        "/dev/net/tun could be opened: {out}"
    );
}
