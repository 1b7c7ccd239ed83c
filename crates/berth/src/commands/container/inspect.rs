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
                out.push(indented(&e.inspect_json(&r)));
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

/// Docker's layout: 4-space indents, each object one level inside the array.
fn indented(v: &serde_json::Value) -> String {
    use serde::Serialize;
    let mut buf = Vec::new();
    let fmt = serde_json::ser::PrettyFormatter::with_indent(b"    ");
    let mut ser = serde_json::Serializer::with_formatter(&mut buf, fmt);
    let _ = v.serialize(&mut ser);
    String::from_utf8_lossy(&buf)
        .lines()
        .map(|l| format!("    {l}"))
        .collect::<Vec<_>>()
        .join("\n")
}
