//! `berth events`: the engine's event log, past events from `--since` then new ones as they
//! come, until `--until` (or until interrupted), filtered and formatted as docker's.

use super::container::Failure;
use super::format::{FormatError, ObjectTemplate};
use crate::env::Env;
use berth_engine::events::{self, Event, Filter, Window};
use clap::Args;
use std::io::Write;

#[derive(Args, Debug)]
pub struct EventsArgs {
    /// Show all events created since timestamp (RFC 3339, Unix seconds, or a duration
    /// such as 10m)
    #[arg(long)]
    pub since: Option<String>,
    /// Stream events until this timestamp
    #[arg(long)]
    pub until: Option<String>,
    /// Filter: type=, event=, container=, image=, network=, volume=, label=K[=V], scope=
    #[arg(short, long, value_name = "FILTER")]
    pub filter: Vec<String>,
    /// json, or a Go template such as '{{.Type}} {{.Action}}'
    #[arg(long)]
    pub format: Option<String>,
}

/// `untag` and `delete` events of one image removal (`rmi`, `image prune`, `system prune`).
pub fn image_removal_events(env: &Env, r: &berth_image::metadata::Removal) {
    berth_engine::service::images::record_removal_events(&env.root, r);
}

pub fn events(env: &Env, a: &EventsArgs) -> Result<i32, Failure> {
    let window = Window::parse(a.since.as_deref(), a.until.as_deref())?;
    let filter = Filter::parse(&a.filter)?;
    // Events are nested objects (`{{.Actor.ID}}`), rendered as inspect's templates are.
    let template = match a.format.as_deref() {
        None | Some("") => None,
        Some("json") => Some(ObjectTemplate::parse_strict("{{json .}}")?),
        Some(t) => Some(ObjectTemplate::parse_strict(t)?),
    };
    let render = |e: &Event| -> Result<String, FormatError> {
        match &template {
            None => Ok(e.line()),
            Some(t) => t.render(&serde_json::to_value(e).unwrap_or_default()),
        }
    };
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let mut failed = None;
    events::stream(&env.root, window, &filter, &mut |e| match render(e) {
        // A closed pipe (`| head`) ends the stream.
        Ok(line) => writeln!(out, "{line}").is_ok() && out.flush().is_ok(),
        Err(err) => {
            failed = Some(err);
            false
        }
    });
    if let Some(err) = failed {
        return Err(err.into());
    }
    Ok(0)
}
