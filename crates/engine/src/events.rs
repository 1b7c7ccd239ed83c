//! The event log behind `berth events`: `R/events.jsonl`, one JSON object per line in Docker's
//! event shape (`Type`, `Action`, `Actor{ID, Attributes}`, `scope`, `time`, `timeNano`, and
//! the older `status`/`id`/`from` for containers and images).
//!
//! Every berth process (and every container's monitor, for `die` and `oom`) appends to it
//! with one write(2) on an O_APPEND descriptor, so lines from concurrent writers never
//! interleave: a line is kept well under 4 KiB (long attributes are cut). There is no daemon
//! to hold events in memory as dockerd does; the file is the history. It stays bounded: once
//! it passes [`MAX_FILE`] a writer renames it to `events.jsonl.1` (replacing the previous
//! one) under `events.lock`, so at most two files' worth is kept. A writer that opened the
//! old file just before the rename lands its line there, where readers still look.
//!
//! Readers ([`read`], [`Follower`]) read `events.jsonl.1` then `events.jsonl`, skip lines
//! that do not parse (a crash mid-write on a full disk), and follow a rotation by noticing
//! that the path names another inode.

use crate::logs::Nanos;
use crate::{Error, Result};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fs::File;
use std::io::{Read, Write};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

pub const FILE: &str = "events.jsonl";
const ROTATED: &str = "events.jsonl.1";
const LOCK: &str = "events.lock";
/// Size at which the log is rotated.
pub const MAX_FILE: u64 = 8 << 20;
/// The longest attribute value kept (a line must stay one atomic append).
const MAX_VALUE: usize = 256;
/// The most attributes kept (container labels can be many).
const MAX_ATTRIBUTES: usize = 32;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Actor {
    #[serde(rename = "ID")]
    pub id: String,
    #[serde(rename = "Attributes", default)]
    pub attributes: BTreeMap<String, String>,
}

/// One event, as Docker's `/events` streams it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    #[serde(rename = "Type")]
    pub kind: String,
    #[serde(rename = "Action")]
    pub action: String,
    #[serde(rename = "Actor")]
    pub actor: Actor,
    pub scope: String,
    pub time: i64,
    #[serde(rename = "timeNano")]
    pub time_nano: i64,
}

impl Event {
    /// An event of now. Containers and images also get Docker's older `status`, `id` and
    /// `from` fields, which some clients still read.
    pub fn new(kind: &str, action: &str, id: &str, attributes: BTreeMap<String, String>) -> Event {
        let now = crate::logs::now() as i64;
        let legacy = matches!(kind, "container" | "image");
        let mut attributes = attributes;
        if attributes.len() > MAX_ATTRIBUTES {
            // Keep the ones filters and the default line use first.
            let keep: Vec<String> = attributes.keys().cloned().collect();
            for k in keep.into_iter().rev() {
                if attributes.len() <= MAX_ATTRIBUTES {
                    break;
                }
                if !matches!(k.as_str(), "name" | "image" | "exitCode" | "signal") {
                    attributes.remove(&k);
                }
            }
        }
        for v in attributes.values_mut() {
            if v.len() > MAX_VALUE {
                let mut cut = MAX_VALUE;
                while !v.is_char_boundary(cut) {
                    cut -= 1;
                }
                v.truncate(cut);
            }
        }
        Event {
            status: legacy.then(|| action.to_string()),
            id: legacy.then(|| id.to_string()),
            from: (kind == "container")
                .then(|| attributes.get("image").cloned())
                .flatten(),
            kind: kind.to_string(),
            action: action.to_string(),
            actor: Actor {
                id: id.to_string(),
                attributes,
            },
            scope: "local".into(),
            time: now / 1_000_000_000,
            time_nano: now,
        }
    }

    /// Docker's default line: `TIME TYPE ACTION ID (k=v, k=v)`, the time in UTC with nine
    /// digits, the attributes sorted by key.
    pub fn line(&self) -> String {
        let mut s = format!(
            "{} {} {} {}",
            crate::logs::format_rfc3339_nanos(self.time_nano as Nanos),
            self.kind,
            self.action,
            self.actor.id
        );
        if !self.actor.attributes.is_empty() {
            let attrs: Vec<String> = self
                .actor
                .attributes
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect();
            s.push_str(&format!(" ({})", attrs.join(", ")));
        }
        s
    }
}

/// `R/events.jsonl`.
pub fn path(root: &Path) -> PathBuf {
    root.join(FILE)
}

/// Append `ev` to the log of data root `root` (one write), rotating it when it is full.
pub fn append(root: &Path, ev: &Event) -> Result<()> {
    let mut line = serde_json::to_vec(ev).map_err(|e| Error::InvalidArgument(e.to_string()))?;
    line.push(b'\n');
    let p = path(root);
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .create(true)
        .mode(0o600)
        .open(&p)
        .map_err(|e| Error::io("open", &p, e))?;
    // One write(2): O_APPEND places it whole at the end, whoever else is writing.
    let n = f.write(&line).map_err(|e| Error::io("append to", &p, e))?;
    if n != line.len() {
        // Out of space part-way: end the torn line so the next one starts clean.
        let _ = f.write(b"\n");
    }
    if f.metadata().map(|m| m.len()).unwrap_or(0) > MAX_FILE {
        rotate(root, &f);
    }
    Ok(())
}

/// Record an event, never failing the operation it describes: a log that cannot be written
/// (a full disk) loses the event, not the container.
pub fn record(root: &Path, kind: &str, action: &str, id: &str, attrs: BTreeMap<String, String>) {
    let _ = append(root, &Event::new(kind, action, id, attrs));
}

/// `events.jsonl` -> `events.jsonl.1`, once, by whoever holds the lock and still sees the
/// full file (`written` is the writer's descriptor of it).
fn rotate(root: &Path, written: &File) {
    let lock = match std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(root.join(LOCK))
    {
        Ok(l) => l,
        Err(_) => return,
    };
    use std::os::fd::AsRawFd;
    // SAFETY: flock on a descriptor we own; no memory is passed.
    if unsafe { libc::flock(lock.as_raw_fd(), libc::LOCK_EX) } != 0 {
        return;
    }
    let p = path(root);
    let same = match (written.metadata(), std::fs::metadata(&p)) {
        (Ok(a), Ok(b)) => a.ino() == b.ino() && a.dev() == b.dev() && b.len() > MAX_FILE,
        _ => false,
    };
    if same {
        let _ = std::fs::rename(&p, root.join(ROTATED));
    }
    // The lock goes with `lock`.
}

/// The attributes of a container's events: its name, image and labels, as Docker's.
pub fn container_attributes(
    name: &str,
    image: &str,
    labels: &BTreeMap<String, String>,
) -> BTreeMap<String, String> {
    let mut a: BTreeMap<String, String> = labels.clone();
    a.insert("name".into(), name.to_string());
    a.insert("image".into(), image.to_string());
    a
}

/// A container's actor attributes for its monitor, which writes `die` and `oom` itself
/// (it knows neither the name nor the image): `R/containers/<id>/event-actor.json`.
pub const ACTOR_FILE: &str = "event-actor.json";

impl crate::Engine {
    /// Record a container event with its name, image and labels and `extra` attributes.
    pub fn container_event(&self, r: &crate::store::Row, action: &str, extra: &[(&str, &str)]) {
        let o = crate::container::options_of(r);
        let mut a = container_attributes(&r.name, &r.image, &o.labels);
        for (k, v) in extra {
            a.insert(k.to_string(), v.to_string());
        }
        record(&self.root, "container", action, &r.id, a);
    }

    /// Write the attributes the monitor puts on the events it records.
    pub fn write_event_actor(&self, r: &crate::store::Row) {
        let o = crate::container::options_of(r);
        let a = container_attributes(&r.name, &r.image, &o.labels);
        // Cut as every event's attributes are: the monitor's line must stay one write.
        let a = Event::new("container", "", &r.id, a).actor.attributes;
        if let Ok(b) = serde_json::to_vec(&a) {
            let _ = crate::container::create::write_atomic(&self.dir(&r.id).join(ACTOR_FILE), &b);
        }
    }

    /// Record an event of another kind (image, network, volume).
    pub fn event(&self, kind: &str, action: &str, id: &str, attrs: &[(&str, &str)]) {
        let a = attrs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        record(&self.root, kind, action, id, a);
    }
}

/// The volumes a container mounts, one `NAME<TAB>DESTINATION<TAB>rw|ro` line each, for the
/// `mount` events of its starts and the `unmount` its monitor records when it ends:
/// `R/containers/<id>/event-volumes` (absent when it mounts none).
pub const VOLUMES_FILE: &str = "event-volumes";

impl crate::Engine {
    /// Note the named and anonymous volumes in container `id`'s spec (at create).
    pub(crate) fn write_event_volumes(&self, id: &str, spec: &oci_spec::runtime::Spec) {
        let volumes = self.root.join("volumes");
        let mut lines = String::new();
        for m in spec.mounts().iter().flatten() {
            let Some(name) = m
                .source()
                .as_ref()
                .and_then(|s| s.strip_prefix(&volumes).ok())
                .and_then(|rest| rest.components().next())
            else {
                continue;
            };
            let ro = m.options().iter().flatten().any(|o| o == "ro");
            lines.push_str(&format!(
                "{}\t{}\t{}\n",
                name.as_os_str().to_string_lossy(),
                m.destination().display(),
                if ro { "ro" } else { "rw" }
            ));
        }
        if !lines.is_empty() {
            let _ = std::fs::write(self.dir(id).join(VOLUMES_FILE), lines);
        }
    }

    /// `mount` events of the volumes container `id` mounts (at each start).
    pub(crate) fn volume_mount_events(&self, id: &str) {
        let Ok(text) = std::fs::read_to_string(self.dir(id).join(VOLUMES_FILE)) else {
            return;
        };
        for line in text.lines() {
            let mut f = line.split('\t');
            let (Some(name), Some(dest), Some(mode)) = (f.next(), f.next(), f.next()) else {
                continue;
            };
            let attrs = [
                ("container", id),
                ("destination", dest),
                ("driver", "local"),
                ("propagation", ""),
                ("read/write", if mode == "rw" { "true" } else { "false" }),
            ];
            self.event("volume", "mount", name, &attrs);
        }
    }
}

/// A volume event (`create`, `destroy`), from the volume store's `R/volumes` dir.
pub(crate) fn volume_event(volumes_dir: &Path, action: &str, name: &str) {
    if let Some(root) = volumes_dir.parent() {
        let attrs = [("driver".to_string(), "local".to_string())].into();
        record(root, "volume", action, name, attrs);
    }
}

/// A network event: `create`/`destroy` of network `id` named `name`, or a container's
/// `connect`/`disconnect` (`container` set).
pub(crate) fn network_event(
    root: &Path,
    action: &str,
    id: &str,
    name: &str,
    container: Option<&str>,
) {
    let mut attrs: BTreeMap<String, String> = [
        ("name".to_string(), name.to_string()),
        ("type".to_string(), "bridge".to_string()),
    ]
    .into();
    if let Some(c) = container {
        attrs.insert("container".into(), c.to_string());
    }
    record(root, "network", action, id, attrs);
}

/// Which events `--filter` keeps: within a key any value matches, across keys all must.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    by: BTreeMap<String, Vec<String>>,
}

const FILTER_KEYS: &[&str] = &[
    "type",
    "event",
    "container",
    "image",
    "network",
    "volume",
    "label",
    "scope",
    "daemon",
];

impl Filter {
    /// `KEY=VALUE` items as `--filter` gives them.
    pub fn parse(items: &[String]) -> Result<Filter> {
        let mut by: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for item in items {
            let Some((k, v)) = item.split_once('=') else {
                return Err(Error::InvalidArgument(
                    "bad format of filter (expected name=value)".into(),
                ));
            };
            let k = k.trim().to_ascii_lowercase();
            if !FILTER_KEYS.contains(&k.as_str()) {
                return Err(Error::InvalidArgument(format!("invalid filter '{k}'")));
            }
            if k == "type"
                && !matches!(
                    v,
                    "container"
                        | "image"
                        | "volume"
                        | "network"
                        | "daemon"
                        | "plugin"
                        | "node"
                        | "service"
                        | "secret"
                        | "config"
                )
            {
                return Err(Error::InvalidArgument(format!(
                    "Invalid filter value: type={v}"
                )));
            }
            by.entry(k).or_default().push(v.to_string());
        }
        Ok(Filter { by })
    }

    fn any(&self, key: &str, f: impl Fn(&str) -> bool) -> bool {
        match self.by.get(key) {
            None => true,
            Some(vs) => vs.iter().any(|v| f(v)),
        }
    }

    pub fn matches(&self, e: &Event) -> bool {
        let a = &e.actor.attributes;
        let name = a.get("name").map(String::as_str).unwrap_or("");
        // An ID, a unique prefix of it, or the name.
        let named = |kind: &str, v: &str| {
            e.kind == kind && (e.actor.id == v || name == v || e.actor.id.starts_with(v))
        };
        self.any("type", |v| e.kind == v)
            && self.any("event", |v| {
                e.action == v || e.action.split(':').next() == Some(v)
            })
            && self.any("scope", |v| e.scope == v)
            && self.any("container", |v| {
                named("container", v)
                    || a.get("container")
                        .is_some_and(|c| c == v || c.starts_with(v))
            })
            && self.any("image", |v| image_matches(e, v))
            && self.any("network", |v| named("network", v))
            && self.any("volume", |v| named("volume", v))
            && self.any("daemon", |_| e.kind == "daemon")
            && self.any("label", |v| match v.split_once('=') {
                Some((k, val)) => a.get(k).is_some_and(|x| x == val),
                None => a.contains_key(v),
            })
    }
}

/// `image=busybox` matches events of `busybox`, `busybox:latest` and `busybox:1.36`;
/// `image=busybox:1.36` only that tag; an image ID matches too.
fn image_matches(e: &Event, want: &str) -> bool {
    let a = &e.actor.attributes;
    let mut candidates: Vec<&str> = Vec::new();
    if let Some(i) = a.get("image") {
        candidates.push(i);
    }
    if e.kind == "image" {
        candidates.push(&e.actor.id);
        if let Some(n) = a.get("name") {
            candidates.push(n);
        }
    }
    let repo = |s: &str| -> String {
        let s = s.split('@').next().unwrap_or(s);
        match s.rfind(':') {
            Some(i) if !s[i..].contains('/') => s[..i].to_string(),
            _ => s.to_string(),
        }
    };
    candidates.into_iter().any(|c| {
        c == want
            || c.strip_prefix("sha256:") == Some(want)
            || (!want.contains(':') && repo(c) == want)
            || (want.ends_with(":latest") && c == want.trim_end_matches(":latest"))
    })
}

/// The bounds of a read: `since` and `until` in nanoseconds (both inclusive).
#[derive(Debug, Clone, Copy, Default)]
pub struct Window {
    pub since: Option<Nanos>,
    pub until: Option<Nanos>,
}

impl Window {
    /// `--since`/`--until` in any of Docker's forms (see [`crate::logs::parse_time`]).
    pub fn parse(since: Option<&str>, until: Option<&str>) -> Result<Window> {
        let now = crate::logs::now();
        let since = since
            .map(|s| crate::logs::parse_time("--since", s, now))
            .transpose()?;
        let until = until
            .map(|s| crate::logs::parse_time("--until", s, now))
            .transpose()?;
        Ok(Window { since, until })
    }

    fn contains(&self, t: Nanos) -> bool {
        self.since.is_none_or(|s| t >= s) && self.until.is_none_or(|u| t <= u)
    }
}

/// Give each complete line read from `r` (after what `partial` holds) to `f` as an event,
/// 64 KiB at a time: memory stays bounded whatever the log's size. Lines that do not parse
/// are skipped. False when `f` asked to stop.
fn each_line(r: &mut dyn Read, partial: &mut Vec<u8>, f: &mut dyn FnMut(Event) -> bool) -> bool {
    let mut buf = vec![0u8; 64 << 10];
    loop {
        let n = match r.read(&mut buf) {
            Ok(0) | Err(_) => return true,
            Ok(n) => n,
        };
        partial.extend_from_slice(&buf[..n]);
        let Some(end) = partial.iter().rposition(|b| *b == b'\n') else {
            continue;
        };
        let complete: Vec<u8> = partial.drain(..=end).collect();
        for line in complete.split(|b| *b == b'\n').filter(|l| !l.is_empty()) {
            if let Ok(ev) = serde_json::from_slice::<Event>(line) {
                if !f(ev) {
                    return false;
                }
            }
        }
    }
}

/// Follows the log from where it was opened: [`Follower::past_each`] gives what is there,
/// [`Follower::poll_each`] what came since, across rotations.
pub struct Follower {
    root: PathBuf,
    file: Option<File>,
    ino: (u64, u64),
    /// The end of a line not yet complete.
    partial: Vec<u8>,
}

fn open_current(root: &Path) -> Option<(File, (u64, u64))> {
    let f = File::open(path(root)).ok()?;
    let m = f.metadata().ok()?;
    Some((f, (m.dev(), m.ino())))
}

impl Follower {
    pub fn open(root: &Path) -> Follower {
        let (file, ino) = match open_current(root) {
            Some((f, i)) => (Some(f), i),
            None => (None, (0, 0)),
        };
        Follower {
            root: root.to_path_buf(),
            file,
            ino,
            partial: Vec::new(),
        }
    }

    /// Every event in the log now, to `f`: the rotated file (unless it is the one we hold,
    /// rotated since we opened it), then ours to its end. False when `f` asked to stop.
    pub fn past_each(&mut self, f: &mut dyn FnMut(Event) -> bool) -> bool {
        let rotated = self.root.join(ROTATED);
        if let Ok(mut old) = File::open(&rotated) {
            let other = old
                .metadata()
                .is_ok_and(|m| self.file.is_none() || (m.dev(), m.ino()) != self.ino);
            if other && !each_line(&mut old, &mut Vec::new(), f) {
                return false;
            }
        }
        self.read_more(f)
    }

    /// [`Follower::past_each`] collected.
    pub fn past(&mut self) -> Vec<Event> {
        let mut out = Vec::new();
        self.past_each(&mut |e| {
            out.push(e);
            true
        });
        out
    }

    fn read_more(&mut self, f: &mut dyn FnMut(Event) -> bool) -> bool {
        match &mut self.file {
            Some(file) => each_line(file, &mut self.partial, f),
            None => true,
        }
    }

    /// What was appended since the last call (and, after a rotation, the new file's lines),
    /// to `f`. False when `f` asked to stop.
    pub fn poll_each(&mut self, f: &mut dyn FnMut(Event) -> bool) -> bool {
        if !self.read_more(f) {
            return false;
        }
        let now = std::fs::metadata(path(&self.root))
            .ok()
            .map(|m| (m.dev(), m.ino()));
        if now.is_some() && now != Some(self.ino) {
            // Rotated (or made for the first time): the old file is complete, read the new
            // one from its start.
            if let Some((file, ino)) = open_current(&self.root) {
                self.file = Some(file);
                self.ino = ino;
                self.partial.clear();
                return self.read_more(f);
            }
        }
        true
    }

    /// [`Follower::poll_each`] collected.
    pub fn poll(&mut self) -> Vec<Event> {
        let mut out = Vec::new();
        self.poll_each(&mut |e| {
            out.push(e);
            true
        });
        out
    }
}

/// The events of `window` that `filter` keeps, in the order they were written.
pub fn read(root: &Path, window: Window, filter: &Filter) -> Vec<Event> {
    let mut out = Vec::new();
    Follower::open(root).past_each(&mut |e| {
        if window.contains(e.time_nano as Nanos) && filter.matches(&e) {
            out.push(e);
        }
        true
    });
    out
}

/// `docker events`: the past events of `window` (when it has a start), then, unless its
/// end has passed, new ones as they come, until its end or until `emit` returns false.
/// Without a start only new events are given, as Docker does: those from the moment the
/// log is opened (one appended while it is read is new, not past).
pub fn stream(root: &Path, window: Window, filter: &Filter, emit: &mut dyn FnMut(&Event) -> bool) {
    stream_while(root, window, filter, emit, &|| true)
}

/// [`stream`] that also ends when `wanted` says so, checked while no event comes (an API
/// client that went away is noticed without waiting for the next event).
pub fn stream_while(
    root: &Path,
    window: Window,
    filter: &Filter,
    emit: &mut dyn FnMut(&Event) -> bool,
    wanted: &dyn Fn() -> bool,
) {
    let mut window = window;
    window.since = window.since.or_else(|| Some(crate::logs::now()));
    let mut give = |e: Event| -> bool {
        !(window.contains(e.time_nano as Nanos) && filter.matches(&e)) || emit(&e)
    };
    let mut f = Follower::open(root);
    if !f.past_each(&mut give) {
        return;
    }
    loop {
        if window.until.is_some_and(|u| crate::logs::now() > u) {
            return;
        }
        if !f.poll_each(&mut give) || !wanted() {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(kind: &str, action: &str, id: &str, attrs: &[(&str, &str)]) -> Event {
        let a = attrs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Event::new(kind, action, id, a)
    }

    #[test]
    fn events_are_lines_in_dockers_shape() {
        let e = ev(
            "container",
            "start",
            "abc",
            &[("name", "web"), ("image", "bb")],
        );
        let v: serde_json::Value = serde_json::to_value(&e).unwrap();
        assert_eq!(v["Type"], "container");
        assert_eq!(v["Action"], "start");
        assert_eq!(v["Actor"]["ID"], "abc");
        assert_eq!(v["Actor"]["Attributes"]["name"], "web");
        assert_eq!(v["status"], "start");
        assert_eq!(v["from"], "bb");
        assert_eq!(v["scope"], "local");
        assert!(e
            .line()
            .ends_with("container start abc (image=bb, name=web)"));
        let n = ev("network", "create", "n1", &[]);
        assert!(serde_json::to_value(&n).unwrap().get("status").is_none());
    }

    #[test]
    fn filters_select_like_docker() {
        let f = |items: &[&str]| {
            Filter::parse(&items.iter().map(|s| s.to_string()).collect::<Vec<_>>()).unwrap()
        };
        let e = ev(
            "container",
            "die",
            "abcdef",
            &[("name", "web"), ("image", "busybox:latest"), ("tier", "x")],
        );
        assert!(f(&["type=container", "event=die"]).matches(&e));
        assert!(f(&["event=start", "event=die"]).matches(&e));
        assert!(!f(&["type=image"]).matches(&e));
        assert!(f(&["container=web"]).matches(&e));
        assert!(f(&["container=abc"]).matches(&e));
        assert!(!f(&["container=other"]).matches(&e));
        assert!(f(&["image=busybox"]).matches(&e));
        assert!(f(&["label=tier"]).matches(&e) && f(&["label=tier=x"]).matches(&e));
        assert!(!f(&["label=tier=y"]).matches(&e));
        let h = ev("container", "health_status: healthy", "a", &[]);
        assert!(f(&["event=health_status"]).matches(&h));
        assert!(Filter::parse(&["bogus=1".to_string()]).is_err());
        assert!(Filter::parse(&["type=bogus".to_string()]).is_err());
        assert!(Filter::parse(&["nokey".to_string()]).is_err());
    }

    #[test]
    fn the_log_is_read_back_across_a_rotation() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        record(root, "volume", "create", "v1", BTreeMap::new());
        let mut fol = Follower::open(root);
        assert_eq!(fol.past().len(), 1);
        // Rotate by hand as a full log would be.
        std::fs::rename(path(root), root.join(ROTATED)).unwrap();
        record(root, "volume", "destroy", "v1", BTreeMap::new());
        let new = fol.poll();
        assert_eq!(new.len(), 1);
        assert_eq!(new[0].action, "destroy");
        let all = read(root, Window::default(), &Filter::default());
        let actions: Vec<&str> = all.iter().map(|e| e.action.as_str()).collect();
        assert_eq!(actions, ["create", "destroy"]);
    }

    #[test]
    fn a_full_log_is_rotated_and_stays_bounded() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        let big = "x".repeat(200);
        let attrs: BTreeMap<String, String> = [("name".to_string(), big)].into();
        let per_line = serde_json::to_vec(&Event::new("volume", "create", "v", attrs.clone()))
            .unwrap()
            .len() as u64;
        let n = (MAX_FILE / per_line) * 2 + 10;
        for _ in 0..n {
            record(root, "volume", "create", "v", attrs.clone());
        }
        let cur = std::fs::metadata(path(root)).unwrap().len();
        let old = std::fs::metadata(root.join(ROTATED)).unwrap().len();
        assert!(cur <= MAX_FILE + per_line && old <= MAX_FILE + per_line);
        let all = read(root, Window::default(), &Filter::default());
        assert_eq!(all.len() as u64, (cur + old) / (per_line + 1));
    }
}
