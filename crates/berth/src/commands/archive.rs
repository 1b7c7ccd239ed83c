//! `save`, `load`, `import`: archives and root filesystem tarballs, printed as docker does.

use super::resolve::familiar;
use super::s;
use crate::cli::{ImportArgs, LoadArgs, SaveArgs};
use crate::env::Env;
use berth_image::import::ImportOptions;
use std::io::IsTerminal;

pub fn save(env: &Env, a: &SaveArgs) -> Result<i32, String> {
    let e = berth_engine::Engine::open_only(&env.root).map_err(s)?;
    let items = e.save_items(&a.images).map_err(s)?;
    match &a.output {
        Some(path) => e.save_to_file(&items, path).map_err(s)?,
        None => {
            let out = std::io::stdout();
            if out.is_terminal() {
                return Err(
                    "cowardly refusing to save to a terminal. Use the -o flag or redirect".into(),
                );
            }
            let w = std::io::BufWriter::with_capacity(1 << 20, out.lock());
            e.save(&items, w).map_err(s)?;
        }
    }
    Ok(0)
}

pub fn load(env: &Env, a: &LoadArgs) -> Result<i32, String> {
    let e = berth_engine::Engine::open_only(&env.root).map_err(s)?;
    let loaded = match &a.input {
        Some(p) => {
            let f = std::fs::File::open(p).map_err(|e| format!("open {}: {e}", p.display()))?;
            e.load(std::io::BufReader::with_capacity(1 << 20, f))
        }
        None => {
            let stdin = std::io::stdin();
            if stdin.is_terminal() {
                return Err("requested load from stdin, but stdin is empty".into());
            }
            e.load(stdin.lock())
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
    let e = berth_engine::Engine::open_only(&env.root).map_err(s)?;
    let opts = ImportOptions {
        message: a.message.clone(),
        changes: a.change.clone(),
    };
    let name = a.reference.as_deref();
    let id = if a.file == "-" {
        e.import(std::io::stdin().lock(), name, &opts)
    } else {
        let f = std::fs::File::open(&a.file).map_err(|e| format!("open {}: {e}", a.file))?;
        e.import(std::io::BufReader::with_capacity(1 << 20, f), name, &opts)
    }
    .map_err(s)?;
    println!("{id}");
    Ok(0)
}
