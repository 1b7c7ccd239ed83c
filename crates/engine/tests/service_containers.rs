//! The container listing as the Engine API's ContainerSummary: its JSON keys and types,
//! `all`, `limit`, `size` and the filters, over real containers made from a busybox image.
//! Needs root and busybox-static.

mod service_support;
use berth_engine::options::{Mount, MountKind, RunOptions};
use berth_engine::service::containers::{self, ListOptions};
use berth_engine::service::Filters;
use berth_engine::Error;
use serde_json::Value;
use service_support::Root;

fn named(name: &str, labels: &[(&str, &str)]) -> RunOptions {
    RunOptions {
        name: Some(name.into()),
        labels: labels
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        ..Default::default()
    }
}

fn all_with(filters: &[&str]) -> ListOptions {
    ListOptions {
        all: true,
        filters: Filters::from_cli(&filters.iter().map(|s| s.to_string()).collect::<Vec<_>>())
            .unwrap(),
        ..Default::default()
    }
}

fn names(root: &Root, o: &ListOptions) -> Vec<String> {
    containers::list(&root.engine, o)
        .unwrap()
        .into_iter()
        .map(|c| c.names[0].clone())
        .collect()
}

#[test]
fn a_container_summary_has_the_api_keys_and_types() {
    let root = Root::new();
    let image_id = root.import("busybox:latest", &[]);
    let bind = tempfile::tempdir().unwrap();
    let mut o = named("web", &[("tier", "front")]);
    o.cmd = vec!["sleep".into(), "60".into()];
    o.mounts.push(Mount {
        kind: MountKind::Bind,
        source: Some(bind.path().display().to_string()),
        target: "/data".into(),
        read_only: true,
        create_source: false,
        options: vec![],
    });
    let row = root.create("busybox", o);

    let list = containers::list(
        &root.engine,
        &ListOptions {
            all: true,
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(list.len(), 1);
    let v = serde_json::to_value(&list[0]).unwrap();
    assert_eq!(v["Id"], row.id.as_str());
    assert_eq!(v["Id"].as_str().unwrap().len(), 64);
    assert_eq!(v["Names"], serde_json::json!(["/web"]));
    assert_eq!(v["Image"], "busybox");
    assert_eq!(v["ImageID"], image_id.to_string().as_str());
    assert_eq!(v["Command"], "sleep 60");
    let created = v["Created"].as_i64().expect("Created is an integer");
    let now = berth_image::timestamp::now();
    assert!(
        (now - 600..=now + 5).contains(&created),
        "{created} vs {now}"
    );
    assert!(
        v["Ports"].as_array().unwrap().is_empty(),
        "a created container publishes nothing"
    );
    assert!(v.get("SizeRw").is_none() && v.get("SizeRootFs").is_none());
    assert_eq!(v["Labels"]["tier"], "front");
    assert_eq!(v["State"], "created");
    assert_eq!(v["Status"], "Created");
    assert_eq!(v["HostConfig"]["NetworkMode"], "none");
    assert!(v["NetworkSettings"]["Networks"].is_object());
    let m = &v["Mounts"][0];
    assert_eq!(m["Type"], "bind");
    assert_eq!(m["Source"], bind.path().display().to_string().as_str());
    assert_eq!(m["Destination"], "/data");
    assert_eq!(m["Mode"], "ro");
    assert_eq!(m["RW"], false);
    assert!(m["Propagation"].is_string());
    assert!(
        m.get("Name").is_none(),
        "Docker gives a name to volumes only"
    );

    let sized = containers::list(
        &root.engine,
        &ListOptions {
            all: true,
            size: true,
            ..Default::default()
        },
    )
    .unwrap();
    let v = serde_json::to_value(&sized[0]).unwrap();
    let rw = v["SizeRw"].as_i64().expect("SizeRw is an integer");
    let total = v["SizeRootFs"].as_i64().expect("SizeRootFs is an integer");
    assert!(
        total > rw,
        "the image's layers count in SizeRootFs: {total} {rw}"
    );
}

#[test]
fn without_all_only_running_containers_are_listed_and_status_filters_imply_all() {
    let root = Root::new();
    root.import("busybox:latest", &[]);
    root.create("busybox", named("idle", &[]));
    assert!(containers::list(&root.engine, &ListOptions::default())
        .unwrap()
        .is_empty());
    let created = ListOptions {
        filters: Filters::from_cli(&["status=created".to_string()]).unwrap(),
        ..Default::default()
    };
    assert_eq!(names(&root, &created), ["/idle"]);
    assert!(names(&root, &all_with(&["status=running"])).is_empty());
}

#[test]
fn label_filters_must_all_hold_and_values_of_other_keys_are_alternatives() {
    let root = Root::new();
    root.import("busybox:latest", &[]);
    root.create(
        "busybox",
        named("app-a", &[("project", "p"), ("service", "web")]),
    );
    root.create(
        "busybox",
        named("app-b", &[("project", "p"), ("service", "db")]),
    );
    root.create("busybox", named("other-c", &[("project", "q")]));
    let mut both = names(&root, &all_with(&["label=project=p"]));
    both.sort();
    assert_eq!(both, ["/app-a", "/app-b"]);
    assert_eq!(
        names(&root, &all_with(&["label=project=p", "label=service=db"])),
        ["/app-b"]
    );
    let mut either = names(&root, &all_with(&["name=app-a", "name=other"]));
    either.sort();
    assert_eq!(either, ["/app-a", "/other-c"]);
    assert_eq!(
        names(&root, &all_with(&["name=app-a", "label=project=q"])),
        Vec::<String>::new()
    );
    // The API's form selects the same containers.
    let api = ListOptions {
        all: true,
        filters: Filters::from_api_json(r#"{"label":{"service=web":true}}"#).unwrap(),
        ..Default::default()
    };
    assert_eq!(names(&root, &api), ["/app-a"]);
    assert_eq!(names(&root, &all_with(&["ancestor=busybox"])).len(), 3);
}

#[test]
fn limit_gives_the_newest_containers_stopped_ones_included() {
    let root = Root::new();
    root.import("busybox:latest", &[]);
    root.create("busybox", named("first", &[]));
    root.create("busybox", named("second", &[]));
    let o = ListOptions {
        limit: Some(1),
        ..Default::default()
    };
    assert_eq!(names(&root, &o), ["/second"]);
}

#[test]
fn unknown_filters_and_impossible_values_are_invalid_arguments() {
    let root = Root::new();
    for (f, msg) in [
        ("color=red", "invalid filter 'color'"),
        ("status=sleeping", "invalid filter 'status=sleeping'"),
        ("exited=x", "invalid filter 'exited=x'"),
        (
            "health=great",
            "Unrecognised filter value for health: great",
        ),
    ] {
        let err = containers::list(&root.engine, &all_with(&[f])).unwrap_err();
        assert!(matches!(err, Error::InvalidArgument(_)), "{f}: {err:?}");
        assert_eq!(err.to_string(), msg);
    }
}

#[test]
fn a_summary_reads_back_from_its_json() {
    let root = Root::new();
    root.import("busybox:latest", &[]);
    root.create("busybox", named("one", &[]));
    let list = containers::list(&root.engine, &all_with(&[])).unwrap();
    let text = serde_json::to_string(&list).unwrap();
    let back: Vec<containers::ContainerSummary> = serde_json::from_str(&text).unwrap();
    assert_eq!(back, list);
    let v: Value = serde_json::from_str(&text).unwrap();
    assert!(v[0]["Names"][0].as_str().unwrap().starts_with('/'));
}

#[test]
fn before_since_volume_and_is_task_filters_select_as_dockers() {
    let root = Root::new();
    root.import("busybox:latest", &[]);
    let dir = tempfile::tempdir().unwrap();
    let mut first = named("first", &[]);
    first.mounts.push(Mount {
        kind: MountKind::Bind,
        source: Some(dir.path().display().to_string()),
        target: "/shared".into(),
        read_only: false,
        create_source: false,
        options: vec![],
    });
    root.create("busybox", first);
    root.create("busybox", named("second", &[]));
    root.create("busybox", named("third", &[]));
    assert_eq!(names(&root, &all_with(&["before=second"])), ["/first"]);
    assert_eq!(names(&root, &all_with(&["since=second"])), ["/third"]);
    assert_eq!(names(&root, &all_with(&["volume=/shared"])), ["/first"]);
    let src = format!("volume={}", dir.path().display());
    assert_eq!(names(&root, &all_with(&[&src])), ["/first"]);
    assert_eq!(names(&root, &all_with(&["is-task=false"])).len(), 3);
    assert!(names(&root, &all_with(&["is-task=true"])).is_empty());
    assert!(names(&root, &all_with(&["network=bridge"])).is_empty());
    let err = containers::list(&root.engine, &all_with(&["before=nothing"])).unwrap_err();
    assert!(
        matches!(
            err,
            Error::NotFound {
                kind: "container",
                ..
            }
        ),
        "{err:?}"
    );
}
