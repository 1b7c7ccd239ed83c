//! What a user's container argument names, as Docker looks it up: a full ID, then a name
//! (with or without the leading `/`), then a unique ID prefix.

use crate::store::{Row, Store};
use crate::{Error, Result};

pub fn resolve(store: &Store, arg: &str) -> Result<Row> {
    let not_found = || Error::NotFound {
        kind: "container",
        name: arg.to_string(),
    };
    if arg.is_empty() {
        return Err(not_found());
    }
    if arg.len() == 64 {
        if let Some(r) = store.get(arg)? {
            return Ok(r);
        }
    }
    if let Some(r) = store.by_name(arg.strip_prefix('/').unwrap_or(arg))? {
        return Ok(r);
    }
    if arg.bytes().all(|b| b.is_ascii_hexdigit()) {
        let ids = store.ids_with_prefix(&arg.to_ascii_lowercase())?;
        match ids.as_slice() {
            [id] => return store.get(id)?.ok_or_else(not_found),
            [] => {}
            _ => {
                return Err(Error::Ambiguous {
                    kind: "container",
                    prefix: arg.to_string(),
                })
            }
        }
    }
    Err(not_found())
}
