//! Images as Docker's `/images` endpoints show and change them: the list (`images`), the
//! ImageInspect document, the history, removal with Docker's conflict rules, and tags.
//! An IMAGE argument is looked up as Docker does ([`resolve`]).

use super::filters::{parse_bool, Filters};
use crate::{Engine, Error, Result};
use berth_image::metadata::{Metadata, Removal, StoredImage};
use berth_image::snapshot::Snapshotter;
use berth_image::{timestamp, ContentStore, Digest, Reference};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::collections::BTreeMap;

/// The filters `list` knows.
pub const FILTERS: &[&str] = &["dangling", "reference", "before", "since", "label"];

/// What an IMAGE argument names.
pub enum Target {
    /// A name (full form) and the image it points at.
    Name(String, StoredImage),
    /// A repository digest (full form) and its image.
    RepoDigest(String, StoredImage),
    Id(StoredImage),
}

impl Target {
    pub fn image(&self) -> &StoredImage {
        match self {
            Target::Name(_, i) | Target::RepoDigest(_, i) | Target::Id(i) => i,
        }
    }
}

fn is_hex(x: &str) -> bool {
    !x.is_empty()
        && x.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// Look `arg` up as Docker does: a full ID (`sha256:<hex>` or 64 hex), a name (`busybox` =
/// `docker.io/library/busybox:latest`), a repository digest (`busybox@sha256:...`), else a
/// unique prefix of an ID.
pub fn resolve(md: &Metadata, arg: &str) -> Result<Target> {
    let no_such = || Error::NotFound {
        kind: "image",
        name: arg.to_string(),
    };
    let hex = arg.strip_prefix("sha256:").unwrap_or(arg);
    if hex.len() == 64 && is_hex(hex) {
        let id: Digest = format!("sha256:{hex}").parse()?;
        return md.image(&id)?.map(Target::Id).ok_or_else(no_such);
    }
    if let Ok(r) = arg.parse::<Reference>() {
        let full = r.to_string();
        if r.digest().is_some() {
            if let Some(id) = md.by_repo_digest(&full)? {
                if let Some(img) = md.image(&id)? {
                    return Ok(Target::RepoDigest(full, img));
                }
            }
        } else if let Some(rec) = md.get(&full)? {
            if let Some(img) = md.image(&rec.config)? {
                return Ok(Target::Name(full, img));
            }
        }
    }
    if is_hex(hex) {
        let ids = md.ids_with_prefix(hex)?;
        match ids.as_slice() {
            [id] => return md.image(id)?.map(Target::Id).ok_or_else(no_such),
            [] => {}
            _ => {
                return Err(Error::InvalidArgument(format!(
                    "image ID prefix {arg} is ambiguous ({} images)",
                    ids.len()
                )))
            }
        }
    }
    Err(no_such())
}

/// The short form Docker shows for a full name (`busybox:latest`).
pub fn familiar(full: &str) -> String {
    full.parse::<Reference>()
        .map(|r| r.familiar())
        .unwrap_or_else(|_| full.to_string())
}

/// `(repository, tag)` in familiar form; `<none>` for a digest-only name.
pub fn repo_and_tag(full: &str) -> (String, String) {
    match full.parse::<Reference>() {
        Ok(r) => {
            let f = r.familiar();
            let repo = f.split('@').next().unwrap_or(&f);
            let repo = match r.tag() {
                Some(t) => repo.strip_suffix(&format!(":{t}")).unwrap_or(repo),
                None => repo,
            };
            (repo.to_string(), r.tag().unwrap_or("<none>").to_string())
        }
        Err(_) => (full.to_string(), "<none>".into()),
    }
}

/// 12 hex digits of an ID, or the whole `sha256:...` with `no_trunc`.
pub fn short_id(id: &Digest, no_trunc: bool) -> String {
    if no_trunc {
        id.to_string()
    } else {
        id.hex()[..12].to_string()
    }
}

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

/// Bytes of an image's unpacked layers.
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

/// Record an image event (`pull`, `tag`, `untag`, `delete`, `load`, `save`, `import`): `id`
/// is the reference or image ID Docker names, `name` the image name when there is one, both
/// given in their familiar form (`busybox:latest`) as Docker's events give them.
pub fn record_event(root: &std::path::Path, action: &str, id: &str, name: Option<&str>) {
    let mut attrs = BTreeMap::new();
    if let Some(n) = name {
        attrs.insert("name".to_string(), familiar(n));
    }
    let id = match id.starts_with("sha256:") {
        true => id.to_string(),
        false => familiar(id),
    };
    crate::events::record(root, "image", action, &id, attrs);
}

/// `untag` and `delete` events of one image removal (`rmi`, `image prune`, `system prune`).
pub fn record_removal_events(root: &std::path::Path, r: &Removal) {
    for n in &r.untagged {
        record_event(root, "untag", n, Some(n));
    }
    if let Some(img) = &r.deleted {
        record_event(root, "delete", &img.id.to_string(), None);
    }
}

#[derive(Debug, Clone, Default)]
pub struct ListOptions {
    /// Intermediate images too (Berth keeps none: every image is a top-level one).
    pub all: bool,
    /// Show digests (only the CLI's table uses it: the API always gives `RepoDigests`).
    pub digests: bool,
    pub filters: Filters,
}

/// The API's ImageSummary.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ImageSummary {
    /// `sha256:<hex>`.
    pub id: String,
    /// Always empty: Berth's images have no parent image.
    pub parent_id: String,
    /// `busybox:latest`; with a `reference` filter, only the names it matches.
    pub repo_tags: Vec<String>,
    /// `busybox@sha256:...` for images pulled from a registry.
    pub repo_digests: Vec<String>,
    /// Unix seconds: the config's `created`, else when the image came here.
    pub created: i64,
    /// Bytes of the unpacked layers.
    pub size: i64,
    /// -1: not computed (as the daemon without `shared-size`).
    pub shared_size: i64,
    /// The same as `Size` (the API keeps it until v1.44).
    pub virtual_size: i64,
    pub labels: BTreeMap<String, String>,
    /// -1: not computed.
    pub containers: i64,
}

/// The config's labels.
fn labels_of(cfg: &Value) -> BTreeMap<String, String> {
    cfg["config"]["Labels"]
        .as_object()
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string())))
                .collect()
        })
        .unwrap_or_default()
}

/// Check the filters and resolve what they name (`before=IMAGE`, `since=IMAGE`).
struct ImageFilters {
    dangling: Option<bool>,
    references: Vec<String>,
    before: Option<i64>,
    since: Option<i64>,
}

fn image_filters(md: &Metadata, store: &ContentStore, f: &Filters) -> Result<ImageFilters> {
    f.validate(FILTERS)?;
    let created_of_arg = |v: &str| -> Result<i64> {
        let img = resolve(md, v)?.image().clone();
        Ok(created_of(&config_of(store, &img), &img))
    };
    let last = |key: &str| f.get(key).last().map(|s| s.as_str());
    Ok(ImageFilters {
        dangling: last("dangling")
            .map(|v| parse_bool("dangling", v))
            .transpose()?,
        references: f.get("reference").to_vec(),
        before: last("before").map(created_of_arg).transpose()?,
        since: last("since").map(created_of_arg).transpose()?,
    })
}

/// The images `o` selects, newest first.
pub fn list(e: &Engine, o: &ListOptions) -> Result<Vec<ImageSummary>> {
    let (md, store, snaps) = (
        super::metadata(e)?,
        super::content(e)?,
        super::snapshots(e)?,
    );
    let f = image_filters(&md, &store, &o.filters)?;
    let mut out = Vec::new();
    for img in md.images()? {
        if f.dangling.is_some_and(|d| d != img.dangling()) {
            continue;
        }
        let cfg = config_of(&store, &img);
        let created = created_of(&cfg, &img);
        if f.before.is_some_and(|b| created >= b) || f.since.is_some_and(|b| created <= b) {
            continue;
        }
        let labels = labels_of(&cfg);
        if !o.filters.labels_match(&labels) {
            continue;
        }
        let mut repo_tags: Vec<String> = img.names.iter().map(|n| familiar(n)).collect();
        if !f.references.is_empty() {
            // As the daemon: only the names the patterns match, and no image without one.
            repo_tags.retain(|n| {
                let (repo, tag) = repo_and_tag(n);
                f.references
                    .iter()
                    .any(|p| glob(p, &repo) || glob(p, &format!("{repo}:{tag}")))
            });
            if repo_tags.is_empty() {
                continue;
            }
        }
        let size = size_of(&snaps, &img) as i64;
        out.push(ImageSummary {
            id: img.id.to_string(),
            parent_id: String::new(),
            repo_tags,
            repo_digests: img.repo_digests.iter().map(|n| familiar(n)).collect(),
            created,
            size,
            shared_size: -1,
            virtual_size: size,
            labels,
            containers: -1,
        });
    }
    out.sort_by(|x, y| y.created.cmp(&x.created).then_with(|| x.id.cmp(&y.id)));
    Ok(out)
}

/// The ImageInspect document's keys, in the order Docker gives them.
pub fn inspect_fields(e: &Engine, name: &str) -> Result<Vec<(&'static str, Value)>> {
    let (md, store, snaps) = (
        super::metadata(e)?,
        super::content(e)?,
        super::snapshots(e)?,
    );
    let img = resolve(&md, name)?.image().clone();
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

/// Docker's ImageInspect document of one image.
pub fn inspect(e: &Engine, name: &str) -> Result<Value> {
    Ok(Value::Object(
        inspect_fields(e, name)?
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect(),
    ))
}

/// One entry of an image's history, as the API's HistoryResponseItem.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct HistoryItem {
    /// The image ID on the newest entry, `<missing>` on the others.
    pub id: String,
    /// Unix seconds; 0 when unknown.
    pub created: i64,
    pub created_by: String,
    /// The image's names on the newest entry.
    pub tags: Vec<String>,
    /// Bytes of the layer the entry made (0 for an entry that made none).
    pub size: i64,
    pub comment: String,
}

/// The image's history, newest first: the config's history, each entry that made a layer
/// sized by its snapshot (one entry per layer when the config has none).
pub fn history(e: &Engine, name: &str) -> Result<Vec<HistoryItem>> {
    let (md, store, snaps) = (
        super::metadata(e)?,
        super::content(e)?,
        super::snapshots(e)?,
    );
    let img = resolve(&md, name)?.image().clone();
    let cfg = config_of(&store, &img);
    let layer_size = |i: usize| {
        img.chain
            .get(i)
            .map_or(0, |c| berth_image::gc::disk_usage(&snaps.path(c)))
    };
    let entry = |created: Option<i64>, by: &str, size: u64, comment: &str| HistoryItem {
        id: "<missing>".into(),
        created: created.unwrap_or(0),
        created_by: by.to_string(),
        tags: Vec::new(),
        size: size as i64,
        comment: comment.to_string(),
    };
    let mut entries = Vec::new();
    match cfg["history"].as_array() {
        Some(h) if !h.is_empty() => {
            let mut layer = 0;
            for x in h {
                let size = if x["empty_layer"].as_bool() == Some(true) {
                    0
                } else {
                    layer += 1;
                    layer_size(layer - 1)
                };
                entries.push(entry(
                    x["created"].as_str().and_then(timestamp::parse_rfc3339),
                    x["created_by"].as_str().unwrap_or(""),
                    size,
                    x["comment"].as_str().unwrap_or(""),
                ));
            }
        }
        _ => {
            let created = cfg["created"].as_str().and_then(timestamp::parse_rfc3339);
            for i in 0..img.chain.len() {
                entries.push(entry(created, "", layer_size(i), ""));
            }
        }
    }
    entries.reverse();
    if let Some(top) = entries.first_mut() {
        top.id = img.id.to_string();
        top.tags = img.names.iter().map(|n| familiar(n)).collect();
    }
    Ok(entries)
}

/// One line of an image removal's report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum DeleteItem {
    /// A name that went (familiar form).
    Untagged(String),
    /// The image ID, then each layer that went with it.
    Deleted(String),
}

/// Docker's conflict when removing the image would delete one a container is made from.
/// Unlike docker, `force` does not override it: the container's root is an overlay of the
/// image's snapshots, which garbage collection would remove with the image.
fn refuse_if_used(e: &Engine, target: &Target) -> Result<()> {
    let (img, deletes) = match target {
        Target::Id(img) => (img, true),
        Target::Name(_, img) | Target::RepoDigest(_, img) => {
            (img, img.names.len() + img.repo_digests.len() <= 1)
        }
    };
    if !deletes {
        return Ok(());
    }
    let vs = crate::volume::VolumeStore::open(&e.root)?;
    let id = img.id.to_string();
    let Some(c) = vs.containers()?.into_iter().find(|c| c.image_id == id) else {
        return Ok(());
    };
    let how = if c.active() { "running" } else { "stopped" };
    Err(Error::Conflict(format!(
        "conflict: unable to delete {} (cannot be forced) - image is being used by {how} container {}",
        short_id(&img.id, false),
        &c.id[..12.min(c.id.len())]
    )))
}

/// Remove what `name` names, as `docker rmi`: a name loses that name (the image goes with
/// its last one), an ID removes the image (one with names in several repositories only with
/// `force`). `noprune` is accepted for the API: Berth keeps no untagged parent images.
pub fn remove(e: &Engine, name: &str, force: bool, noprune: bool) -> Result<Vec<DeleteItem>> {
    let _ = noprune;
    let md = super::metadata(e)?;
    let target = resolve(&md, name)?;
    refuse_if_used(e, &target)?;
    let removal = match target {
        Target::Name(full, _) => md.remove_name(&full)?,
        Target::RepoDigest(full, img) => {
            md.remove_repo_digest(&full)?;
            let left = md.image(&img.id)?;
            let mut r = Removal {
                untagged: vec![full],
                deleted: None,
            };
            if left.is_some_and(|l| l.names.is_empty() && l.repo_digests.is_empty()) {
                r.deleted = md.remove_image(&img.id)?.and_then(|x| x.deleted);
            }
            Some(r)
        }
        Target::Id(img) => {
            // Docker: by ID, an image with at most one tag, all in one repository, loses its
            // names; more than that needs force.
            let repos: std::collections::BTreeSet<&str> = img
                .names
                .iter()
                .chain(&img.repo_digests)
                .map(|n| berth_image::metadata::repository_of(n))
                .collect();
            if (img.names.len() > 1 || repos.len() > 1) && !force {
                return Err(Error::Conflict(format!(
                    "conflict: unable to delete {} (must be forced) - image is referenced in multiple repositories",
                    short_id(&img.id, false)
                )));
            }
            md.remove_image(&img.id)?
        }
    };
    let r = removal.ok_or_else(|| Error::NotFound {
        kind: "image",
        name: name.to_string(),
    })?;
    finish_removal(e, &md, &r)
}

/// Record the events of a removal, remove the content nothing needs any more, and say what
/// went in Docker's order (names, the image, its layers).
pub fn finish_removal(e: &Engine, md: &Metadata, r: &Removal) -> Result<Vec<DeleteItem>> {
    record_removal_events(&e.root, r);
    let mut out: Vec<DeleteItem> = r
        .untagged
        .iter()
        .map(|n| DeleteItem::Untagged(familiar(n)))
        .collect();
    if let Some(img) = &r.deleted {
        out.push(DeleteItem::Deleted(img.id.to_string()));
        let (store, snaps) = (super::content(e)?, super::snapshots(e)?);
        let freed = berth_image::gc::remove_content(md, &store, &snaps, std::slice::from_ref(img))?;
        out.extend(
            freed
                .snapshots
                .into_iter()
                .map(|c| DeleteItem::Deleted(c.to_string())),
        );
    }
    Ok(out)
}

/// Give the image `source` names the name `target` too.
pub fn tag(e: &Engine, source: &str, target: &str) -> Result<()> {
    let md = super::metadata(e)?;
    let img = resolve(&md, source)?.image().clone();
    let dst: Reference = target.parse()?;
    if dst.digest().is_some() {
        return Err(Error::InvalidArgument(format!(
            "refusing to create a tag with a digest reference: {target}"
        )));
    }
    md.set_name(&dst.to_string(), &img.id)?;
    record_event(&e.root, "tag", &img.id.to_string(), Some(&dst.to_string()));
    Ok(())
}

/// `docker search TERM`: the index the term names (Docker Hub's without one), at most
/// `limit` results (1 to 100; 0: the index's default), filtered by Docker's `is-official`,
/// `is-automated` and `stars` (at least N).
pub fn search(
    term: &str,
    limit: u32,
    filters: &Filters,
) -> Result<Vec<berth_image::registry::search::SearchResult>> {
    if limit > 100 {
        return Err(Error::InvalidArgument(format!(
            "limit {limit} is outside the range of [1, 100]"
        )));
    }
    filters.validate(&["is-official", "is-automated", "stars"])?;
    let want = |key: &str| -> Result<Option<bool>> {
        filters
            .get(key)
            .first()
            .map(|v| parse_bool(key, v))
            .transpose()
    };
    let official = want("is-official")?;
    let automated = want("is-automated")?;
    let stars = match filters.get("stars").first() {
        Some(v) => v
            .parse::<u64>()
            .map_err(|_| Error::InvalidArgument(format!("invalid filter 'stars={v}'")))?,
        None => 0,
    };
    let (index, words) = berth_image::registry::search::split_term(term);
    let creds = berth_image::registry::credentials::load(
        &berth_image::registry::credentials::config_path(),
        &index,
    )?;
    let config = berth_image::registry::config::RegistryConfig::load()?;
    let client = berth_image::registry::client::Client::from_config(config, creds);
    let mut found = client.search(&index, &words, limit)?;
    found.retain(|r| {
        official.is_none_or(|o| r.is_official == o)
            && automated.is_none_or(|a| r.is_automated == a)
            && r.star_count >= stars
    });
    Ok(found)
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
