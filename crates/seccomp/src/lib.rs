//! # berth-seccomp
//!
//! Turns the OCI runtime spec `linux.seccomp` section (runtime spec 1.2,
//! config-linux.md#seccomp) into a kernel seccomp filter.
//!
//! 1. [`validate`] checks a config before anything is created; errors name the field,
//!    e.g. `linux.seccomp.syscalls[3].args[0].index: ...`.
//! 2. [`compile`] builds the filter with libseccomp and keeps only the generated BPF
//!    program, so it can run early, in the runtime, and the result is `Send`.
//! 3. [`Filter::load`] installs it in the calling thread with one seccomp(2) call. The
//!    caller sets no_new_privs (or holds CAP_SYS_ADMIN) first; this crate never sets it.
//!    When a rule uses `SCMP_ACT_NOTIFY`, it returns the notify fd.
//!    [`compile_cached`] keeps compiled programs on disk by profile hash.
//! 4. [`send_notify_fd`] hands that fd, with the container process state, to the agent
//!    listening on `linux.seccomp.listenerPath`.
//!
//! Behaviour matching runc: syscall names unknown to libseccomp are skipped; rules whose
//! action (including errnoRet) equals the default action are skipped; args of one rule
//! are ANDed unless an index repeats, in which case each arg becomes its own rule (ORed);
//! `SECCOMP_FILTER_FLAG_TSYNC` is ignored. When two unconditional rules name the same
//! syscall, libseccomp keeps the first one. `errnoRet` defaults to EPERM for
//! `SCMP_ACT_ERRNO` and `SCMP_ACT_TRACE`.

mod cache;
mod compile;
mod error;
mod notify;
mod validate;

pub use cache::compile_cached;
pub use compile::{compile, Filter};
pub use error::{Error, Result};
pub use notify::{
    connect_listener, send_notify_fd, send_notify_fd_on, OCI_VERSION, SECCOMP_FD_NAME,
};
pub use validate::validate;
