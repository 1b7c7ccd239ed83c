//! `/images/...`: list, inspect, history, tag, remove and pull, over the engine's image
//! service; and the lookup of a container's image.

use crate::reply::{self, ApiError, ApiResult};
use crate::req::Ctx;
use berth_engine::image_config::ImageConfig;
use berth_engine::service::{images, Filters};
use berth_image::metadata::{Metadata, StoredImage};
use berth_image::{ContentStore, Digest, Reference};
use std::path::Path;

/// The stored image `name` (a name, a repository digest, an ID or a unique ID prefix) and
/// its config.
pub fn stored(root: &Path, name: &str) -> Result<(StoredImage, ImageConfig), ApiError> {
    let md = Metadata::open(&root.join("berth.db"))?;
    let image = images::resolve(&md, name)?.image().clone();
    let bytes = ContentStore::open(root.join("content"))?.read(&image.id)?;
    let config = ImageConfig::from_image_config(&bytes)?;
    Ok((image, config))
}

/// `images/{name}/json` and the like: the name is every segment between `images` and the
/// action (a name holds slashes the client does not escape).
pub fn name_of(segs: &[&str]) -> String {
    segs.join("/")
}

pub async fn list(ctx: &Ctx) -> ApiResult {
    let o = images::ListOptions {
        all: ctx.flag("all"),
        digests: ctx.flag("digests"),
        filters: Filters::from_api_json(ctx.q("filters").unwrap_or(""))?,
    };
    let v = ctx.engine(move |e| Ok(images::list(e, &o)?)).await?;
    Ok(reply::ok(&v))
}

pub async fn inspect(ctx: &Ctx, name: String) -> ApiResult {
    let v = ctx.engine(move |e| Ok(images::inspect(e, &name)?)).await?;
    Ok(reply::ok(&v))
}

pub async fn history(ctx: &Ctx, name: String) -> ApiResult {
    let v = ctx.engine(move |e| Ok(images::history(e, &name)?)).await?;
    Ok(reply::ok(&v))
}

pub async fn remove(ctx: &Ctx, name: String) -> ApiResult {
    let (force, noprune) = (ctx.flag("force"), ctx.flag("noprune"));
    let v = ctx
        .engine(move |e| Ok(images::remove(e, &name, force, noprune)?))
        .await?;
    Ok(reply::ok(&v))
}

pub async fn tag(ctx: &Ctx, name: String) -> ApiResult {
    let repo = ctx
        .q("repo")
        .filter(|r| !r.is_empty())
        .ok_or_else(|| ApiError::bad_request("repository name must have at least one component"))?;
    let target = match ctx.q("tag").filter(|t| !t.is_empty()) {
        Some(t) => format!("{repo}:{t}"),
        None => repo.to_string(),
    };
    ctx.engine(move |e| Ok(images::tag(e, &name, &target)?))
        .await?;
    Ok(reply::status(http::StatusCode::CREATED))
}

/// Docker's pull progress messages, one JSON object per line, as the docker CLI draws them.
struct JsonProgress(std::sync::Mutex<crate::body::ChanWriter>);

impl JsonProgress {
    fn send(&self, v: serde_json::Value) {
        use std::io::Write;
        let mut line = v.to_string().into_bytes();
        line.push(b'\n');
        let _ = self
            .0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .write_all(&line);
    }
}

impl berth_image::progress::Progress for JsonProgress {
    fn layer(&self, d: &Digest, e: berth_image::progress::Event) {
        use berth_image::progress::Event as E;
        let id = d.hex().get(..12).unwrap_or(d.hex()).to_string();
        let (status, detail) = match e {
            E::AlreadyExists => ("Already exists", serde_json::json!({})),
            E::Pulling => ("Pulling fs layer", serde_json::json!({})),
            E::Waiting => ("Waiting", serde_json::json!({})),
            E::Downloading { done, total } => (
                "Downloading",
                serde_json::json!({ "current": done, "total": total }),
            ),
            E::DownloadComplete => ("Download complete", serde_json::json!({})),
            E::Extracting => ("Extracting", serde_json::json!({})),
            E::PullComplete => ("Pull complete", serde_json::json!({})),
        };
        self.send(serde_json::json!({ "status": status, "progressDetail": detail, "id": id }));
    }
}

/// `POST /images/create?fromImage=NAME&tag=TAG[&platform=P]`: the pull, its progress streamed
/// as dockerd streams it; an error after the answer started is the stream's last message.
pub async fn create(ctx: &Ctx, req: http::Request<hyper::body::Incoming>) -> ApiResult {
    let Some(from) = ctx.q("fromImage").filter(|f| !f.is_empty()) else {
        return import(ctx, req).await;
    };
    let tag = ctx.q("tag").filter(|t| !t.is_empty());
    let reference = match tag {
        Some(t) if t.starts_with("sha256:") => format!("{from}@{t}"),
        Some(t) => format!("{from}:{t}"),
        None if from.contains('@') || has_tag(from) => from.to_string(),
        None => format!("{from}:latest"),
    };
    let r: Reference = reference.parse().map_err(ApiError::from)?;
    let platform = ctx
        .q("platform")
        .filter(|p| !p.is_empty())
        .map(str::to_string);
    let (tx, body) = crate::body::Body::channel();
    let state = ctx.state.clone();
    tokio::task::spawn_blocking(move || {
        let progress = JsonProgress(std::sync::Mutex::new(crate::body::ChanWriter(tx)));
        progress.send(serde_json::json!({
            "status": format!(
                "Pulling from {}",
                r.path().strip_prefix("library/").unwrap_or(r.path())
            ),
            "id": r.tag().unwrap_or("latest"),
        }));
        let pulled = state
            .engine()
            .and_then(|e| e.pull(&reference, platform.as_deref(), &progress));
        match pulled {
            Ok(p) => {
                progress.send(serde_json::json!({ "status": format!("Digest: {}", p.manifest) }));
                let s = if p.up_to_date {
                    format!("Status: Image is up to date for {}", r.familiar())
                } else {
                    format!("Status: Downloaded newer image for {}", r.familiar())
                };
                progress.send(serde_json::json!({ "status": s }));
            }
            Err(e) => progress.send(serde_json::json!({
                "errorDetail": { "message": e.to_string() },
                "error": e.to_string(),
            })),
        }
    });
    Ok(http::Response::builder()
        .status(http::StatusCode::OK)
        .header("content-type", "application/json")
        .body(body)
        .unwrap_or_else(|_| crate::reply::status(http::StatusCode::INTERNAL_SERVER_ERROR)))
}

/// Does the last path component carry a `:tag` (not a registry's `:port`)?
fn has_tag(name: &str) -> bool {
    name.rsplit('/')
        .next()
        .is_some_and(|last| last.contains(':'))
}

/// `POST /images/create?fromSrc=-&repo=R&tag=T&changes=...&message=M` (`docker import`): the
/// body is a root filesystem tarball (plain or compressed), made an image of one layer.
async fn import(ctx: &Ctx, req: http::Request<hyper::body::Incoming>) -> ApiResult {
    if ctx.q("fromSrc") != Some("-") {
        return Err(ApiError::bad_request(
            "importing from a URL is not supported: send the tarball as the body (fromSrc=-)",
        ));
    }
    let name = ctx.q("repo").filter(|r| !r.is_empty()).map(|repo| {
        match ctx.q("tag").filter(|t| !t.is_empty()) {
            Some(t) => format!("{repo}:{t}"),
            None => repo.to_string(),
        }
    });
    let opts = berth_image::import::ImportOptions {
        message: ctx
            .q("message")
            .filter(|m| !m.is_empty())
            .map(str::to_string),
        changes: ctx.all("changes"),
    };
    let reader = crate::archive::BodyReader::new(req.into_body());
    let id = ctx
        .engine(move |e| {
            let reader = std::io::BufReader::with_capacity(1 << 20, reader);
            Ok(e.import(reader, name.as_deref(), &opts)?)
        })
        .await?;
    Ok(reply::ok(&serde_json::json!({ "status": id.to_string() })))
}

/// `GET /images/get?names=A&names=B` and `GET /images/{name}/get` (`docker save`): the
/// archive streamed as it is written.
pub async fn get(ctx: &Ctx, names: Vec<String>) -> ApiResult {
    if names.is_empty() {
        return Err(ApiError::bad_request("no images to save: give names="));
    }
    // Looked up first: a missing name is a 404 before the answer starts.
    let items = ctx.engine(move |e| Ok(e.save_items(&names)?)).await?;
    let (tx, body) = crate::body::Body::channel();
    let state = ctx.state.clone();
    tokio::task::spawn_blocking(move || {
        if let Ok(e) = state.engine() {
            let w = std::io::BufWriter::with_capacity(1 << 20, crate::body::ChanWriter(tx));
            // A client gone mid-way ends the archive with a write error.
            let _ = e.save(&items, w);
        }
    });
    Ok(http::Response::builder()
        .status(http::StatusCode::OK)
        .header("content-type", "application/x-tar")
        .body(body)
        .unwrap_or_else(|_| reply::status(http::StatusCode::INTERNAL_SERVER_ERROR)))
}

/// `POST /images/load` (`docker load`): the archive is the body; Docker's messages back.
pub async fn load(ctx: &Ctx, req: http::Request<hyper::body::Incoming>) -> ApiResult {
    let reader = crate::archive::BodyReader::new(req.into_body());
    let lines = ctx
        .engine(move |e| {
            let loaded = e.load(std::io::BufReader::with_capacity(1 << 20, reader))?;
            let mut lines = Vec::new();
            for l in loaded {
                for (name, old) in &l.renamed {
                    lines.push(format!(
                        "The image {} already exists, renaming the old one with ID {old} to empty string\n",
                        images::familiar(name)
                    ));
                }
                if l.names.is_empty() {
                    lines.push(format!("Loaded image ID: {}\n", l.id));
                }
                for n in &l.names {
                    lines.push(format!("Loaded image: {}\n", images::familiar(n)));
                }
            }
            Ok(lines)
        })
        .await?;
    let mut body = Vec::new();
    for l in lines {
        body.extend(serde_json::to_vec(&serde_json::json!({ "stream": l })).unwrap_or_default());
        body.push(b'\n');
    }
    Ok(http::Response::builder()
        .status(http::StatusCode::OK)
        .header("content-type", "application/json")
        .body(crate::body::Body::bytes(body))
        .unwrap_or_else(|_| reply::status(http::StatusCode::INTERNAL_SERVER_ERROR)))
}

/// The credentials of an `X-Registry-Auth` header (base64url JSON); None for `{}` or none.
fn registry_auth<B>(req: &http::Request<B>) -> Option<berth_image::registry::client::Credentials> {
    use base64::Engine as _;
    let raw = req.headers().get("x-registry-auth")?.to_str().ok()?.trim();
    let bytes = base64::engine::general_purpose::URL_SAFE
        .decode(raw)
        .or_else(|_| base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(raw))
        .or_else(|_| base64::engine::general_purpose::STANDARD.decode(raw))
        .ok()?;
    let v: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    let s = |k: &str| v[k].as_str().unwrap_or("").to_string();
    let token = s("identitytoken");
    if s("username").is_empty() && token.is_empty() {
        return None;
    }
    Some(berth_image::registry::client::Credentials {
        username: s("username"),
        password: s("password"),
        identity_token: (!token.is_empty()).then_some(token),
    })
}

/// `POST /images/{name}/push?tag=T` (`docker push`): Docker's progress messages.
pub async fn push(ctx: &Ctx, name: String, req: http::Request<hyper::body::Incoming>) -> ApiResult {
    let reference = match ctx.q("tag").filter(|t| !t.is_empty()) {
        Some(t) => format!("{name}:{t}"),
        None => name,
    };
    let r: Reference = reference.parse().map_err(ApiError::from)?;
    let creds = registry_auth(&req);
    let (tx, body) = crate::body::Body::channel();
    let state = ctx.state.clone();
    tokio::task::spawn_blocking(move || {
        let progress = JsonProgress(std::sync::Mutex::new(crate::body::ChanWriter(tx)));
        progress.send(serde_json::json!({
            "status": format!("The push refers to repository [{}]", r.name()),
        }));
        let opts = berth_image::registry::push::PushOptions::default();
        let pushed = state.engine().and_then(|e| {
            e.push(&reference, creds, &opts, &mut |d, how| {
                use berth_image::registry::push::LayerPushed as L;
                let status = match how {
                    L::Exists => "Layer already exists".to_string(),
                    L::Mounted(from) => format!("Mounted from {from}"),
                    L::Uploaded => "Pushed".to_string(),
                };
                progress.send(serde_json::json!({
                    "status": status, "progressDetail": {}, "id": &d.hex()[..12],
                }));
            })
        });
        match pushed {
            Ok(p) => {
                let tag = r.tag().unwrap_or("latest");
                progress.send(serde_json::json!({
                    "status": format!("{tag}: digest: {} size: {}", p.digest, p.size),
                }));
                progress.send(serde_json::json!({
                    "progressDetail": {},
                    "aux": { "Tag": tag, "Digest": p.digest.to_string(), "Size": p.size },
                }));
            }
            Err(e) => progress.send(serde_json::json!({
                "errorDetail": { "message": e.to_string() },
                "error": e.to_string(),
            })),
        }
    });
    Ok(http::Response::builder()
        .status(http::StatusCode::OK)
        .header("content-type", "application/json")
        .body(body)
        .unwrap_or_else(|_| reply::status(http::StatusCode::INTERNAL_SERVER_ERROR)))
}

/// `GET /images/search`: the index the term names (Docker Hub without one); offline, the
/// index's address is unreachable and the error says so.
pub async fn search(ctx: &Ctx) -> ApiResult {
    let term = ctx.q("term").unwrap_or("").to_string();
    let limit = match ctx.int("limit")?.unwrap_or(0) {
        n if n < 0 => {
            return Err(ApiError::bad_request(format!(
                "limit {n} is outside the range of [1, 100]"
            )))
        }
        n => u32::try_from(n).unwrap_or(u32::MAX),
    };
    let filters = Filters::from_api_json(ctx.q("filters").unwrap_or(""))?;
    let v = crate::req::blocking(move || Ok(images::search(&term, limit, &filters)?)).await?;
    Ok(reply::ok(&v))
}
