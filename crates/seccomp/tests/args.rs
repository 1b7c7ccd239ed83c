//! Argument comparisons (`linux.seccomp.syscalls[].args`) in real kernel filters.

mod common;

use berth_seccomp::compile;
use common::{errno_of, run_filtered, seccomp, try_getpgid, Outcome};
use nix::sys::socket::{socket, AddressFamily, SockFlag, SockType};
use serde_json::json;

/// Errno the rules under test return, so a match is told apart from a real failure.
const BLOCKED: i32 = 77;

fn try_socket(family: AddressFamily, ty: SockType) -> i32 {
    errno_of(socket(family, ty, SockFlag::SOCK_CLOEXEC, None))
}

/// Run `calls` in a filtered child; bit i of the exit code is set when call i was blocked.
fn blocked_mask(args: serde_json::Value, syscall: &str, calls: &[&dyn Fn() -> i32]) -> i32 {
    let filter = compile(&seccomp(json!({
        "defaultAction": "SCMP_ACT_ALLOW",
        "syscalls": [{
            "names": [syscall], "action": "SCMP_ACT_ERRNO", "errnoRet": BLOCKED, "args": args
        }]
    })))
    .expect("compile");
    let outcome = run_filtered(filter, || {
        calls
            .iter()
            .enumerate()
            .map(|(i, call)| i32::from(call() == BLOCKED) << i)
            .sum()
    });
    match outcome {
        Outcome::Exited(mask) => mask,
        other => panic!("child died: {other:?}"),
    }
}

#[test]
fn arg_comparison_eq_blocks_only_matching_call() {
    let mask = blocked_mask(
        json!([{ "index": 0, "value": libc::AF_INET, "op": "SCMP_CMP_EQ" }]),
        "socket",
        &[
            &|| try_socket(AddressFamily::Inet, SockType::Stream),
            &|| try_socket(AddressFamily::Unix, SockType::Stream),
        ],
    );
    assert_eq!(mask, 0b01, "AF_INET blocked, AF_UNIX allowed");
}

#[test]
fn masked_eq_comparison() {
    // (type & SOCK_TYPE_MASK) == SOCK_DGRAM, whatever other flags are or-ed in.
    let mask = blocked_mask(
        json!([{ "index": 1, "value": 0xf, "valueTwo": libc::SOCK_DGRAM, "op": "SCMP_CMP_MASKED_EQ" }]),
        "socket",
        &[
            &|| try_socket(AddressFamily::Unix, SockType::Datagram),
            &|| try_socket(AddressFamily::Unix, SockType::Stream),
        ],
    );
    assert_eq!(
        mask, 0b01,
        "SOCK_DGRAM|SOCK_CLOEXEC blocked, SOCK_STREAM allowed"
    );
}

#[test]
fn ordering_operators_compare_against_value() {
    const V: i32 = 100_000_000; // beyond any pid_max: getpgid fails with ESRCH unfiltered
    let calls: [&dyn Fn() -> i32; 3] = [&|| try_getpgid(V - 1), &|| try_getpgid(V), &|| {
        try_getpgid(V + 1)
    }];
    for (op, expected) in [
        ("SCMP_CMP_NE", 0b101),
        ("SCMP_CMP_LT", 0b001),
        ("SCMP_CMP_LE", 0b011),
        ("SCMP_CMP_EQ", 0b010),
        ("SCMP_CMP_GE", 0b110),
        ("SCMP_CMP_GT", 0b100),
    ] {
        let mask = blocked_mask(
            json!([{ "index": 0, "value": V, "op": op }]),
            "getpgid",
            &calls,
        );
        assert_eq!(mask, expected, "{op}: blocked calls for V-1, V, V+1");
    }
}

#[test]
fn args_on_different_indexes_are_anded() {
    let mask = blocked_mask(
        json!([
            { "index": 0, "value": libc::AF_UNIX, "op": "SCMP_CMP_EQ" },
            { "index": 1, "value": 0xf, "valueTwo": libc::SOCK_DGRAM, "op": "SCMP_CMP_MASKED_EQ" }
        ]),
        "socket",
        &[
            &|| try_socket(AddressFamily::Unix, SockType::Datagram),
            &|| try_socket(AddressFamily::Unix, SockType::Stream),
            &|| try_socket(AddressFamily::Inet, SockType::Datagram),
        ],
    );
    assert_eq!(mask, 0b001, "only AF_UNIX + SOCK_DGRAM matches both");
}

#[test]
fn args_repeating_an_index_are_ored_like_runc() {
    let mask = blocked_mask(
        json!([
            { "index": 0, "value": libc::AF_INET, "op": "SCMP_CMP_EQ" },
            { "index": 0, "value": libc::AF_INET6, "op": "SCMP_CMP_EQ" }
        ]),
        "socket",
        &[
            &|| try_socket(AddressFamily::Inet, SockType::Stream),
            &|| try_socket(AddressFamily::Inet6, SockType::Stream),
            &|| try_socket(AddressFamily::Unix, SockType::Stream),
        ],
    );
    assert_eq!(mask, 0b011, "AF_INET or AF_INET6 blocked, AF_UNIX allowed");
}
