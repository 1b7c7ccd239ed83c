//! Fixtures for the spec tests: a small root filesystem with /etc/passwd and /etc/group, a
//! volume store in a temp dir, and a spec built from options.
#![allow(dead_code)]

use berth_engine::image_config::ImageConfig;
use berth_engine::options::RunOptions;
use berth_engine::spec::{self, SpecInput, Volumes};
use serde_json::Value;
use std::path::{Path, PathBuf};

pub const PASSWD: &str = "root:x:0:0:root:/root:/bin/sh\n\
nobody:x:65534:65534:nobody:/nonexistent:/bin/false\n\
app:x:1000:1000:App:/home/app:/bin/sh\n";
pub const GROUP: &str = "root:x:0:\n\
nobody:x:65534:\n\
app:x:1000:\n\
staff:x:50:app,other\n\
audio:x:29:app\n";

/// A root with etc/passwd and etc/group.
pub fn rootfs() -> tempfile::TempDir {
    let d = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(d.path().join("etc")).unwrap();
    std::fs::write(d.path().join("etc/passwd"), PASSWD).unwrap();
    std::fs::write(d.path().join("etc/group"), GROUP).unwrap();
    d
}

/// Volumes as plain directories under a temp dir; records what was asked.
pub struct DirVolumes {
    pub dir: tempfile::TempDir,
    pub asked: Vec<(Option<String>, String)>,
}

impl DirVolumes {
    pub fn new() -> Self {
        DirVolumes {
            dir: tempfile::tempdir().unwrap(),
            asked: vec![],
        }
    }
}

impl Volumes for DirVolumes {
    fn source(&mut self, name: Option<&str>, target: &str) -> berth_engine::Result<PathBuf> {
        self.asked
            .push((name.map(String::from), target.to_string()));
        let n = name
            .map(String::from)
            .unwrap_or_else(|| format!("anon{}", self.asked.len()));
        let p = self.dir.path().join(n).join("_data");
        std::fs::create_dir_all(&p).unwrap();
        Ok(p)
    }
}

pub const ID: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

pub fn image(cmd: &[&str]) -> ImageConfig {
    ImageConfig {
        cmd: Some(cmd.iter().map(|s| s.to_string()).collect()),
        ..Default::default()
    }
}

/// Build with `root` as the container root; panics on error.
pub fn build_in(root: &Path, o: &RunOptions, img: &ImageConfig, vols: &mut DirVolumes) -> Value {
    try_build_in(root, o, img, vols, None).unwrap()
}

pub fn try_build_in(
    root: &Path,
    o: &RunOptions,
    img: &ImageConfig,
    vols: &mut DirVolumes,
    init: Option<&Path>,
) -> berth_engine::Result<Value> {
    let v = spec::build_json(SpecInput {
        id: ID,
        opts: o,
        image: img,
        rootfs: root,
        volumes: vols,
        init_binary: init,
        netns: None,
        etc_files: None,
        joined: &Default::default(),
    })?;
    // What the engine writes must be what the runtime accepts.
    let s: oci_spec::runtime::Spec = serde_json::from_value(v.clone()).unwrap();
    berth_runtime::spec::validate(&s).unwrap();
    Ok(v)
}

pub fn build(o: &RunOptions) -> Value {
    let r = rootfs();
    build_in(r.path(), o, &image(&["sh"]), &mut DirVolumes::new())
}

pub fn try_build(o: &RunOptions) -> berth_engine::Result<Value> {
    let r = rootfs();
    try_build_in(r.path(), o, &image(&["sh"]), &mut DirVolumes::new(), None)
}

pub fn strs(v: &Value) -> Vec<String> {
    v.as_array()
        .map(|a| a.iter().map(|x| x.as_str().unwrap().to_string()).collect())
        .unwrap_or_default()
}

pub fn mount<'a>(spec: &'a Value, dest: &str) -> Option<&'a Value> {
    spec["mounts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["destination"] == dest)
}

pub fn env(spec: &Value) -> Vec<String> {
    strs(&spec["process"]["env"])
}
