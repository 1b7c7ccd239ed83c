//! `tag`, `rmi`, `image inspect`: the engine's image operations, printed docker's way.

use super::format::pretty;
use super::s;
use crate::env::Env;
use berth_engine::service::images::{self, DeleteItem};
use berth_engine::Engine;
use serde_json::Value;

fn engine(env: &Env) -> Result<Engine, String> {
    Engine::open_only(&env.root).map_err(s)
}

pub fn tag(env: &Env, source: &str, target: &str) -> Result<i32, String> {
    images::tag(&engine(env)?, source, target).map_err(s)?;
    Ok(0)
}

/// Print what a removal took away, docker's way.
pub fn print_removal(items: &[DeleteItem]) {
    for item in items {
        match item {
            DeleteItem::Untagged(n) => println!("Untagged: {n}"),
            DeleteItem::Deleted(id) => println!("Deleted: {id}"),
        }
    }
}

pub fn rmi(env: &Env, refs: &[String], force: bool) -> Result<i32, String> {
    let e = engine(env)?;
    let mut code = 0;
    for arg in refs {
        match images::remove(&e, arg, force, false) {
            Ok(items) => print_removal(&items),
            Err(err) => {
                eprintln!("Error: {err}");
                code = 1;
            }
        }
    }
    Ok(code)
}

/// An object with its keys in the given order (Docker's struct order), indented by `pad`.
pub(crate) fn ordered(fields: &[(&str, Value)], pad: &str) -> String {
    let mut out = format!("{pad}{{\n");
    for (i, (k, v)) in fields.iter().enumerate() {
        let v = pretty(v).replace('\n', &format!("\n{pad}    "));
        let comma = if i + 1 < fields.len() { "," } else { "" };
        out.push_str(&format!("{pad}    {}: {v}{comma}\n", Value::from(*k)));
    }
    out.push_str(&format!("{pad}}}"));
    out
}

/// `docker image inspect`: the Engine API's ImageInspect shape, keys in its order, or each
/// image through a `--format` template.
pub fn inspect(env: &Env, refs: &[String], format: Option<&str>) -> Result<i32, String> {
    let template = match format {
        None | Some("json") => None,
        Some(f) => match super::format::ObjectTemplate::parse(f) {
            Ok(t) => Some(t),
            Err(e) => return Ok(super::format::report(e)),
        },
    };
    let mut out = Vec::new();
    let mut code = 0;
    for arg in refs {
        match inspect_fields(env, arg) {
            Ok(fields) => match &template {
                Some(t) => {
                    let v = Value::Object(
                        fields
                            .into_iter()
                            .map(|(k, v)| (k.to_string(), v))
                            .collect(),
                    );
                    match t.render(&v) {
                        Ok(text) => println!("{text}"),
                        Err(e) => return Ok(super::format::report(e)),
                    }
                }
                None => out.push(ordered(&fields, "    ")),
            },
            Err(e) => {
                eprintln!("Error: {e}");
                code = 1;
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
    Ok(code)
}

/// One image's inspect object as its keys in Docker's order (also used by `berth inspect`
/// when no container has that name).
pub fn inspect_fields(env: &Env, arg: &str) -> Result<Vec<(&'static str, Value)>, String> {
    images::inspect_fields(&engine(env)?, arg).map_err(s)
}
