//! A Docker-default-sized profile: compiles quickly, loads, and behaves like the real one.

mod common;

use std::time::{Duration, Instant};

use berth_seccomp::{compile, Filter};
use common::{errno_of, run_filtered, seccomp, try_mkdir, Outcome, ENOENT};
use libseccomp::ScmpSyscall;
use nix::sched::{unshare, CloneFlags};
use nix::sys::personality::{self, Persona};
use nix::sys::socket::{socket, AddressFamily, SockFlag, SockType};
use oci_spec::runtime::LinuxSeccomp;
use serde_json::json;

/// Syscalls a Docker-like profile leaves to the default (EPERM) action or guards by args.
const NOT_ALLOWED: &[&str] = &[
    "acct",
    "add_key",
    "bpf",
    "clock_adjtime",
    "clock_settime",
    "clone",
    "clone3",
    "create_module",
    "delete_module",
    "finit_module",
    "get_kernel_syms",
    "get_mempolicy",
    "init_module",
    "ioperm",
    "iopl",
    "kcmp",
    "kexec_file_load",
    "kexec_load",
    "keyctl",
    "lookup_dcookie",
    "mbind",
    "mount",
    "move_pages",
    "name_to_handle_at",
    "nfsservctl",
    "open_by_handle_at",
    "perf_event_open",
    "personality",
    "pivot_root",
    "process_vm_readv",
    "process_vm_writev",
    "ptrace",
    "query_module",
    "quotactl",
    "reboot",
    "request_key",
    "set_mempolicy",
    "setns",
    "settimeofday",
    "socket",
    "swapon",
    "swapoff",
    "sysfs",
    "_sysctl",
    "umount2",
    "unshare",
    "uselib",
    "userfaultfd",
    "ustat",
    "vm86",
    "vm86old",
];

/// Names of other architectures that such profiles list too; skipped on x86_64.
const FOREIGN: &[&str] = &[
    "_llseek",
    "chown32",
    "fcntl64",
    "fstat64",
    "fstatat64",
    "fstatfs64",
    "ftruncate64",
    "getegid32",
    "geteuid32",
    "getgid32",
    "getuid32",
    "mmap2",
    "recv",
    "send",
    "sigreturn",
    "stat64",
    "statfs64",
    "truncate64",
    "ugetrlimit",
    "waitpid",
    "arm_fadvise64_64",
    "arm_sync_file_range",
    "sync_file_range2",
    "breakpoint",
    "cacheflush",
    "set_tls",
];

fn docker_sized_profile() -> LinuxSeccomp {
    let mut allowed: Vec<String> = (0..460)
        .filter_map(|nr| ScmpSyscall::from(nr).get_name().ok())
        .filter(|name| !NOT_ALLOWED.contains(&name.as_str()))
        .collect();
    allowed.extend(FOREIGN.iter().map(|s| s.to_string()));

    let mut syscalls = vec![json!({ "names": allowed, "action": "SCMP_ACT_ALLOW" })];
    for persona in [0u64, 8, 0x20000, 0x20008, 0xffff_ffff] {
        syscalls.push(json!({
            "names": ["personality"], "action": "SCMP_ACT_ALLOW",
            "args": [{ "index": 0, "value": persona, "valueTwo": 0, "op": "SCMP_CMP_EQ" }]
        }));
    }
    syscalls.push(json!({
        "names": ["clone"], "action": "SCMP_ACT_ALLOW",
        "args": [{ "index": 0, "value": 0x7e02_0000u64, "valueTwo": 0, "op": "SCMP_CMP_MASKED_EQ" }]
    }));
    syscalls
        .push(json!({ "names": ["clone3"], "action": "SCMP_ACT_ERRNO", "errnoRet": libc::ENOSYS }));
    syscalls.push(json!({
        "names": ["socket"], "action": "SCMP_ACT_ALLOW",
        "args": [{ "index": 0, "value": libc::AF_VSOCK, "valueTwo": 0, "op": "SCMP_CMP_NE" }]
    }));

    seccomp(json!({
        "defaultAction": "SCMP_ACT_ERRNO",
        "defaultErrnoRet": libc::EPERM,
        "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"],
        "syscalls": syscalls
    }))
}

fn allowed_count(profile: &LinuxSeccomp) -> usize {
    profile.syscalls().as_ref().unwrap()[0].names().len()
}

#[test]
fn docker_sized_profile_compiles_quickly() {
    let profile = docker_sized_profile();
    let filter = compile(&profile).expect("compile"); // warm-up (libseccomp probes the kernel once)
    const RUNS: u32 = 20;
    let mut best = Duration::MAX;
    let start = Instant::now();
    for _ in 0..RUNS {
        let t = Instant::now();
        std::hint::black_box(compile(&profile).unwrap());
        best = best.min(t.elapsed());
    }
    let mean = start.elapsed() / RUNS;
    eprintln!(
        "compile() of {} allowed names, 3 arches: mean {mean:?}, best {best:?}, {filter:?}",
        allowed_count(&profile)
    );
    assert!(allowed_count(&profile) >= 340);
    assert!(mean < Duration::from_secs(1), "compile() took {mean:?}");
}

#[test]
fn docker_sized_profile_enforces_its_rules() {
    let filter: Filter = compile(&docker_sized_profile()).unwrap();
    let outcome = run_filtered(filter, || {
        let checks = [
            // allowed by name
            try_mkdir() == ENOENT,
            // left to the default action
            errno_of(unshare(CloneFlags::empty())) == libc::EPERM,
            // personality: query allowed, other personas denied
            personality::get().is_ok(),
            errno_of(personality::set(Persona::ADDR_NO_RANDOMIZE)) == libc::EPERM,
            // socket: everything but AF_VSOCK
            errno_of(socket(
                AddressFamily::Unix,
                SockType::Stream,
                SockFlag::SOCK_CLOEXEC,
                None,
            )) == 0,
            errno_of(socket(
                AddressFamily::Vsock,
                SockType::Stream,
                SockFlag::SOCK_CLOEXEC,
                None,
            )) == libc::EPERM,
        ];
        checks
            .iter()
            .position(|ok| !ok)
            .map_or(0, |failed| failed as i32 + 1)
    });
    assert_eq!(
        outcome,
        Outcome::Exited(0),
        "exit code = 1 + index of the failed check"
    );
}

#[test]
fn filter_is_send_and_sync() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Filter>();
}

#[test]
fn unsupported_architecture_is_reported_with_its_field() {
    let profile = seccomp(json!({
        "defaultAction": "SCMP_ACT_ALLOW",
        "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_LOONGARCH64"]
    }));
    // libseccomp >= 2.6 knows loongarch64; older versions must name the field.
    if let Err(err) = compile(&profile) {
        let msg = err.to_string();
        assert!(msg.starts_with("linux.seccomp.architectures[1]: "), "{msg}");
    }
}
