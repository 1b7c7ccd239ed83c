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

#[derive(Debug, Default, serde::Deserialize)]
struct AuthBody {
    username: Option<String>,
    password: Option<String>,
    serveraddress: Option<String>,
    identitytoken: Option<String>,
}

/// `POST /auth` (`docker login`): the credentials checked against the registry; the client
/// keeps them (dockerd does not store them either). A token server's refresh token comes back
/// as `IdentityToken`.
pub async fn auth(req: http::Request<hyper::body::Incoming>) -> ApiResult {
    let b: AuthBody = crate::req::json_body(req.into_body()).await?;
    let registry = berth_image::registry::credentials::server_name(b.serveraddress.as_deref());
    let token = b.identitytoken.filter(|t| !t.is_empty());
    let creds = berth_image::registry::client::Credentials {
        username: b.username.unwrap_or_default(),
        password: b.password.unwrap_or_default(),
        identity_token: token,
    };
    let refresh = crate::req::blocking(move || {
        let config = berth_image::registry::config::RegistryConfig::load()?;
        berth_image::registry::client::Client::from_config(config, Some(creds))
            .login(&registry)
            .map_err(|e| crate::reply::ApiError {
                status: http::StatusCode::UNAUTHORIZED,
                message: format!("login to {registry} failed: {e}"),
            })
    })
    .await?;
    Ok(reply::ok(&serde_json::json!({
        "Status": "Login Succeeded",
        "IdentityToken": refresh.unwrap_or_default(),
    })))
}
