//! io.weight (or io.bfq.weight) and io.max, and io.stat.

use std::path::Path;

use oci_spec::runtime::{LinuxBlockIo, LinuxThrottleDevice};

use super::convert::blkio_weight_to_io_weight;
use crate::error::Result;
use crate::files;
use crate::stats::{parse_dev, BlkioEntry, BlkioStats};

fn throttles(b: &LinuxBlockIo) -> [(&'static str, &Option<Vec<LinuxThrottleDevice>>); 4] {
    [
        ("rbps", b.throttle_read_bps_device()),
        ("wbps", b.throttle_write_bps_device()),
        ("riops", b.throttle_read_iops_device()),
        ("wiops", b.throttle_write_iops_device()),
    ]
}

pub(super) fn wanted(b: &LinuxBlockIo) -> bool {
    matches!(b.weight(), Some(w) if w != 0)
        || b.weight_device().as_ref().is_some_and(|v| !v.is_empty())
        || throttles(b)
            .iter()
            .any(|(_, v)| v.as_ref().is_some_and(|v| !v.is_empty()))
}

/// io.max line: "8:0 rbps=1048576"; rate 0 removes the limit ("max"), as in cgroup v1.
pub(crate) fn io_max_line(key: &str, t: &LinuxThrottleDevice) -> String {
    let rate = if t.rate() == 0 {
        "max".to_string()
    } else {
        t.rate().to_string()
    };
    format!("{}:{} {key}={rate}", t.major(), t.minor())
}

/// leafWeight has no v2 equivalent and is ignored.
pub(super) fn apply(dir: &Path, b: &LinuxBlockIo) -> Result<()> {
    // With the BFQ scheduler, io.bfq.weight takes the v1 range (1..1000) directly.
    let bfq = files::exists(dir, "io.bfq.weight");
    if let Some(w) = b.weight().filter(|w| *w != 0) {
        if bfq {
            files::write_in(dir, "io.bfq.weight", &w.to_string())?;
        } else {
            files::write_in(dir, "io.weight", &blkio_weight_to_io_weight(w).to_string())?;
        }
    }
    for wd in b.weight_device().iter().flatten() {
        let Some(w) = wd.weight().filter(|w| *w != 0) else {
            continue;
        };
        if bfq {
            let line = format!("{}:{} {w}", wd.major(), wd.minor());
            files::write_in(dir, "io.bfq.weight", &line)?;
        } else {
            let line = format!(
                "{}:{} {}",
                wd.major(),
                wd.minor(),
                blkio_weight_to_io_weight(w)
            );
            files::write_in(dir, "io.weight", &line)?;
        }
    }
    for (key, list) in throttles(b) {
        for t in list.iter().flatten() {
            files::write_in(dir, "io.max", &io_max_line(key, t))?;
        }
    }
    Ok(())
}

/// io.stat "8:0 rbytes=1 wbytes=2 rios=3 wios=4 ..." -> v1-shaped Read/Write entries.
pub(super) fn stats(dir: &Path, out: &mut BlkioStats) -> Result<()> {
    let Some(stat) = files::read_opt(dir, "io.stat")? else {
        return Ok(());
    };
    parse_io_stat(&stat, out);
    Ok(())
}

pub(crate) fn parse_io_stat(stat: &str, out: &mut BlkioStats) {
    for line in stat.lines() {
        let mut fields = line.split_whitespace();
        let Some((major, minor)) = fields.next().and_then(parse_dev) else {
            continue;
        };
        for kv in fields {
            let Some((k, v)) = kv.split_once('=') else {
                continue;
            };
            let Ok(value) = v.parse::<u64>() else {
                continue;
            };
            let (table, op) = match k {
                "rbytes" => (&mut out.io_service_bytes_recursive, "Read"),
                "wbytes" => (&mut out.io_service_bytes_recursive, "Write"),
                "rios" => (&mut out.io_serviced_recursive, "Read"),
                "wios" => (&mut out.io_serviced_recursive, "Write"),
                _ => continue,
            };
            table.push(BlkioEntry {
                major,
                minor,
                op: op.to_string(),
                value,
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn io_stat_is_mapped_to_v1_tables() {
        let mut s = BlkioStats::default();
        parse_io_stat(
            "254:0 rbytes=4096 wbytes=8192 rios=1 wios=2 dbytes=0 dios=0\n",
            &mut s,
        );
        assert_eq!(s.io_service_bytes_recursive.len(), 2);
        assert_eq!(s.io_service_bytes_recursive[1].op, "Write");
        assert_eq!(s.io_service_bytes_recursive[1].value, 8192);
        assert_eq!(s.io_serviced_recursive[0].major, 254);
        assert_eq!(s.io_serviced_recursive[0].value, 1);
    }
}
