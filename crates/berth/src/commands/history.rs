//! `history` (`image history`): docker's table from the config's history, newest first,
//! each entry that made a layer sized by its snapshot; only the top row has an ID.

use super::format::{ellipsis, human_size, Template};
use super::images::config_of;
use super::resolve::{resolve, short_id};
use super::s;
use crate::cli::HistoryArgs;
use crate::env::Env;
use berth_image::timestamp;
use serde_json::{json, Map, Value};

pub fn history(env: &Env, a: &HistoryArgs) -> Result<i32, String> {
    let (md, store, snaps) = (
        env.metadata().map_err(s)?,
        env.store().map_err(s)?,
        env.snapshots().map_err(s)?,
    );
    let img = resolve(&md, &a.image)?.image().clone();
    let cfg = config_of(&store, &img);
    let layer_size = |i: usize| {
        img.chain
            .get(i)
            .map_or(0, |c| berth_image::gc::disk_usage(&snaps.path(c)))
    };
    // (created, created_by, size, comment), oldest first.
    let mut entries: Vec<(Option<i64>, String, u64, String)> = Vec::new();
    match cfg["history"].as_array() {
        Some(h) if !h.is_empty() => {
            let mut layer = 0;
            for e in h {
                let size = if e["empty_layer"].as_bool() == Some(true) {
                    0
                } else {
                    layer += 1;
                    layer_size(layer - 1)
                };
                entries.push((
                    e["created"].as_str().and_then(timestamp::parse_rfc3339),
                    e["created_by"].as_str().unwrap_or("").to_string(),
                    size,
                    e["comment"].as_str().unwrap_or("").to_string(),
                ));
            }
        }
        // No history recorded: one row per layer, as much as is known.
        _ => {
            let created = cfg["created"].as_str().and_then(timestamp::parse_rfc3339);
            for i in 0..img.chain.len() {
                entries.push((created, String::new(), layer_size(i), String::new()));
            }
        }
    }
    let now = timestamp::now();
    let rows: Vec<Map<String, Value>> = entries
        .iter()
        .rev()
        .enumerate()
        .map(|(i, (created, by, size, comment))| {
            let id = if i == 0 {
                short_id(&img.id, a.no_trunc)
            } else {
                "<missing>".into()
            };
            let created = match (created, a.human) {
                (None, _) => "N/A".to_string(),
                (Some(t), true) => timestamp::ago(*t, now),
                (Some(t), false) => timestamp::rfc3339(*t),
            };
            let by = by.replace('\t', " ");
            let by = if a.no_trunc { by } else { ellipsis(&by, 45) };
            let size = if a.human {
                human_size(*size)
            } else {
                size.to_string()
            };
            json!({"ID": id, "CreatedSince": created, "CreatedAt": created, "CreatedBy": by,
                   "Size": size, "Comment": comment})
            .as_object()
            .expect("object")
            .clone()
        })
        .collect();
    let format = if a.quiet {
        "{{.ID}}"
    } else {
        "table {{.ID}}\t{{.CreatedSince}}\t{{.CreatedBy}}\t{{.Size}}\t{{.Comment}}"
    };
    let fields = [
        "ID",
        "CreatedSince",
        "CreatedAt",
        "CreatedBy",
        "Size",
        "Comment",
    ];
    let headers = [
        ("ID", "IMAGE"),
        ("CreatedSince", "CREATED"),
        ("CreatedAt", "CREATED AT"),
        ("CreatedBy", "CREATED BY"),
        ("Size", "SIZE"),
        ("Comment", "COMMENT"),
    ];
    Template::parse(format, &fields)?.print(&rows, &headers)?;
    Ok(0)
}
