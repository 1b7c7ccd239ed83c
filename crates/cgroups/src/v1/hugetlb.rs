//! v1 hugetlb: hugetlb.<size>.limit_in_bytes (+ .rsvd.limit_in_bytes when present).

use std::collections::BTreeMap;
use std::path::Path;

use oci_spec::runtime::LinuxHugepageLimit;

use crate::error::Result;
use crate::files;
use crate::stats::{hugepage_sizes, HugetlbStats};
use crate::v2::hugetlb::check_page_size;

pub(super) fn apply(dir: &Path, limits: &[LinuxHugepageLimit]) -> Result<()> {
    let mut skip_rsvd = false;
    for l in limits {
        check_page_size(l.page_size())?;
        let value = l.limit().to_string();
        let size = l.page_size();
        files::write_in(dir, &format!("hugetlb.{size}.limit_in_bytes"), &value)?;
        if skip_rsvd {
            continue;
        }
        if let Err(e) = files::write_in(dir, &format!("hugetlb.{size}.rsvd.limit_in_bytes"), &value)
        {
            if !e.is_not_found() {
                return Err(e);
            }
            skip_rsvd = true;
        }
    }
    Ok(())
}

pub(super) fn stats(dir: &Path, out: &mut BTreeMap<String, HugetlbStats>) -> Result<()> {
    for size in hugepage_sizes() {
        let usage = format!("hugetlb.{size}.usage_in_bytes");
        if !files::exists(dir, &usage) {
            continue;
        }
        let s = HugetlbStats {
            usage: files::read_u64_or_zero(dir, &usage)?,
            max: files::read_u64_or_zero(dir, &format!("hugetlb.{size}.max_usage_in_bytes"))?,
            failcnt: files::read_u64_or_zero(dir, &format!("hugetlb.{size}.failcnt"))?,
        };
        out.insert(size, s);
    }
    Ok(())
}
