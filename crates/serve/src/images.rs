//! Images as the container endpoints need them: a name or ID to the stored image and its
//! config.

use crate::reply::ApiError;
use berth_engine::image_config::ImageConfig;
use berth_image::metadata::{Metadata, StoredImage};
use berth_image::{ContentStore, Digest, Reference};
use std::path::Path;

/// The stored image `name` (a name, a full ID or a unique ID prefix) and its config.
pub fn stored(root: &Path, name: &str) -> Result<(StoredImage, ImageConfig), ApiError> {
    let md = Metadata::open(&root.join("berth.db"))?;
    let no_such = || ApiError::not_found(format!("No such image: {name}"));
    let hex = name.strip_prefix("sha256:").unwrap_or(name);
    let mut found = None;
    if hex.len() == 64 {
        if let Ok(id) = format!("sha256:{hex}").parse::<Digest>() {
            found = md.image(&id)?;
        }
    }
    if found.is_none() {
        if let Ok(r) = name.parse::<Reference>() {
            let full = r.to_string();
            let id = if r.digest().is_some() {
                md.by_repo_digest(&full)?
            } else {
                md.get(&full)?.map(|rec| rec.config)
            };
            if let Some(id) = id {
                found = md.image(&id)?;
            }
        }
    }
    if found.is_none() {
        if let [id] = md.ids_with_prefix(hex)?.as_slice() {
            found = md.image(id)?;
        }
    }
    let image = found.ok_or_else(no_such)?;
    let bytes = ContentStore::open(root.join("content"))?.read(&image.id)?;
    let config = ImageConfig::from_image_config(&bytes)?;
    Ok((image, config))
}
