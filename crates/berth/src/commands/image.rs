//! `images`, `tag`, `rmi`, `image inspect`.

use crate::cli::ImagesArgs;
use crate::env::Env;
use berth_image::metadata::ImageRecord;
use berth_image::Reference;

fn s<E: std::fmt::Display>(e: E) -> String {
    e.to_string()
}

pub(crate) fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

fn human_size(bytes: u64) -> String {
    let units = ["B", "kB", "MB", "GB", "TB"];
    let mut v = bytes as f64;
    let mut u = 0;
    while v >= 1000.0 && u < units.len() - 1 {
        v /= 1000.0;
        u += 1;
    }
    if u == 0 {
        format!("{bytes}B")
    } else {
        format!("{:.3}", v)
            .trim_end_matches('0')
            .trim_end_matches('.')
            .to_string()
            + units[u]
    }
}

fn ago(secs: i64) -> String {
    let d = (now() - secs).max(0);
    match d {
        0..=59 => "Less than a minute ago".into(),
        60..=3599 => format!("{} minutes ago", d / 60),
        3600..=86399 => format!("{} hours ago", d / 3600),
        _ => format!("{} days ago", d / 86400),
    }
}

fn dir_size(p: &std::path::Path) -> u64 {
    let mut total = 0;
    if let Ok(rd) = std::fs::read_dir(p) {
        for e in rd.flatten() {
            match e.metadata() {
                Ok(m) if m.is_dir() => total += dir_size(&e.path()),
                Ok(m) if m.is_file() => total += m.len(),
                _ => {}
            }
        }
    }
    total
}

pub fn images(env: &Env, a: &ImagesArgs) -> Result<i32, String> {
    let (quiet, digests, no_trunc) = (a.quiet, a.digests, a.no_trunc);
    let (md, snaps) = (env.metadata().map_err(s)?, env.snapshots().map_err(s)?);
    let list = md.list().map_err(s)?;
    let id = |r: &ImageRecord| {
        if no_trunc {
            r.config.to_string()
        } else {
            r.config.hex()[..12].to_string()
        }
    };
    if quiet {
        let mut seen = std::collections::BTreeSet::new();
        for r in &list {
            if seen.insert(id(r)) {
                println!("{}", id(r));
            }
        }
        return Ok(0);
    }
    let mut rows = vec![];
    for r in &list {
        let (repo, tag) = match r
            .name
            .rsplit_once(':')
            .filter(|(n, _)| !n.ends_with('/') && !n.is_empty())
        {
            Some((n, t)) if !t.contains('/') => (n.to_string(), t.to_string()),
            _ => (r.name.clone(), "<none>".into()),
        };
        let repo = repo
            .strip_prefix("docker.io/library/")
            .or_else(|| repo.strip_prefix("docker.io/"))
            .unwrap_or(&repo)
            .to_string();
        let size: u64 = r.chain.iter().map(|c| dir_size(&snaps.path(c))).sum();
        let mut row = vec![repo, tag];
        if digests {
            row.push(r.manifest.to_string());
        }
        row.extend([id(r), ago(r.created), human_size(size)]);
        rows.push(row);
    }
    let mut head = vec!["REPOSITORY", "TAG"];
    if digests {
        head.push("DIGEST");
    }
    head.extend(["IMAGE ID", "CREATED", "SIZE"]);
    let head: Vec<String> = head.into_iter().map(String::from).collect();
    let mut w = vec![0; head.len()];
    for r in std::iter::once(&head).chain(rows.iter()) {
        for (i, c) in r.iter().enumerate() {
            w[i] = w[i].max(c.len());
        }
    }
    for r in std::iter::once(&head).chain(rows.iter()) {
        let line: Vec<String> = r
            .iter()
            .enumerate()
            .map(|(i, c)| format!("{c:<width$}", width = w[i]))
            .collect();
        println!("{}", line.join("   ").trim_end());
    }
    Ok(0)
}

pub fn tag(env: &Env, source: &str, target: &str) -> Result<i32, String> {
    let md = env.metadata().map_err(s)?;
    let src: Reference = source.parse().map_err(s)?;
    let dst: Reference = target.parse().map_err(s)?;
    let mut rec = md
        .get(&src.to_string())
        .map_err(s)?
        .ok_or_else(|| format!("No such image: {source}"))?;
    rec.name = dst.to_string();
    md.tag(&rec).map_err(s)?;
    Ok(0)
}

pub fn rmi(env: &Env, refs: &[String]) -> Result<i32, String> {
    let md = env.metadata().map_err(s)?;
    let mut code = 0;
    for name in refs {
        let r: Reference = match name.parse() {
            Ok(r) => r,
            Err(e) => {
                eprintln!("Error: {e}");
                code = 1;
                continue;
            }
        };
        if md.untag(&r.to_string()).map_err(s)? {
            println!("Untagged: {}", r.familiar());
        } else {
            eprintln!("Error: No such image: {name}");
            code = 1;
        }
    }
    Ok(code)
}

/// `docker image inspect`'s JSON for the fields Berth has.
pub fn inspect(env: &Env, refs: &[String]) -> Result<i32, String> {
    let (md, store, snaps) = (
        env.metadata().map_err(s)?,
        env.store().map_err(s)?,
        env.snapshots().map_err(s)?,
    );
    let all = md.list().map_err(s)?;
    let mut out = Vec::new();
    for name in refs {
        let r: Reference = name.parse().map_err(s)?;
        let rec = md
            .get(&r.to_string())
            .map_err(s)?
            .ok_or_else(|| format!("No such image: {name}"))?;
        let cfg: serde_json::Value =
            serde_json::from_slice(&store.read(&rec.config).map_err(s)?).map_err(s)?;
        let tags: Vec<String> = all
            .iter()
            .filter(|o| o.config == rec.config)
            .map(|o| o.name.clone())
            .collect();
        let repo_digests: Vec<String> = all
            .iter()
            .filter(|o| o.config == rec.config)
            .map(|o| {
                format!(
                    "{}@{}",
                    o.name.rsplit_once(':').map_or(o.name.as_str(), |(n, _)| n),
                    o.manifest
                )
            })
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect();
        let size: u64 = rec.chain.iter().map(|c| dir_size(&snaps.path(c))).sum();
        out.push(serde_json::json!({
            "Id": rec.config.to_string(),
            "RepoTags": tags,
            "RepoDigests": repo_digests,
            "Created": cfg["created"],
            "Author": cfg["author"],
            "Architecture": cfg["architecture"],
            "Variant": cfg["variant"],
            "Os": cfg["os"],
            "Config": cfg["config"],
            "Size": size,
            "RootFS": {"Type": "layers", "Layers": cfg["rootfs"]["diff_ids"]},
            "Metadata": {"LastTagTime": rec.created},
        }));
    }
    println!("{}", serde_json::to_string_pretty(&out).map_err(s)?);
    Ok(0)
}
