//! The volume store as `volume create/ls/rm/prune` and `run -v` / `rm -v` use it: real
//! directories and the real SQLite database under a temporary data root.

use berth_engine::spec::Volumes;
use berth_engine::volume::{VolumeFilter, VolumeStore, ANONYMOUS_LABEL};
use berth_engine::Error;
use std::collections::BTreeMap;

fn labels(kv: &[(&str, &str)]) -> BTreeMap<String, String> {
    kv.iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

const C1: &str = "1111111111111111111111111111111111111111111111111111111111111111";
const C2: &str = "2222222222222222222222222222222222222222222222222222222222222222";

#[test]
fn create_is_idempotent_and_keeps_data() {
    let root = tempfile::tempdir().unwrap();
    let vs = VolumeStore::open(root.path()).unwrap();
    let v = vs.create(Some("data"), &labels(&[("a", "1")])).unwrap();
    assert_eq!(v.mountpoint, root.path().join("volumes/data/_data"));
    assert!(v.mountpoint.is_dir());
    std::fs::write(v.mountpoint.join("f"), "kept").unwrap();
    // Again, with other labels: the existing volume, unchanged, as docker.
    let again = vs.create(Some("data"), &BTreeMap::new()).unwrap();
    assert_eq!(again.created, v.created);
    assert_eq!(again.labels, labels(&[("a", "1")]));
    assert_eq!(
        std::fs::read_to_string(again.mountpoint.join("f")).unwrap(),
        "kept"
    );
    // Another process (a second store on the same root) sees it.
    let other = VolumeStore::open(root.path()).unwrap();
    assert_eq!(other.get("data").unwrap().name, "data");
    assert_eq!(other.list(&VolumeFilter::default()).unwrap().len(), 1);
}

#[test]
fn bad_names_and_missing_volumes_are_errors() {
    let root = tempfile::tempdir().unwrap();
    let vs = VolumeStore::open(root.path()).unwrap();
    for bad in ["a", "../x", "a/b", ".trash", "-x"] {
        let e = vs.create(Some(bad), &BTreeMap::new()).unwrap_err();
        assert!(e.to_string().contains("invalid characters"), "{bad}: {e}");
    }
    assert!(!root.path().join("volumes/x").exists());
    let e = vs.get("nope").unwrap_err();
    assert_eq!(e.to_string(), "No such volume: nope");
    assert!(matches!(
        vs.remove("nope", false),
        Err(Error::NotFound { .. })
    ));
    vs.remove("nope", true).unwrap();
}

#[test]
fn a_volume_in_use_is_not_removed_even_with_force() {
    let root = tempfile::tempdir().unwrap();
    let vs = VolumeStore::open(root.path()).unwrap();
    let src = vs
        .for_container(C1)
        .source(Some("shared"), "/data")
        .unwrap();
    assert_eq!(src, root.path().join("volumes/shared/_data"));
    vs.for_container(C2)
        .source(Some("shared"), "/data")
        .unwrap();
    assert_eq!(vs.get("shared").unwrap().users, vec![C1, C2]);
    for force in [false, true] {
        let e = vs.remove("shared", force).unwrap_err();
        assert_eq!(
            e.to_string(),
            format!("remove shared: volume is in use - [{C1}, {C2}]")
        );
    }
    // Named volumes survive rm -v; the last user gone, rm works.
    assert!(vs.release(C1, true).unwrap().is_empty());
    assert!(vs.remove("shared", false).is_err());
    vs.release(C2, true).unwrap();
    vs.remove("shared", false).unwrap();
    assert!(!root.path().join("volumes/shared").exists());
    assert!(vs.get("shared").is_err());
}

#[test]
fn anonymous_volumes_go_with_rm_v_only() {
    let root = tempfile::tempdir().unwrap();
    let vs = VolumeStore::open(root.path()).unwrap();
    let a = vs.for_container(C1).source(None, "/cache").unwrap();
    let name = a
        .parent()
        .unwrap()
        .file_name()
        .unwrap()
        .to_str()
        .unwrap()
        .to_string();
    assert_eq!(name.len(), 64);
    assert!(name.bytes().all(|b| b.is_ascii_hexdigit()));
    let v = vs.get(&name).unwrap();
    assert!(v.anonymous);
    assert_eq!(v.container.as_deref(), Some(C1));
    assert_eq!(v.labels.get(ANONYMOUS_LABEL).map(String::as_str), Some(""));
    // rm without -v: the volume stays, now dangling.
    assert!(vs.release(C1, false).unwrap().is_empty());
    let dangling = VolumeFilter::parse(&["dangling=true".into()]).unwrap();
    assert_eq!(vs.list(&dangling).unwrap().len(), 1);
    // rm -v of a second container using it removes it.
    vs.for_container(C2).source(Some(&name), "/cache").unwrap();
    assert_eq!(vs.release(C2, true).unwrap(), vec![name.clone()]);
    assert!(!a.exists());
}

#[test]
fn prune_takes_unused_anonymous_volumes_or_all_unused_with_all() {
    let root = tempfile::tempdir().unwrap();
    let vs = VolumeStore::open(root.path()).unwrap();
    vs.create(Some("named"), &BTreeMap::new()).unwrap();
    let used = vs.for_container(C1).source(None, "/a").unwrap();
    let unused = vs.for_container(C2).source(None, "/b").unwrap();
    std::fs::write(unused.join("blob"), vec![0u8; 5000]).unwrap();
    vs.release(C2, false).unwrap();
    let unused_name = unused
        .parent()
        .unwrap()
        .file_name()
        .unwrap()
        .to_str()
        .unwrap();
    let p = vs.prune(false).unwrap();
    assert_eq!(p.names, vec![unused_name.to_string()]);
    assert_eq!(p.bytes, 5000);
    assert!(vs.get("named").is_ok() && used.exists());
    let p = vs.prune(true).unwrap();
    assert_eq!(p.names, vec!["named".to_string()]);
    assert!(used.exists(), "a volume in use is never pruned");
}

#[test]
fn list_filters_like_docker() {
    let root = tempfile::tempdir().unwrap();
    let vs = VolumeStore::open(root.path()).unwrap();
    vs.create(Some("web-data"), &labels(&[("tier", "web")]))
        .unwrap();
    vs.create(Some("db-data"), &labels(&[("tier", "db"), ("backup", "")]))
        .unwrap();
    vs.for_container(C1).source(Some("db-data"), "/x").unwrap();
    let names = |f: &[&str]| -> Vec<String> {
        let f: Vec<String> = f.iter().map(|s| s.to_string()).collect();
        vs.list(&VolumeFilter::parse(&f).unwrap())
            .unwrap()
            .into_iter()
            .map(|v| v.name)
            .collect()
    };
    assert_eq!(names(&[]), vec!["db-data", "web-data"]);
    assert_eq!(names(&["name=web"]), vec!["web-data"]);
    assert_eq!(names(&["label=tier=db"]), vec!["db-data"]);
    assert_eq!(names(&["label=backup"]), vec!["db-data"]);
    assert_eq!(names(&["label=tier", "dangling=true"]), vec!["web-data"]);
    assert_eq!(names(&["dangling=false"]), vec!["db-data"]);
    assert!(VolumeFilter::parse(&["colour=red".into()]).is_err());
    assert!(VolumeFilter::parse(&["dangling=maybe".into()]).is_err());
}

#[test]
fn a_directory_without_a_record_is_adopted_with_its_data() {
    let root = tempfile::tempdir().unwrap();
    let vs = VolumeStore::open(root.path()).unwrap();
    // mkdir done, record never committed (or lost): the data is someone's.
    std::fs::create_dir_all(root.path().join("volumes/kept/_data")).unwrap();
    std::fs::write(root.path().join("volumes/kept/_data/precious"), "x").unwrap();
    // A removal that died between its commit and deleting the data.
    std::fs::create_dir_all(root.path().join("volumes/.trash/old.123/_data")).unwrap();
    assert!(vs.list(&VolumeFilter::default()).unwrap().is_empty());
    let v = vs.create(Some("kept"), &BTreeMap::new()).unwrap();
    assert_eq!(
        std::fs::read_to_string(v.mountpoint.join("precious")).unwrap(),
        "x"
    );
    // Made again: the same volume, its data untouched.
    let again = vs.create(Some("kept"), &BTreeMap::new()).unwrap();
    assert_eq!(again.created, v.created);
    assert!(again.mountpoint.join("precious").exists());
    drop(vs);
    VolumeStore::open(root.path()).unwrap();
    assert_eq!(
        std::fs::read_dir(root.path().join("volumes/.trash"))
            .unwrap()
            .count(),
        0
    );
}

#[test]
fn a_removal_killed_before_its_commit_gives_the_data_back() {
    let root = tempfile::tempdir().unwrap();
    let vs = VolumeStore::open(root.path()).unwrap();
    let v = vs.create(Some("data"), &BTreeMap::new()).unwrap();
    std::fs::write(v.mountpoint.join("f"), "keep").unwrap();
    drop(vs);
    // The removal moved the directory to the trash and died before its commit: the
    // volume is still recorded.
    std::fs::create_dir_all(root.path().join("volumes/.trash")).unwrap();
    std::fs::rename(
        root.path().join("volumes/data"),
        root.path().join("volumes/.trash/data.0123456789ab"),
    )
    .unwrap();
    let vs = VolumeStore::open(root.path()).unwrap();
    let v = vs.get("data").unwrap();
    assert_eq!(
        std::fs::read_to_string(v.mountpoint.join("f")).unwrap(),
        "keep"
    );
}

#[test]
fn engine_schema_version_does_not_touch_user_version() {
    let root = tempfile::tempdir().unwrap();
    // berth-image's metadata first, then the volumes: both versions stay their own.
    berth_image::metadata::Metadata::open(&root.path().join("berth.db")).unwrap();
    VolumeStore::open(root.path()).unwrap();
    let db = rusqlite::Connection::open(root.path().join("berth.db")).unwrap();
    let uv: i64 = db
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(uv, 1);
    let v: i64 = db
        .query_row(
            "SELECT version FROM berth_schema WHERE component = 'volumes'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(v, 1);
    VolumeStore::open(root.path()).unwrap();
}

#[test]
fn stale_users_of_removed_containers_are_forgotten_once_containers_exist() {
    let root = tempfile::tempdir().unwrap();
    let vs = VolumeStore::open(root.path()).unwrap();
    vs.for_container(C1).source(Some("v1"), "/x").unwrap();
    vs.for_container(C2).source(Some("v1"), "/x").unwrap();
    // No containers table: every recorded use counts.
    assert!(vs.remove("v1", false).is_err());
    let db = rusqlite::Connection::open(root.path().join("berth.db")).unwrap();
    db.execute_batch(&format!(
        "CREATE TABLE containers (id TEXT PRIMARY KEY, image_id TEXT, state TEXT);
         INSERT INTO containers VALUES ('{C2}', 'sha256:x', 'running');"
    ))
    .unwrap();
    let e = vs.remove("v1", false).unwrap_err().to_string();
    assert_eq!(e, format!("remove v1: volume is in use - [{C2}]"));
    assert_eq!(vs.containers().unwrap().len(), 1);
    assert!(vs.containers().unwrap()[0].active());
}

#[test]
fn concurrent_stores_make_one_volume_and_record_every_use() {
    let root = tempfile::tempdir().unwrap();
    let threads: Vec<_> = (0..8)
        .map(|i| {
            let r = root.path().to_path_buf();
            std::thread::spawn(move || {
                // One store per thread: as separate berth processes, sharing only the files.
                let vs = VolumeStore::open(&r).unwrap();
                let id = format!("{i:064}");
                vs.for_container(&id).source(Some("shared"), "/d").unwrap();
                vs.create(Some("shared"), &BTreeMap::new()).unwrap();
                vs.for_container(&id).source(None, "/anon").unwrap();
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let vs = VolumeStore::open(root.path()).unwrap();
    assert_eq!(vs.get("shared").unwrap().users.len(), 8);
    assert_eq!(vs.list(&VolumeFilter::default()).unwrap().len(), 9);
    for i in 0..8 {
        assert_eq!(vs.release(&format!("{i:064}"), true).unwrap().len(), 1);
    }
    assert_eq!(vs.list(&VolumeFilter::default()).unwrap().len(), 1);
    assert_eq!(
        std::fs::read_dir(root.path().join("volumes"))
            .unwrap()
            .count(),
        2
    ); // shared, .trash
}
