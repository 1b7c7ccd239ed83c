//! # berth-image
//!
//! Images for Berth, the way Docker users know them.
//!
//! - [`reference`]: `busybox`, `host:5000/team/app:1.2`, `name@sha256:...` parsed and
//!   normalized exactly as Docker does (`busybox` = `docker.io/library/busybox:latest`).
//! - [`digest`]: content digests (`sha256:<64 hex>`), validated, and a hasher to verify
//!   content while it streams.
//! - [`gc`]: blobs and snapshots no image refers to any more, removed; `image prune`
//!   (dangling or all unused images, then their content).
//! - [`archive`]: `save`/`load` archives in Docker 25+'s format (an OCI layout that is also
//!   a Docker archive); legacy Docker and OCI layout archives loaded, hostile ones refused.
//! - [`import`]: a root filesystem tarball made into a one-layer image; [`changes`]: the
//!   Dockerfile instructions (`--change`) applied to its config.
//! - [`timestamp`]: RFC 3339 times of configs, and Docker's "3 days ago".
//! - [`manifest`]: OCI and Docker schema 2 manifests and indexes by media type, and the
//!   platform picked from an index (`--platform os/arch[/variant]`, the host's by default).
//! - [`store`]: the content-addressed blob store under the data root (`blobs/sha256/<hex>`,
//!   partial writes in `ingest/`), written atomically: a blob is visible only once its digest
//!   and size have been verified and it has been fsynced and renamed into place.
//!
//! - [`unpack`]: a layer (plain, gzip or zstd tar) written into a snapshot directory, whiteouts in
//!   overlayfs form, missing parent directories made 0755, GNU sparse files in full, hostile
//!   archives (`..`, absolute paths, symlink or hard-link escapes, oversize) and unknown entry
//!   kinds refused with nothing left behind.
//! - [`metadata`]: images by ID (named or dangling), names, repository digests and their
//!   manifest/config/chain records in one SQLite database that the engine shares, opened by
//!   [`sqlite`] (WAL, no fsync per commit, no checkpoint at each close).
//! - [`pull`]: reference -> manifest (via the platform's index entry) -> config, then the
//!   layers, three at a time, each downloaded, stored and unpacked into its chain-ID snapshot
//!   in one pass; [`progress`] tells the caller what each layer is doing, and [`lock`]
//!   (flock per blob and per chain ID) lets two pulls of the same image share the work.
//! - [`registry`]: how registries are reached (registries.json: insecure registries and
//!   mirrors; HTTPS with the system roots plus certs.d CAs and client certificates, plain HTTP
//!   only for loopback and insecure ones), `WWW-Authenticate` challenges and Bearer tokens
//!   (GET, OAuth2 POST password/refresh token), one blocking request path (auth, scope-keyed
//!   token cache, retries, mirrors first), blob downloads resumed with `Range`, and push
//!   (HEAD, cross-repository mount, monolithic and chunked uploads, manifest PUT).
//! - [`snapshot`]: chain IDs, one snapshot directory per chain ID shared by all images
//!   (unpacked once, verified against its diff ID, published atomically), and the overlayfs
//!   mount of a layer stack plus a writable upper dir as a container root.
//! - `overlay` (private): the overlayfs mount itself, lower dirs one by one (`lowerdir+`)
//!   where the kernel has it, so images of any depth mount; optionally over idmapped
//!   copies of the lower dirs (a container in its own user namespace owns the image's files).

pub mod archive;
pub mod changes;
pub mod digest;
pub mod duration;
pub mod error;
pub mod gc;
pub mod import;
mod leftovers;
pub mod lock;
pub mod manifest;
pub mod metadata;
mod overlay;
pub mod progress;
pub mod pull;
pub mod reference;
pub mod registry;
pub mod snapshot;
pub mod sqlite;
pub mod store;
pub mod timestamp;
pub mod unpack;

pub use digest::Digest;
pub use error::{Error, Result};
pub use reference::Reference;
pub use store::ContentStore;
