//! `container prune` (and the containers part of `system prune`): every stopped container
//! (created, exited or dead) that the filters keep is removed, its volumes released but
//! kept, as Docker does.

use super::Engine;
use crate::logs::Nanos;
use crate::store::State;
use crate::{Error, Result};

/// `--filter until=TIME`, `label=K[=V]`, `label!=K[=V]`.
#[derive(Debug, Clone, Default)]
pub struct PruneFilter {
    /// Only containers created before this time.
    until: Option<Nanos>,
    /// (key, value, wanted): a label that must (or must not) be there.
    labels: Vec<(String, Option<String>, bool)>,
}

impl PruneFilter {
    pub fn parse(items: &[String]) -> Result<PruneFilter> {
        let mut f = PruneFilter::default();
        for item in items {
            let Some((k, v)) = item.split_once('=') else {
                return Err(Error::InvalidArgument(
                    "bad format of filter (expected name=value)".into(),
                ));
            };
            match k {
                "until" => f.until = Some(crate::logs::parse_time("until", v, crate::logs::now())?),
                "label" | "label!" => {
                    let (key, val) = match v.split_once('=') {
                        Some((a, b)) => (a.to_string(), Some(b.to_string())),
                        None => (v.to_string(), None),
                    };
                    f.labels.push((key, val, k == "label"));
                }
                _ => return Err(Error::InvalidArgument(format!("Invalid filter '{k}'"))),
            }
        }
        Ok(f)
    }

    fn keeps(&self, r: &crate::store::Row) -> bool {
        if let Some(until) = self.until {
            match crate::logs::parse_rfc3339_nanos(&r.created) {
                Some(t) if t < until => {}
                _ => return false,
            }
        }
        let labels = super::options_of(r).labels;
        self.labels.iter().all(|(k, v, wanted)| {
            let has = match v {
                Some(v) => labels.get(k) == Some(v),
                None => labels.contains_key(k),
            };
            has == *wanted
        })
    }
}

/// What a prune removed: container IDs and the bytes their writable layers held.
#[derive(Debug, Clone, Default)]
pub struct Pruned {
    pub ids: Vec<String>,
    pub bytes: u64,
}

impl Engine {
    pub fn prune_containers(&self, filter: &PruneFilter) -> Result<Pruned> {
        let mut out = Pruned::default();
        for r in self.list()? {
            if !matches!(r.state, State::Created | State::Exited | State::Dead) {
                continue;
            }
            if !filter.keeps(&r) {
                continue;
            }
            let size = berth_image::gc::disk_usage(&self.dir(&r.id).join("upper"));
            match self.remove(&r.id, false, false) {
                Ok(_) => {
                    out.ids.push(r.id);
                    out.bytes += size;
                }
                // Started or removed by someone else meanwhile: not ours to remove.
                Err(Error::Conflict(_) | Error::NotFound { .. }) => {}
                Err(err) => return Err(err),
            }
        }
        self.event(
            "container",
            "prune",
            "",
            &[("reclaimed", &out.bytes.to_string())],
        );
        Ok(out)
    }
}
