//! Device access control on cgroup v2: a BPF_PROG_TYPE_CGROUP_DEVICE program built by hand
//! from the OCI rules, loaded with bpf(BPF_PROG_LOAD) and attached with BPF_PROG_ATTACH
//! (BPF_CGROUP_DEVICE, BPF_F_ALLOW_MULTI).
//!
//! Semantics (runc's devicefilter): rules are evaluated in order, the last matching rule wins,
//! no match means deny. The program checks the rules from last to first and returns at the
//! first match; an unconditional rule ends the program.
//!
//! Replacement: the programs attached directly to the cgroup before are listed with
//! BPF_PROG_QUERY, the new program is attached, then the old ones are detached. There is
//! never a moment without a filter (while both are attached, both must allow).

use std::ffi::c_void;
use std::fs::File;
use std::io;
use std::mem::size_of;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use crate::devices::{Kind, Rule, ACC_ALL};
use crate::error::{Error, Result};

// bpf(2) commands, program/attach types and flags (include/uapi/linux/bpf.h).
const BPF_PROG_LOAD: u32 = 5;
const BPF_PROG_ATTACH: u32 = 8;
const BPF_PROG_DETACH: u32 = 9;
const BPF_PROG_GET_FD_BY_ID: u32 = 13;
const BPF_PROG_QUERY: u32 = 16;
const BPF_PROG_TYPE_CGROUP_DEVICE: u32 = 15;
const BPF_CGROUP_DEVICE: u32 = 6;
const BPF_F_ALLOW_MULTI: u32 = 2;

// Device types as the program sees them (BPF_DEVCG_DEV_*).
const DEV_BLOCK: i32 = 1;
const DEV_CHAR: i32 = 2;

// Opcodes.
const LDX_MEM_W: u8 = 0x61; // BPF_LDX | BPF_MEM | BPF_W
const ALU32_AND_K: u8 = 0x54; // BPF_ALU | BPF_AND | BPF_K
const ALU32_RSH_K: u8 = 0x74; // BPF_ALU | BPF_RSH | BPF_K
const ALU32_MOV_K: u8 = 0xb4; // BPF_ALU | BPF_MOV | BPF_K
const ALU32_MOV_X: u8 = 0xbc; // BPF_ALU | BPF_MOV | BPF_X
const JMP_JNE_K: u8 = 0x55; // BPF_JMP | BPF_JNE | BPF_K
const JMP_JNE_X: u8 = 0x5d; // BPF_JMP | BPF_JNE | BPF_X
const JMP_EXIT: u8 = 0x95; // BPF_JMP | BPF_EXIT

const LICENSE: &[u8] = b"Apache-2.0\0";
const PROG_NAME: &[u8] = b"berth_devices";

/// struct bpf_insn.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Insn {
    code: u8,
    /// dst_reg in the low nibble, src_reg in the high nibble (little endian bitfields).
    regs: u8,
    off: i16,
    imm: i32,
}

fn insn(code: u8, dst: u8, src: u8, off: i16, imm: i32) -> Insn {
    #[cfg(target_endian = "little")]
    let regs = (src << 4) | (dst & 0x0f);
    #[cfg(target_endian = "big")]
    let regs = (dst << 4) | (src & 0x0f);
    Insn {
        code,
        regs,
        off,
        imm,
    }
}

/// Placeholder offset for "jump to the next rule", patched when the block is complete.
const NEXT: i16 = i16::MIN;

/// Build the program. Registers: R2 = device type, R3 = requested access, R4 = major,
/// R5 = minor (from struct bpf_cgroup_dev_ctx at R1).
pub(crate) fn build_program(rules: &[Rule]) -> Vec<Insn> {
    let mut p = vec![
        insn(LDX_MEM_W, 2, 1, 0, 0),
        insn(ALU32_AND_K, 2, 0, 0, 0xffff),
        insn(LDX_MEM_W, 3, 1, 0, 0),
        insn(ALU32_RSH_K, 3, 0, 0, 16),
        insn(LDX_MEM_W, 4, 1, 4, 0),
        insn(LDX_MEM_W, 5, 1, 8, 0),
    ];
    for rule in rules.iter().rev() {
        let mut block = Vec::with_capacity(9);
        match rule.kind {
            Kind::All => {}
            Kind::Char => block.push(insn(JMP_JNE_K, 2, 0, NEXT, DEV_CHAR)),
            Kind::Block => block.push(insn(JMP_JNE_K, 2, 0, NEXT, DEV_BLOCK)),
        }
        if rule.access != ACC_ALL {
            // if ((R3 & access) != R3) goto next   (R1 is free after the loads)
            block.push(insn(ALU32_MOV_X, 1, 3, 0, 0));
            block.push(insn(ALU32_AND_K, 1, 0, 0, i32::from(rule.access)));
            block.push(insn(JMP_JNE_X, 1, 3, NEXT, 0));
        }
        if let Some(major) = rule.major {
            block.push(insn(JMP_JNE_K, 4, 0, NEXT, major as i32));
        }
        if let Some(minor) = rule.minor {
            block.push(insn(JMP_JNE_K, 5, 0, NEXT, minor as i32));
        }
        let unconditional = block.is_empty();
        block.push(insn(ALU32_MOV_K, 0, 0, 0, i32::from(rule.allow)));
        block.push(insn(JMP_EXIT, 0, 0, 0, 0));
        let len = block.len();
        for (i, ins) in block.iter_mut().enumerate() {
            if ins.off == NEXT {
                ins.off = (len - i - 1) as i16;
            }
        }
        p.extend(block);
        if unconditional {
            return p; // earlier rules can never be reached
        }
    }
    p.push(insn(ALU32_MOV_K, 0, 0, 0, 0));
    p.push(insn(JMP_EXIT, 0, 0, 0, 0));
    p
}

/// Load the program for `rules` and make it the only device program of the cgroup `dir`.
pub(crate) fn apply(dir: &Path, rules: &[Rule]) -> Result<()> {
    let insns = build_program(rules);
    let cgroup = File::options()
        .read(true)
        .custom_flags(libc::O_DIRECTORY)
        .open(dir)
        .map_err(|e| Error::io("open", dir, e))?;
    let cg_fd = cgroup.as_raw_fd();
    let old = query(cg_fd).map_err(|e| bpf_err("BPF_PROG_QUERY", dir, e))?;
    let prog = load(&insns, dir)?;
    attach(cg_fd, prog.as_raw_fd()).map_err(|e| bpf_err("BPF_PROG_ATTACH", dir, e))?;
    for id in old {
        let old_fd = match prog_fd_by_id(id) {
            Ok(fd) => fd,
            Err(e) if e.raw_os_error() == Some(libc::ENOENT) => continue,
            Err(e) => return Err(bpf_err("BPF_PROG_GET_FD_BY_ID", dir, e)),
        };
        match detach(cg_fd, old_fd.as_raw_fd()) {
            Ok(()) => {}
            Err(e) if e.raw_os_error() == Some(libc::ENOENT) => {}
            Err(e) => return Err(bpf_err("BPF_PROG_DETACH", dir, e)),
        }
    }
    Ok(())
}

/// Ids of the device programs attached to the cgroup itself (not inherited ones).
pub fn attached_programs(dir: &Path) -> Result<Vec<u32>> {
    let cgroup = File::options()
        .read(true)
        .custom_flags(libc::O_DIRECTORY)
        .open(dir)
        .map_err(|e| Error::io("open", dir, e))?;
    query(cgroup.as_raw_fd()).map_err(|e| bpf_err("BPF_PROG_QUERY", dir, e))
}

fn bpf_err(op: &'static str, dir: &Path, source: io::Error) -> Error {
    Error::Bpf {
        op,
        path: dir.to_path_buf(),
        source,
        log: String::new(),
    }
}

/// The `union bpf_attr` layouts below; only these may be passed to bpf(2).
trait BpfAttr {}
impl BpfAttr for ProgLoadAttr {}
impl BpfAttr for AttachAttr {}
impl BpfAttr for QueryAttr {}
impl BpfAttr for GetFdByIdAttr {}

/// bpf(2).
fn bpf<T: BpfAttr>(cmd: u32, attr: &mut T) -> io::Result<i64> {
    // SAFETY: `attr` is an exclusively borrowed, fully initialized #[repr(C)] prefix of
    // union bpf_attr (all padding explicit and zeroed) valid for size_of::<T>() bytes for the
    // duration of the call; the kernel reads at most that many bytes and, for
    // BPF_PROG_QUERY, writes only fields inside it. Pointers stored in it (instructions,
    // license, log and id buffers) are valid for the lengths given in the same attr.
    let r = unsafe {
        libc::syscall(
            libc::SYS_bpf,
            cmd as libc::c_long,
            attr as *mut T as *mut c_void,
            size_of::<T>() as libc::c_uint,
        )
    };
    if r < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(r)
    }
}

/// A file descriptor returned by bpf(2).
fn owned_fd(r: i64) -> OwnedFd {
    // SAFETY: bpf(2) returned a new file descriptor that nothing else owns or closes.
    unsafe { OwnedFd::from_raw_fd(r as RawFd) }
}

#[repr(C)]
#[derive(Default)]
struct ProgLoadAttr {
    prog_type: u32,
    insn_cnt: u32,
    insns: u64,
    license: u64,
    log_level: u32,
    log_size: u32,
    log_buf: u64,
    kern_version: u32,
    prog_flags: u32,
    prog_name: [u8; 16],
    prog_ifindex: u32,
    expected_attach_type: u32,
}

fn load(insns: &[Insn], dir: &Path) -> Result<OwnedFd> {
    let mut name = [0u8; 16];
    name[..PROG_NAME.len()].copy_from_slice(PROG_NAME);
    let mk = |log: Option<&mut Vec<u8>>| {
        let mut a = ProgLoadAttr {
            prog_type: BPF_PROG_TYPE_CGROUP_DEVICE,
            insn_cnt: insns.len() as u32,
            insns: insns.as_ptr() as u64,
            license: LICENSE.as_ptr() as u64,
            prog_name: name,
            expected_attach_type: BPF_CGROUP_DEVICE,
            ..Default::default()
        };
        if let Some(buf) = log {
            a.log_level = 1;
            a.log_size = buf.len() as u32;
            a.log_buf = buf.as_mut_ptr() as u64;
        }
        a
    };
    let mut attr = mk(None);
    let mut res = bpf(BPF_PROG_LOAD, &mut attr);
    if matches!(&res, Err(e) if e.raw_os_error() == Some(libc::EPERM)) {
        // Kernels before 5.11 charge BPF memory to RLIMIT_MEMLOCK.
        let inf = nix::sys::resource::RLIM_INFINITY;
        if nix::sys::resource::setrlimit(nix::sys::resource::Resource::RLIMIT_MEMLOCK, inf, inf)
            .is_ok()
        {
            res = bpf(BPF_PROG_LOAD, &mut attr);
        }
    }
    match res {
        Ok(fd) => Ok(owned_fd(fd)),
        Err(source) => {
            // Retry once with the verifier log, for the error message.
            let mut buf = vec![0u8; 64 * 1024];
            let mut attr = mk(Some(&mut buf));
            let log = match bpf(BPF_PROG_LOAD, &mut attr) {
                Ok(fd) => return Ok(owned_fd(fd)),
                Err(_) => {
                    let end = buf.iter().position(|b| *b == 0).unwrap_or(buf.len());
                    String::from_utf8_lossy(&buf[..end]).trim().to_string()
                }
            };
            Err(Error::Bpf {
                op: "BPF_PROG_LOAD",
                path: dir.to_path_buf(),
                source,
                log,
            })
        }
    }
}

#[repr(C)]
#[derive(Default)]
struct AttachAttr {
    target_fd: u32,
    attach_bpf_fd: u32,
    attach_type: u32,
    attach_flags: u32,
    replace_bpf_fd: u32,
}

fn attach(cg_fd: RawFd, prog_fd: RawFd) -> io::Result<()> {
    let mut a = AttachAttr {
        target_fd: cg_fd as u32,
        attach_bpf_fd: prog_fd as u32,
        attach_type: BPF_CGROUP_DEVICE,
        attach_flags: BPF_F_ALLOW_MULTI,
        ..Default::default()
    };
    bpf(BPF_PROG_ATTACH, &mut a).map(drop)
}

fn detach(cg_fd: RawFd, prog_fd: RawFd) -> io::Result<()> {
    let mut a = AttachAttr {
        target_fd: cg_fd as u32,
        attach_bpf_fd: prog_fd as u32,
        attach_type: BPF_CGROUP_DEVICE,
        ..Default::default()
    };
    bpf(BPF_PROG_DETACH, &mut a).map(drop)
}

#[repr(C)]
#[derive(Default)]
struct QueryAttr {
    target_fd: u32,
    attach_type: u32,
    query_flags: u32,
    attach_flags: u32,
    prog_ids: u64,
    prog_cnt: u32,
    _pad: u32,
}

fn query(cg_fd: RawFd) -> io::Result<Vec<u32>> {
    let mut ids = vec![0u32; 64];
    let mut q = QueryAttr {
        target_fd: cg_fd as u32,
        attach_type: BPF_CGROUP_DEVICE,
        prog_ids: ids.as_mut_ptr() as u64,
        prog_cnt: ids.len() as u32,
        ..Default::default()
    };
    bpf(BPF_PROG_QUERY, &mut q)?;
    ids.truncate(q.prog_cnt as usize);
    Ok(ids)
}

#[repr(C)]
#[derive(Default)]
struct GetFdByIdAttr {
    prog_id: u32,
    next_id: u32,
    open_flags: u32,
}

fn prog_fd_by_id(id: u32) -> io::Result<OwnedFd> {
    let mut a = GetFdByIdAttr {
        prog_id: id,
        ..Default::default()
    };
    bpf(BPF_PROG_GET_FD_BY_ID, &mut a).map(owned_fd)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::devices::{ACC_READ, ACC_WRITE};

    fn rule(allow: bool, kind: Kind, major: Option<u32>, minor: Option<u32>, access: u8) -> Rule {
        Rule {
            allow,
            kind,
            major,
            minor,
            access,
        }
    }

    /// Tiny interpreter for the instructions we emit, to check semantics without the kernel.
    fn run(p: &[Insn], typ: u32, access: u32, major: u32, minor: u32) -> u64 {
        let ctx = [(access << 16) | typ, major, minor];
        let mut r = [0u64; 11];
        let mut pc = 0usize;
        loop {
            let i = p[pc];
            let (dst, src) = ((i.regs & 0x0f) as usize, (i.regs >> 4) as usize);
            pc += 1;
            match i.code {
                LDX_MEM_W => r[dst] = u64::from(ctx[i.off as usize / 4]),
                ALU32_AND_K => r[dst] = (r[dst] as u32 & i.imm as u32) as u64,
                ALU32_RSH_K => r[dst] = ((r[dst] as u32) >> i.imm) as u64,
                ALU32_MOV_K => r[dst] = i.imm as u32 as u64,
                ALU32_MOV_X => r[dst] = r[src] as u32 as u64,
                JMP_JNE_K => {
                    if r[dst] != i.imm as i64 as u64 {
                        pc += i.off as usize;
                    }
                }
                JMP_JNE_X => {
                    if r[dst] != r[src] {
                        pc += i.off as usize;
                    }
                }
                JMP_EXIT => return r[0],
                c => panic!("unexpected opcode {c:#x}"),
            }
        }
    }

    const R: u32 = ACC_READ as u32;
    const W: u32 = ACC_WRITE as u32;
    const CH: u32 = DEV_CHAR as u32;
    const BL: u32 = DEV_BLOCK as u32;

    #[test]
    fn default_is_deny() {
        let p = build_program(&[]);
        assert_eq!(run(&p, CH, R, 1, 3), 0);
    }

    #[test]
    fn last_match_wins() {
        let rules = [
            rule(false, Kind::All, None, None, ACC_ALL),
            rule(true, Kind::Char, Some(1), None, ACC_ALL),
            rule(false, Kind::Char, Some(1), Some(3), ACC_ALL),
        ];
        let p = build_program(&rules);
        assert_eq!(run(&p, CH, R, 1, 5), 1);
        assert_eq!(run(&p, CH, R, 1, 3), 0);
        assert_eq!(run(&p, BL, R, 1, 5), 0);
    }

    #[test]
    fn access_subset_is_required() {
        let p = build_program(&[rule(true, Kind::Char, Some(1), Some(5), ACC_READ)]);
        assert_eq!(run(&p, CH, R, 1, 5), 1);
        assert_eq!(run(&p, CH, R | W, 1, 5), 0);
        assert_eq!(run(&p, CH, W, 1, 5), 0);
    }

    #[test]
    fn wildcard_allow_ends_program() {
        let rules = [
            rule(false, Kind::Char, Some(1), Some(3), ACC_ALL),
            rule(true, Kind::All, None, None, ACC_ALL),
        ];
        let p = build_program(&rules);
        assert_eq!(run(&p, CH, R, 1, 3), 1);
        assert_eq!(p.len(), 8, "earlier rules are unreachable and not emitted");
    }
}
