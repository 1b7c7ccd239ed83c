//! The on-disk cache of compiled filters: a hit behaves exactly like a fresh compile, and a
//! damaged entry is ignored and replaced.

mod common;

use berth_seccomp::compile_cached;
use common::{run_filtered, seccomp, try_mkdir, Outcome};
use serde_json::json;

fn profile() -> oci_spec::runtime::LinuxSeccomp {
    seccomp(json!({
        "defaultAction": "SCMP_ACT_ALLOW",
        "syscalls": [{ "names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 38 }]
    }))
}

fn only_entry(dir: &std::path::Path) -> std::path::PathBuf {
    let entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .collect();
    assert_eq!(entries.len(), 1, "{entries:?}");
    entries[0].clone()
}

#[test]
fn cached_filter_is_stored_and_enforced_when_reused() {
    let dir = tempfile::tempdir().unwrap();
    let first = compile_cached(&profile(), dir.path()).unwrap();
    let entry = only_entry(dir.path());
    assert_eq!(run_filtered(first, try_mkdir), Outcome::Exited(38));
    let modified = std::fs::metadata(&entry).unwrap().modified().unwrap();
    let second = compile_cached(&profile(), dir.path()).unwrap();
    assert_eq!(
        std::fs::metadata(&entry).unwrap().modified().unwrap(),
        modified,
        "cache entry was rewritten on a hit"
    );
    assert_eq!(run_filtered(second, try_mkdir), Outcome::Exited(38));
}

#[test]
fn damaged_cache_entry_is_ignored_and_replaced() {
    let dir = tempfile::tempdir().unwrap();
    compile_cached(&profile(), dir.path()).unwrap();
    let entry = only_entry(dir.path());
    std::fs::write(&entry, b"BSC1garbage").unwrap();
    let f = compile_cached(&profile(), dir.path()).unwrap();
    assert_eq!(run_filtered(f, try_mkdir), Outcome::Exited(38));
    assert!(
        std::fs::read(&entry).unwrap().len() > 17,
        "entry not rewritten"
    );
}
