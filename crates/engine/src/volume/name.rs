//! Volume names as Docker's local driver accepts them (anonymous volumes are named by
//! [`crate::names::new_id`], 64 hex digits like container IDs).

use crate::{Error, Result};

/// `[a-zA-Z0-9][a-zA-Z0-9_.-]+`, Docker's rule for local volume names.
pub fn validate(name: &str) -> Result<()> {
    let ok = name.len() >= 2 && crate::options::parse::valid_name(name);
    if ok {
        return Ok(());
    }
    Err(Error::InvalidArgument(format!(
        "create {name}: {name:?} includes invalid characters for a local volume name, only \
         \"[a-zA-Z0-9][a-zA-Z0-9_.-]\" are allowed. If you intended to pass a host directory, \
         use absolute path"
    )))
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
        let id = crate::names::new_id().unwrap();
        assert_eq!(id.len(), 64);
        assert!(validate(&id).is_ok());
    }
}
