//! `diff CONTAINER`: `A`/`C`/`D` lines of the container's changes to its image.

use super::{engine, Failure};
use crate::env::Env;

pub fn diff(env: &Env, container: &str) -> Result<i32, Failure> {
    let e = engine(env)?;
    let r = e.find(container)?;
    for c in e.diff(&r)? {
        println!("{} {}", c.kind.letter(), c.path);
    }
    Ok(0)
}
