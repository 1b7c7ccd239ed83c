//! An image of 120 layers (Docker allows 127) mounts as one overlay root, although its
//! lower-directory list is far longer than the one page mount(2) takes for options.

use berth_image::snapshot::{chain_ids, Snapshotter};
use berth_image::unpack::Options;
use berth_image::Digest;

fn layer(name: &str) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    let mut h = tar::Header::new_gnu();
    h.set_path(name).unwrap();
    h.set_size(name.len() as u64);
    h.set_mode(0o644);
    h.set_cksum();
    b.append(&h, name.as_bytes()).unwrap();
    b.into_inner().unwrap()
}

struct Unmount(std::path::PathBuf);
impl Drop for Unmount {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount").arg(&self.0).status();
    }
}

#[test]
fn a_120_layer_image_mounts_as_one_overlay() {
    let dir = tempfile::tempdir().unwrap();
    let snaps = Snapshotter::open(dir.path().join("snapshots")).unwrap();
    let layers: Vec<Vec<u8>> = (0..120).map(|i| layer(&format!("file-{i}"))).collect();
    let diff_ids: Vec<Digest> = layers.iter().map(|l| Digest::sha256_of(l)).collect();
    let chain = chain_ids(&diff_ids);
    for (i, l) in layers.iter().enumerate() {
        snaps
            .ensure(&chain[i], &diff_ids[i], &l[..], &Options::default())
            .unwrap();
    }
    let lower_list: usize = chain
        .iter()
        .map(|c| snaps.path(c).as_os_str().len() + 1)
        .sum();
    assert!(lower_list > 4096, "the test must exceed mount(2)'s page");

    let c = dir.path().join("ctr");
    let target = c.join("rootfs");
    snaps
        .mount(&chain, &c.join("upper"), &c.join("work"), &target)
        .unwrap();
    let _u = Unmount(target.clone());
    for i in [0, 59, 119] {
        let name = format!("file-{i}");
        assert_eq!(std::fs::read(target.join(&name)).unwrap(), name.as_bytes());
    }
    assert_eq!(std::fs::read_dir(&target).unwrap().count(), 120);
}
