//! `/_ping`, `/version`, `/info`: what clients ask first, to negotiate the API version.

use crate::body::Body;
use crate::reply::{self, ApiResult, Reply};
use crate::req::Ctx;
use http::{Method, Response, StatusCode};

/// The newest API version served (clients negotiate down from theirs), and the oldest.
pub use berth_engine::service::system::{API_VERSION, MIN_API_VERSION};

/// [`API_VERSION`] as numbers.
pub fn api_version() -> (u32, u32) {
    let (a, b) = API_VERSION.split_once('.').unwrap_or(("1", "0"));
    (a.parse().unwrap_or(1), b.parse().unwrap_or(0))
}

pub fn ping(m: &Method) -> Reply {
    let body = if m == Method::HEAD {
        Body::empty()
    } else {
        Body::bytes("OK")
    };
    Response::builder()
        .status(StatusCode::OK)
        .header("content-type", "text/plain; charset=utf-8")
        .header("cache-control", "no-cache, no-store, must-revalidate")
        .header("pragma", "no-cache")
        // No BuildKit: clients use the classic builder's API.
        .header("builder-version", "1")
        .body(body)
        .unwrap_or_else(|_| reply::status(StatusCode::INTERNAL_SERVER_ERROR))
}

pub fn version() -> Reply {
    reply::ok(&berth_engine::service::system::version())
}

pub async fn info(ctx: &Ctx) -> ApiResult {
    let v = ctx
        .engine(|e| Ok(berth_engine::service::system::info(e)?))
        .await?;
    Ok(reply::ok(&v))
}

pub async fn df(ctx: &Ctx) -> ApiResult {
    let v = ctx
        .engine(|e| Ok(berth_engine::service::system::df(e)?))
        .await?;
    Ok(reply::ok(&v))
}
