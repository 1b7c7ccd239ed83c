//! `volume ls --filter`: `dangling=true|false`, `name=SUBSTRING`, `label=KEY[=VALUE]`,
//! `driver=local`. Values of one key are alternatives (any may match); different keys must
//! all match, as Docker's filters.

use super::Volume;
use crate::Result;

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
        crate::service::volumes::volume_filter(&crate::service::Filters::from_cli(args)?)
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
