//! `port CONTAINER [PRIVATE_PORT[/PROTO]]`: a running container's published ports
//! (`80/tcp -> 0.0.0.0:8080`), from its NetworkSettings.

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
    let r = e.find(&a.container)?;
    let ports = e.network_settings(&r)["Ports"].clone();
    let map = ports.as_object().cloned().unwrap_or_default();
    let binding = |b: &serde_json::Value| {
        format!(
            "{}:{}",
            b["HostIp"].as_str().unwrap_or(""),
            b["HostPort"].as_str().unwrap_or("")
        )
    };
    match &a.port {
        None => {
            for (k, list) in &map {
                for b in list.as_array().into_iter().flatten() {
                    println!("{k} -> {}", binding(b));
                }
            }
            Ok(0)
        }
        Some(p) => {
            let p = normalize(p).map_err(fail)?;
            match map
                .get(&p)
                .and_then(|l| l.as_array())
                .filter(|l| !l.is_empty())
            {
                Some(list) => {
                    for b in list {
                        println!("{}", binding(b));
                    }
                    Ok(0)
                }
                None => Err(Failure {
                    msg: format!("No public port '{p}' published for {}", a.container),
                    code: 1,
                }),
            }
        }
    }
}
