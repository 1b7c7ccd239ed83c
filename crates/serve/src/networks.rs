//! `/networks/...`: list, inspect, create, connect, disconnect, remove, prune.

use crate::reply::{self, ApiError, ApiResult};
use crate::req::{json_body, Ctx};
use berth_engine::network::manage::NetworkSpec;
use berth_engine::service::{networks, Filters};
use http::{Request, StatusCode};
use hyper::body::Incoming;
use serde::Deserialize;
use std::collections::BTreeMap;

pub async fn list(ctx: &Ctx) -> ApiResult {
    let f = Filters::from_api_json(ctx.q("filters").unwrap_or(""))?;
    let v = ctx.engine(move |e| Ok(networks::list(e, &f)?)).await?;
    Ok(reply::ok(&v))
}

pub async fn inspect(ctx: &Ctx, id: &str) -> ApiResult {
    let id = id.to_string();
    let v = ctx.engine(move |e| Ok(networks::inspect(e, &id)?)).await?;
    Ok(reply::ok(&v))
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct CreateBody {
    name: Option<String>,
    driver: Option<String>,
    internal: Option<bool>,
    #[serde(rename = "IPAM")]
    ipam: Option<Ipam>,
    #[serde(rename = "EnableIPv6")]
    enable_ipv6: Option<bool>,
    labels: Option<BTreeMap<String, String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Ipam {
    config: Option<Vec<IpamConfig>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct IpamConfig {
    subnet: Option<String>,
    gateway: Option<String>,
}

pub async fn create(ctx: &Ctx, req: Request<Incoming>) -> ApiResult {
    let b: CreateBody = json_body(req.into_body()).await?;
    let name = b
        .name
        .clone()
        .filter(|n| !n.is_empty())
        .ok_or_else(|| ApiError::bad_request("network name is required"))?;
    match b.driver.as_deref().unwrap_or("") {
        "" | "bridge" => {}
        d => return Err(ApiError::not_found(format!("plugin \"{d}\" not found"))),
    }
    if b.enable_ipv6 == Some(true) {
        return Err(ApiError::bad_request(
            "IPv6 networks are not supported by Berth",
        ));
    }
    let configs = b.ipam.and_then(|i| i.config).unwrap_or_default();
    if configs.len() > 1 {
        return Err(ApiError::bad_request(
            "more than one IPAM config is not supported by Berth",
        ));
    }
    let first = configs.into_iter().next().unwrap_or_default();
    let spec = NetworkSpec {
        name,
        subnet: first.subnet.filter(|s| !s.is_empty()),
        gateway: first.gateway.filter(|s| !s.is_empty()),
        internal: b.internal.unwrap_or(false),
        labels: b.labels.unwrap_or_default(),
    };
    let row = ctx.engine(move |e| Ok(e.network_create(&spec)?)).await?;
    Ok(reply::json(
        StatusCode::CREATED,
        &serde_json::json!({ "Id": row.id, "Warning": "" }),
    ))
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ConnectBody {
    container: Option<String>,
    endpoint_config: Option<Endpoint>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Endpoint {
    aliases: Option<Vec<String>>,
    #[serde(rename = "IPAMConfig")]
    ipam_config: Option<EndpointIpam>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct EndpointIpam {
    #[serde(rename = "IPv4Address")]
    ipv4_address: Option<String>,
}

pub async fn connect(ctx: &Ctx, id: &str, req: Request<Incoming>) -> ApiResult {
    let b: ConnectBody = json_body(req.into_body()).await?;
    let container = b
        .container
        .filter(|c| !c.is_empty())
        .ok_or_else(|| ApiError::bad_request("container is required"))?;
    let ep = b.endpoint_config.unwrap_or_default();
    let aliases = ep.aliases.unwrap_or_default();
    let ip = match ep
        .ipam_config
        .and_then(|i| i.ipv4_address)
        .filter(|a| !a.is_empty())
    {
        Some(a) => Some(
            a.parse()
                .map_err(|_| ApiError::bad_request(format!("invalid IPv4 address: {a}")))?,
        ),
        None => None,
    };
    let id = id.to_string();
    ctx.engine(move |e| Ok(e.network_connect(&id, &container, &aliases, ip)?))
        .await?;
    Ok(reply::status(StatusCode::OK))
}

pub async fn disconnect(ctx: &Ctx, id: &str, req: Request<Incoming>) -> ApiResult {
    let b: ConnectBody = json_body(req.into_body()).await?;
    let container = b
        .container
        .filter(|c| !c.is_empty())
        .ok_or_else(|| ApiError::bad_request("container is required"))?;
    let id = id.to_string();
    ctx.engine(move |e| Ok(e.network_disconnect(&id, &container)?))
        .await?;
    Ok(reply::status(StatusCode::OK))
}

pub async fn remove(ctx: &Ctx, id: &str) -> ApiResult {
    let id = id.to_string();
    ctx.engine(move |e| {
        e.network_remove(&id)?;
        Ok(())
    })
    .await?;
    Ok(reply::no_content())
}

pub async fn prune(ctx: &Ctx) -> ApiResult {
    let gone = ctx.engine(move |e| Ok(e.network_prune()?)).await?;
    Ok(reply::ok(&serde_json::json!({ "NetworksDeleted": gone })))
}
