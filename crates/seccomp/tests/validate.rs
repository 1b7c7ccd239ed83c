//! Config errors are reported before anything is built, naming the field.

mod common;

use berth_seccomp::{compile, validate};
use common::seccomp;
use serde_json::json;

fn error_of(config: serde_json::Value) -> String {
    let config = seccomp(config);
    let err = validate(&config)
        .expect_err("config must be rejected")
        .to_string();
    // compile() validates too and must fail the same way.
    assert_eq!(compile(&config).unwrap_err().to_string(), err);
    err
}

fn assert_names(err: &str, field: &str) {
    assert!(
        err.starts_with(&format!("{field}: ")),
        "{err:?} should name {field}"
    );
}

#[test]
fn arg_index_above_five_is_rejected() {
    let err = error_of(json!({
        "defaultAction": "SCMP_ACT_ALLOW",
        "syscalls": [
            { "names": ["getpid"], "action": "SCMP_ACT_ERRNO" },
            { "names": ["socket"], "action": "SCMP_ACT_ERRNO", "args": [
                { "index": 0, "value": 2, "op": "SCMP_CMP_EQ" },
                { "index": 6, "value": 2, "op": "SCMP_CMP_EQ" }
            ]}
        ]
    }));
    assert_names(&err, "linux.seccomp.syscalls[1].args[1].index");
    assert!(err.contains('6'), "{err}");
}

#[test]
fn notify_without_listener_path_is_rejected() {
    let err = error_of(json!({
        "defaultAction": "SCMP_ACT_ALLOW",
        "syscalls": [
            { "names": ["getpid"], "action": "SCMP_ACT_ERRNO" },
            { "names": ["getppid"], "action": "SCMP_ACT_NOTIFY" }
        ]
    }));
    assert_names(&err, "linux.seccomp.syscalls[1].action");
    assert!(err.contains("listenerPath"), "{err}");
}

#[test]
fn notify_as_default_action_is_rejected() {
    let err = error_of(json!({
        "defaultAction": "SCMP_ACT_NOTIFY",
        "listenerPath": "/run/agent.sock"
    }));
    assert_names(&err, "linux.seccomp.defaultAction");
}

#[test]
fn errno_ret_with_non_errno_action_is_rejected() {
    let err = error_of(json!({
        "defaultAction": "SCMP_ACT_ERRNO",
        "syscalls": [{ "names": ["getpid"], "action": "SCMP_ACT_ALLOW", "errnoRet": 1 }]
    }));
    assert_names(&err, "linux.seccomp.syscalls[0].errnoRet");
    assert!(err.contains("SCMP_ACT_ALLOW"), "{err}");
}

#[test]
fn default_errno_ret_with_non_errno_default_is_rejected() {
    let err = error_of(json!({ "defaultAction": "SCMP_ACT_KILL_PROCESS", "defaultErrnoRet": 1 }));
    assert_names(&err, "linux.seccomp.defaultErrnoRet");
}

#[test]
fn errno_ret_beyond_16_bits_is_rejected() {
    let err = error_of(json!({
        "defaultAction": "SCMP_ACT_ALLOW",
        "syscalls": [{ "names": ["getpid"], "action": "SCMP_ACT_ERRNO", "errnoRet": 70000 }]
    }));
    assert_names(&err, "linux.seccomp.syscalls[0].errnoRet");
}

#[test]
fn empty_names_are_rejected() {
    let err = error_of(json!({
        "defaultAction": "SCMP_ACT_ALLOW",
        "syscalls": [{ "names": [], "action": "SCMP_ACT_ERRNO" }]
    }));
    assert_names(&err, "linux.seccomp.syscalls[0].names");
    let err = error_of(json!({
        "defaultAction": "SCMP_ACT_ALLOW",
        "syscalls": [{ "names": ["getpid", ""], "action": "SCMP_ACT_ERRNO" }]
    }));
    assert_names(&err, "linux.seccomp.syscalls[0].names[1]");
}

#[test]
fn overlong_listener_path_is_rejected() {
    let err = error_of(json!({
        "defaultAction": "SCMP_ACT_ALLOW",
        "listenerPath": format!("/{}", "a".repeat(200)),
        "syscalls": [{ "names": ["getpid"], "action": "SCMP_ACT_NOTIFY" }]
    }));
    assert_names(&err, "linux.seccomp.listenerPath");
}

#[test]
fn unknown_action_is_a_deserialization_error() {
    // oci-spec types actions as an enum, so this never reaches validate().
    let err = serde_json::from_value::<oci_spec::runtime::LinuxSeccomp>(json!({
        "defaultAction": "SCMP_ACT_FOO"
    }))
    .unwrap_err();
    assert!(err.to_string().contains("SCMP_ACT_FOO"), "{err}");
}

#[test]
fn valid_config_passes() {
    validate(&seccomp(json!({
        "defaultAction": "SCMP_ACT_ERRNO",
        "defaultErrnoRet": 38,
        "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86"],
        "flags": ["SECCOMP_FILTER_FLAG_LOG"],
        "listenerPath": "/run/agent.sock",
        "listenerMetadata": "x",
        "syscalls": [
            { "names": ["getpid"], "action": "SCMP_ACT_ALLOW" },
            { "names": ["getppid"], "action": "SCMP_ACT_NOTIFY" },
            { "names": ["ptrace"], "action": "SCMP_ACT_TRACE", "errnoRet": 3 },
            { "names": ["personality"], "action": "SCMP_ACT_ALLOW",
              "args": [{ "index": 5, "value": 0, "valueTwo": 0, "op": "SCMP_CMP_EQ" }] }
        ]
    })))
    .expect("valid");
}
