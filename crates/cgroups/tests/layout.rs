//! Layout detection against an independent reading of /proc/self/mountinfo.

use berth_cgroups::{CgroupManager, Layout, Manager};

fn fstype_at(mountinfo: &str, mount_point: &str) -> Option<String> {
    // The last mount on a mount point wins.
    mountinfo
        .lines()
        .rev()
        .filter(|l| l.split(' ').nth(4) == Some(mount_point))
        .filter_map(|l| {
            l.split_once(" - ")
                .map(|(_, post)| post.split(' ').next().unwrap_or("").to_string())
        })
        .next()
}

#[test]
fn layout_matches_mountinfo() {
    let mi = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
    let want = match (
        fstype_at(&mi, "/sys/fs/cgroup").as_deref(),
        fstype_at(&mi, "/sys/fs/cgroup/unified").as_deref(),
    ) {
        (Some("cgroup2"), _) => Layout::Unified,
        (_, Some("cgroup2")) => Layout::Hybrid,
        _ => Layout::Legacy,
    };
    assert_eq!(Layout::detect().unwrap(), want);
    let m = Manager::new(None, "layout-probe").unwrap();
    match (want, &m) {
        (Layout::Unified, Manager::V2(_)) | (Layout::Hybrid | Layout::Legacy, Manager::V1(_)) => {}
        _ => panic!("{want:?} host got {m:?}"),
    }
    let paths = m.paths();
    assert!(
        paths.values().all(|p| p.ends_with("berth/layout-probe")),
        "{paths:?}"
    );
    assert_eq!(paths.contains_key(""), want != Layout::Legacy, "{paths:?}");
}

#[test]
fn invalid_cgroups_paths_are_rejected() {
    assert!(Manager::new(Some(std::path::Path::new("/../../etc")), "x").is_err());
    assert!(Manager::new(None, "../x").is_err());
}
