//! Networks as Docker's `/networks` endpoints show them.

use super::filters::label_matches;
use super::Filters;
use crate::network::{NetworkRow, DEFAULT_NETWORK};
use crate::{Engine, Error, Result};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The filters `list` knows.
pub const FILTERS: &[&str] = &["dangling", "driver", "id", "label", "name", "scope", "type"];

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IpamConfig {
    #[serde(rename = "Subnet")]
    pub subnet: String,
    #[serde(rename = "Gateway")]
    pub gateway: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ipam {
    #[serde(rename = "Driver")]
    pub driver: String,
    #[serde(rename = "Options")]
    pub options: Option<BTreeMap<String, String>>,
    #[serde(rename = "Config")]
    pub config: Vec<IpamConfig>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConfigReference {
    #[serde(rename = "Network")]
    pub network: String,
}

/// A container on a network, as the network shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct EndpointResource {
    pub name: String,
    #[serde(rename = "EndpointID")]
    pub endpoint_id: String,
    pub mac_address: String,
    /// `172.18.0.2/16`.
    #[serde(rename = "IPv4Address")]
    pub ipv4_address: String,
    #[serde(rename = "IPv6Address")]
    pub ipv6_address: String,
}

/// The API's NetworkResource (`GET /networks`, `GET /networks/{id}`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct NetworkResource {
    pub name: String,
    pub id: String,
    /// RFC 3339.
    pub created: String,
    pub scope: String,
    pub driver: String,
    #[serde(rename = "EnableIPv6")]
    pub enable_ipv6: bool,
    #[serde(rename = "IPAM")]
    pub ipam: Ipam,
    pub internal: bool,
    pub attachable: bool,
    pub ingress: bool,
    pub config_from: ConfigReference,
    pub config_only: bool,
    /// Container ID -> its endpoint, for the containers attached now.
    pub containers: BTreeMap<String, EndpointResource>,
    pub options: BTreeMap<String, String>,
    pub labels: BTreeMap<String, String>,
}

fn resource(e: &Engine, db: &crate::network::NetDb, n: &NetworkRow) -> Result<NetworkResource> {
    let mut containers = BTreeMap::new();
    for a in db.attachments_on(&n.id)? {
        let (Some(ip), Some(mac)) = (a.ip, a.mac) else {
            continue;
        };
        let name = e
            .store
            .get(&a.container)
            .ok()
            .flatten()
            .map(|r| r.name)
            .unwrap_or_default();
        let prefix = n.subnet.split('/').nth(1).unwrap_or("16");
        containers.insert(
            a.container.clone(),
            EndpointResource {
                name,
                endpoint_id: String::new(),
                mac_address: mac,
                ipv4_address: format!("{ip}/{prefix}"),
                ipv6_address: String::new(),
            },
        );
    }
    Ok(NetworkResource {
        name: n.name.clone(),
        id: n.id.clone(),
        created: n.created.clone(),
        scope: "local".into(),
        driver: n.driver.clone(),
        enable_ipv6: false,
        ipam: Ipam {
            driver: "default".into(),
            options: None,
            config: vec![IpamConfig {
                subnet: n.subnet.clone(),
                gateway: n.gateway.clone(),
            }],
        },
        internal: n.internal,
        attachable: false,
        ingress: false,
        config_from: ConfigReference {
            network: String::new(),
        },
        config_only: false,
        containers,
        options: BTreeMap::from([(
            "com.docker.network.bridge.name".to_string(),
            n.bridge.clone(),
        )]),
        labels: n.labels.clone(),
    })
}

/// Docker's checks of the values no network can have.
fn check_filters(f: &Filters) -> Result<()> {
    f.validate(FILTERS)?;
    for v in f.get("type") {
        if v != "custom" && v != "builtin" {
            return Err(Error::InvalidArgument(format!(
                "invalid filter: 'type'='{v}'"
            )));
        }
    }
    for v in f.get("dangling") {
        super::filters::parse_bool("dangling", v)?;
    }
    Ok(())
}

fn matches(n: &NetworkResource, f: &Filters) -> bool {
    let any = |key: &str, pred: &dyn Fn(&str) -> bool| {
        let values = f.get(key);
        values.is_empty() || values.iter().any(|v| pred(v))
    };
    let builtin = n.name == DEFAULT_NETWORK;
    any("driver", &|v| n.driver == v)
        && any("id", &|v| n.id.starts_with(v))
        && any("name", &|v| n.name.contains(v))
        && any("scope", &|v| v == "local")
        && any("type", &|v| (v == "builtin") == builtin)
        && any("dangling", &|v| {
            let dangling = matches!(v.to_ascii_lowercase().as_str(), "true" | "1");
            // The predefined network is never dangling, as Docker's.
            dangling == (n.containers.is_empty() && !builtin)
        })
        && f.get("label").iter().all(|l| label_matches(l, &n.labels))
}

/// The networks `f` selects.
pub fn list(e: &Engine, f: &Filters) -> Result<Vec<NetworkResource>> {
    check_filters(f)?;
    let rows = e.network_list()?;
    let db = e.net_db()?;
    let mut out = Vec::new();
    for n in &rows {
        let r = resource(e, &db, n)?;
        if matches(&r, f) {
            out.push(r);
        }
    }
    Ok(out)
}

/// One network by name, ID or unique ID prefix.
pub fn inspect(e: &Engine, name: &str) -> Result<NetworkResource> {
    let db = e.net_db()?;
    let n = e.network_find(&db, name)?;
    resource(e, &db, &n)
}
