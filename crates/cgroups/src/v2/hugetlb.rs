//! hugetlb.<size>.max (and .rsvd.max when the kernel has it), and hugetlb statistics.

use std::collections::BTreeMap;
use std::path::Path;

use oci_spec::runtime::LinuxHugepageLimit;

use crate::error::{Error, Result};
use crate::files;
use crate::stats::{hugepage_sizes, HugetlbStats};

/// A page size must look like "2MB": it becomes part of a file name.
pub(crate) fn check_page_size(size: &str) -> Result<()> {
    if size.is_empty() || !size.chars().all(|c| c.is_ascii_alphanumeric()) {
        return Err(Error::invalid(
            "hugepage pageSize",
            size,
            "expected a size like 2MB or 1GB",
        ));
    }
    Ok(())
}

pub(crate) fn apply(dir: &Path, limits: &[LinuxHugepageLimit]) -> Result<()> {
    let mut skip_rsvd = false;
    for l in limits {
        check_page_size(l.page_size())?;
        let value = if l.limit() < 0 {
            "max".to_string()
        } else {
            l.limit().to_string()
        };
        files::write_in(dir, &format!("hugetlb.{}.max", l.page_size()), &value)?;
        if skip_rsvd {
            continue;
        }
        if let Err(e) = files::write_in(dir, &format!("hugetlb.{}.rsvd.max", l.page_size()), &value)
        {
            if !e.is_not_found() {
                return Err(e);
            }
            skip_rsvd = true;
        }
    }
    Ok(())
}

pub(crate) fn stats(dir: &Path, out: &mut BTreeMap<String, HugetlbStats>) -> Result<()> {
    for size in hugepage_sizes() {
        let current = format!("hugetlb.{size}.current");
        if !files::exists(dir, &current) {
            continue;
        }
        let mut s = HugetlbStats {
            usage: files::read_u64_or_zero(dir, &current)?,
            ..Default::default()
        };
        if let Some(ev) = files::read_opt(dir, &format!("hugetlb.{size}.events"))? {
            s.failcnt = files::keyed_value(&ev, "max").unwrap_or(0);
        }
        out.insert(size, s);
    }
    Ok(())
}
