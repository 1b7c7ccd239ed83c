//! One scan of /proc/self/mountinfo for the cgroup v1 hierarchies.

use std::path::PathBuf;

use crate::error::{Error, Result};

/// Controllers (and named hierarchies) a v1 mount can carry. Other super options
/// (rw, xattr, noprefix, release_agent=, ...) are ignored.
const V1_SUBSYSTEMS: &[&str] = &[
    "cpuset",
    "cpu",
    "cpuacct",
    "blkio",
    "memory",
    "devices",
    "freezer",
    "net_cls",
    "perf_event",
    "net_prio",
    "hugetlb",
    "pids",
    "rdma",
    "misc",
    "debug",
];

/// A mounted cgroup v1 hierarchy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct V1Mount {
    /// e.g. ["cpu", "cpuacct"] or ["name=systemd"].
    pub subsystems: Vec<String>,
    /// e.g. /sys/fs/cgroup/cpu,cpuacct
    pub mount_point: PathBuf,
    /// The cgroup the mount shows as its root (field 4 of mountinfo), usually "/".
    pub root: PathBuf,
}

/// Cgroup v1 hierarchies mounted in this mount namespace (first mount of each wins).
pub(crate) fn v1_mounts() -> Result<Vec<V1Mount>> {
    let path = "/proc/self/mountinfo";
    let text = std::fs::read_to_string(path).map_err(|e| Error::io("read", path, e))?;
    Ok(parse_v1_mounts(&text))
}

/// Parse mountinfo text: a simple line scan; only lines of fstype `cgroup` are split further.
pub(crate) fn parse_v1_mounts(text: &str) -> Vec<V1Mount> {
    let mut out: Vec<V1Mount> = Vec::new();
    for line in text.lines() {
        // "36 25 0:32 / /sys/fs/cgroup/memory rw,relatime shared:15 - cgroup cgroup rw,memory"
        let Some((pre, post)) = line.split_once(" - ") else {
            continue;
        };
        let mut post_fields = post.split(' ');
        if post_fields.next() != Some("cgroup") {
            continue;
        }
        let _source = post_fields.next();
        let Some(super_opts) = post_fields.next() else {
            continue;
        };
        let subsystems: Vec<String> = super_opts
            .split(',')
            .filter(|o| o.starts_with("name=") || V1_SUBSYSTEMS.contains(o))
            .map(str::to_string)
            .collect();
        if subsystems.is_empty() {
            continue;
        }
        let mut pre_fields = pre.split(' ');
        let (Some(root), Some(mount_point)) = (pre_fields.nth(3), pre_fields.next()) else {
            continue;
        };
        if out
            .iter()
            .any(|m| m.subsystems.iter().any(|s| subsystems.contains(s)))
        {
            continue; // bind mount of a hierarchy we already have
        }
        out.push(V1Mount {
            subsystems,
            mount_point: PathBuf::from(unescape(mount_point)),
            root: PathBuf::from(unescape(root)),
        });
    }
    out
}

/// mountinfo escapes space, tab, newline and backslash as \ooo octal.
fn unescape(s: &str) -> String {
    if !s.contains('\\') {
        return s.to_string();
    }
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\'
            && i + 3 < b.len()
            && b[i + 1..i + 4].iter().all(|c| (b'0'..=b'7').contains(c))
        {
            let v = (b[i + 1] - b'0') * 64 + (b[i + 2] - b'0') * 8 + (b[i + 3] - b'0');
            out.push(v);
            i += 4;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = "\
22 1 0:21 / /proc rw,nosuid - proc proc rw
31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw,relatime shared:7 - cgroup cgroup rw,cpu,cpuacct
35 31 0:32 /nested /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,xattr,name=systemd
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw,nsdelegate
99 31 0:32 / /mnt/with\\040space rw,relatime - cgroup cgroup rw,memory
";

    #[test]
    fn parses_only_cgroup_v1_lines() {
        let m = parse_v1_mounts(SAMPLE);
        assert_eq!(m.len(), 3, "{m:?}");
        assert_eq!(m[0].subsystems, vec!["cpu", "cpuacct"]);
        assert_eq!(
            m[0].mount_point,
            PathBuf::from("/sys/fs/cgroup/cpu,cpuacct")
        );
        assert_eq!(m[1].root, PathBuf::from("/nested"));
        assert_eq!(m[2].subsystems, vec!["name=systemd"]);
    }

    #[test]
    fn unescapes_octal() {
        assert_eq!(unescape("/mnt/with\\040space"), "/mnt/with space");
        assert_eq!(unescape("/plain"), "/plain");
    }
}
