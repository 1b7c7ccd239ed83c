//! `volume ls --filter`: `dangling=true|false`, `name=SUBSTRING`, `label=KEY[=VALUE]`,
//! `driver=local`. Values of one key are alternatives (any may match); different keys must
//! all match, as Docker's filters.

use super::Volume;
use crate::{Error, Result};

#[derive(Debug, Default, Clone)]
pub struct VolumeFilter {
    pub dangling: Option<bool>,
    pub names: Vec<String>,
    pub labels: Vec<(String, Option<String>)>,
    pub drivers: Vec<String>,
}

impl VolumeFilter {
    /// From `--filter` values.
    pub fn parse(args: &[String]) -> Result<VolumeFilter> {
        let mut f = VolumeFilter::default();
        for a in args {
            let Some((k, v)) = a.split_once('=') else {
                return Err(Error::InvalidArgument(format!(
                    "bad format of filter (expected name=value): {a}"
                )));
            };
            match k.trim().to_ascii_lowercase().as_str() {
                "dangling" => {
                    f.dangling = Some(match v {
                        "true" | "1" => true,
                        "false" | "0" => false,
                        _ => {
                            return Err(Error::InvalidArgument(format!(
                                "invalid filter 'dangling={v}'"
                            )))
                        }
                    })
                }
                "name" => f.names.push(v.into()),
                "label" => f.labels.push(match v.split_once('=') {
                    Some((k, v)) => (k.into(), Some(v.into())),
                    None => (v.into(), None),
                }),
                "driver" => f.drivers.push(v.into()),
                _ => return Err(Error::InvalidArgument(format!("invalid filter '{k}'"))),
            }
        }
        Ok(f)
    }

    pub fn matches(&self, v: &Volume) -> bool {
        if let Some(d) = self.dangling {
            if d != v.users.is_empty() {
                return false;
            }
        }
        if !self.names.is_empty() && !self.names.iter().any(|n| v.name.contains(n.as_str())) {
            return false;
        }
        if !self.drivers.is_empty() && !self.drivers.iter().any(|d| d == "local") {
            return false;
        }
        self.labels
            .iter()
            .all(|(k, want)| match (v.labels.get(k), want) {
                (Some(_), None) => true,
                (Some(have), Some(want)) => have == want,
                (None, _) => false,
            })
    }
}
