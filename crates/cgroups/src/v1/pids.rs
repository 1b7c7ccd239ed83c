//! v1 pids controller.

use std::path::Path;

use oci_spec::runtime::LinuxPids;

use crate::error::Result;
use crate::files;
use crate::v2::pids_max_value;

pub(super) fn apply(dir: &Path, p: &LinuxPids) -> Result<()> {
    files::write_in(dir, "pids.max", &pids_max_value(p))
}
