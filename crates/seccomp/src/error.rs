//! The crate's error type. Every message names the config field or the step that failed.

use std::path::PathBuf;

use nix::errno::Errno;

/// Result alias used throughout the crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong between a `linux.seccomp` section and a loaded filter.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The config is invalid; `field` is its path, e.g. `linux.seccomp.syscalls[3].action`.
    #[error("{field}: {reason}")]
    Invalid { field: String, reason: String },

    /// libseccomp refused part of the config while the filter was being built.
    #[error("{field}: {context}: {source}")]
    Libseccomp {
        field: String,
        context: String,
        source: libseccomp::error::SeccompError,
    },

    /// Turning the libseccomp context into a BPF program failed.
    #[error("exporting the seccomp BPF program: {step}: {source}")]
    Export {
        step: &'static str,
        source: std::io::Error,
    },

    /// The compiled program exceeds the kernel's BPF_MAXINSNS.
    #[error(
        "linux.seccomp: the compiled filter has {instructions} BPF instructions, \
         the kernel accepts at most {max}"
    )]
    TooLarge { instructions: usize, max: usize },

    /// seccomp(2) rejected the filter.
    #[error(
        "loading the seccomp filter (seccomp(2) flags {flags:#x}): {source}{hint}",
        hint = load_hint(*source)
    )]
    Load { flags: libc::c_ulong, source: Errno },

    /// Handing the notify fd to the seccomp agent failed.
    #[error("sending the seccomp notify fd to {}: {step}: {source}", path.display())]
    Notify {
        path: PathBuf,
        step: &'static str,
        source: Errno,
    },

    /// The container process state could not be serialized.
    #[error("serializing the container process state for the seccomp agent: {0}")]
    State(#[from] serde_json::Error),
}

impl Error {
    pub(crate) fn invalid(field: impl Into<String>, reason: impl Into<String>) -> Self {
        Self::Invalid {
            field: field.into(),
            reason: reason.into(),
        }
    }
}

fn load_hint(errno: Errno) -> &'static str {
    match errno {
        Errno::EACCES => {
            " (set no_new_privs first, or load with CAP_SYS_ADMIN in the user namespace)"
        }
        Errno::EINVAL => " (a requested filter flag may be unsupported by this kernel)",
        _ => "",
    }
}
