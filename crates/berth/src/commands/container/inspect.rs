//! `inspect`: containers first, then images, as `docker inspect` looks names up; as JSON or
//! through a `--format` template.

use super::{engine, fail, Failure};
use crate::commands::format::ObjectTemplate;
use crate::env::Env;
use berth_engine::Error;

pub fn inspect(env: &Env, args: &[String], format: Option<&str>) -> Result<i32, Failure> {
    let template = match format {
        None | Some("json") => None,
        Some(f) => Some(ObjectTemplate::parse(f)?),
    };
    let e = engine(env)?;
    let mut out = Vec::new();
    let mut failed = false;
    for a in args {
        match e.find(a) {
            Ok(mut r) => {
                berth_engine::container::exit::refresh(&e, &mut r)?;
                let v = e.inspect_json(&r);
                match &template {
                    Some(t) => println!("{}", t.render(&v)?),
                    None => out.push(in_docker_order(&v)),
                }
                continue;
            }
            Err(Error::NotFound { .. }) => {}
            Err(err) => {
                eprintln!("Error: {err}");
                failed = true;
                continue;
            }
        }
        match crate::commands::image::inspect_fields(env, a) {
            Ok(fields) => match &template {
                Some(t) => {
                    let v = serde_json::Value::Object(
                        fields
                            .into_iter()
                            .map(|(k, v)| (k.to_string(), v))
                            .collect(),
                    );
                    println!("{}", t.render(&v)?);
                }
                None => out.push(crate::commands::image::ordered(&fields, "    ")),
            },
            Err(_) => {
                eprintln!("Error: No such object: {a}");
                failed = true;
            }
        }
    }
    // With a template each object was printed as it was found.
    if template.is_none() {
        if out.is_empty() {
            println!("[]");
        } else {
            println!("[\n{}\n]", out.join(",\n"));
        }
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
