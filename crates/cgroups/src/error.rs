//! Error type: every variant names the file (or value) involved and the reason.

use std::path::{Path, PathBuf};

/// Errors of cgroup management. Display strings read like
/// `write /sys/fs/cgroup/memory/berth/x/memory.limit_in_bytes: Invalid argument`.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A file system operation (`op` is e.g. "read", "write", "mkdir", "rmdir") failed.
    #[error("{op} {}: {}", .path.display(), describe(.source))]
    Io {
        op: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A cgroup file held something we could not parse.
    #[error("parse {}: {reason} (content {value:?})", .path.display())]
    Parse {
        path: PathBuf,
        value: String,
        reason: String,
    },
    /// cgroupsPath (or a container id) is not usable.
    #[error("invalid cgroup path {}: {reason}", .path.display())]
    InvalidPath { path: PathBuf, reason: String },
    /// A resource was requested for a controller that is not mounted / not available.
    #[error(
        "{resource} requested but the {controller} cgroup controller is not available on this host"
    )]
    MissingController {
        controller: String,
        resource: String,
    },
    /// A resource value is out of range or not supported.
    #[error("invalid {what} {value:?}: {reason}")]
    InvalidValue {
        what: &'static str,
        value: String,
        reason: String,
    },
    /// The freezer did not reach the requested state.
    #[error("freeze {}: {reason}", .path.display())]
    Freezer { path: PathBuf, reason: String },
    /// Loading or attaching the cgroup v2 device eBPF program failed.
    #[error("bpf {op} for {}: {}{}", .path.display(), describe(.source), fmt_log(.log))]
    Bpf {
        op: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
        log: String,
    },
}

/// Result alias of this crate.
pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    pub(crate) fn io(op: &'static str, path: impl AsRef<Path>, source: std::io::Error) -> Error {
        Error::Io {
            op,
            path: path.as_ref().to_path_buf(),
            source,
        }
    }

    pub(crate) fn parse(path: &Path, value: &str, reason: impl Into<String>) -> Error {
        Error::Parse {
            path: path.to_path_buf(),
            value: value.to_string(),
            reason: reason.into(),
        }
    }

    pub(crate) fn missing(controller: &str, resource: &str) -> Error {
        Error::MissingController {
            controller: controller.to_string(),
            resource: resource.to_string(),
        }
    }

    pub(crate) fn invalid(
        what: &'static str,
        value: impl ToString,
        reason: impl Into<String>,
    ) -> Error {
        Error::InvalidValue {
            what,
            value: value.to_string(),
            reason: reason.into(),
        }
    }

    /// The errno behind this error, if any (e.g. `libc::EBUSY`).
    pub fn raw_os_error(&self) -> Option<i32> {
        match self {
            Error::Io { source, .. } | Error::Bpf { source, .. } => source.raw_os_error(),
            _ => None,
        }
    }

    /// True when the error is "No such file or directory".
    pub fn is_not_found(&self) -> bool {
        self.raw_os_error() == Some(libc::ENOENT)
    }
}

/// "Invalid argument" rather than "Invalid argument (os error 22)".
fn describe(e: &std::io::Error) -> String {
    match e.raw_os_error() {
        Some(code) => {
            let desc = nix::errno::Errno::from_raw(code).desc();
            if desc.is_empty() || desc.starts_with("Unknown") {
                format!("errno {code}")
            } else {
                desc.to_string()
            }
        }
        None => e.to_string(),
    }
}

fn fmt_log(log: &str) -> String {
    if log.is_empty() {
        String::new()
    } else {
        format!(" (verifier log: {log})")
    }
}
