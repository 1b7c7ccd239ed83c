//! Networks as the Engine API shows them (NetworkResource), listed with Docker's filters.
//! Only database rows are made here: no bridge is brought up.

mod service_support;
use berth_engine::network::manage::NetworkSpec;
use berth_engine::service::networks;
use berth_engine::service::Filters;
use berth_engine::Error;
use service_support::Root;

fn names(root: &Root, filters: &[&str]) -> Vec<String> {
    let f = Filters::from_cli(&filters.iter().map(|s| s.to_string()).collect::<Vec<_>>()).unwrap();
    let mut n: Vec<String> = networks::list(&root.engine, &f)
        .unwrap()
        .into_iter()
        .map(|n| n.name)
        .collect();
    n.sort();
    n
}

fn user_network(root: &Root) -> String {
    root.engine
        .network_create(&NetworkSpec {
            name: "backend".into(),
            subnet: Some("10.231.0.0/24".into()),
            gateway: None,
            internal: true,
            labels: [("team".to_string(), "db".to_string())].into(),
        })
        .unwrap()
        .id
}

#[test]
fn a_network_resource_has_the_api_keys() {
    let root = Root::new();
    let id = user_network(&root);
    let v = serde_json::to_value(networks::inspect(&root.engine, "backend").unwrap()).unwrap();
    assert_eq!(v["Name"], "backend");
    assert_eq!(v["Id"], id.as_str());
    assert!(v["Created"].is_string());
    assert_eq!(v["Scope"], "local");
    assert_eq!(v["Driver"], "bridge");
    assert_eq!(v["EnableIPv6"], false);
    assert_eq!(v["IPAM"]["Driver"], "default");
    assert_eq!(v["IPAM"]["Config"][0]["Subnet"], "10.231.0.0/24");
    assert_eq!(v["IPAM"]["Config"][0]["Gateway"], "10.231.0.1");
    assert_eq!(v["Internal"], true);
    assert!(v["Containers"].as_object().unwrap().is_empty());
    assert_eq!(
        v["Options"]["com.docker.network.bridge.name"],
        format!("br-{}", &id[..12]).as_str()
    );
    assert_eq!(v["Labels"]["team"], "db");
    assert_eq!(v["ConfigFrom"]["Network"], "");
    let by_prefix = networks::inspect(&root.engine, &id[..8]).unwrap();
    assert_eq!(by_prefix.name, "backend");
    let err = networks::inspect(&root.engine, "nothing").unwrap_err();
    assert!(
        matches!(
            err,
            Error::NotFound {
                kind: "network",
                ..
            }
        ),
        "{err:?}"
    );
}

#[test]
fn network_filters_select_as_dockers() {
    let root = Root::new();
    user_network(&root);
    assert_eq!(names(&root, &[]), ["backend", "bridge"]);
    assert_eq!(names(&root, &["type=builtin"]), ["bridge"]);
    assert_eq!(names(&root, &["type=custom"]), ["backend"]);
    assert_eq!(names(&root, &["label=team=db"]), ["backend"]);
    assert_eq!(
        names(&root, &["name=back", "name=brid"]),
        ["backend", "bridge"]
    );
    assert_eq!(names(&root, &["driver=bridge"]).len(), 2);
    assert_eq!(names(&root, &["dangling=true"]), ["backend"]);
    for (bad, msg) in [
        ("color=red", "invalid filter 'color'"),
        ("type=other", "invalid filter: 'type'='other'"),
    ] {
        let f = Filters::from_cli(&[bad.to_string()]).unwrap();
        let err = networks::list(&root.engine, &f).unwrap_err();
        assert!(matches!(err, Error::InvalidArgument(_)), "{err:?}");
        assert_eq!(err.to_string(), msg);
    }
}
