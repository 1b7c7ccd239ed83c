//! Image archives, both ways, in the format Docker 25+ writes: one tar that is at once an
//! OCI image layout (`oci-layout`, `index.json`, `blobs/sha256/...`) and a Docker archive
//! (`manifest.json` whose `Config`/`Layers` paths point into `blobs/`, plus
//! `repositories`).
//!
//! - [`save`]: images from the content store into such an archive, blobs as they are stored.
//! - [`load`]: Docker archives (the legacy `<id>/layer.tar` layout too) and OCI layout
//!   archives, plain or gzip/zstd compressed, into the store, snapshots and metadata; a
//!   hostile archive is refused with nothing left behind.
//! - `spool`: the input archive unpacked privately and read back without leaving it.

mod load;
mod save;
mod spool;

pub use load::{load, Loaded};
pub use save::{save, save_to_file, Saved};

/// Annotation with the full image name (containerd and Docker 25+).
pub const ANNOTATION_IMAGE_NAME: &str = "io.containerd.image.name";
/// OCI annotation with the tag (Docker 25+) or the whole reference (skopeo, podman).
pub const ANNOTATION_REF_NAME: &str = "org.opencontainers.image.ref.name";
