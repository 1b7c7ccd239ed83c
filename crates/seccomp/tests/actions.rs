//! Each OCI action, applied by a real kernel filter in a forked child.

mod common;

use berth_seccomp::compile;
use common::{run_filtered, seccomp, try_getpgid, try_mkdir, Outcome, ENOENT, ESRCH};
use nix::sys::signal::Signal;
use serde_json::json;

const NO_SUCH_PID: i32 = 100_000_000;

fn deny_getpgid(action: &str) -> berth_seccomp::Filter {
    compile(&seccomp(json!({
        "defaultAction": "SCMP_ACT_ALLOW",
        "syscalls": [{ "names": ["getpgid"], "action": action }]
    })))
    .expect("compile")
}

#[test]
fn errno_action_returns_configured_errno() {
    let filter = compile(&seccomp(json!({
        "defaultAction": "SCMP_ACT_ALLOW",
        "syscalls": [{ "names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 38 }]
    })))
    .unwrap();
    assert_eq!(run_filtered(filter, try_mkdir), Outcome::Exited(38));
}

#[test]
fn errno_action_defaults_to_eperm() {
    let filter = compile(&seccomp(json!({
        "defaultAction": "SCMP_ACT_ALLOW",
        "syscalls": [{ "names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO" }]
    })))
    .unwrap();
    assert_eq!(
        run_filtered(filter, try_mkdir),
        Outcome::Exited(libc::EPERM)
    );
}

#[test]
fn unfiltered_calls_behave_normally() {
    let filter = deny_getpgid("SCMP_ACT_ERRNO");
    assert_eq!(run_filtered(filter, try_mkdir), Outcome::Exited(ENOENT));
}

#[test]
fn default_errno_ret_applies() {
    let filter = compile(&seccomp(json!({
        "defaultAction": "SCMP_ACT_ERRNO",
        "defaultErrnoRet": 95,
        "syscalls": [{ "names": ["exit_group", "exit"], "action": "SCMP_ACT_ALLOW" }]
    })))
    .unwrap();
    assert_eq!(run_filtered(filter, try_mkdir), Outcome::Exited(95));
}

#[test]
fn default_errno_action_defaults_to_eperm() {
    let filter = compile(&seccomp(json!({
        "defaultAction": "SCMP_ACT_ERRNO",
        "syscalls": [{ "names": ["exit_group", "exit"], "action": "SCMP_ACT_ALLOW" }]
    })))
    .unwrap();
    assert_eq!(
        run_filtered(filter, try_mkdir),
        Outcome::Exited(libc::EPERM)
    );
}

#[test]
fn rule_with_other_errno_than_default_is_kept() {
    let filter = compile(&seccomp(json!({
        "defaultAction": "SCMP_ACT_ERRNO",
        "syscalls": [
            { "names": ["exit_group", "exit"], "action": "SCMP_ACT_ALLOW" },
            { "names": ["getpgid"], "action": "SCMP_ACT_ERRNO" },
            { "names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 38 }
        ]
    })))
    .expect("a rule equal to the default action is skipped, not an error");
    let outcome = run_filtered(filter, || {
        if try_getpgid(NO_SUCH_PID) != libc::EPERM {
            return 1;
        }
        try_mkdir()
    });
    assert_eq!(outcome, Outcome::Exited(38));
}

#[test]
fn rule_with_default_action_is_skipped() {
    let filter = compile(&seccomp(json!({
        "defaultAction": "SCMP_ACT_ALLOW",
        "syscalls": [{ "names": ["getpgid"], "action": "SCMP_ACT_ALLOW" }]
    })))
    .expect("libseccomp would reject this rule; it must be skipped");
    assert_eq!(
        run_filtered(filter, || try_getpgid(NO_SUCH_PID)),
        Outcome::Exited(ESRCH)
    );
}

#[test]
fn kill_process_action_kills_with_sigsys() {
    let filter = deny_getpgid("SCMP_ACT_KILL_PROCESS");
    assert_eq!(
        run_filtered(filter, || try_getpgid(NO_SUCH_PID)),
        Outcome::Signaled(Signal::SIGSYS)
    );
}

#[test]
fn kill_thread_action_kills_with_sigsys() {
    for action in ["SCMP_ACT_KILL_THREAD", "SCMP_ACT_KILL"] {
        let filter = deny_getpgid(action);
        assert_eq!(
            run_filtered(filter, || try_getpgid(NO_SUCH_PID)),
            Outcome::Signaled(Signal::SIGSYS),
            "{action}"
        );
    }
}

#[test]
fn trap_action_raises_sigsys() {
    let filter = deny_getpgid("SCMP_ACT_TRAP");
    assert_eq!(
        run_filtered(filter, || try_getpgid(NO_SUCH_PID)),
        Outcome::Signaled(Signal::SIGSYS)
    );
}

#[test]
fn trace_action_without_tracer_fails_with_enosys() {
    let filter = compile(&seccomp(json!({
        "defaultAction": "SCMP_ACT_ALLOW",
        "syscalls": [{ "names": ["getpgid"], "action": "SCMP_ACT_TRACE", "errnoRet": 7 }]
    })))
    .unwrap();
    assert_eq!(
        run_filtered(filter, || try_getpgid(NO_SUCH_PID)),
        Outcome::Exited(libc::ENOSYS)
    );
}

#[test]
fn log_action_allows_the_call() {
    let filter = deny_getpgid("SCMP_ACT_LOG");
    assert_eq!(
        run_filtered(filter, || try_getpgid(NO_SUCH_PID)),
        Outcome::Exited(ESRCH)
    );
}

#[test]
fn allow_rules_open_holes_in_a_kill_default() {
    let filter = compile(&seccomp(json!({
        "defaultAction": "SCMP_ACT_KILL_PROCESS",
        "syscalls": [{ "names": ["exit_group", "getpgid"], "action": "SCMP_ACT_ALLOW" }]
    })))
    .unwrap();
    assert_eq!(
        run_filtered(filter, || try_getpgid(NO_SUCH_PID)),
        Outcome::Exited(ESRCH)
    );
}

#[test]
fn unknown_syscall_names_are_skipped() {
    let filter = compile(&seccomp(json!({
        "defaultAction": "SCMP_ACT_ALLOW",
        "syscalls": [
            { "names": ["no_such_syscall_berth"], "action": "SCMP_ACT_ERRNO" },
            {
                "names": ["arm_fadvise64_64", "mkdir", "definitely_not_a_syscall", "mkdirat"],
                "action": "SCMP_ACT_ERRNO",
                "errnoRet": 38
            }
        ]
    })))
    .expect("unknown names must not fail compile");
    assert_eq!(run_filtered(filter, try_mkdir), Outcome::Exited(38));
}

#[test]
fn filter_flags_are_accepted_by_the_kernel() {
    let filter = compile(&seccomp(json!({
        "defaultAction": "SCMP_ACT_ALLOW",
        "flags": ["SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_SPEC_ALLOW", "SECCOMP_FILTER_FLAG_TSYNC"],
        "syscalls": [{ "names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 38 }]
    })))
    .unwrap();
    assert_eq!(run_filtered(filter, try_mkdir), Outcome::Exited(38));
}
