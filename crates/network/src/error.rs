//! One error type for the crate: what failed, on what, and why.

pub type Result<T> = std::result::Result<T, Error>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A system call or file operation failed.
    #[error("{what} {on}: {source}")]
    Io {
        what: String,
        on: String,
        #[source]
        source: std::io::Error,
    },
    /// The kernel refused a netlink request.
    #[error("netlink {what}: {why}")]
    Netlink { what: String, why: String },
    /// `nft` failed.
    #[error("nftables {what}: {why}")]
    Nft { what: String, why: String },
    /// Bad input (a subnet, a gateway, an address).
    #[error("{0}")]
    Invalid(String),
    /// No subnet or address left.
    #[error("{0}")]
    Exhausted(String),
    /// A host port is taken.
    #[error("Bind for {addr}:{port} failed: port is already allocated")]
    PortInUse { addr: String, port: u16 },
}

impl Error {
    pub fn io(what: impl Into<String>, on: impl std::fmt::Display, source: std::io::Error) -> Self {
        Error::Io {
            what: what.into(),
            on: on.to_string(),
            source,
        }
    }
}
