//! `search TERM`: docker's table of an index's search results (Docker Hub's, or the index
//! the term names, `host:5000/name`).

use super::format::{ellipsis, Template};
use super::s;
use crate::cli::SearchArgs;
use berth_engine::service::Filters;
use serde_json::{json, Map, Value};

pub fn search(a: &SearchArgs) -> Result<i32, String> {
    let filters = Filters::from_cli(&a.filter).map_err(s)?;
    let found = berth_engine::service::images::search(&a.term, a.limit, &filters).map_err(s)?;
    let rows: Vec<Map<String, Value>> = found
        .iter()
        .map(|r| {
            let description = r.description.replace('\n', " ");
            let description = if a.no_trunc {
                description
            } else {
                ellipsis(&description, 45)
            };
            let flag = |b: bool| if b { "[OK]" } else { "" };
            json!({"Name": r.name, "Description": description, "StarCount": r.star_count,
                   "IsOfficial": flag(r.is_official), "IsAutomated": flag(r.is_automated)})
            .as_object()
            .expect("object")
            .clone()
        })
        .collect();
    let format = a.format.as_deref().unwrap_or(
        "table {{.Name}}\t{{.Description}}\t{{.StarCount}}\t{{.IsOfficial}}\t{{.IsAutomated}}",
    );
    let fields = [
        "Name",
        "Description",
        "StarCount",
        "IsOfficial",
        "IsAutomated",
    ];
    let headers = [
        ("Name", "NAME"),
        ("Description", "DESCRIPTION"),
        ("StarCount", "STARS"),
        ("IsOfficial", "OFFICIAL"),
        ("IsAutomated", "AUTOMATED"),
    ];
    Template::parse(format, &fields)?.print(&rows, &headers)?;
    Ok(0)
}
