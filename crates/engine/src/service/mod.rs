//! The typed service layer both fronts use: the CLI formats its results (tables, `--format`
//! templates, `-q`), the API server serializes them as they are. Each output is a serde
//! struct whose JSON is the Docker Engine API's shape (v1.41+, PascalCase keys); each input
//! is a typed options struct with Docker's [`filters::Filters`].
//!
//! - [`filters`]: `--filter k=v` and the API's `filters` JSON, and their validation.
//! - [`containers`]: `GET /containers/json` (`ps`).
//! - [`images`]: list, inspect, history, remove (Docker's conflict rules), tag.
//! - [`networks`]: list, inspect.
//! - [`system`]: version, info, disk usage (`system df`).
//! - [`volumes`]: list, inspect.

pub mod containers;
pub mod filters;
pub mod images;
pub mod networks;
pub mod system;
pub mod volumes;

use crate::Engine;
use berth_image::metadata::Metadata;
use berth_image::snapshot::Snapshotter;
use berth_image::ContentStore;

pub use filters::Filters;

/// The image names and records (`R/berth.db`).
pub(crate) fn metadata(e: &Engine) -> crate::Result<Metadata> {
    Ok(Metadata::open(&e.root.join("berth.db"))?)
}

/// The blobs by digest (`R/content`).
pub(crate) fn content(e: &Engine) -> crate::Result<ContentStore> {
    Ok(ContentStore::open(e.root.join("content"))?)
}

/// The unpacked layers by chain ID (`R/snapshots`).
pub(crate) fn snapshots(e: &Engine) -> crate::Result<Snapshotter> {
    Ok(Snapshotter::open(e.root.join("snapshots"))?)
}

/// The JSON document of a service output (for fronts that render templates over it).
pub fn to_value<T: serde::Serialize>(v: &T) -> serde_json::Value {
    serde_json::to_value(v).unwrap_or_else(|_| serde_json::json!({}))
}
