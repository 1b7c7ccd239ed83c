//! `/volumes/...`: list, create, inspect, remove, prune.

use crate::reply::{self, ApiError, ApiResult};
use crate::req::{json_body, Ctx};
use berth_engine::service::{volumes, Filters};
use berth_engine::volume::VolumeStore;
use http::{Request, StatusCode};
use hyper::body::Incoming;
use serde::Deserialize;
use std::collections::BTreeMap;

pub async fn list(ctx: &Ctx) -> ApiResult {
    let f = Filters::from_api_json(ctx.q("filters").unwrap_or(""))?;
    let v = ctx.engine(move |e| Ok(volumes::list(e, &f)?)).await?;
    Ok(reply::ok(&v))
}

pub async fn inspect(ctx: &Ctx, name: &str) -> ApiResult {
    let name = name.to_string();
    let v = ctx.engine(move |e| Ok(volumes::inspect(e, &name)?)).await?;
    Ok(reply::ok(&v))
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct CreateBody {
    name: Option<String>,
    driver: Option<String>,
    driver_opts: Option<BTreeMap<String, String>>,
    labels: Option<BTreeMap<String, String>>,
}

pub async fn create(ctx: &Ctx, req: Request<Incoming>) -> ApiResult {
    let b: CreateBody = json_body(req.into_body()).await?;
    match b.driver.as_deref().unwrap_or("") {
        "" | "local" => {}
        d => return Err(ApiError::not_found(format!("plugin \"{d}\" not found"))),
    }
    if b.driver_opts.as_ref().is_some_and(|o| !o.is_empty()) {
        return Err(ApiError::bad_request(
            "volume driver options are not supported by Berth",
        ));
    }
    let name = b.name.filter(|n| !n.is_empty());
    let labels = b.labels.unwrap_or_default();
    let v = ctx
        .engine(move |e| {
            let v = VolumeStore::open(&e.root)?.create(name.as_deref(), &labels)?;
            Ok(volumes::Volume::of(&v))
        })
        .await?;
    Ok(reply::json(StatusCode::CREATED, &v))
}

pub async fn remove(ctx: &Ctx, name: &str) -> ApiResult {
    let name = name.to_string();
    let force = ctx.flag("force");
    ctx.engine(move |e| {
        VolumeStore::open(&e.root)?.remove(&name, force)?;
        Ok(())
    })
    .await?;
    Ok(reply::no_content())
}

pub async fn prune(ctx: &Ctx) -> ApiResult {
    let f = Filters::from_api_json(ctx.q("filters").unwrap_or(""))?;
    let v = ctx
        .engine(move |e| {
            // As dockerd's API 1.42+: anonymous volumes only, unless `all=true`.
            let all = f.get("all").iter().any(|v| v == "true" || v == "1");
            let mut rest = Filters::default();
            for k in f.keys().filter(|k| *k != "all") {
                for v in f.get(k) {
                    rest.add(k, v);
                }
            }
            let filter = volumes::volume_filter(&rest)?;
            let p = VolumeStore::open(&e.root)?.prune_matching(all, &filter)?;
            Ok(serde_json::json!({ "VolumesDeleted": p.names, "SpaceReclaimed": p.bytes }))
        })
        .await?;
    Ok(reply::ok(&v))
}
