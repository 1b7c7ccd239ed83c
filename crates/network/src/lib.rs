//! # berth-network
//!
//! Everything Berth does to the host's network stack for containers (docs/network-design.md):
//!
//! - [`netns`]: pinned network namespaces (a new netns bind-mounted on a file) and work done
//!   inside one.
//! - [`link`]: a small synchronous rtnetlink client: bridges, veth pairs, addresses, routes.
//! - [`ipam`]: subnets that clash with no host route or other network, addresses in them.
//! - [`nft`]: Berth's own nftables table `ip berth` (NAT, published ports, isolation).
//! - [`ports`]: host ports in use, random free ones.
//! - [`dnsconf`]: a container's /etc/resolv.conf and /etc/hosts.

pub mod dnsconf;
pub mod error;
pub mod ipam;
pub mod link;
pub mod netns;
pub mod nft;
pub mod ports;

pub use error::{Error, Result};
pub use ipnet::Ipv4Net;
