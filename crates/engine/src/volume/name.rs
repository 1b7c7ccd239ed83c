//! Volume names as Docker's local driver accepts them, and the random names of anonymous
//! volumes (64 hex digits, like container IDs).

use crate::{Error, Result};
use std::io::Read;

/// `[a-zA-Z0-9][a-zA-Z0-9_.-]+`, Docker's rule for local volume names.
pub fn validate(name: &str) -> Result<()> {
    let b = name.as_bytes();
    let ok = b.len() >= 2
        && b[0].is_ascii_alphanumeric()
        && b[1..]
            .iter()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'.' | b'-'));
    if ok {
        return Ok(());
    }
    Err(Error::InvalidArgument(format!(
        "create {name}: {name:?} includes invalid characters for a local volume name, only \
         \"[a-zA-Z0-9][a-zA-Z0-9_.-]\" are allowed. If you intended to pass a host directory, \
         use absolute path"
    )))
}

/// 32 random bytes as 64 lowercase hex digits.
pub fn random_id() -> Result<String> {
    let mut bytes = [0u8; 32];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut bytes))
        .map_err(|e| Error::io("read", "/dev/urandom", e))?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_as_docker_validates_them() {
        for ok in ["ab", "data", "my_vol.1-x", "0a"] {
            assert!(validate(ok).is_ok(), "{ok}");
        }
        for bad in ["", "a", "_a", ".hidden", "a/b", "../x", "a b", "/abs", "é1"] {
            assert!(validate(bad).is_err(), "{bad}");
        }
        let id = random_id().unwrap();
        assert_eq!(id.len(), 64);
        assert!(validate(&id).is_ok());
    }
}
