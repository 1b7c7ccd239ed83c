//! `tag`, `rmi`, `image inspect`.

use super::format::pretty;
use super::images::{config_of, size_of};
use super::resolve::{familiar, resolve, short_id, Target};
use super::s;
use crate::env::Env;
use berth_image::metadata::Removal;
use berth_image::timestamp;
use berth_image::Reference;
use serde_json::{json, Value};

pub fn tag(env: &Env, source: &str, target: &str) -> Result<i32, String> {
    let md = env.metadata().map_err(s)?;
    let img = resolve(&md, source)?.image().clone();
    let dst: Reference = target.parse().map_err(s)?;
    if dst.digest().is_some() {
        return Err(format!(
            "refusing to create a tag with a digest reference: {target}"
        ));
    }
    md.set_name(&dst.to_string(), &img.id).map_err(s)?;
    super::events::image_event(env, "tag", &img.id.to_string(), Some(&dst.to_string()));
    Ok(0)
}

/// Print what went, docker's way, and remove the content nothing needs any more.
pub fn report_removal(env: &Env, r: &Removal, untagged: &str, deleted: &str) -> Result<(), String> {
    super::events::image_removal_events(env, r);
    for n in &r.untagged {
        println!("{untagged}: {}", familiar(n));
    }
    if let Some(img) = &r.deleted {
        println!("{deleted}: {}", img.id);
        let (md, store, snaps) = (
            env.metadata().map_err(s)?,
            env.store().map_err(s)?,
            env.snapshots().map_err(s)?,
        );
        let freed = berth_image::gc::remove_content(&md, &store, &snaps, std::slice::from_ref(img))
            .map_err(s)?;
        for c in freed.snapshots {
            println!("{deleted}: {c}");
        }
    }
    Ok(())
}

/// Docker's conflict when removing `img` would delete an image a container is made from.
/// Unlike docker, `-f` does not override it: the container's root is an overlay of the
/// image's snapshots, which garbage collection would remove with the image.
fn refuse_if_used(env: &Env, target: &Target) -> Result<(), String> {
    let (img, deletes) = match target {
        Target::Id(img) => (img, true),
        Target::Name(_, img) | Target::RepoDigest(_, img) => {
            (img, img.names.len() + img.repo_digests.len() <= 1)
        }
    };
    if !deletes {
        return Ok(());
    }
    let vs = berth_engine::volume::VolumeStore::open(&env.root).map_err(s)?;
    let id = img.id.to_string();
    let Some(c) = vs
        .containers()
        .map_err(s)?
        .into_iter()
        .find(|c| c.image_id == id)
    else {
        return Ok(());
    };
    let how = if c.active() { "running" } else { "stopped" };
    Err(format!(
        "conflict: unable to delete {} (cannot be forced) - image is being used by {how} container {}",
        short_id(&img.id, false),
        &c.id[..12.min(c.id.len())]
    ))
}

fn rmi_one(env: &Env, arg: &str, force: bool) -> Result<(), String> {
    let md = env.metadata().map_err(s)?;
    let target = resolve(&md, arg)?;
    refuse_if_used(env, &target)?;
    let removal = match target {
        Target::Name(full, _) => md.remove_name(&full).map_err(s)?,
        Target::RepoDigest(full, img) => {
            md.remove_repo_digest(&full).map_err(s)?;
            let left = md.image(&img.id).map_err(s)?;
            let mut r = Removal {
                untagged: vec![full],
                deleted: None,
            };
            if left.is_some_and(|l| l.names.is_empty() && l.repo_digests.is_empty()) {
                r.deleted = md.remove_image(&img.id).map_err(s)?.and_then(|x| x.deleted);
            }
            Some(r)
        }
        Target::Id(img) => {
            // Docker: by ID, an image with at most one tag, all in one repository, loses its
            // names; more than that needs -f.
            let repos: std::collections::BTreeSet<&str> = img
                .names
                .iter()
                .chain(&img.repo_digests)
                .map(|n| berth_image::metadata::repository_of(n))
                .collect();
            if (img.names.len() > 1 || repos.len() > 1) && !force {
                return Err(format!(
                    "conflict: unable to delete {} (must be forced) - image is referenced in multiple repositories",
                    short_id(&img.id, false)
                ));
            }
            md.remove_image(&img.id).map_err(s)?
        }
    };
    let r = removal.ok_or_else(|| format!("No such image: {arg}"))?;
    report_removal(env, &r, "Untagged", "Deleted")
}

pub fn rmi(env: &Env, refs: &[String], force: bool) -> Result<i32, String> {
    let mut code = 0;
    for arg in refs {
        if let Err(e) = rmi_one(env, arg, force) {
            eprintln!("Error: {e}");
            code = 1;
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
    let (md, store, snaps) = (
        env.metadata().map_err(s)?,
        env.store().map_err(s)?,
        env.snapshots().map_err(s)?,
    );
    {
        let img = resolve(&md, arg)?.image().clone();
        let cfg = config_of(&store, &img);
        let str_or_empty = |v: &Value| json!(v.as_str().unwrap_or(""));
        let lowers: Vec<String> = img
            .chain
            .iter()
            .rev()
            .map(|c| snaps.path(c).display().to_string())
            .collect();
        let mut fields: Vec<(&'static str, Value)> = vec![
            ("Id", json!(img.id.to_string())),
            (
                "RepoTags",
                json!(img.names.iter().map(|n| familiar(n)).collect::<Vec<_>>()),
            ),
            (
                "RepoDigests",
                json!(img
                    .repo_digests
                    .iter()
                    .map(|n| familiar(n))
                    .collect::<Vec<_>>()),
            ),
            ("Parent", json!("")),
            ("Comment", str_or_empty(&cfg["comment"])),
            ("Created", str_or_empty(&cfg["created"])),
            ("DockerVersion", str_or_empty(&cfg["docker_version"])),
            ("Author", str_or_empty(&cfg["author"])),
            ("Config", cfg.get("config").cloned().unwrap_or(Value::Null)),
            ("Architecture", str_or_empty(&cfg["architecture"])),
        ];
        if let Some(v) = cfg["variant"].as_str() {
            fields.push(("Variant", json!(v)));
        }
        fields.push(("Os", str_or_empty(&cfg["os"])));
        if let Some(v) = cfg["os.version"].as_str() {
            fields.push(("OsVersion", json!(v)));
        }
        fields.extend([
            ("Size", json!(size_of(&snaps, &img))),
            (
                "GraphDriver",
                json!({"Data": {"LowerDir": lowers.join(":")}, "Name": "overlay"}),
            ),
            (
                "RootFS",
                json!({"Type": "layers", "Layers": cfg["rootfs"]["diff_ids"].as_array().cloned().unwrap_or_default()}),
            ),
            (
                "Metadata",
                json!({"LastTagTime": img.last_tag.map_or("0001-01-01T00:00:00Z".to_string(), timestamp::rfc3339)}),
            ),
        ]);
        Ok(fields)
    }
}
