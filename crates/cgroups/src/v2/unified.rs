//! linux.resources.unified: cgroup v2 files written verbatim.

use std::collections::HashMap;
use std::path::Path;

use crate::error::{Error, Result};
use crate::files;

/// A key is a file name in the cgroup directory: no '/', not "." or "..".
pub(crate) fn check_key(key: &str) -> Result<()> {
    if key.is_empty() || key == "." || key == ".." || key.contains('/') || key.contains('\0') {
        return Err(Error::invalid(
            "unified key",
            key,
            "must be a plain cgroup file name",
        ));
    }
    Ok(())
}

/// Controller a key belongs to ("memory.high" -> "memory"); None for core "cgroup.*" files.
pub(crate) fn controller_of(key: &str) -> Option<&str> {
    match key.split_once('.') {
        Some(("cgroup", _)) | None => None,
        Some((c, _)) => Some(c),
    }
}

/// Validate every key first, then write in sorted key order (deterministic).
pub(crate) fn apply(dir: &Path, map: &HashMap<String, String>) -> Result<()> {
    for k in map.keys() {
        check_key(k)?;
    }
    let mut keys: Vec<&String> = map.keys().collect();
    keys.sort();
    for k in keys {
        files::write_in(dir, k, &map[k])?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_checked() {
        assert!(check_key("memory.high").is_ok());
        assert!(check_key("../memory.high").is_err());
        assert!(check_key("a/b").is_err());
        assert!(check_key("..").is_err());
        assert!(check_key("").is_err());
        assert_eq!(controller_of("memory.high"), Some("memory"));
        assert_eq!(controller_of("cgroup.max.depth"), None);
    }
}
