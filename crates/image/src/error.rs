//! Errors of the image crate: each names the input (reference, digest, path) it is about.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("invalid reference format {reference:?}: {why}")]
    InvalidReference {
        reference: String,
        why: &'static str,
    },
    #[error("invalid digest {digest:?}: {why}")]
    InvalidDigest { digest: String, why: &'static str },
    #[error("digest mismatch for {expected}: content has {actual}")]
    DigestMismatch { expected: String, actual: String },
    #[error("size mismatch for {digest}: expected {expected} bytes, got {actual}")]
    SizeMismatch {
        digest: String,
        expected: u64,
        actual: u64,
    },
    #[error("refusing hostile layer: {0}")]
    HostileLayer(String),
    #[error("refusing image archive: {0}")]
    BadArchive(String),
    #[error("invalid change {change:?}: {why}")]
    BadChange { change: String, why: String },
    #[error("not supported yet: {0}")]
    Unsupported(String),
    #[error("invalid manifest: {0}")]
    BadManifest(String),
    #[error("invalid platform {0:?}: want os/arch[/variant], e.g. linux/arm64")]
    InvalidPlatform(String),
    #[error("no image for platform {want} (available: {available})")]
    NoPlatform { want: String, available: String },
    #[error("registry: {0}")]
    Registry(String),
    /// A registry (or token server) answered with an error status.
    #[error("registry: {url}: HTTP {status}: {message}")]
    Status {
        url: String,
        status: u16,
        message: String,
    },
    #[error("image metadata: {0}")]
    Metadata(String),
    /// The state database cannot be opened (missing while the data root holds data,
    /// unreadable, ...).
    #[error(transparent)]
    StateDb(#[from] crate::sqlite::OpenError),
    /// What went wrong with one layer of a pull, named by its digest.
    #[error("layer {digest}: {source}")]
    Layer {
        digest: String,
        #[source]
        source: Box<Error>,
    },
    #[error("blob {0} not found")]
    BlobNotFound(String),
    #[error("{what} {path}: {source}")]
    Io {
        what: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    pub(crate) fn io(what: &'static str, path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            what,
            path: path.into(),
            source,
        }
    }
}
