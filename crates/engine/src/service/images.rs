//! Images as Docker's `/images` endpoints show and change them.

use berth_image::metadata::StoredImage;
use berth_image::snapshot::Snapshotter;

/// Bytes of an image's unpacked layers.
pub fn size_of(snaps: &Snapshotter, img: &StoredImage) -> u64 {
    img.chain
        .iter()
        .map(|c| berth_image::gc::disk_usage(&snaps.path(c)))
        .sum()
}
