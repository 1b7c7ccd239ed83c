//! Volumes as the Engine API shows them: `GET /volumes` ({Volumes, Warnings}) with Docker's
//! filters, and one Volume.

use berth_engine::service::{volumes, Filters};
use berth_engine::volume::VolumeStore;
use berth_engine::{Engine, Error};

fn root_with_volumes() -> (tempfile::TempDir, Engine) {
    let dir = tempfile::tempdir().unwrap();
    let e = Engine::open(dir.path()).unwrap();
    let vs = VolumeStore::open(dir.path()).unwrap();
    vs.create(
        Some("cache"),
        &[("kind".to_string(), "tmp".to_string())].into(),
    )
    .unwrap();
    vs.create(Some("data"), &Default::default()).unwrap();
    (dir, e)
}

#[test]
fn a_volume_list_has_the_api_keys() {
    let (dir, e) = root_with_volumes();
    let v = serde_json::to_value(volumes::list(&e, &Filters::default()).unwrap()).unwrap();
    assert!(v["Warnings"].as_array().unwrap().is_empty());
    let list = v["Volumes"].as_array().unwrap();
    assert_eq!(list.len(), 2);
    let cache = list.iter().find(|x| x["Name"] == "cache").unwrap();
    assert_eq!(cache["Driver"], "local");
    assert_eq!(cache["Scope"], "local");
    assert_eq!(cache["Labels"]["kind"], "tmp");
    assert!(cache["Options"].is_object());
    assert!(cache["CreatedAt"].as_str().unwrap().contains('T'));
    assert_eq!(
        cache["Mountpoint"],
        dir.path().join("volumes/cache/_data").to_str().unwrap()
    );
    assert!(cache.get("UsageData").is_none(), "only system df fills it");
}

#[test]
fn volume_filters_select_as_dockers() {
    let (_dir, e) = root_with_volumes();
    let names = |json: &str| -> Vec<String> {
        let f = Filters::from_api_json(json).unwrap();
        let mut n: Vec<String> = volumes::list(&e, &f)
            .unwrap()
            .volumes
            .into_iter()
            .map(|v| v.name)
            .collect();
        n.sort();
        n
    };
    assert_eq!(names(r#"{"label":["kind=tmp"]}"#), ["cache"]);
    assert_eq!(names(r#"{"name":{"dat":true}}"#), ["data"]);
    assert_eq!(names(r#"{"dangling":["true"]}"#), ["cache", "data"]);
    assert!(names(r#"{"driver":["other"]}"#).is_empty());
    let err = volumes::list(&e, &Filters::from_api_json(r#"{"size":["1"]}"#).unwrap()).unwrap_err();
    assert!(matches!(err, Error::InvalidArgument(_)), "{err:?}");
    assert_eq!(err.to_string(), "invalid filter 'size'");
}

#[test]
fn inspect_gives_one_volume_or_not_found() {
    let (_dir, e) = root_with_volumes();
    let v = volumes::inspect(&e, "data").unwrap();
    assert_eq!(v.name, "data");
    assert!(v.labels.is_empty());
    let err = volumes::inspect(&e, "nothing").unwrap_err();
    assert!(
        matches!(err, Error::NotFound { kind: "volume", .. }),
        "{err:?}"
    );
}
