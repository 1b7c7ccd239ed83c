//! `/version`, `/info` and `/system/df` as the Engine API shapes them, counted over a real
//! image, a created container and a volume. Needs root and busybox-static.

mod service_support;
use berth_engine::options::{Mount, MountKind, RunOptions};
use berth_engine::service::system;
use service_support::Root;

#[test]
fn version_has_the_api_keys() {
    let v = serde_json::to_value(system::version()).unwrap();
    assert_eq!(v["Version"], system::VERSION);
    assert_eq!(v["ApiVersion"], system::API_VERSION);
    assert_eq!(v["MinAPIVersion"], "1.24");
    assert_eq!(v["Os"], "linux");
    assert!(!v["Arch"].as_str().unwrap().is_empty());
    assert!(!v["KernelVersion"].as_str().unwrap().is_empty());
    assert_eq!(v["Platform"]["Name"], "Berth Engine");
    assert_eq!(v["Components"][0]["Name"], "Engine");
    for k in ["GitCommit", "GoVersion", "BuildTime"] {
        assert!(v[k].is_string(), "{k}");
    }
}

#[test]
fn info_counts_containers_and_images_and_describes_the_host() {
    let root = Root::new();
    root.import("busybox:latest", &[]);
    root.create("busybox", RunOptions::default());
    let v = serde_json::to_value(system::info(&root.engine).unwrap()).unwrap();
    assert_eq!(v["Containers"], 1);
    assert_eq!(v["ContainersRunning"], 0);
    assert_eq!(v["ContainersPaused"], 0);
    assert_eq!(v["ContainersStopped"], 1);
    assert_eq!(v["Images"], 1);
    assert_eq!(v["DockerRootDir"], root.path().to_str().unwrap());
    assert_eq!(v["ServerVersion"], system::VERSION);
    assert_eq!(v["OSType"], "linux");
    assert!(v["NCPU"].as_u64().unwrap() >= 1);
    assert!(v["MemTotal"].as_u64().unwrap() > 0);
    assert_eq!(v["DefaultRuntime"], "berth");
    assert!(v["Runtimes"]["berth"]["path"].is_string());
    assert!(["1", "2"].contains(&v["CgroupVersion"].as_str().unwrap()));
    assert_eq!(v["Swarm"]["LocalNodeState"], "inactive");
    assert!(v["Warnings"].is_array() && v["SecurityOptions"].is_array());
}

#[test]
fn disk_usage_lists_images_containers_and_volumes_with_their_use() {
    let root = Root::new();
    let id = root.import("busybox:latest", &[]);
    let vs = berth_engine::volume::VolumeStore::open(root.path()).unwrap();
    vs.create(Some("data"), &Default::default()).unwrap();
    vs.create(Some("spare"), &Default::default()).unwrap();
    let o = RunOptions {
        mounts: vec![Mount {
            kind: MountKind::Volume,
            source: Some("data".into()),
            target: "/data".into(),
            read_only: false,
            create_source: false,
            options: vec![],
        }],
        ..Default::default()
    };
    let c = root.create("busybox", o);
    let df = system::df(&root.engine).unwrap();
    let v = serde_json::to_value(&df).unwrap();
    let layers = v["LayersSize"].as_i64().expect("LayersSize is an integer");
    assert!(layers > 100_000, "{layers}");
    assert_eq!(v["Images"][0]["Id"], id.to_string().as_str());
    assert_eq!(v["Images"][0]["Containers"], 1);
    assert_eq!(v["Images"][0]["SharedSize"], 0);
    assert_eq!(v["Containers"][0]["Id"], c.id.as_str());
    assert!(v["Containers"][0]["SizeRw"].is_i64());
    assert!(v["Containers"][0]["SizeRootFs"].as_i64().unwrap() >= layers);
    let vols = v["Volumes"].as_array().unwrap();
    let used = vols.iter().find(|x| x["Name"] == "data").unwrap();
    let spare = vols.iter().find(|x| x["Name"] == "spare").unwrap();
    assert_eq!(used["UsageData"]["RefCount"], 1);
    assert_eq!(spare["UsageData"]["RefCount"], 0);
    assert!(used["UsageData"]["Size"].is_i64());
    assert!(v["BuildCache"].as_array().unwrap().is_empty());

    let t = system::df_totals(&root.engine).unwrap();
    // An image any container is made from is in use; a created container is not active.
    assert_eq!((t.images.total, t.images.active), (1, 1));
    assert_eq!(t.images.size as i64, layers);
    assert_eq!((t.containers.total, t.containers.active), (1, 0));
    assert_eq!((t.volumes.total, t.volumes.active), (2, 1));
}
