//! `save`, `load`, `import`: archives and root filesystem tarballs, printed as docker does.

use super::resolve::{familiar, resolve, Target};
use super::s;
use crate::cli::{ImportArgs, LoadArgs, SaveArgs};
use crate::env::Env;
use berth_image::archive::{self, Saved};
use berth_image::import::ImportOptions;
use berth_image::manifest::Platform;
use berth_image::Reference;
use std::io::IsTerminal;

/// A repository name without tag or digest means every tag of it, as `docker save busybox`;
/// anything else names one image.
fn targets(md: &berth_image::metadata::Metadata, arg: &str) -> Result<Vec<Target>, String> {
    let last = arg.rsplit('/').next().unwrap_or(arg);
    if !last.contains(':') && !arg.contains('@') {
        if let Ok(r) = arg.parse::<Reference>() {
            let repo = r.name();
            let mut found = Vec::new();
            for rec in md.list().map_err(s)? {
                if berth_image::metadata::repository_of(&rec.name) == repo {
                    if let Some(img) = md.image(&rec.config).map_err(s)? {
                        found.push(Target::Name(rec.name, img));
                    }
                }
            }
            if !found.is_empty() {
                return Ok(found);
            }
        }
    }
    Ok(vec![resolve(md, arg)?])
}

pub fn save(env: &Env, a: &SaveArgs) -> Result<i32, String> {
    let (md, store) = (env.metadata().map_err(s)?, env.store().map_err(s)?);
    let mut items: Vec<Saved> = Vec::new();
    let mut wanted = Vec::new();
    for arg in &a.images {
        for t in targets(&md, arg)? {
            let name = match &t {
                Target::Name(full, _) => Some(full.clone()),
                Target::RepoDigest(..) | Target::Id(_) => None,
            };
            wanted.push((t.image().clone(), name));
        }
    }
    for (img, name) in wanted {
        match items.iter_mut().find(|i| i.image.id == img.id) {
            Some(i) => i.names.extend(name),
            None => items.push(Saved {
                image: img,
                names: name.into_iter().collect(),
            }),
        }
    }
    for i in &mut items {
        i.names.dedup();
    }
    match &a.output {
        Some(path) => archive::save_to_file(&store, &items, path).map_err(s)?,
        None => {
            let out = std::io::stdout();
            if out.is_terminal() {
                return Err(
                    "cowardly refusing to save to a terminal. Use the -o flag or redirect".into(),
                );
            }
            let w = std::io::BufWriter::with_capacity(1 << 20, out.lock());
            archive::save(&store, &items, w).map_err(s)?;
        }
    }
    for i in &items {
        let name = i.names.first().map(String::as_str);
        super::events::image_event(env, "save", &i.image.id.to_string(), name);
    }
    Ok(0)
}

pub fn load(env: &Env, a: &LoadArgs) -> Result<i32, String> {
    let (md, store, snaps) = (
        env.metadata().map_err(s)?,
        env.store().map_err(s)?,
        env.snapshots().map_err(s)?,
    );
    let platform = Platform::host();
    let loaded = match &a.input {
        Some(p) => {
            let f = std::fs::File::open(p).map_err(|e| format!("open {}: {e}", p.display()))?;
            archive::load(
                std::io::BufReader::with_capacity(1 << 20, f),
                &store,
                &snaps,
                &md,
                &platform,
            )
        }
        None => {
            let stdin = std::io::stdin();
            if stdin.is_terminal() {
                return Err("requested load from stdin, but stdin is empty".into());
            }
            archive::load(stdin.lock(), &store, &snaps, &md, &platform)
        }
    }
    .map_err(s)?;
    for l in loaded {
        for (name, old) in &l.renamed {
            println!(
                "The image {} already exists, renaming the old one with ID {old} to empty string",
                familiar(name)
            );
        }
        super::events::image_event(
            env,
            "load",
            &l.id.to_string(),
            l.names.first().map(String::as_str),
        );
        if l.names.is_empty() {
            println!("Loaded image ID: {}", l.id);
        }
        for n in &l.names {
            println!("Loaded image: {}", familiar(n));
        }
    }
    Ok(0)
}

pub fn import(env: &Env, a: &ImportArgs) -> Result<i32, String> {
    if a.file.contains("://") {
        return Err(format!(
            "importing from a URL is not supported: {} (download it, then import the file)",
            a.file
        ));
    }
    let name = match &a.reference {
        Some(r) => {
            let r: Reference = r.parse().map_err(s)?;
            if r.digest().is_some() {
                return Err(format!("refusing to import under a digest reference: {r}"));
            }
            Some(r.to_string())
        }
        None => None,
    };
    let (md, store, snaps) = (
        env.metadata().map_err(s)?,
        env.store().map_err(s)?,
        env.snapshots().map_err(s)?,
    );
    let opts = ImportOptions {
        message: a.message.clone(),
        changes: a.change.clone(),
    };
    let id = if a.file == "-" {
        berth_image::import::import(std::io::stdin().lock(), &store, &snaps, &md, &opts)
    } else {
        let f = std::fs::File::open(&a.file).map_err(|e| format!("open {}: {e}", a.file))?;
        berth_image::import::import(
            std::io::BufReader::with_capacity(1 << 20, f),
            &store,
            &snaps,
            &md,
            &opts,
        )
    }
    .map_err(s)?;
    if let Some(n) = &name {
        md.set_name(n, &id).map_err(s)?;
    }
    super::events::image_event(env, "import", &id.to_string(), name.as_deref());
    println!("{id}");
    Ok(0)
}
