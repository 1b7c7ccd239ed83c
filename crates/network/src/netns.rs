//! STUB (replaced by the netns helper's work).
use crate::Result;
use std::path::Path;
pub fn create_pinned(_path: &Path) -> Result<()> {
    Err(crate::Error::Invalid("stub".into()))
}
pub fn delete_pinned(_path: &Path) -> Result<()> {
    Ok(())
}
pub fn in_netns<T: Send>(_path: &Path, f: impl FnOnce() -> Result<T> + Send) -> Result<T> {
    f()
}
