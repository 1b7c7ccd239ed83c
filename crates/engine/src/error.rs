//! Errors of the engine. Each names what it is about; [`Error::exit_code`] is what `berth`
//! exits with, as docker does: 125 when Berth itself fails, 126 when the container's command
//! cannot be invoked, 127 when it is not found.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A flag or field with a value that cannot be used (`-m 12x`, `--cpus -1`).
    #[error("invalid argument {value:?} for \"{flag}\": {why}")]
    InvalidValue {
        flag: String,
        value: String,
        why: String,
    },
    #[error("{0}")]
    InvalidArgument(String),
    /// `No such container: x`, `No such image: x`, `No such volume: x`.
    #[error("No such {kind}: {name}")]
    NotFound { kind: &'static str, name: String },
    #[error("multiple {kind}s found with provided prefix: {prefix}")]
    Ambiguous { kind: &'static str, prefix: String },
    /// The name is already in use, the container is running, ...
    #[error("{0}")]
    Conflict(String),
    /// The container's command could not be started: exit 126 (not executable) or 127 (not
    /// found).
    #[error("{message}")]
    Exec { message: String, code: i32 },
    #[error(transparent)]
    Image(#[from] berth_image::Error),
    #[error(transparent)]
    Runtime(#[from] berth_runtime::Error),
    #[error(transparent)]
    Network(#[from] berth_network::Error),
    #[error("state database: {0}")]
    Db(String),
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
    pub fn io(what: &'static str, path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            what,
            path: path.into(),
            source,
        }
    }

    pub fn invalid(flag: &str, value: &str, why: impl Into<String>) -> Self {
        Error::InvalidValue {
            flag: flag.into(),
            value: value.into(),
            why: why.into(),
        }
    }

    /// What the CLI exits with for this error.
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Exec { code, .. } => *code,
            _ => 125,
        }
    }
}
