//! Images as the Engine API shows and changes them: ImageSummary, ImageInspect, the history,
//! removal with Docker's conflict rules, tags. Over a real busybox image imported from
//! busybox-static. Needs root.

mod service_support;
use berth_engine::options::RunOptions;
use berth_engine::service::images::{self, DeleteItem, ListOptions};
use berth_engine::service::Filters;
use berth_engine::Error;
use service_support::Root;

fn listed(root: &Root, filters: &[&str]) -> Vec<images::ImageSummary> {
    let f = Filters::from_cli(&filters.iter().map(|s| s.to_string()).collect::<Vec<_>>()).unwrap();
    images::list(
        &root.engine,
        &ListOptions {
            filters: f,
            ..Default::default()
        },
    )
    .unwrap()
}

#[test]
fn an_image_summary_has_the_api_keys_and_types() {
    let root = Root::new();
    let id = root.import("busybox:latest", &["LABEL maker=tests"]);
    let list = listed(&root, &[]);
    assert_eq!(list.len(), 1);
    let v = serde_json::to_value(&list[0]).unwrap();
    assert_eq!(v["Id"], id.to_string().as_str());
    assert!(v["Id"].as_str().unwrap().starts_with("sha256:"));
    assert_eq!(v["ParentId"], "");
    assert_eq!(v["RepoTags"], serde_json::json!(["busybox:latest"]));
    assert!(v["RepoDigests"].as_array().unwrap().is_empty());
    assert!(v["Created"].is_i64());
    let size = v["Size"].as_i64().expect("Size is an integer");
    assert!(size > 100_000, "busybox's layer: {size}");
    assert_eq!(v["VirtualSize"], size);
    assert_eq!(v["SharedSize"], -1);
    assert_eq!(v["Containers"], -1);
    assert_eq!(v["Labels"]["maker"], "tests");
}

#[test]
fn list_filters_select_images_and_a_reference_filter_keeps_only_matching_names() {
    let root = Root::new();
    root.import("busybox:latest", &["LABEL maker=tests"]);
    images::tag(&root.engine, "busybox", "team/app:v1").unwrap();
    let only = listed(&root, &["reference=team/*"]);
    assert_eq!(only.len(), 1);
    assert_eq!(only[0].repo_tags, ["team/app:v1"]);
    assert!(listed(&root, &["reference=nothing*"]).is_empty());
    assert_eq!(listed(&root, &["label=maker=tests"]).len(), 1);
    assert!(listed(&root, &["label=maker=other"]).is_empty());
    assert!(listed(&root, &["dangling=true"]).is_empty());
    let api = images::list(
        &root.engine,
        &ListOptions {
            filters: Filters::from_api_json(r#"{"dangling":["false"]}"#).unwrap(),
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(api.len(), 1);
    for (bad, msg) in [
        ("color=red", "invalid filter 'color'"),
        ("dangling=maybe", "invalid filter 'dangling=maybe'"),
        ("before=nothing", "No such image: nothing"),
    ] {
        let f = Filters::from_cli(&[bad.to_string()]).unwrap();
        let err = images::list(
            &root.engine,
            &ListOptions {
                filters: f,
                ..Default::default()
            },
        )
        .unwrap_err();
        assert_eq!(err.to_string(), msg);
    }
}

#[test]
fn inspect_gives_the_image_inspect_document() {
    let root = Root::new();
    let id = root.import("busybox:latest", &[]);
    let v = images::inspect(&root.engine, "busybox").unwrap();
    assert_eq!(v["Id"], id.to_string().as_str());
    assert_eq!(v["RepoTags"], serde_json::json!(["busybox:latest"]));
    assert_eq!(v["Config"]["Cmd"], serde_json::json!(["sh"]));
    assert_eq!(v["Os"], "linux");
    assert!(v["Size"].is_u64());
    assert_eq!(v["RootFS"]["Type"], "layers");
    assert_eq!(v["RootFS"]["Layers"].as_array().unwrap().len(), 1);
    assert_eq!(v["GraphDriver"]["Name"], "overlay");
    assert!(v["Metadata"]["LastTagTime"].is_string());
    let err = images::inspect(&root.engine, "nothing").unwrap_err();
    assert!(
        matches!(err, Error::NotFound { kind: "image", .. }),
        "{err:?}"
    );
}

#[test]
fn history_is_newest_first_with_the_id_and_tags_on_top() {
    let root = Root::new();
    let id = root.import("busybox:latest", &[]);
    let h = images::history(&root.engine, "busybox:latest").unwrap();
    assert!(!h.is_empty());
    let v = serde_json::to_value(&h).unwrap();
    assert_eq!(v[0]["Id"], id.to_string().as_str());
    assert_eq!(v[0]["Tags"], serde_json::json!(["busybox:latest"]));
    for item in v.as_array().unwrap() {
        assert!(item["Created"].is_i64() && item["Size"].is_i64());
        assert!(item["CreatedBy"].is_string() && item["Comment"].is_string());
    }
    for older in &v.as_array().unwrap()[1..] {
        assert_eq!(older["Id"], "<missing>");
    }
    assert!(h.iter().map(|x| x.size).sum::<i64>() > 100_000);
}

#[test]
fn removing_a_name_untags_and_the_last_name_deletes_the_image_and_its_layers() {
    let root = Root::new();
    let id = root.import("busybox:latest", &[]);
    images::tag(&root.engine, "busybox", "other:1").unwrap();
    assert_eq!(
        images::remove(&root.engine, "other:1", false, false).unwrap(),
        [DeleteItem::Untagged("other:1".into())]
    );
    let gone = images::remove(&root.engine, "busybox", false, false).unwrap();
    assert_eq!(gone[0], DeleteItem::Untagged("busybox:latest".into()));
    assert_eq!(gone[1], DeleteItem::Deleted(id.to_string()));
    assert!(gone.len() >= 3, "the layer goes too: {gone:?}");
    assert_eq!(
        serde_json::to_value(&gone[0]).unwrap(),
        serde_json::json!({"Untagged": "busybox:latest"})
    );
    assert_eq!(
        serde_json::to_value(&gone[1]).unwrap(),
        serde_json::json!({"Deleted": id.to_string()})
    );
    assert!(listed(&root, &[]).is_empty());
    let err = images::remove(&root.engine, "busybox", false, false).unwrap_err();
    assert!(
        matches!(err, Error::NotFound { kind: "image", .. }),
        "{err:?}"
    );
}

#[test]
fn removal_conflicts_follow_dockers_rules() {
    let root = Root::new();
    let id = root.import("busybox:latest", &[]);
    images::tag(&root.engine, "busybox", "team/app:v1").unwrap();
    // By ID, names in two repositories need force.
    let err = images::remove(&root.engine, &id.to_string(), false, false).unwrap_err();
    assert!(matches!(err, Error::Conflict(_)), "{err:?}");
    assert!(err.to_string().contains("must be forced"), "{err}");
    // An image a container is made from cannot go, even forced.
    let c = root.create("busybox", RunOptions::default());
    images::remove(&root.engine, "team/app:v1", false, false).unwrap();
    let err = images::remove(&root.engine, "busybox", true, false).unwrap_err();
    assert!(matches!(err, Error::Conflict(_)), "{err:?}");
    assert!(
        err.to_string().contains(&format!(
            "image is being used by stopped container {}",
            &c.id[..12]
        )),
        "{err}"
    );
    assert_eq!(listed(&root, &[]).len(), 1);
}

#[test]
fn a_tag_needs_an_image_and_a_reference_without_digest() {
    let root = Root::new();
    root.import("busybox:latest", &[]);
    let err = images::tag(&root.engine, "nothing", "x:1").unwrap_err();
    assert!(matches!(err, Error::NotFound { .. }), "{err:?}");
    let digest = format!("x@sha256:{}", "a".repeat(64));
    let err = images::tag(&root.engine, "busybox", &digest).unwrap_err();
    assert!(matches!(err, Error::InvalidArgument(_)), "{err:?}");
    images::tag(&root.engine, "busybox", "x:1").unwrap();
    assert_eq!(
        images::inspect(&root.engine, "x:1").unwrap()["RepoTags"],
        serde_json::json!(["busybox:latest", "x:1"])
    );
}
