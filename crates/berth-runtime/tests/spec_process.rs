//! OCI runtime-spec 1.2, config.md `process` and config-linux.md process attributes: args,
//! env, cwd, user, rlimits, oom_score_adj, capabilities, noNewPrivileges, seccomp,
//! personality, scheduler, ioPriority; and the fds a container is given (LISTEN_FDS,
//! --preserve-fds). One test per MUST, named after the behaviour.

mod common;
use common::*;
use serde_json::json;
use std::fs::File;
use std::os::fd::AsRawFd;
use std::os::unix::process::CommandExt;
use std::process::{Command, Output};

/// One line of /proc/self/status as the container's process sees it.
fn status_field(out: &str, field: &str) -> String {
    out.lines()
        .find_map(|l| l.strip_prefix(&format!("{field}:")))
        .unwrap_or_else(|| panic!("{field} missing from {out}"))
        .trim()
        .to_string()
}

/// Run `c` with each file at the given fd number (and nothing else above stderr open).
fn with_fds(c: &mut Command, files: &[(&File, i32)]) -> Output {
    let raws: Vec<(i32, i32)> = files.iter().map(|(f, t)| (f.as_raw_fd(), *t)).collect();
    // SAFETY: only fcntl/dup2 between fork and exec, which are async-signal-safe; `raws` is
    // moved in and not reallocated.
    unsafe {
        c.pre_exec(move || {
            // First out of the way (CLOEXEC copies above 100), so a source is never clobbered
            // by an earlier target; then onto the targets (dup2 clears CLOEXEC).
            let mut tmp = [0i32; 8];
            for (i, (raw, _)) in raws.iter().enumerate() {
                tmp[i] = libc::fcntl(*raw, libc::F_DUPFD_CLOEXEC, 100);
                if tmp[i] < 0 {
                    return Err(std::io::Error::last_os_error());
                }
            }
            for (i, (_, target)) in raws.iter().enumerate() {
                if libc::dup2(tmp[i], *target) < 0 {
                    return Err(std::io::Error::last_os_error());
                }
            }
            Ok(())
        });
    }
    capture(c)
}

fn data_file(dir: &std::path::Path, name: &str, text: &str) -> File {
    let p = dir.join(name);
    std::fs::write(&p, format!("{text}\n")).unwrap();
    File::open(p).unwrap()
}

#[test]
fn args_are_passed_verbatim() {
    let out = sh_run_args(&["sh", "-c", "printf '[%s]' \"$0\" \"$@\"", "a b", "c", ""]);
    assert_eq!(out, "[a b][c][]");
}

fn sh_run_args(args: &[&str]) -> String {
    ok(&Bundle::new(args).run())
}

#[test]
fn env_is_the_process_environment_and_nothing_of_the_host() {
    let b = Bundle::with(&["env"], |c| {
        c["process"]["env"] = json!(["PATH=/bin", "FOO=a value", "BAR="]);
    });
    let mut c = b.cmd();
    c.env("BERTH_HOST_ONLY", "leak")
        .args(["run", "--bundle", b.path().to_str().unwrap(), &b.id]);
    let out = ok(&capture(&mut c));
    let vars: Vec<&str> = out.lines().collect();
    for want in ["PATH=/bin", "FOO=a value", "BAR="] {
        assert!(vars.contains(&want), "{want} missing: {out}");
    }
    assert!(
        !out.contains("BERTH_HOST_ONLY"),
        "host environment leaked: {out}"
    );
}

#[test]
fn cwd_is_the_working_directory() {
    let out = sh_run("pwd", |c| c["process"]["cwd"] = json!("/etc"));
    assert_eq!(out.trim(), "/etc");
}

#[test]
fn user_uid_gid_additional_gids_and_umask_are_applied() {
    let out = sh_run(
        "grep -E '^(Uid|Gid|Groups):' /proc/self/status; umask",
        |c| {
            c["process"]["user"] =
                json!({"uid": 1000, "gid": 1001, "additionalGids": [2000, 3000], "umask": 0o027});
        },
    );
    assert_eq!(status_field(&out, "Uid"), "1000\t1000\t1000\t1000");
    assert_eq!(status_field(&out, "Gid"), "1001\t1001\t1001\t1001");
    assert_eq!(status_field(&out, "Groups"), "2000 3000");
    assert_eq!(out.lines().last().unwrap(), "0027");
}

#[test]
fn rlimits_are_applied() {
    let out = sh_run("ulimit -Sn; ulimit -Hn", |c| {
        c["process"]["rlimits"] = json!([{"type": "RLIMIT_NOFILE", "soft": 777, "hard": 888}]);
    });
    assert_eq!(out.lines().collect::<Vec<_>>(), vec!["777", "888"]);
}

#[test]
fn oom_score_adj_is_applied() {
    let out = sh_run("cat /proc/self/oom_score_adj", |c| {
        c["process"]["oomScoreAdj"] = json!(123)
    });
    assert_eq!(out.trim(), "123");
}

// CAP_CHOWN (0), CAP_KILL (5), CAP_NET_RAW (13).
const THREE_CAPS: u64 = 1 | 1 << 5 | 1 << 13;

fn caps_out(user: serde_json::Value, caps: serde_json::Value) -> String {
    sh_run("grep ^Cap /proc/self/status", |c| {
        c["process"]["user"] = user;
        c["process"]["capabilities"] = caps;
    })
}

#[test]
fn capabilities_of_root_process_are_the_bounding_set() {
    let three = json!(["CAP_CHOWN", "CAP_KILL", "CAP_NET_RAW"]);
    let out = caps_out(
        json!({"uid": 0, "gid": 0}),
        json!({"bounding": three, "effective": three, "permitted": three}),
    );
    let want = format!("{THREE_CAPS:016x}");
    assert_eq!(status_field(&out, "CapBnd"), want, "{out}");
    assert_eq!(status_field(&out, "CapPrm"), want, "{out}");
    assert_eq!(status_field(&out, "CapEff"), want, "{out}");
    assert_eq!(status_field(&out, "CapInh"), "0000000000000000", "{out}");
}

#[test]
fn capabilities_of_non_root_process_come_from_the_ambient_set() {
    let kill = json!(["CAP_KILL"]);
    let out = caps_out(
        json!({"uid": 1000, "gid": 1000}),
        json!({"bounding": ["CAP_CHOWN", "CAP_KILL", "CAP_NET_RAW"], "effective": kill,
               "permitted": kill, "inheritable": kill, "ambient": kill}),
    );
    let k = format!("{:016x}", 1u64 << 5);
    assert_eq!(
        status_field(&out, "CapBnd"),
        format!("{THREE_CAPS:016x}"),
        "{out}"
    );
    for set in ["CapInh", "CapPrm", "CapEff", "CapAmb"] {
        assert_eq!(status_field(&out, set), k, "{set}: {out}");
    }
}

#[test]
fn no_new_privileges_sets_the_process_flag() {
    for (nnp, want) in [(true, "1"), (false, "0")] {
        let out = sh_run("grep ^NoNewPrivs /proc/self/status", |c| {
            c["process"]["noNewPrivileges"] = json!(nnp)
        });
        assert_eq!(
            status_field(&out, "NoNewPrivs"),
            want,
            "noNewPrivileges={nnp}"
        );
    }
}

/// EBADE: an errno nothing in these tests would produce by itself.
const ERRNO: i32 = 52;
const ERRNO_TEXT: &str = "Invalid exchange";

#[test]
fn seccomp_errno_rule_returns_the_configured_errno() {
    let b = Bundle::with(
        &[
            "sh",
            "-c",
            "mkdir /tmp/blocked; touch /tmp/allowed && echo TOUCHED",
        ],
        |c| {
            c["linux"]["seccomp"] = json!({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
                {"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": ERRNO}]});
        },
    );
    let o = b.run();
    assert!(stderr(&o).contains(ERRNO_TEXT), "stderr: {}", stderr(&o));
    assert!(
        stdout(&o).contains("TOUCHED"),
        "other syscalls were blocked too"
    );
    assert!(!b.rootfs().join("tmp/blocked").exists());
}

#[test]
fn seccomp_default_action_applies_to_unlisted_syscalls() {
    // Everything busybox mkdir (and the runtime after loading the filter) needs, but mkdir.
    let allowed = [
        "read",
        "write",
        "writev",
        "open",
        "openat",
        "close",
        "fstat",
        "newfstatat",
        "statx",
        "lseek",
        "mmap",
        "mprotect",
        "munmap",
        "brk",
        "rt_sigaction",
        "rt_sigprocmask",
        "rt_sigreturn",
        "ioctl",
        "access",
        "execve",
        "exit",
        "exit_group",
        "arch_prctl",
        "set_tid_address",
        "set_robust_list",
        "rseq",
        "prlimit64",
        "getrandom",
        "readlink",
        "getuid",
        "geteuid",
        "getgid",
        "getegid",
        "getpid",
        "prctl",
        "uname",
        "futex",
        "fcntl",
    ];
    let b = Bundle::with(&["mkdir", "/tmp/blocked"], |c| {
        c["linux"]["seccomp"] = json!({"defaultAction": "SCMP_ACT_ERRNO",
            "defaultErrnoRet": ERRNO,
            "syscalls": [{"names": allowed.to_vec(), "action": "SCMP_ACT_ALLOW"}]});
    });
    let o = b.run();
    assert!(
        !o.status.success(),
        "mkdir succeeded under a default-deny filter"
    );
    assert!(stderr(&o).contains(ERRNO_TEXT), "stderr: {}", stderr(&o));
    assert!(!b.rootfs().join("tmp/blocked").exists());
}

#[test]
fn seccomp_argument_comparison_selects_the_calls_it_matches() {
    let b = Bundle::with(
        &[
            "sh",
            "-c",
            "chmod 755 /tmp && echo CHMOD755; chmod 700 /tmp && echo CHMOD700; true",
        ],
        |c| {
            c["linux"]["seccomp"] = json!({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
                {"names": ["chmod", "fchmodat"], "action": "SCMP_ACT_ERRNO", "errnoRet": ERRNO,
                 "args": [{"index": 1, "value": 0o700, "op": "SCMP_CMP_EQ"}]}]});
        },
    );
    let o = b.run();
    let out = ok(&o);
    assert!(out.contains("CHMOD755"), "non-matching call blocked: {out}");
    assert!(!out.contains("CHMOD700"), "matching call allowed: {out}");
    assert!(stderr(&o).contains(ERRNO_TEXT), "stderr: {}", stderr(&o));
}

#[test]
fn personality_linux32_makes_uname_report_i686() {
    let out = sh_run("uname -m", |c| {
        c["linux"]["personality"] = json!({"domain": "LINUX32"})
    });
    assert_eq!(out.trim(), "i686");
}

#[test]
fn scheduler_policy_and_nice_are_applied() {
    let out = sh_run("cat /proc/self/stat", |c| {
        c["process"]["scheduler"] = json!({"policy": "SCHED_BATCH", "nice": 7})
    });
    // Fields after "(comm) ": state is field 3, nice 19, policy 41.
    let rest = &out[out.rfind(')').unwrap() + 2..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    assert_eq!(f[19 - 3], "7", "nice: {out}");
    assert_eq!(f[41 - 3], "3", "policy is not SCHED_BATCH: {out}");
}

#[test]
fn io_priority_is_applied() {
    let out = sh_run("ionice -p $$", |c| {
        c["process"]["ioPriority"] = json!({"class": "IOPRIO_CLASS_BE", "priority": 6})
    });
    assert_eq!(out.trim(), "best-effort: prio 6");
}

#[test]
fn listen_fds_are_passed_to_the_container() {
    let b = Bundle::new(&[
        "sh",
        "-c",
        "echo \"$LISTEN_FDS $LISTEN_PID\"; read l <&3 && echo \"$l\"; read m <&4 && echo LEAKED4; true",
    ]);
    let three = data_file(b.path(), "fd3", "listen-fd-data");
    let four = data_file(b.path(), "fd4", "not-passed");
    let mut c = Command::new("/bin/sh");
    c.args([
        "-c",
        "export LISTEN_PID=$$ LISTEN_FDS=1; exec \"$@\"",
        "sh",
        BIN,
    ])
    .arg("--root")
    .arg(&b.root)
    .args(["run", "--bundle", b.path().to_str().unwrap(), &b.id]);
    let out = ok(&with_fds(&mut c, &[(&three, 3), (&four, 4)]));
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines, vec!["1 1", "listen-fd-data"], "{out}");
}

#[test]
fn listen_fds_for_another_pid_are_not_passed() {
    let b = Bundle::new(&[
        "sh",
        "-c",
        "echo \"[$LISTEN_FDS]\"; read l <&3 && echo LEAKED; true",
    ]);
    let three = data_file(b.path(), "fd3", "x");
    let mut c = b.cmd();
    c.env("LISTEN_FDS", "1").env("LISTEN_PID", "1").args([
        "run",
        "--bundle",
        b.path().to_str().unwrap(),
        &b.id,
    ]);
    let out = ok(&with_fds(&mut c, &[(&three, 3)]));
    assert_eq!(out.trim(), "[]", "{out}");
}

#[test]
fn preserve_fds_passes_exactly_the_requested_fds() {
    let b = Bundle::new(&[
        "sh",
        "-c",
        "for f in 3 4 5; do if read l <&$f; then echo \"$f:$l\"; else echo \"$f:closed\"; fi; done 2>/dev/null",
    ]);
    let files: Vec<File> = [3, 4, 5]
        .iter()
        .map(|n| data_file(b.path(), &format!("fd{n}"), &format!("data{n}")))
        .collect();
    let mut c = b.cmd();
    c.args([
        "run",
        "--preserve-fds",
        "2",
        "--bundle",
        b.path().to_str().unwrap(),
        &b.id,
    ]);
    let out = ok(&with_fds(
        &mut c,
        &[(&files[0], 3), (&files[1], 4), (&files[2], 5)],
    ));
    assert_eq!(
        out.lines().collect::<Vec<_>>(),
        vec!["3:data3", "4:data4", "5:closed"],
        "{out}"
    );
}

#[test]
fn seccomp_notify_fd_and_state_go_to_the_listener_path() {
    let dir = tempfile::tempdir().unwrap();
    let sock = dir.path().join("seccomp.sock");
    let listener = std::os::unix::net::UnixListener::bind(&sock).unwrap();
    let b = Bundle::with(&["sh", "-c", "mkdir /tmp/notified; echo rc=$?"], |c| {
        c["linux"]["seccomp"] = json!({"defaultAction": "SCMP_ACT_ALLOW",
            "listenerPath": sock, "listenerMetadata": "meta-data",
            "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_NOTIFY"}]});
    });
    ok(&b.create());
    let pid = b.state()["pid"].as_i64().unwrap();
    ok(&b.rt(&["start", &b.id]));
    let (v, fd) = receive_notify(&listener);
    // Closing the notify fd makes the blocked mkdir fail (ENOSYS) so the container ends.
    drop(fd);
    assert_eq!(v["fds"], json!(["seccompFd"]), "{v}");
    assert_eq!(v["metadata"], "meta-data", "{v}");
    assert_eq!(v["pid"], pid, "pid must be the host pid: {v}");
    assert_eq!(v["state"]["id"], b.id.as_str(), "{v}");
    assert!(eventually(|| b.status() == "stopped"));
    assert!(!b.rootfs().join("tmp/notified").exists());
}

#[test]
fn seccomp_listener_that_cannot_be_reached_is_an_error() {
    let b = Bundle::with(&["true"], |c| {
        c["linux"]["seccomp"] = json!({"defaultAction": "SCMP_ACT_ALLOW",
            "listenerPath": "/nonexistent/seccomp.sock",
            "syscalls": [{"names": ["mkdir"], "action": "SCMP_ACT_NOTIFY"}]});
    });
    let o = b.run();
    assert!(!o.status.success(), "ran without its seccomp agent");
    assert!(
        stderr(&o).contains("/nonexistent/seccomp.sock"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn executable_is_looked_up_in_the_process_path() {
    let b = Bundle::with(&["mytool", "arg"], |c| {
        c["process"]["env"] = json!(["PATH=/nowhere:/opt/tools"]);
    });
    let tools = b.rootfs().join("opt/tools");
    std::fs::create_dir_all(&tools).unwrap();
    std::fs::write(tools.join("mytool"), "#!/bin/sh\necho \"found $1\"\n").unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(tools.join("mytool"), std::fs::Permissions::from_mode(0o755)).unwrap();
    assert_eq!(ok(&b.run()).trim(), "found arg");
}

#[test]
fn relative_executable_is_resolved_against_cwd() {
    let b = Bundle::with(&["./run.sh"], |c| c["process"]["cwd"] = json!("/opt"));
    std::fs::create_dir_all(b.rootfs().join("opt")).unwrap();
    std::fs::write(
        b.rootfs().join("opt/run.sh"),
        "#!/bin/sh\necho ran from $PWD\n",
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(
        b.rootfs().join("opt/run.sh"),
        std::fs::Permissions::from_mode(0o755),
    )
    .unwrap();
    assert_eq!(ok(&b.run()).trim(), "ran from /opt");
}

#[test]
fn duplicate_rlimit_type_is_an_error() {
    let b = Bundle::with(&["true"], |c| {
        c["process"]["rlimits"] = json!([
            {"type": "RLIMIT_NOFILE", "soft": 100, "hard": 100},
            {"type": "RLIMIT_NOFILE", "soft": 200, "hard": 200}
        ]);
    });
    let o = b.create();
    assert!(!o.status.success(), "create accepted a duplicate rlimit");
    assert!(stderr(&o).contains("process.rlimits[1]"), "{}", stderr(&o));
    assert!(!b.root.join(&b.id).exists());
}
