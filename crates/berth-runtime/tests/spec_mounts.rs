//! OCI runtime-spec 1.2, config.md `root` and `mounts`, config-linux.md devices, masked and
//! read-only paths; and `--no-pivot`. One test per MUST, named after the behaviour.

mod common;
use common::*;
use serde_json::json;
use std::path::{Path, PathBuf};
use std::process::Command;

/// A host mount made by the test, lazily unmounted when dropped.
struct HostMount(PathBuf);

impl HostMount {
    fn new(args: &[&str], target: &Path) -> HostMount {
        let o = capture(Command::new("mount").args(args).arg(target));
        ok(&o);
        HostMount(target.to_path_buf())
    }
}

impl Drop for HostMount {
    fn drop(&mut self) {
        let _ = nix::mount::umount2(&self.0, nix::mount::MntFlags::MNT_DETACH);
    }
}

fn push_mount(c: &mut serde_json::Value, m: serde_json::Value) {
    c["mounts"].as_array_mut().unwrap().push(m);
}

#[test]
fn root_readonly_makes_the_root_file_system_read_only() {
    let b = Bundle::with(
        &[
            "sh",
            "-c",
            "touch /written && echo WROTE; touch /dev/shm/ok && echo TMPFS_OK",
        ],
        |c| c["root"]["readonly"] = json!(true),
    );
    let o = b.run();
    assert!(!stdout(&o).contains("WROTE"), "wrote to a read-only root");
    assert!(
        stderr(&o).contains("Read-only file system"),
        "{}",
        stderr(&o)
    );
    assert!(
        stdout(&o).contains("TMPFS_OK"),
        "mounts on top became read-only too"
    );
    assert!(!b.rootfs().join("written").exists());
    // The same container with a read-write root can write.
    let b = Bundle::new(&["touch", "/written"]);
    ok(&b.run());
    assert!(b.rootfs().join("written").exists());
}

#[test]
fn tmpfs_mount_gets_its_size_mode_and_flags() {
    let out = sh_run(
        "stat -c %a /scratch; grep ' /scratch ' /proc/mounts; \
         dd if=/dev/zero of=/scratch/f bs=1M count=3 2>&1 >/dev/null | grep -o 'No space left on device'",
        |c| {
            push_mount(c, json!({"destination": "/scratch", "type": "tmpfs", "source": "tmpfs",
                                 "options": ["nosuid", "nodev", "size=2m", "mode=1770"]}))
        },
    );
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], "1770", "{out}");
    let opts: Vec<&str> = lines[1]
        .split_whitespace()
        .nth(3)
        .unwrap()
        .split(',')
        .collect();
    for o in ["nosuid", "nodev", "size=2048k", "mode=1770"] {
        assert!(opts.contains(&o), "{o} missing: {}", lines[1]);
    }
    assert_eq!(
        lines.get(2),
        Some(&"No space left on device"),
        "size not enforced: {out}"
    );
}

#[test]
fn mounts_are_made_in_the_listed_order() {
    let out = sh_run("stat -c %a /m/sub", |c| {
        push_mount(
            c,
            json!({"destination": "/m", "type": "tmpfs", "source": "tmpfs"}),
        );
        push_mount(
            c,
            json!({"destination": "/m/sub", "type": "tmpfs", "source": "tmpfs",
                             "options": ["mode=700"]}),
        );
    });
    assert_eq!(out.trim(), "700", "/m/sub was hidden by /m");
}

#[test]
fn read_only_bind_mount_is_readable_but_not_writable() {
    let src = tempfile::tempdir().unwrap();
    std::fs::write(src.path().join("f"), "host data").unwrap();
    let b = Bundle::with(
        &[
            "sh",
            "-c",
            "cat /data/f; echo; touch /data/new && echo WROTE; true",
        ],
        |c| {
            push_mount(
                c,
                json!({"destination": "/data", "type": "bind",
                "source": src.path(), "options": ["bind", "ro"]}),
            )
        },
    );
    let o = b.run();
    assert_eq!(ok(&o).lines().collect::<Vec<_>>(), vec!["host data"]);
    assert!(
        stderr(&o).contains("Read-only file system"),
        "{}",
        stderr(&o)
    );
    assert!(
        !src.path().join("new").exists(),
        "write went through to the host"
    );
}

#[test]
fn rbind_brings_submounts_and_bind_does_not() {
    let src = tempfile::tempdir().unwrap();
    std::fs::create_dir(src.path().join("sub")).unwrap();
    let _m = HostMount::new(&["-t", "tmpfs", "tmpfs"], &src.path().join("sub"));
    std::fs::write(src.path().join("sub/inner"), "in submount").unwrap();
    let run = |opt: &str| {
        sh_run("ls /data/sub", |c| {
            push_mount(
                c,
                json!({"destination": "/data", "type": "bind",
                "source": src.path(), "options": [opt]}),
            )
        })
    };
    assert_eq!(run("rbind").trim(), "inner", "rbind lost the submount");
    assert_eq!(run("bind").trim(), "", "plain bind brought the submount");
}

#[test]
fn mount_propagation_options_are_applied() {
    let src = tempfile::tempdir().unwrap();
    std::fs::create_dir(src.path().join("late")).unwrap();
    // A shared host mount, so mounts under it propagate to slaves.
    let _bind = HostMount::new(&["--bind", src.path().to_str().unwrap()], src.path());
    ok(&capture(
        Command::new("mount")
            .args(["--make-shared"])
            .arg(src.path()),
    ));
    let start = |prop: &str| {
        let b = Bundle::with(&["sleep", "30"], |c| {
            push_mount(
                c,
                json!({"destination": "/data", "type": "bind",
                "source": src.path(), "options": ["rbind", prop]}),
            )
        });
        ok(&b.create());
        ok(&b.rt(&["start", &b.id]));
        b
    };
    let slave = start("rslave");
    let private = start("rprivate");
    let late = HostMount::new(&["-t", "tmpfs", "tmpfs"], &src.path().join("late"));
    std::fs::write(src.path().join("late/flag"), "propagated").unwrap();
    let seen = |b: &Bundle| stdout(&b.rt(&["exec", &b.id, "ls", "/data/late"]));
    assert_eq!(
        seen(&slave).trim(),
        "flag",
        "rslave mount did not receive the host mount"
    );
    assert_eq!(
        seen(&private).trim(),
        "",
        "rprivate mount received the host mount"
    );
    drop(late);
}

#[test]
fn configured_devices_are_created_with_type_numbers_mode_and_owner() {
    let out = sh_run(
        "for d in /dev/my-char /dev/my-blk /dev/my-fifo /dev/deep/dir/node; do \
         stat -c '%n|%F|%t:%T|%a|%u:%g' $d; done",
        |c| {
            c["linux"]["devices"] = json!([
                {"path": "/dev/my-char", "type": "c", "major": 10, "minor": 229,
                 "fileMode": 0o640, "uid": 1234, "gid": 5678},
                {"path": "/dev/my-blk", "type": "b", "major": 7, "minor": 200,
                 "fileMode": 0o600, "uid": 0, "gid": 6},
                {"path": "/dev/my-fifo", "type": "p", "fileMode": 0o620},
                {"path": "/dev/deep/dir/node", "type": "c", "major": 1, "minor": 5}
            ]);
        },
    );
    assert_eq!(
        out.lines().collect::<Vec<_>>(),
        vec![
            "/dev/my-char|character special file|a:e5|640|1234:5678",
            "/dev/my-blk|block special file|7:c8|600|0:6",
            "/dev/my-fifo|fifo|0:0|620|0:0",
            "/dev/deep/dir/node|character special file|1:5|666|0:0",
        ],
        "{out}"
    );
}

#[test]
fn default_devices_are_the_standard_character_devices() {
    let out = sh_run(
        "for d in null zero full random urandom tty; do stat -c '%n|%F|%t:%T|%a' /dev/$d; done; \
         echo x > /dev/null && head -c 4 /dev/zero | wc -c",
        |_| {},
    );
    assert_eq!(
        out.lines().collect::<Vec<_>>(),
        vec![
            "/dev/null|character special file|1:3|666",
            "/dev/zero|character special file|1:5|666",
            "/dev/full|character special file|1:7|666",
            "/dev/random|character special file|1:8|666",
            "/dev/urandom|character special file|1:9|666",
            "/dev/tty|character special file|5:0|666",
            "4",
        ],
        "{out}"
    );
}

#[test]
fn dev_symlinks_point_to_proc_self_fd_and_pts_ptmx() {
    let out = sh_run(
        "for l in fd stdin stdout stderr ptmx; do echo \"$l -> $(readlink /dev/$l)\"; done; \
         [ -c /dev/pts/ptmx ] && echo PTMX_OK",
        |_| {},
    );
    assert_eq!(
        out.lines().collect::<Vec<_>>(),
        vec![
            "fd -> /proc/self/fd",
            "stdin -> /proc/self/fd/0",
            "stdout -> /proc/self/fd/1",
            "stderr -> /proc/self/fd/2",
            "ptmx -> pts/ptmx",
            "PTMX_OK",
        ],
        "{out}"
    );
}

#[test]
fn masked_paths_hide_files_and_directories() {
    let b = Bundle::with(
        &[
            "sh",
            "-c",
            "wc -c < /etc/secret; ls /opt/secret | wc -l; touch /opt/secret/x && echo WROTE; true",
        ],
        |c| {
            let mp = c["linux"]["maskedPaths"].as_array_mut().unwrap();
            mp.push(json!("/etc/secret"));
            mp.push(json!("/opt/secret"));
            mp.push(json!("/does/not/exist"));
        },
    );
    std::fs::write(b.rootfs().join("etc/secret"), "password").unwrap();
    std::fs::create_dir_all(b.rootfs().join("opt/secret")).unwrap();
    std::fs::write(b.rootfs().join("opt/secret/key"), "k").unwrap();
    let out = ok(&b.run());
    let lines: Vec<&str> = out.lines().map(str::trim).collect();
    assert_eq!(lines, vec!["0", "0"], "masked content visible: {out}");
    assert_eq!(
        std::fs::read_to_string(b.rootfs().join("etc/secret")).unwrap(),
        "password",
        "masking changed the file"
    );
}

#[test]
fn readonly_paths_are_readable_but_not_writable() {
    let b = Bundle::with(
        &[
            "sh",
            "-c",
            "cat /data-ro/f; echo; touch /data-ro/new && echo WROTE; touch /tmp/ok && echo ELSEWHERE_OK; true",
        ],
        |c| {
            c["linux"]["readonlyPaths"]
                .as_array_mut()
                .unwrap()
                .push(json!("/data-ro"))
        },
    );
    std::fs::create_dir(b.rootfs().join("data-ro")).unwrap();
    std::fs::write(b.rootfs().join("data-ro/f"), "content").unwrap();
    let o = b.run();
    assert_eq!(
        ok(&o).lines().collect::<Vec<_>>(),
        vec!["content", "ELSEWHERE_OK"]
    );
    assert!(
        stderr(&o).contains("Read-only file system"),
        "{}",
        stderr(&o)
    );
    assert!(!b.rootfs().join("data-ro/new").exists());
}

#[test]
fn no_pivot_runs_the_container_in_its_root() {
    let b = Bundle::new(&[
        "sh",
        "-c",
        "cat /marker; echo $$; [ -e /usr ] && echo HOST_ROOT_VISIBLE; true",
    ]);
    std::fs::write(b.rootfs().join("marker"), "in-rootfs\n").unwrap();
    let out = ok(&b.rt(&[
        "run",
        "--no-pivot",
        "--bundle",
        b.path().to_str().unwrap(),
        &b.id,
    ]));
    assert_eq!(
        out.lines().collect::<Vec<_>>(),
        vec!["in-rootfs", "1"],
        "{out}"
    );
}

#[test]
fn device_path_holding_a_different_file_fails_create() {
    let b = Bundle::with(&["true"], |c| {
        c["linux"]["devices"] =
            json!([{"path": "/opt/dev-clash", "type": "c", "major": 1, "minor": 3}]);
    });
    std::fs::create_dir_all(b.rootfs().join("opt")).unwrap();
    std::fs::write(b.rootfs().join("opt/dev-clash"), "regular file").unwrap();
    let o = b.create();
    assert!(
        !o.status.success(),
        "create kept a regular file as device 1:3"
    );
    assert!(stderr(&o).contains("/opt/dev-clash"), "{}", stderr(&o));
    assert!(!b.root.join(&b.id).exists(), "state left behind");
}

#[test]
fn device_path_holding_the_same_device_is_accepted() {
    let b = Bundle::with(&["stat", "-c", "%F|%t:%T", "/opt/zero"], |c| {
        c["linux"]["devices"] = json!([{"path": "/opt/zero", "type": "c", "major": 1, "minor": 5}]);
    });
    // The image already has the very node.
    std::fs::create_dir_all(b.rootfs().join("opt")).unwrap();
    nix::sys::stat::mknod(
        &b.rootfs().join("opt/zero"),
        nix::sys::stat::SFlag::S_IFCHR,
        nix::sys::stat::Mode::from_bits_truncate(0o666),
        nix::sys::stat::makedev(1, 5),
    )
    .unwrap();
    assert_eq!(ok(&b.run()).trim(), "character special file|1:5");
}

#[test]
fn relative_bind_source_is_resolved_against_the_bundle() {
    let b = Bundle::with(&["cat", "/data/f"], |c| {
        push_mount(
            c,
            json!({"destination": "/data", "type": "bind",
            "source": "hostdata", "options": ["rbind", "ro"]}),
        )
    });
    std::fs::create_dir(b.path().join("hostdata")).unwrap();
    std::fs::write(b.path().join("hostdata/f"), "from bundle").unwrap();
    assert_eq!(ok(&b.run()), "from bundle");
}

#[test]
fn rootfs_propagation_is_applied_to_the_root_mount() {
    let root_line = |prop: &str| {
        let out = sh_run(
            "grep -E '^[0-9]+ [0-9]+ [^ ]+ [^ ]+ / ' /proc/self/mountinfo",
            |c| c["linux"]["rootfsPropagation"] = json!(prop),
        );
        out.trim().to_string()
    };
    let shared = root_line("shared");
    assert!(shared.contains(" shared:"), "shared: {shared}");
    let unbindable = root_line("unbindable");
    assert!(
        unbindable.contains(" unbindable"),
        "unbindable: {unbindable}"
    );
    let private = root_line("private");
    assert!(
        !private.contains("shared:") && !private.contains("master:"),
        "private: {private}"
    );
}

#[test]
fn device_cgroup_denies_devices_not_allowed() {
    // The host's /dev/loop-control (10:237) bound in: the default rules do not allow it.
    let script = "head -c 0 /dev/lc 2>&1 && echo OPENED; true";
    let mount = json!({"destination": "/dev/lc", "type": "bind",
        "source": "/dev/loop-control", "options": ["bind"]});
    let denied = sh_run(script, |c| push_mount(c, mount.clone()));
    assert!(denied.contains("Operation not permitted"), "{denied}");
    let allowed = sh_run(script, |c| {
        push_mount(c, mount.clone());
        c["linux"]["resources"]["devices"]
            .as_array_mut()
            .unwrap()
            .push(json!({"allow": true, "type": "c", "major": 10, "minor": 237, "access": "rw"}));
    });
    assert_eq!(allowed.trim(), "OPENED");
}
