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

/// Docker's ContainerInspect key order (its structs'), for the objects Berth fills.
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
    "ExecIDs",
    "HostConfig",
    "GraphDriver",
    "Mounts",
    "Config",
    "NetworkSettings",
];

const STATE: &[&str] = &[
    "Status",
    "Running",
    "Paused",
    "Restarting",
    "OOMKilled",
    "Dead",
    "Pid",
    "ExitCode",
    "Error",
    "StartedAt",
    "FinishedAt",
    "Health",
];

const CONFIG: &[&str] = &[
    "Hostname",
    "Domainname",
    "User",
    "AttachStdin",
    "AttachStdout",
    "AttachStderr",
    "ExposedPorts",
    "Tty",
    "OpenStdin",
    "StdinOnce",
    "Env",
    "Cmd",
    "Healthcheck",
    "Image",
    "Volumes",
    "WorkingDir",
    "Entrypoint",
    "OnBuild",
    "Labels",
    "StopSignal",
    "StopTimeout",
];

const MOUNT: &[&str] = &[
    "Type",
    "Name",
    "Source",
    "Destination",
    "Driver",
    "Mode",
    "RW",
    "Propagation",
];

const NETWORK_SETTINGS: &[&str] = &[
    "Bridge",
    "SandboxID",
    "HairpinMode",
    "LinkLocalIPv6Address",
    "LinkLocalIPv6PrefixLen",
    "Ports",
    "SandboxKey",
    "SecondaryIPAddresses",
    "SecondaryIPv6Addresses",
    "EndpointID",
    "Gateway",
    "GlobalIPv6Address",
    "GlobalIPv6PrefixLen",
    "IPAddress",
    "IPPrefixLen",
    "IPv6Gateway",
    "MacAddress",
    "Networks",
];

const ENDPOINT: &[&str] = &[
    "IPAMConfig",
    "Links",
    "Aliases",
    "NetworkID",
    "EndpointID",
    "Gateway",
    "IPAddress",
    "IPPrefixLen",
    "IPv6Gateway",
    "GlobalIPv6Address",
    "GlobalIPv6PrefixLen",
    "MacAddress",
    "DriverOpts",
];

fn docker_order(path: &[&str]) -> Option<&'static [&'static str]> {
    Some(match path {
        [] => ORDER,
        ["State"] => STATE,
        ["HostConfig"] => berth_engine::container::host_config::KEYS,
        ["HostConfig", "RestartPolicy"] => &["Name", "MaximumRetryCount"],
        ["HostConfig", "LogConfig"] => &["Type", "Config"],
        // An array's objects have the array's path.
        ["HostConfig", "Ulimits"] => &["Name", "Hard", "Soft"],
        ["HostConfig", "Devices"] => &["PathOnHost", "PathInContainer", "CgroupPermissions"],
        ["Mounts"] => MOUNT,
        ["Config"] => CONFIG,
        ["NetworkSettings"] => NETWORK_SETTINGS,
        ["NetworkSettings", "Networks", _] => ENDPOINT,
        ["NetworkSettings", "Ports", _] => &["HostIp", "HostPort"],
        _ => return None,
    })
}

/// One container's inspect object as an element of the printed array, keys in Docker's
/// order.
fn in_docker_order(v: &serde_json::Value) -> String {
    format!(
        "    {}",
        crate::commands::format::pretty_ordered(v, 1, &docker_order)
    )
}
