//! Parent directories a layer has no entries for do not depend on the umask of whoever
//! unpacks it. Alone in its own test binary: the umask is per process.

use berth_image::unpack::{unpack_new, Options};
use std::os::unix::fs::MetadataExt;

#[test]
fn missing_parents_are_0755_and_root_owned_under_any_umask() {
    let mut b = tar::Builder::new(Vec::new());
    let mut h = tar::Header::new_gnu();
    h.set_size(1);
    h.set_mode(0o755);
    b.append_data(&mut h, "bin/sub/tool", &b"x"[..]).unwrap();
    let data = b.into_inner().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("snap");
    // SAFETY: umask only changes this process's file creation mask; no other test runs here.
    let old = unsafe { libc::umask(0o077) };
    let res = unpack_new(&data[..], &root, &Options::default());
    // SAFETY: as above.
    unsafe { libc::umask(old) };
    res.unwrap();
    for d in ["bin", "bin/sub"] {
        let m = std::fs::metadata(root.join(d)).unwrap();
        assert_eq!((m.mode() & 0o7777, m.uid(), m.gid()), (0o755, 0, 0), "{d}");
    }
    let m = std::fs::metadata(root.join("bin/sub/tool")).unwrap();
    assert_eq!(m.mode() & 0o7777, 0o755);
}
