//! `images` (`image ls`): one row per name, `<none>` rows for dangling images, newest first;
//! docker's filters and `--format`, over the engine's image listing.

use super::format::{human_size, Template};
use super::resolve::{familiar, repo_and_tag};
use super::s;
use crate::cli::ImagesArgs;
use crate::env::Env;
use berth_engine::service::images::{self, ListOptions};
use berth_engine::service::Filters;
use berth_image::timestamp;
use serde_json::{json, Map, Value};

const FIELDS: &[&str] = &[
    "Containers",
    "CreatedAt",
    "CreatedSince",
    "Digest",
    "ID",
    "Repository",
    "SharedSize",
    "Size",
    "Tag",
    "UniqueSize",
    "VirtualSize",
];

const HEADERS: &[(&str, &str)] = &[
    ("Containers", "CONTAINERS"),
    ("CreatedAt", "CREATED AT"),
    ("CreatedSince", "CREATED"),
    ("Digest", "DIGEST"),
    ("ID", "IMAGE ID"),
    ("Repository", "REPOSITORY"),
    ("SharedSize", "SHARED SIZE"),
    ("Size", "SIZE"),
    ("Tag", "TAG"),
    ("UniqueSize", "UNIQUE SIZE"),
    ("VirtualSize", "SIZE"),
];

/// An ID as the table shows it: 12 hex digits, or the whole `sha256:...` with `no_trunc`.
fn short(id: &str, no_trunc: bool) -> String {
    if no_trunc {
        id.to_string()
    } else {
        let hex = id.strip_prefix("sha256:").unwrap_or(id);
        hex[..12.min(hex.len())].to_string()
    }
}

pub fn images(env: &Env, a: &ImagesArgs) -> Result<i32, String> {
    let mut filters = Filters::from_cli(&a.filter).map_err(s)?;
    if let Some(r) = &a.repository {
        filters.add("reference", r);
    }
    let e = berth_engine::Engine::open_only(&env.root).map_err(s)?;
    let listed = images::list(
        &e,
        &ListOptions {
            all: false,
            digests: a.digests,
            filters,
        },
    )
    .map_err(s)?;
    let now = timestamp::now();
    let mut rows: Vec<(i64, Map<String, Value>)> = Vec::new();
    for img in &listed {
        let names: Vec<(String, String)> = if img.repo_tags.is_empty() {
            vec![("<none>".into(), "<none>".into())]
        } else {
            img.repo_tags.iter().map(|n| repo_and_tag(n)).collect()
        };
        let size = human_size(img.size as u64);
        for (repo, tag) in names {
            let digest = img
                .repo_digests
                .iter()
                .find(|d| familiar(d).split('@').next() == Some(repo.as_str()))
                .and_then(|d| d.split_once('@'))
                .map_or("<none>".to_string(), |(_, d)| d.to_string());
            let row = json!({
                "Containers": "N/A",
                "CreatedAt": timestamp::go_time(img.created),
                "CreatedSince": timestamp::ago(img.created, now),
                "Digest": digest,
                "ID": short(&img.id, a.no_trunc),
                "Repository": repo,
                "SharedSize": "N/A",
                "Size": size,
                "Tag": tag,
                "UniqueSize": "N/A",
                "VirtualSize": size,
            });
            rows.push((img.created, row.as_object().expect("object").clone()));
        }
    }
    rows.sort_by(|x, y| {
        y.0.cmp(&x.0)
            .then_with(|| x.1["Repository"].as_str().cmp(&y.1["Repository"].as_str()))
            .then_with(|| x.1["Tag"].as_str().cmp(&y.1["Tag"].as_str()))
    });
    let rows: Vec<Map<String, Value>> = rows.into_iter().map(|(_, r)| r).collect();
    if a.quiet {
        let mut seen = std::collections::HashSet::new();
        for r in &rows {
            let id = r["ID"].as_str().unwrap_or("");
            if seen.insert(id.to_string()) {
                println!("{id}");
            }
        }
        return Ok(0);
    }
    let format = match a.format.as_deref() {
        None | Some("table") if a.digests => {
            "table {{.Repository}}\t{{.Tag}}\t{{.Digest}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}"
        }
        None | Some("table") => {
            "table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}"
        }
        Some("json") => "{{json .}}",
        Some(t) => t,
    };
    Template::parse(format, FIELDS)?.print(&rows, HEADERS)?;
    Ok(0)
}
