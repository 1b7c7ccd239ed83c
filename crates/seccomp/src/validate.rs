//! Static checks of a `linux.seccomp` section, run before anything is created.
//!
//! oci-spec already rejects unknown actions, architectures, flags and operators while
//! deserializing (they are enums there), so this covers what the types still allow.

use oci_spec::runtime::{LinuxSeccomp, LinuxSeccompAction, LinuxSyscall};

use crate::error::{Error, Result};

/// Syscalls take at most six arguments, indexed 0 to 5.
pub(crate) const MAX_SYSCALL_ARGS: usize = 6;

/// errnoRet travels in the 16-bit SECCOMP_RET_DATA part of the filter's return value.
const MAX_RET_DATA: u32 = 0xffff;

/// `sun_path` holds 108 bytes including the terminating NUL.
const MAX_SOCKET_PATH: usize = 107;

/// Validate a `linux.seccomp` section without building or loading anything.
///
/// Errors name the offending field, e.g.
/// `linux.seccomp.syscalls[3].args[0].index: 6 is out of range ...`.
pub fn validate(seccomp: &LinuxSeccomp) -> Result<()> {
    let default_action = seccomp.default_action();
    if default_action == LinuxSeccompAction::ScmpActNotify {
        return Err(Error::invalid(
            "linux.seccomp.defaultAction",
            "SCMP_ACT_NOTIFY cannot be the default action: every syscall the runtime makes \
             after loading the filter would block before the agent has the notify fd",
        ));
    }
    if let Some(errno) = seccomp.default_errno_ret() {
        check_errno_ret(default_action, errno, || {
            "linux.seccomp.defaultErrnoRet".into()
        })?;
    }
    if let Some(path) = seccomp.listener_path() {
        let len = path.as_os_str().len();
        if len == 0 {
            return Err(Error::invalid(
                "linux.seccomp.listenerPath",
                "must not be empty",
            ));
        }
        if len > MAX_SOCKET_PATH {
            return Err(Error::invalid(
                "linux.seccomp.listenerPath",
                format!(
                    "{len} bytes is too long for a unix socket path (at most {MAX_SOCKET_PATH})"
                ),
            ));
        }
    }
    let has_listener = seccomp.listener_path().is_some();
    for (i, syscall) in seccomp.syscalls().iter().flatten().enumerate() {
        validate_syscall(i, syscall, has_listener)?;
    }
    Ok(())
}

fn validate_syscall(i: usize, syscall: &LinuxSyscall, has_listener: bool) -> Result<()> {
    let field = |name: &str| format!("linux.seccomp.syscalls[{i}].{name}");
    if syscall.names().is_empty() {
        return Err(Error::invalid(
            field("names"),
            "must list at least one syscall",
        ));
    }
    for (j, name) in syscall.names().iter().enumerate() {
        if name.is_empty() || name.contains('\0') {
            return Err(Error::invalid(
                field(&format!("names[{j}]")),
                format!("{name:?} is not a valid syscall name"),
            ));
        }
    }
    let action = syscall.action();
    if action == LinuxSeccompAction::ScmpActNotify && !has_listener {
        return Err(Error::invalid(
            field("action"),
            "SCMP_ACT_NOTIFY requires linux.seccomp.listenerPath",
        ));
    }
    if let Some(errno) = syscall.errno_ret() {
        check_errno_ret(action, errno, || field("errnoRet"))?;
    }
    for (j, arg) in syscall.args().iter().flatten().enumerate() {
        if arg.index() >= MAX_SYSCALL_ARGS {
            return Err(Error::invalid(
                field(&format!("args[{j}].index")),
                format!(
                    "{} is out of range (syscall arguments are indexed 0 to {})",
                    arg.index(),
                    MAX_SYSCALL_ARGS - 1
                ),
            ));
        }
    }
    Ok(())
}

/// An errno return value is only meaningful for SCMP_ACT_ERRNO and SCMP_ACT_TRACE, and the
/// spec requires an error for other actions.
fn check_errno_ret(
    action: LinuxSeccompAction,
    errno: u32,
    field: impl FnOnce() -> String,
) -> Result<()> {
    match action {
        LinuxSeccompAction::ScmpActErrno | LinuxSeccompAction::ScmpActTrace => {}
        other => {
            return Err(Error::invalid(
                field(),
                format!(
                    "not supported with action {other}, only with SCMP_ACT_ERRNO or SCMP_ACT_TRACE"
                ),
            ))
        }
    }
    if errno > MAX_RET_DATA {
        return Err(Error::invalid(
            field(),
            format!("{errno} does not fit the 16-bit seccomp return data (at most {MAX_RET_DATA})"),
        ));
    }
    Ok(())
}
