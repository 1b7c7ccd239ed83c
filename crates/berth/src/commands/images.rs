//! `images` (`image ls`): one row per name, `<none>` rows for dangling images, newest first;
//! docker's filters and `--format`.

use super::format::{human_size, Template};
use super::resolve::{repo_and_tag, resolve, short_id};
use super::s;
use crate::cli::ImagesArgs;
use crate::env::Env;
use berth_image::metadata::StoredImage;
use berth_image::snapshot::Snapshotter;
use berth_image::timestamp;
use berth_image::ContentStore;
use serde_json::{json, Map, Value};

/// The image config (an empty object if it cannot be read).
pub fn config_of(store: &ContentStore, img: &StoredImage) -> Value {
    store
        .read(&img.id)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or_else(|| json!({}))
}

/// When the image was made (its config's `created`), else when it came here.
pub fn created_of(cfg: &Value, img: &StoredImage) -> i64 {
    cfg["created"]
        .as_str()
        .and_then(timestamp::parse_rfc3339)
        .unwrap_or(img.added)
}

/// Bytes of its unpacked layers.
pub fn size_of(snaps: &Snapshotter, img: &StoredImage) -> u64 {
    img.chain
        .iter()
        .map(|c| berth_image::gc::disk_usage(&snaps.path(c)))
        .sum()
}

/// Go's path.Match: `*` and `?` never match `/`; `[...]` classes are taken literally.
pub fn glob(pattern: &str, name: &str) -> bool {
    fn m(p: &[char], n: &[char]) -> bool {
        match p.split_first() {
            None => n.is_empty(),
            Some(('*', rest)) => (0..=n.len())
                .take_while(|&i| i == 0 || n[i - 1] != '/')
                .any(|i| m(rest, &n[i..])),
            Some(('?', rest)) => n.first().is_some_and(|c| *c != '/') && m(rest, &n[1..]),
            Some((c, rest)) => n.first() == Some(c) && m(rest, &n[1..]),
        }
    }
    let p: Vec<char> = pattern.chars().collect();
    let n: Vec<char> = name.chars().collect();
    m(&p, &n)
}

struct Filters {
    dangling: Option<bool>,
    references: Vec<String>,
    before: Option<i64>,
    since: Option<i64>,
    labels: Vec<(String, Option<String>)>,
}

fn parse_filters(env: &Env, a: &ImagesArgs) -> Result<Filters, String> {
    let mut f = Filters {
        dangling: None,
        references: a.repository.iter().cloned().collect(),
        before: None,
        since: None,
        labels: Vec::new(),
    };
    let created_of_arg = |v: &str| -> Result<i64, String> {
        let md = env.metadata().map_err(s)?;
        let img = resolve(&md, v)?.image().clone();
        Ok(created_of(&config_of(&env.store().map_err(s)?, &img), &img))
    };
    for spec in &a.filter {
        let (k, v) = spec
            .split_once('=')
            .ok_or_else(|| format!("bad format of filter (expected name=value): {spec}"))?;
        match k {
            "dangling" => {
                f.dangling = Some(match v.to_ascii_lowercase().as_str() {
                    "true" | "1" => true,
                    "false" | "0" => false,
                    _ => return Err(format!("invalid filter 'dangling={v}'")),
                })
            }
            "reference" => f.references.push(v.to_string()),
            "before" => f.before = Some(created_of_arg(v)?),
            "since" => f.since = Some(created_of_arg(v)?),
            "label" => f.labels.push(match v.split_once('=') {
                Some((k, v)) => (k.to_string(), Some(v.to_string())),
                None => (v.to_string(), None),
            }),
            _ => return Err(format!("invalid filter '{k}'")),
        }
    }
    Ok(f)
}

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

pub fn images(env: &Env, a: &ImagesArgs) -> Result<i32, String> {
    let filters = parse_filters(env, a)?;
    let (md, store, snaps) = (
        env.metadata().map_err(s)?,
        env.store().map_err(s)?,
        env.snapshots().map_err(s)?,
    );
    let now = timestamp::now();
    let mut rows: Vec<(i64, Map<String, Value>)> = Vec::new();
    for img in md.images().map_err(s)? {
        if filters.dangling.is_some_and(|d| d != img.dangling()) {
            continue;
        }
        let cfg = config_of(&store, &img);
        let created = created_of(&cfg, &img);
        if filters.before.is_some_and(|b| created >= b)
            || filters.since.is_some_and(|b| created <= b)
        {
            continue;
        }
        let labels = &cfg["config"]["Labels"];
        if !filters.labels.iter().all(|(k, v)| match (&labels[k], v) {
            (Value::String(have), Some(want)) => have == want,
            (Value::String(_), None) => true,
            _ => false,
        }) {
            continue;
        }
        let names: Vec<(String, String)> = if img.dangling() {
            vec![("<none>".into(), "<none>".into())]
        } else {
            img.names.iter().map(|n| repo_and_tag(n)).collect()
        };
        let size = human_size(size_of(&snaps, &img));
        for (repo, tag) in names {
            if !filters.references.is_empty()
                && (img.dangling()
                    || !filters
                        .references
                        .iter()
                        .any(|p| glob(p, &repo) || glob(p, &format!("{repo}:{tag}"))))
            {
                continue;
            }
            let digest = img
                .repo_digests
                .iter()
                .find(|d| super::resolve::familiar(d).split('@').next() == Some(repo.as_str()))
                .and_then(|d| d.split_once('@'))
                .map_or("<none>".to_string(), |(_, d)| d.to_string());
            let row = json!({
                "Containers": "N/A",
                "CreatedAt": timestamp::go_time(created),
                "CreatedSince": timestamp::ago(created, now),
                "Digest": digest,
                "ID": short_id(&img.id, a.no_trunc),
                "Repository": repo,
                "SharedSize": "N/A",
                "Size": size,
                "Tag": tag,
                "UniqueSize": "N/A",
                "VirtualSize": size,
            });
            rows.push((created, row.as_object().expect("object").clone()));
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

#[cfg(test)]
mod tests {
    #[test]
    fn glob_matches_like_go_path_match() {
        use super::glob;
        assert!(glob("busybox", "busybox"));
        assert!(glob("busy*", "busybox"));
        assert!(glob("*:v1", "app:v1"));
        assert!(!glob("*", "team/app"));
        assert!(glob("*/*", "team/app"));
        assert!(glob("b?sybox", "busybox"));
        assert!(!glob("busy", "busybox"));
    }
}
