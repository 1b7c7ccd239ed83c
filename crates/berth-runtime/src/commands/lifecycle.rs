//! `start`, `kill`, `delete`, `pause`, `resume`.

use super::Result;
use berth_runtime::{Error, Runtime};

pub fn start(rt: &Runtime, id: &str) -> Result<i32> {
    rt.start(id)?;
    Ok(0)
}

pub fn kill(rt: &Runtime, id: &str, signal: &str, all: bool) -> Result<i32> {
    let sig = crate::signals::parse(signal)?;
    rt.kill(id, sig, all)?;
    Ok(0)
}

pub fn delete(rt: &Runtime, id: &str, force: bool) -> Result<i32> {
    match rt.delete(id, force) {
        Ok(()) => Ok(0),
        // Like runc: forcing the delete of something already gone is not an error.
        Err(Error::NotExist(_)) if force => Ok(0),
        Err(e) => Err(e.into()),
    }
}

pub fn pause(rt: &Runtime, id: &str) -> Result<i32> {
    rt.pause(id)?;
    Ok(0)
}

pub fn resume(rt: &Runtime, id: &str) -> Result<i32> {
    rt.resume(id)?;
    Ok(0)
}
