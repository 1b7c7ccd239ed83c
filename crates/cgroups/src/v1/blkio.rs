//! v1 blkio: weight (CFQ or BFQ file names), leaf weight, per-device weights, throttling.

use std::path::Path;

use oci_spec::runtime::{LinuxBlockIo, LinuxThrottleDevice};

use crate::error::Result;
use crate::files;
use crate::stats::{parse_dev, BlkioEntry, BlkioStats};

fn throttles(b: &LinuxBlockIo) -> [(&'static str, &Option<Vec<LinuxThrottleDevice>>); 4] {
    [
        (
            "blkio.throttle.read_bps_device",
            b.throttle_read_bps_device(),
        ),
        (
            "blkio.throttle.write_bps_device",
            b.throttle_write_bps_device(),
        ),
        (
            "blkio.throttle.read_iops_device",
            b.throttle_read_iops_device(),
        ),
        (
            "blkio.throttle.write_iops_device",
            b.throttle_write_iops_device(),
        ),
    ]
}

pub(super) fn wanted(b: &LinuxBlockIo) -> bool {
    matches!(b.weight(), Some(w) if w != 0)
        || matches!(b.leaf_weight(), Some(w) if w != 0)
        || b.weight_device().as_ref().is_some_and(|v| !v.is_empty())
        || throttles(b)
            .iter()
            .any(|(_, v)| v.as_ref().is_some_and(|v| !v.is_empty()))
}

pub(super) fn apply(dir: &Path, b: &LinuxBlockIo) -> Result<()> {
    // CFQ's blkio.weight, else BFQ's blkio.bfq.weight.
    let (weight_file, weight_dev_file) =
        if !files::exists(dir, "blkio.weight") && files::exists(dir, "blkio.bfq.weight") {
            ("blkio.bfq.weight", "blkio.bfq.weight_device")
        } else {
            ("blkio.weight", "blkio.weight_device")
        };
    if let Some(w) = b.weight().filter(|w| *w != 0) {
        files::write_in(dir, weight_file, &w.to_string())?;
    }
    if let Some(w) = b.leaf_weight().filter(|w| *w != 0) {
        files::write_in(dir, "blkio.leaf_weight", &w.to_string())?;
    }
    for wd in b.weight_device().iter().flatten() {
        if let Some(w) = wd.weight().filter(|w| *w != 0) {
            let line = format!("{}:{} {w}", wd.major(), wd.minor());
            files::write_in(dir, weight_dev_file, &line)?;
        }
        if let Some(w) = wd.leaf_weight().filter(|w| *w != 0) {
            let line = format!("{}:{} {w}", wd.major(), wd.minor());
            files::write_in(dir, "blkio.leaf_weight_device", &line)?;
        }
    }
    for (file, list) in throttles(b) {
        for t in list.iter().flatten() {
            let line = format!("{}:{} {}", t.major(), t.minor(), t.rate());
            files::write_in(dir, file, &line)?;
        }
    }
    Ok(())
}

/// "8:0 Read 4096" lines ("Total N" lines skipped).
fn parse_entries(content: &str) -> Vec<BlkioEntry> {
    content
        .lines()
        .filter_map(|l| {
            let mut f = l.split_whitespace();
            let (major, minor) = parse_dev(f.next()?)?;
            let op = f.next()?.to_string();
            let value = f.next()?.parse().ok()?;
            Some(BlkioEntry {
                major,
                minor,
                op,
                value,
            })
        })
        .collect()
}

/// Bytes and ios from the first of CFQ, BFQ, throttle files that has data (as runc).
pub(super) fn stats(dir: &Path, out: &mut BlkioStats) -> Result<()> {
    for prefix in ["blkio.", "blkio.bfq.", "blkio.throttle."] {
        let Some(bytes) = files::read_opt(dir, &format!("{prefix}io_service_bytes_recursive"))?
        else {
            continue;
        };
        let bytes = parse_entries(&bytes);
        if bytes.is_empty() && prefix != "blkio.throttle." {
            continue;
        }
        out.io_service_bytes_recursive = bytes;
        if let Some(ios) = files::read_opt(dir, &format!("{prefix}io_serviced_recursive"))? {
            out.io_serviced_recursive = parse_entries(&ios);
        }
        break;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_blkio_lines() {
        let e = parse_entries("8:0 Read 4096\n8:0 Write 0\nTotal 4096\n");
        assert_eq!(e.len(), 2);
        assert_eq!(e[0].op, "Read");
        assert_eq!(e[0].value, 4096);
    }
}
