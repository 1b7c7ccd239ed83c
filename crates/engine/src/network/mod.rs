//! Container networking over `berth-network` (docs/network-design.md): the networks and
//! their attachments in the state database ([`db`]), the network commands ([`manage`]), and
//! the container hooks ([`lifecycle`]): set up on start, torn down on stop, exit and rm,
//! repaired by reconcile. [`files`] writes a container's hosts, resolv.conf and hostname;
//! [`dns`] keeps each user network's `berth-dns` and its names.

pub mod db;
pub mod dns;
pub mod files;
pub mod lifecycle;
pub mod manage;
pub mod net_lock;
pub mod shared_file;

pub use db::{Attachment, NetDb, NetworkRow};

/// The default network's name and Linux bridge, as Docker's `bridge` / `docker0`.
pub const DEFAULT_NETWORK: &str = "bridge";
pub const DEFAULT_BRIDGE: &str = "berth0";

/// `R/netns/<id>`: a container's pinned network namespace.
pub fn netns_path(root: &std::path::Path, id: &str) -> std::path::PathBuf {
    root.join("netns").join(id)
}
