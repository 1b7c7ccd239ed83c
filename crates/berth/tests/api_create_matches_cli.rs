//! A container made by the engine from the Engine API body the docker CLI sends for
//! `docker run -d -p P:80 -v vol:/data -e A=B --restart always --memory 64m --cpus 0.5
//! busybox sleep 100` is the container `berth create` makes from the same flags: inspect
//! shows the same Config and HostConfig, and it runs.

mod container_support;
use berth_engine::container::ImageInput;
use berth_engine::image_config::ImageConfig;
use berth_engine::options::api;
use container_support::*;
use serde_json::Value;

/// The body the docker CLI 20.10 sent to dockerd for those flags (host port 8080).
const BODY: &str = include_str!(
    "../../engine/tests/api_create_bodies/docker20-run-d-publish-volume-restart-limits.json"
);

/// A host port nobody listens on now (tests run in parallel with other roots).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// What the engine's create would be given by an API server: the request's options and the
/// image by name, never pulled.
fn create_through_api(root: &Root, body: &str, name: &str) -> String {
    let req = api::parse_request(body.as_bytes()).unwrap();
    let opts = api::run_options(&req, Some(name)).unwrap();
    let md = berth_image::metadata::Metadata::open(&root.path().join("berth.db")).unwrap();
    let images = md.images().unwrap();
    let img = images
        .iter()
        .find(|i| i.names.iter().any(|n| n.ends_with(&format!("/{IMAGE}"))))
        .expect("the test image");
    let store = berth_image::ContentStore::open(root.path().join("content")).unwrap();
    let config = ImageConfig::from_image_config(&store.read(&img.id).unwrap()).unwrap();
    let e = berth_engine::Engine::open(root.path()).unwrap();
    let row = e
        .create(
            &opts,
            ImageInput {
                id: &img.id,
                chain: &img.chain,
                config: &config,
            },
        )
        .unwrap();
    row.id
}

/// The keys that differ between any two containers (their hostname is their short ID).
fn comparable(mut v: Value) -> (Value, Value) {
    let mut config = v["Config"].take();
    config["Hostname"] = Value::Null;
    let env: Vec<Value> = config["Env"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| !e.as_str().unwrap().starts_with("HOSTNAME="))
        .cloned()
        .collect();
    config["Env"] = Value::Array(env);
    (config, v["HostConfig"].take())
}

#[test]
fn docker_cli_create_body_makes_the_container_berth_create_makes_from_the_same_flags() {
    let root = Root::new();
    let port = free_port().to_string();
    let body = BODY
        .replace("\"busybox\"", &format!("\"{IMAGE}\""))
        .replace("\"HostPort\":\"8080\"", &format!("\"HostPort\":\"{port}\""));
    assert!(
        body.contains(&port) && body.contains(IMAGE),
        "the body was adapted"
    );
    let api_id = create_through_api(&root, &body, "from-api");
    let publish = format!("{port}:80");
    root.ok(&[
        "create",
        "-d",
        "--name",
        "from-cli",
        "-p",
        &publish,
        "-v",
        "vol:/data",
        "-e",
        "A=B",
        "--restart",
        "always",
        "--memory",
        "64m",
        "--cpus",
        "0.5",
        IMAGE,
        "sleep",
        "100",
    ]);
    let from_api = root.inspect("from-api");
    let from_cli = root.inspect("from-cli");
    assert_eq!(from_api["Id"], api_id.as_str());
    let (api_config, api_host) = comparable(from_api.clone());
    let (cli_config, cli_host) = comparable(from_cli);
    assert_eq!(api_host, cli_host, "HostConfig");
    assert_eq!(api_config, cli_config, "Config");
    // And they are what was asked, not merely equal.
    assert_eq!(api_host["Memory"], 64 << 20);
    assert_eq!(api_host["NanoCpus"], 500_000_000);
    assert_eq!(api_host["RestartPolicy"]["Name"], "always");
    assert_eq!(api_host["Binds"][0], "vol:/data");
    assert_eq!(
        api_host["PortBindings"]["80/tcp"][0]["HostPort"],
        port.as_str()
    );
    assert!(api_config["Env"]
        .as_array()
        .unwrap()
        .contains(&Value::from("A=B")));
    assert_eq!(api_config["Cmd"], serde_json::json!(["sleep", "100"]));

    // The engine-made container runs, with its limits and its volume.
    root.ok(&["start", "from-api"]);
    let state = root.inspect("from-api");
    assert_eq!(state["State"]["Running"], true, "{state}");
    let out = root.ok(&[
        "exec",
        "from-api",
        "sh",
        "-c",
        "echo $A; cat /proc/self/mountinfo",
    ]);
    assert!(out.starts_with("B\n"), "{out}");
    assert!(out.contains(" /data "), "the volume is mounted: {out}");
    root.ok(&["rm", "-f", "from-api", "from-cli"]);
    root.ok(&["volume", "rm", "vol"]);
}

#[test]
fn publish_all_ports_publishes_the_requests_exposed_ports_with_the_images() {
    let root = Root::new();
    let body = serde_json::json!({
        "Image": IMAGE,
        "Cmd": ["sleep", "100"],
        "ExposedPorts": {"53/udp": {}, "8125/tcp": {}},
        "HostConfig": {"PublishAllPorts": true,
            "PortBindings": {"8125/tcp": [{"HostIp": "127.0.0.1", "HostPort": ""}]}},
    })
    .to_string();
    let id = create_through_api(&root, &body, "publish-all");
    let e = berth_engine::Engine::open(root.path()).unwrap();
    let o = berth_engine::container::options_of(&e.find(&id).unwrap());
    let mut ports: Vec<String> = o
        .ports
        .iter()
        .map(|p| {
            format!(
                "{:?}:{:?}:{}/{}",
                p.host_ip, p.host_port, p.container_port, p.proto
            )
        })
        .collect();
    ports.sort();
    // The bound one keeps its binding; the other gets a random host port at start.
    assert_eq!(
        ports,
        vec!["None:None:53/udp", "Some(127.0.0.1):None:8125/tcp"]
    );
}
