//! `port CONTAINER [PRIVATE_PORT[/PROTO]]`: port mappings. Berth publishes no ports until
//! container networking comes, so a container lists none and any given port is docker's
//! "not published" error.

use super::{engine, fail, Failure};
use crate::cli::PortArgs;
use crate::env::Env;

/// `80` -> `80/tcp`; docker's error for anything that is not PORT[/tcp|udp|sctp].
pub fn normalize(p: &str) -> Result<String, String> {
    let (port, proto) = p.split_once('/').unwrap_or((p, "tcp"));
    let ok = port.parse::<u16>().is_ok_and(|n| n > 0);
    if !ok || !["tcp", "udp", "sctp"].contains(&proto) {
        return Err(format!("Error: invalid port ({p})"));
    }
    Ok(format!("{port}/{proto}"))
}

pub fn port(env: &Env, a: &PortArgs) -> Result<i32, Failure> {
    let e = engine(env)?;
    e.find(&a.container)?;
    let Some(p) = &a.port else {
        return Ok(0);
    };
    let p = normalize(p).map_err(fail)?;
    Err(Failure {
        msg: format!("No public port '{p}' published for {}", a.container),
        code: 1,
    })
}
