//! What a pull is doing, layer by layer, told to whoever shows it: the CLI draws it like
//! `docker pull`; the library itself prints nothing.

use crate::digest::Digest;

/// One step in the life of a layer during a pull, in the order they happen.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Event {
    /// Its snapshot is already here (shared with another image, or made by another pull).
    AlreadyExists,
    /// The layer is to be fetched (docker's "Pulling fs layer").
    Pulling,
    /// Queued behind other layers of this pull, or another pull (here or in another
    /// process) is fetching the same layer and this one waits to use its result.
    Waiting,
    /// Bytes of the compressed layer received (and unpacked) so far, out of `total`.
    Downloading { done: u64, total: u64 },
    /// The blob is complete and verified against its digest.
    DownloadComplete,
    /// Unpacking from a blob that was already in the store.
    Extracting,
    /// The layer's snapshot is verified and in place.
    PullComplete,
}

/// Receives the events of a pull's layers. Layers are pulled in parallel, so events of
/// different layers interleave and arrive from several threads.
pub trait Progress: Sync {
    /// `layer` is the layer blob's digest, as docker shows it (shortened).
    fn layer(&self, layer: &Digest, event: Event);
}

/// Progress nobody looks at.
pub struct Silent;

impl Progress for Silent {
    fn layer(&self, _: &Digest, _: Event) {}
}
