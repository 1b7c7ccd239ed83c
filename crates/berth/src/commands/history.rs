//! `history` (`image history`): docker's table of the engine's image history, newest
//! first; only the top row has an ID.

use super::format::{ellipsis, human_size, Template};
use super::s;
use crate::cli::HistoryArgs;
use crate::env::Env;
use berth_image::timestamp;
use serde_json::{json, Map, Value};

pub fn history(env: &Env, a: &HistoryArgs) -> Result<i32, String> {
    let e = berth_engine::Engine::open_only(&env.root).map_err(s)?;
    let entries = berth_engine::service::images::history(&e, &a.image).map_err(s)?;
    let now = timestamp::now();
    let rows: Vec<Map<String, Value>> = entries
        .iter()
        .map(|h| {
            let id = match h.id.strip_prefix("sha256:") {
                Some(_) if a.no_trunc => h.id.clone(),
                Some(hex) => hex[..12.min(hex.len())].to_string(),
                None => h.id.clone(),
            };
            let created = match (h.created, a.human) {
                (0, _) => "N/A".to_string(),
                (t, true) => timestamp::ago(t, now),
                (t, false) => timestamp::rfc3339(t),
            };
            let by = h.created_by.replace('\t', " ");
            let by = if a.no_trunc { by } else { ellipsis(&by, 45) };
            let size = if a.human {
                human_size(h.size as u64)
            } else {
                h.size.to_string()
            };
            json!({"ID": id, "CreatedSince": created, "CreatedAt": created, "CreatedBy": by,
                   "Size": size, "Comment": h.comment})
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
