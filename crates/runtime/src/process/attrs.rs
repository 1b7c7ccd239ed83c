//! Per-process attributes from `process`: rlimits, oom_score_adj, scheduler, I/O priority,
//! and `linux.personality`.

use crate::error::{Error, Result};
use oci_spec::runtime::{LinuxPersonalityDomain, PosixRlimitType, Process};

fn resource(t: PosixRlimitType) -> libc::__rlimit_resource_t {
    use PosixRlimitType::*;
    match t {
        RlimitCpu => libc::RLIMIT_CPU,
        RlimitFsize => libc::RLIMIT_FSIZE,
        RlimitData => libc::RLIMIT_DATA,
        RlimitStack => libc::RLIMIT_STACK,
        RlimitCore => libc::RLIMIT_CORE,
        RlimitRss => libc::RLIMIT_RSS,
        RlimitNproc => libc::RLIMIT_NPROC,
        RlimitNofile => libc::RLIMIT_NOFILE,
        RlimitMemlock => libc::RLIMIT_MEMLOCK,
        RlimitAs => libc::RLIMIT_AS,
        RlimitLocks => libc::RLIMIT_LOCKS,
        RlimitSigpending => libc::RLIMIT_SIGPENDING,
        RlimitMsgqueue => libc::RLIMIT_MSGQUEUE,
        RlimitNice => libc::RLIMIT_NICE,
        RlimitRtprio => libc::RLIMIT_RTPRIO,
        RlimitRttime => libc::RLIMIT_RTTIME,
    }
}

pub fn apply_rlimits(p: &Process) -> Result<()> {
    for r in p.rlimits().as_deref().unwrap_or(&[]) {
        let lim = libc::rlimit {
            rlim_cur: r.soft(),
            rlim_max: r.hard(),
        };
        // SAFETY: setrlimit reads a valid rlimit struct.
        if unsafe { libc::setrlimit(resource(r.typ()), &lim) } != 0 {
            let e = std::io::Error::last_os_error();
            return Err(Error::Child(format!(
                "setrlimit {:?} soft={} hard={}: {e}",
                r.typ(),
                r.soft(),
                r.hard()
            )));
        }
    }
    Ok(())
}

pub fn apply_oom_score_adj(p: &Process) -> Result<()> {
    if let Some(adj) = p.oom_score_adj() {
        std::fs::write("/proc/self/oom_score_adj", adj.to_string())
            .map_err(|e| Error::io("write", "/proc/self/oom_score_adj", e))?;
    }
    Ok(())
}

pub fn apply_personality(linux: &oci_spec::runtime::Linux) -> Result<()> {
    if let Some(p) = linux.personality() {
        let persona = match p.domain() {
            LinuxPersonalityDomain::PerLinux => 0x0000,
            LinuxPersonalityDomain::PerLinux32 => 0x0008,
        };
        // SAFETY: personality takes an integer persona and touches no memory.
        if unsafe { libc::personality(persona) } < 0 {
            return Err(Error::Child(format!(
                "personality {:?}: {}",
                p.domain(),
                std::io::Error::last_os_error()
            )));
        }
    }
    Ok(())
}

pub fn apply_scheduler(p: &Process) -> Result<()> {
    let Some(s) = p.scheduler() else {
        return Ok(());
    };
    use oci_spec::runtime::LinuxSchedulerPolicy::*;
    let policy = match s.policy() {
        SchedOther => 0,
        SchedFifo => 1,
        SchedRr => 2,
        SchedBatch => 3,
        SchedIso => 4,
        SchedIdle => 5,
        SchedDeadline => 6,
    };
    #[repr(C)]
    struct SchedAttr {
        size: u32,
        policy: u32,
        flags: u64,
        nice: i32,
        priority: u32,
        runtime: u64,
        deadline: u64,
        period: u64,
    }
    let mut flags = 0u64;
    for f in s.flags().as_deref().unwrap_or(&[]) {
        use oci_spec::runtime::LinuxSchedulerFlag::*;
        flags |= match f {
            SchedResetOnFork => 0x01,
            SchedFlagReclaim => 0x02,
            SchedFlagDLOverrun => 0x04,
            SchedFlagKeepPolicy => 0x08,
            SchedFlagKeepParams => 0x10,
            SchedFlagUtilClampMin => 0x20,
            SchedFlagUtilClampMax => 0x40,
        };
    }
    let attr = SchedAttr {
        size: std::mem::size_of::<SchedAttr>() as u32,
        policy,
        flags,
        nice: s.nice().unwrap_or(0),
        priority: s.priority().unwrap_or(0) as u32,
        runtime: s.runtime().unwrap_or(0),
        deadline: s.deadline().unwrap_or(0),
        period: s.period().unwrap_or(0),
    };
    // SAFETY: sched_setattr reads `attr`, whose size field matches the struct we pass.
    if unsafe { libc::syscall(libc::SYS_sched_setattr, 0, &attr as *const SchedAttr, 0) } != 0 {
        return Err(Error::Child(format!(
            "sched_setattr {:?}: {}",
            s.policy(),
            std::io::Error::last_os_error()
        )));
    }
    Ok(())
}

pub fn apply_io_priority(p: &Process) -> Result<()> {
    let Some(io) = p.io_priority() else {
        return Ok(());
    };
    use oci_spec::runtime::IOPriorityClass::*;
    let class = match io.class() {
        IoprioClassRt => 1,
        IoprioClassBe => 2,
        IoprioClassIdle => 3,
    };
    let prio = (class << 13) | (io.priority() & 0x1fff);
    // SAFETY: ioprio_set takes integers only (IOPRIO_WHO_PROCESS = 1, pid 0 = self).
    if unsafe { libc::syscall(libc::SYS_ioprio_set, 1, 0, prio) } != 0 {
        return Err(Error::Child(format!(
            "ioprio_set: {}",
            std::io::Error::last_os_error()
        )));
    }
    Ok(())
}
