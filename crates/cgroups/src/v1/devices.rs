//! v1 devices: deny everything, then write the rules in order (later rules override).

use std::path::Path;

use oci_spec::runtime::LinuxDeviceCgroup;

use crate::devices::rules;
use crate::error::Result;
use crate::files;

pub(super) fn apply(dir: &Path, list: &[LinuxDeviceCgroup]) -> Result<()> {
    let rules = rules(list)?;
    files::write_in(dir, "devices.deny", "a")?;
    for r in rules {
        let file = if r.allow {
            "devices.allow"
        } else {
            "devices.deny"
        };
        files::write_in(dir, file, &r.v1_line())?;
    }
    Ok(())
}
