//! The monitor's entries in the engine's event log (`R/events.jsonl`, see the engine's
//! `events` module): `die` (and `oom` before it) when the container's init ends, then the
//! `unmount` of its volumes, written here so that an exit is recorded exactly once even
//! when no berth command runs after it. Written before `exit.json`: whoever sees the exit
//! record can count on its events.

use serde_json::{Map, Value};
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

/// Attributes the engine left for us (name, image, labels) in the container's dir.
const ACTOR_FILE: &str = "event-actor.json";
/// The container's volumes, `NAME<TAB>DESTINATION<TAB>rw|ro` lines (by the engine).
const VOLUMES_FILE: &str = "event-volumes";

/// A container event with the attributes the engine left and `extra`.
pub fn container(root: &Path, dir: &Path, id: &str, action: &str, extra: &[(&str, String)]) {
    let mut attrs: Map<String, Value> = std::fs::read(dir.join(ACTOR_FILE))
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or_default();
    for (k, v) in extra {
        attrs.insert(k.to_string(), Value::String(v.clone()));
    }
    append(root, "container", action, id, attrs);
}

/// `unmount` of each volume of the container.
pub fn volumes_unmounted(root: &Path, dir: &Path, id: &str) {
    let Ok(text) = std::fs::read_to_string(dir.join(VOLUMES_FILE)) else {
        return;
    };
    for name in text.lines().filter_map(|l| l.split('\t').next()) {
        let mut attrs = Map::new();
        attrs.insert("container".into(), id.into());
        attrs.insert("driver".into(), "local".into());
        append(root, "volume", "unmount", name, attrs);
    }
}

/// Append one event: one write(2) on an O_APPEND descriptor, so it never interleaves with
/// another process's line.
fn append(root: &Path, kind: &str, action: &str, id: &str, attrs: Map<String, Value>) {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as i64)
        .unwrap_or(0);
    let mut ev = Map::new();
    if kind == "container" {
        ev.insert("status".into(), action.into());
        ev.insert("id".into(), id.into());
        if let Some(image) = attrs.get("image") {
            ev.insert("from".into(), image.clone());
        }
    }
    ev.insert("Type".into(), kind.into());
    ev.insert("Action".into(), action.into());
    let mut actor = Map::new();
    actor.insert("ID".into(), id.into());
    actor.insert("Attributes".into(), Value::Object(attrs));
    ev.insert("Actor".into(), Value::Object(actor));
    ev.insert("scope".into(), "local".into());
    ev.insert("time".into(), (now / 1_000_000_000).into());
    ev.insert("timeNano".into(), now.into());
    let mut line = Value::Object(ev).to_string().into_bytes();
    line.push(b'\n');
    let f = std::fs::OpenOptions::new()
        .append(true)
        .create(true)
        .mode(0o600)
        .open(root.join("events.jsonl"));
    if let Ok(mut f) = f {
        // A full disk loses the event, never the exit record that follows.
        if f.write(&line).is_ok_and(|n| n != line.len()) {
            let _ = f.write(b"\n");
        }
    }
}
