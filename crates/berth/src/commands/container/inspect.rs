//! `inspect`: containers first, then images, as `docker inspect` looks names up.

use super::{engine, fail, Failure};
use crate::env::Env;
use berth_engine::Error;

pub fn inspect(env: &Env, args: &[String]) -> Result<i32, Failure> {
    let e = engine(env)?;
    let mut out = Vec::new();
    let mut failed = false;
    for a in args {
        match e.find(a) {
            Ok(mut r) => {
                berth_engine::container::exit::refresh(&e, &mut r)?;
                out.push(in_docker_order(&e.inspect_json(&r)));
                continue;
            }
            Err(Error::NotFound { .. }) => {}
            Err(err) => {
                eprintln!("Error: {err}");
                failed = true;
                continue;
            }
        }
        match crate::commands::image::inspect_entry(env, a) {
            Ok(v) => out.push(v),
            Err(_) => {
                eprintln!("Error: No such object: {a}");
                failed = true;
            }
        }
    }
    if out.is_empty() {
        println!("[]");
    } else {
        println!("[\n{}\n]", out.join(",\n"));
    }
    if failed {
        return Err(fail(""));
    }
    Ok(0)
}

/// Docker's ContainerInspect field order at the top level (nested objects come sorted), with
/// the image inspect's layout.
const ORDER: &[&str] = &[
    "Id",
    "Created",
    "Path",
    "Args",
    "State",
    "Image",
    "ResolvConfPath",
    "HostnamePath",
    "HostsPath",
    "LogPath",
    "Name",
    "RestartCount",
    "Driver",
    "Platform",
    "MountLabel",
    "ProcessLabel",
    "AppArmorProfile",
    "HostConfig",
    "GraphDriver",
    "Mounts",
    "Config",
    "NetworkSettings",
];

fn in_docker_order(v: &serde_json::Value) -> String {
    let mut fields: Vec<(&str, serde_json::Value)> = ORDER
        .iter()
        .filter_map(|k| v.get(*k).map(|x| (*k, x.clone())))
        .collect();
    if let Some(obj) = v.as_object() {
        for (k, x) in obj {
            if !ORDER.contains(&k.as_str()) {
                fields.push((k.as_str(), x.clone()));
            }
        }
    }
    crate::commands::image::ordered(&fields, "    ")
}
