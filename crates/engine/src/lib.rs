//! # berth-engine
//!
//! Containers the way Docker users know them, made from `berth-image` images and run by
//! `berth-runtime-lib` in-process (or any OCI runtime's CLI with `--runtime`).
//!
//! - [`options`]: what a container is asked to be (`docker run`'s flags as typed values,
//!   close to the Engine API's `Config` + `HostConfig`), and the parsers of their string forms
//!   (`-m 512m`, `-v src:dst:ro`, `--restart on-failure:3`, ...), shared by the CLI and the
//!   future API server.
//! - [`image_config`]: the parts of an image's config a container uses (Entrypoint, Cmd, Env,
//!   WorkingDir, User, Volumes, StopSignal, Labels, ExposedPorts).
//! - [`spec`]: options + image config -> the OCI runtime `config.json`, with Docker's
//!   defaults (capabilities, seccomp profile, masked and read-only paths, devices).
//! - [`logs`]: `docker logs` over the json-file log the monitor writes (tail, since/until,
//!   timestamps, follow across rotations).
//! - [`monitor_client`]: the client of a container monitor's `monitor.sock` (attach, wait)
//!   and its `exit.json`.
//! - [`store`]: the `containers` table in `R/berth.db` (WAL, busy timeout, schema version in
//!   `berth_schema`); [`names`]: IDs and generated names; [`resolve`]: ID / name / unique
//!   prefix lookup; [`lock`]: the per-container flock.
//! - [`container`]: the [`container::Engine`] handle and one file per operation (create,
//!   start under the monitor, stop/kill/restart/pause, rm, wait, inspect, exit records), and
//!   the commands that look in or take out: `top` (cgroup pids), `stats` (cgroup samples),
//!   `diff` (the upper dir), `export`, `cp` (by fd, `openat2(RESOLVE_IN_ROOT)`; `fs_tar`
//!   writes the tars) and `commit` (the upper dir as a new gzip layer and image).
//! - [`events`]: the event log (`R/events.jsonl`) every command and monitor appends to,
//!   and its reader for `berth events` (filters, since/until, follow).
//! - [`reconcile`]: repairs after crashes: of one row whose monitor is gone when a command
//!   reads it, of everything when [`ops`] shows a killed command or a reboot; [`crash_point`]:
//!   named points where the crash tests make berth kill itself.
//! - [`volume`]: named and anonymous volumes (`R/volumes/<name>/_data`, the `volumes` and
//!   `volume_users` tables), their copy-up from the image, and the [`spec::Volumes`] source.
//! - [`network`]: bridge and user-defined networks (tables, commands, the container's
//!   netns/veth/addresses/ports/names at start and their removal), over `berth-network`.
//! - [`service`]: the typed operations the CLI formats and the API server serializes
//!   (container/image/network/volume/system listings and inspects, Docker's filters),
//!   outputs in the Engine API's JSON shape.
//! - [`error`]: typed errors, each with the exit code the CLI reports (125/126/127).

pub mod container;
pub mod crash_point;
mod db;
pub mod error;
pub mod events;
pub mod image_config;
pub mod image_pull;
pub mod image_transfer;
pub mod lock;
pub mod logs;
pub mod monitor_client;
pub mod names;
pub mod network;
pub mod ops;
pub mod options;
pub mod reconcile;
pub mod resolve;
pub mod service;
pub mod spec;
pub mod store;
pub mod volume;

pub use container::Engine;
pub use error::{Error, Result};
