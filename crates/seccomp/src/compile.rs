//! Building a filter from a `linux.seccomp` section and loading it.
//!
//! compile() does all the expensive work (libseccomp rule database, BPF generation) and
//! keeps only the generated program; load() is then a single seccomp(2) call. Loading
//! the program ourselves, rather than through seccomp_load(), lets us pass every filter
//! flag the kernel knows (libseccomp 2.5 lacks WAIT_KILLABLE_RECV), never touches
//! no_new_privs (that is process.noNewPrivileges' job) and gives the notify fd a single
//! owner.

use std::fmt;
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::os::fd::{FromRawFd, OwnedFd, RawFd};

use libseccomp::{
    ScmpAction, ScmpArch, ScmpArgCompare, ScmpCompareOp, ScmpFilterContext, ScmpSyscall,
};
use nix::errno::Errno;
use nix::sys::memfd::{memfd_create, MFdFlags};
use oci_spec::runtime::{
    Arch, LinuxSeccomp, LinuxSeccompAction, LinuxSeccompArg, LinuxSeccompFilterFlag,
    LinuxSeccompOperator, LinuxSyscall,
};

use crate::error::{Error, Result};
use crate::validate::{validate, MAX_SYSCALL_ARGS};

/// BPF_MAXINSNS: the kernel's limit on the length of a classic BPF program.
const BPF_MAXINSNS: usize = 4096;

/// Size of one `struct sock_filter` in the exported program.
const INSN_SIZE: usize = std::mem::size_of::<libc::sock_filter>();

/// A compiled seccomp filter, ready to be loaded into the calling thread.
#[derive(Clone)]
pub struct Filter {
    program: Vec<libc::sock_filter>,
    /// SECCOMP_FILTER_FLAG_* bits passed to seccomp(2).
    flags: libc::c_ulong,
    wants_notify: bool,
}

impl fmt::Debug for Filter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Filter")
            .field("instructions", &self.program.len())
            .field("flags", &format_args!("{:#x}", self.flags))
            .field("wants_notify", &self.wants_notify)
            .finish()
    }
}

impl Filter {
    /// Serialize for the on-disk cache (see cache.rs): flags, notify bit, instructions.
    pub(crate) fn to_bytes(&self) -> Vec<u8> {
        let mut v = Vec::with_capacity(16 + self.program.len() * INSN_SIZE);
        v.extend_from_slice(b"BSC1");
        v.extend_from_slice(&self.flags.to_le_bytes());
        v.push(self.wants_notify as u8);
        v.extend_from_slice(&(self.program.len() as u32).to_le_bytes());
        for i in &self.program {
            v.extend_from_slice(&i.code.to_le_bytes());
            v.push(i.jt);
            v.push(i.jf);
            v.extend_from_slice(&i.k.to_le_bytes());
        }
        v
    }

    pub(crate) fn from_bytes(b: &[u8]) -> Option<Filter> {
        if b.len() < 17 || &b[..4] != b"BSC1" {
            return None;
        }
        let flags: libc::c_ulong = u64::from_le_bytes(b[4..12].try_into().ok()?);
        let wants_notify = b[12] != 0;
        let n = u32::from_le_bytes(b[13..17].try_into().ok()?) as usize;
        let body = &b[17..];
        if n == 0 || n > 4096 || body.len() != n * 8 {
            return None;
        }
        let program = body
            .chunks_exact(8)
            .map(|c| libc::sock_filter {
                code: u16::from_le_bytes([c[0], c[1]]),
                jt: c[2],
                jf: c[3],
                k: u32::from_le_bytes([c[4], c[5], c[6], c[7]]),
            })
            .collect();
        Some(Filter {
            program,
            flags,
            wants_notify,
        })
    }

    /// True when some rule uses SCMP_ACT_NOTIFY (validate() rejects it as the default
    /// action); load() then returns the notify fd.
    pub fn wants_notify(&self) -> bool {
        self.wants_notify
    }

    /// Load the filter into the calling thread (it is inherited across fork and exec).
    ///
    /// The caller must have set no_new_privs or hold CAP_SYS_ADMIN. Returns the notify fd
    /// (close-on-exec) when [`Filter::wants_notify`] is true. Does not allocate on success,
    /// so it is fine to call in a freshly forked child.
    pub fn load(self) -> Result<Option<OwnedFd>> {
        let prog = libc::sock_fprog {
            // compile() guarantees program.len() <= BPF_MAXINSNS, which fits u16.
            len: self.program.len() as libc::c_ushort,
            filter: self.program.as_ptr().cast_mut(),
        };
        // SAFETY: `prog` points to `self.program`, which is alive and unchanged for the
        // whole call; the kernel only reads (copies) the program and keeps no pointer.
        let ret = unsafe {
            libc::syscall(
                libc::SYS_seccomp,
                libc::SECCOMP_SET_MODE_FILTER,
                self.flags,
                &prog as *const libc::sock_fprog,
            )
        };
        if ret < 0 {
            return Err(Error::Load {
                flags: self.flags,
                source: Errno::last(),
            });
        }
        if !self.wants_notify {
            return Ok(None);
        }
        // With SECCOMP_FILTER_FLAG_NEW_LISTENER seccomp(2) returns a new fd number.
        let fd = ret as RawFd;
        // SAFETY: `fd` was just created by the kernel for us and nothing else owns it.
        Ok(Some(unsafe { OwnedFd::from_raw_fd(fd) }))
    }
}

/// Build the filter for `seccomp` (validating it first). Nothing is loaded.
///
/// Syscall names unknown to libseccomp are skipped, as are rules whose action (including
/// its errno) equals the default action, both as runc does.
pub fn compile(seccomp: &LinuxSeccomp) -> Result<Filter> {
    validate(seccomp)?;

    let default_action = scmp_action(seccomp.default_action(), seccomp.default_errno_ret());
    let mut ctx = ScmpFilterContext::new(default_action).map_err(|source| Error::Libseccomp {
        field: "linux.seccomp.defaultAction".into(),
        context: format!("creating a filter with default action {default_action:?}"),
        source,
    })?;

    for (i, &arch) in seccomp.architectures().iter().flatten().enumerate() {
        ctx.add_arch(scmp_arch(arch))
            .map_err(|source| Error::Libseccomp {
                field: format!("linux.seccomp.architectures[{i}]"),
                context: format!("{arch} is not supported by this libseccomp"),
                source,
            })?;
    }

    let mut wants_notify = false;
    for (i, syscall) in seccomp.syscalls().iter().flatten().enumerate() {
        let action = scmp_action(syscall.action(), syscall.errno_ret());
        wants_notify |= action == ScmpAction::Notify;
        if action != default_action {
            add_rules(&mut ctx, i, syscall, action)?;
        }
    }

    let flags = filter_flags(seccomp.flags().as_deref().unwrap_or_default(), wants_notify);
    let program = export_bpf(&ctx)?;
    Ok(Filter {
        program,
        flags,
        wants_notify,
    })
}

/// Add the rules of `syscalls[i]` for every name libseccomp knows.
fn add_rules(
    ctx: &mut ScmpFilterContext,
    i: usize,
    syscall: &LinuxSyscall,
    action: ScmpAction,
) -> Result<()> {
    let args = syscall.args().as_deref().unwrap_or_default();
    // Like runc: arguments are ANDed in one rule, unless an index repeats; then each
    // argument becomes a rule of its own (ORed), since libseccomp compares each index
    // at most once per rule. Without repeats there are at most MAX_SYSCALL_ARGS
    // arguments (validate() bounds the index), so they fit a stack array.
    let mut seen = 0u8;
    let repeated = args.iter().any(|arg| {
        let bit = 1u8 << arg.index();
        let dup = seen & bit != 0;
        seen |= bit;
        dup
    });
    let mut conditions = [ScmpArgCompare::new(0, ScmpCompareOp::Equal, 0); MAX_SYSCALL_ARGS];
    if !repeated {
        for (slot, arg) in conditions.iter_mut().zip(args) {
            *slot = condition(arg);
        }
    }
    let anded = &conditions[..if repeated { 0 } else { args.len() }];

    for (j, name) in syscall.names().iter().enumerate() {
        let Ok(nr) = ScmpSyscall::from_name(name) else {
            continue; // not a syscall of this kernel/arch: skipped like runc does
        };
        let added = if repeated {
            args.iter().try_for_each(|arg| {
                ctx.add_rule_conditional(action, nr, &[condition(arg)])
                    .map(drop)
            })
        } else {
            ctx.add_rule_conditional(action, nr, anded).map(drop)
        };
        added.map_err(|source| Error::Libseccomp {
            field: format!("linux.seccomp.syscalls[{i}].names[{j}]"),
            context: format!("adding a {action:?} rule for {name:?}"),
            source,
        })?;
    }
    Ok(())
}

fn condition(arg: &LinuxSeccompArg) -> ScmpArgCompare {
    let op = match arg.op() {
        LinuxSeccompOperator::ScmpCmpNe => ScmpCompareOp::NotEqual,
        LinuxSeccompOperator::ScmpCmpLt => ScmpCompareOp::Less,
        LinuxSeccompOperator::ScmpCmpLe => ScmpCompareOp::LessOrEqual,
        LinuxSeccompOperator::ScmpCmpEq => ScmpCompareOp::Equal,
        LinuxSeccompOperator::ScmpCmpGe => ScmpCompareOp::GreaterEqual,
        LinuxSeccompOperator::ScmpCmpGt => ScmpCompareOp::Greater,
        // (arg & value) == valueTwo
        LinuxSeccompOperator::ScmpCmpMaskedEq => {
            return ScmpArgCompare::new(
                arg.index() as u32,
                ScmpCompareOp::MaskedEqual(arg.value()),
                arg.value_two().unwrap_or(0),
            )
        }
    };
    // validate() keeps index below MAX_SYSCALL_ARGS.
    ScmpArgCompare::new(arg.index() as u32, op, arg.value())
}

/// Map an OCI action; errnoRet defaults to EPERM for ERRNO and TRACE, as the spec says.
/// validate() keeps errnoRet within 16 bits.
fn scmp_action(action: LinuxSeccompAction, errno_ret: Option<u32>) -> ScmpAction {
    let data = errno_ret.unwrap_or(libc::EPERM as u32);
    match action {
        LinuxSeccompAction::ScmpActKill | LinuxSeccompAction::ScmpActKillThread => {
            ScmpAction::KillThread
        }
        LinuxSeccompAction::ScmpActKillProcess => ScmpAction::KillProcess,
        LinuxSeccompAction::ScmpActTrap => ScmpAction::Trap,
        LinuxSeccompAction::ScmpActErrno => ScmpAction::Errno(data as i32),
        LinuxSeccompAction::ScmpActTrace => ScmpAction::Trace(data as u16),
        LinuxSeccompAction::ScmpActNotify => ScmpAction::Notify,
        LinuxSeccompAction::ScmpActLog => ScmpAction::Log,
        LinuxSeccompAction::ScmpActAllow => ScmpAction::Allow,
    }
}

fn scmp_arch(arch: Arch) -> ScmpArch {
    match arch {
        Arch::ScmpArchNative => ScmpArch::Native,
        Arch::ScmpArchX86 => ScmpArch::X86,
        Arch::ScmpArchX86_64 => ScmpArch::X8664,
        Arch::ScmpArchX32 => ScmpArch::X32,
        Arch::ScmpArchArm => ScmpArch::Arm,
        Arch::ScmpArchAarch64 => ScmpArch::Aarch64,
        Arch::ScmpArchMips => ScmpArch::Mips,
        Arch::ScmpArchMips64 => ScmpArch::Mips64,
        Arch::ScmpArchMips64n32 => ScmpArch::Mips64N32,
        Arch::ScmpArchMipsel => ScmpArch::Mipsel,
        Arch::ScmpArchMipsel64 => ScmpArch::Mipsel64,
        Arch::ScmpArchMipsel64n32 => ScmpArch::Mipsel64N32,
        Arch::ScmpArchPpc => ScmpArch::Ppc,
        Arch::ScmpArchPpc64 => ScmpArch::Ppc64,
        Arch::ScmpArchPpc64le => ScmpArch::Ppc64Le,
        Arch::ScmpArchS390 => ScmpArch::S390,
        Arch::ScmpArchS390x => ScmpArch::S390X,
        Arch::ScmpArchParisc => ScmpArch::Parisc,
        Arch::ScmpArchParisc64 => ScmpArch::Parisc64,
        Arch::ScmpArchRiscv64 => ScmpArch::Riscv64,
        Arch::ScmpArchLoongarch64 => ScmpArch::Loongarch64,
        Arch::ScmpArchM68k => ScmpArch::M68k,
        Arch::ScmpArchSh => ScmpArch::Sh,
        Arch::ScmpArchSheb => ScmpArch::Sheb,
    }
}

/// SECCOMP_FILTER_FLAG_* bits for seccomp(2).
///
/// TSYNC is ignored: the filter is loaded by the single-threaded container init, which
/// is also what runc does. WAIT_KILLABLE_RECV only means something with a listener (the
/// kernel rejects it otherwise), so it is dropped when no rule uses SCMP_ACT_NOTIFY.
fn filter_flags(flags: &[LinuxSeccompFilterFlag], wants_notify: bool) -> libc::c_ulong {
    let mut bits = 0;
    if wants_notify {
        bits |= libc::SECCOMP_FILTER_FLAG_NEW_LISTENER;
    }
    for flag in flags {
        bits |= match flag {
            LinuxSeccompFilterFlag::SeccompFilterFlagLog => libc::SECCOMP_FILTER_FLAG_LOG,
            LinuxSeccompFilterFlag::SeccompFilterFlagSpecAllow => {
                libc::SECCOMP_FILTER_FLAG_SPEC_ALLOW
            }
            LinuxSeccompFilterFlag::SeccompFilterFlagWaitKillableRecv if wants_notify => {
                libc::SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV
            }
            LinuxSeccompFilterFlag::SeccompFilterFlagWaitKillableRecv
            | LinuxSeccompFilterFlag::SeccompFilterFlagTsync => 0,
        };
    }
    bits
}

/// Have libseccomp generate the BPF program into a memfd and read it back.
fn export_bpf(ctx: &ScmpFilterContext) -> Result<Vec<libc::sock_filter>> {
    let io = |step| move |source| Error::Export { step, source };
    let memfd = memfd_create(c"berth-seccomp-bpf", MFdFlags::MFD_CLOEXEC)
        .map_err(|errno| io("memfd_create")(errno.into()))?;
    ctx.export_bpf(&memfd).map_err(|source| Error::Libseccomp {
        field: "linux.seccomp".into(),
        context: "generating the BPF program".into(),
        source,
    })?;

    let mut file = File::from(memfd);
    let len = file.seek(SeekFrom::End(0)).map_err(io("seek"))?;
    file.seek(SeekFrom::Start(0)).map_err(io("seek"))?;
    let mut bytes = Vec::with_capacity(len as usize);
    file.read_to_end(&mut bytes).map_err(io("read"))?;

    if bytes.len() % INSN_SIZE != 0 {
        return Err(io("read")(std::io::Error::other(format!(
            "{} bytes is not a whole number of BPF instructions",
            bytes.len()
        ))));
    }
    let instructions = bytes.len() / INSN_SIZE;
    if instructions > BPF_MAXINSNS {
        return Err(Error::TooLarge {
            instructions,
            max: BPF_MAXINSNS,
        });
    }
    // struct sock_filter { u16 code; u8 jt; u8 jf; u32 k; } in native byte order.
    Ok(bytes
        .chunks_exact(INSN_SIZE)
        .map(|b| libc::sock_filter {
            code: u16::from_ne_bytes([b[0], b[1]]),
            jt: b[2],
            jf: b[3],
            k: u32::from_ne_bytes([b[4], b[5], b[6], b[7]]),
        })
        .collect())
}
