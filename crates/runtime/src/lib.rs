//! # berth-runtime (library)
//!
//! Berth's OCI runtime: everything between a bundle (config.json + rootfs) and a running,
//! isolated process, used in-process by the engine and through the `berth-runtime` CLI by
//! any OCI engine.
//!
//! - [`spec`]: load and validate config.json (every error names its field).
//! - [`container`]: the lifecycle over the state directory (create, start, kill, delete,
//!   exec, pause/resume, update, ps, list, stats).
//! - [`process`]: how container processes are born (stage 1 -> init), the messages between
//!   them, and the last steps before execve (user, capabilities, seccomp, fds, cwd).
//! - [`rootfs`]: mounts resolved inside the root, /dev, pivot_root, masked/read-only paths.
//! - [`state`]: the persisted state and the live status.
//! - [`hooks`], [`self_protect`] (CVE-2019-5736), [`default_spec`] and [`features`].
//!
//! Cgroups live in `berth-cgroups`, seccomp compilation in `berth-seccomp`.

pub mod container;
pub mod default_spec;
pub mod error;
pub mod features;
pub mod hooks;
pub mod process;
pub mod rootfs;
pub mod self_protect;
pub mod spec;
pub mod state;

pub use container::{CreateOpts, Created, ExecOpts, Runtime};
pub use error::{Error, Result};
