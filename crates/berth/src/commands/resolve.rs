//! What an IMAGE argument names, looked up as Docker does (the engine's
//! [`berth_engine::service::images::resolve`]), with the CLI's string errors.

use berth_image::metadata::Metadata;

pub use berth_engine::service::images::{familiar, repo_and_tag, Target};

pub fn resolve(md: &Metadata, arg: &str) -> Result<Target, String> {
    berth_engine::service::images::resolve(md, arg).map_err(|e| e.to_string())
}
