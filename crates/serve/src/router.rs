//! Connections and the route table: each request's method and path (its `/vX.Y` prefix off)
//! pick a handler; every answer carries dockerd's headers (`Api-Version`, `Ostype`, ...).

use crate::listen::Listener;
use crate::reply::{ApiError, Reply};
use crate::req::{parse_query, split_path, Ctx};
use crate::state::State;
use crate::{
    archive, attach, attach_ws, containers, events, exec, images, networks, stats, system, volumes,
};
use http::{HeaderValue, Method, Request, StatusCode};
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use std::sync::Arc;

pub async fn accept_loop(l: Listener, state: Arc<State>) {
    loop {
        match &l {
            Listener::Unix(u, _) => match u.accept().await {
                Ok((s, _)) => spawn_connection(TokioIo::new(s), state.clone()),
                Err(e) => accept_failed(e).await,
            },
            Listener::Tcp(t) => match t.accept().await {
                Ok((s, _)) => {
                    let _ = s.set_nodelay(true);
                    spawn_connection(TokioIo::new(s), state.clone())
                }
                Err(e) => accept_failed(e).await,
            },
            Listener::Tls(t, acceptor) => match t.accept().await {
                Ok((s, peer)) => {
                    let _ = s.set_nodelay(true);
                    let (acceptor, state) = (acceptor.clone(), state.clone());
                    // The handshake in a task of its own: a slow client holds up no one.
                    tokio::spawn(async move {
                        match acceptor.accept(s).await {
                            Ok(tls) => spawn_connection(TokioIo::new(tls), state),
                            Err(e) => tracing::info!(%peer, error = %e, "TLS handshake refused"),
                        }
                    });
                }
                Err(e) => accept_failed(e).await,
            },
        }
    }
}

/// EMFILE and the like: wait a little instead of spinning, the server stays up.
async fn accept_failed(e: std::io::Error) {
    tracing::warn!(error = %e, "accept failed");
    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
}

fn spawn_connection<I>(io: I, state: Arc<State>)
where
    I: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    tokio::spawn(async move {
        let service = hyper::service::service_fn(move |req| {
            let state = state.clone();
            async move { Ok::<_, std::convert::Infallible>(handle(state, req).await) }
        });
        // No half-close: a client's end of input is its going away, which ends a streamed
        // answer (a wait, a followed log) and lets go of what it holds. (The hijacked
        // streams' half-close is their own.)
        let conn = hyper::server::conn::http1::Builder::new()
            .serve_connection(io, service)
            .with_upgrades();
        if let Err(e) = conn.await {
            tracing::debug!(error = %e, "connection ended with an error");
        }
    });
}

async fn handle(state: Arc<State>, req: Request<Incoming>) -> Reply {
    let (segs, version) = split_path(req.uri().path());
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    let began = std::time::Instant::now();
    let ctx = Ctx {
        state,
        segs,
        query: parse_query(req.uri().query()),
        raw_query: req.uri().query().unwrap_or("").to_string(),
        version,
    };
    let mut reply = match check_version(&ctx) {
        Err(e) => e.reply(),
        Ok(()) => route(ctx, req).await.unwrap_or_else(|e| e.reply()),
    };
    // The time to the answer's head (a stream goes on after it).
    let micros = began.elapsed().as_micros() as u64;
    tracing::debug!(%method, %path, status = reply.status().as_u16(), micros, "request");
    let h = reply.headers_mut();
    h.insert("api-version", HeaderValue::from_static(system::API_VERSION));
    h.insert("docker-experimental", HeaderValue::from_static("false"));
    h.insert("ostype", HeaderValue::from_static("linux"));
    h.insert(
        "server",
        HeaderValue::from_static(concat!("Berth/", env!("CARGO_PKG_VERSION"), " (linux)")),
    );
    reply
}

fn check_version(ctx: &Ctx) -> Result<(), ApiError> {
    let Some((a, b)) = ctx.version else {
        return Ok(());
    };
    let v = format!("{a}.{b}");
    if (a, b) < (1, 24) {
        return Err(ApiError::bad_request(format!(
            "client version {v} is too old. Minimum supported API version is {}, please upgrade your client to a newer version",
            system::MIN_API_VERSION
        )));
    }
    if (a, b) > system::api_version() {
        return Err(ApiError::bad_request(format!(
            "client version {v} is too new. Maximum supported API version is {}",
            system::API_VERSION
        )));
    }
    Ok(())
}

async fn route(ctx: Ctx, req: Request<Incoming>) -> Result<Reply, ApiError> {
    let m = req.method().clone();
    let segs: Vec<&str> = ctx.segs.iter().map(String::as_str).collect();
    match (&m, segs.as_slice()) {
        (&Method::GET | &Method::HEAD, ["_ping"]) => Ok(system::ping(&m)),
        (&Method::GET, ["version"]) => Ok(system::version()),
        (&Method::GET, ["info"]) => system::info(&ctx).await,
        (&Method::GET, ["events"]) => events::events(&ctx).await,
        (&Method::GET, ["system", "df"]) => system::df(&ctx).await,
        (&Method::POST, ["auth"]) => system::auth(req).await,

        (&Method::GET, ["images", "json"]) => images::list(&ctx).await,
        (&Method::GET, ["images", "search"]) => images::search(&ctx).await,
        (&Method::GET, ["images", "get"]) => images::get(&ctx, ctx.all("names")).await,
        (&Method::POST, ["images", "load"]) => images::load(&ctx, req).await,
        (&Method::GET, ["images", name @ .., "get"]) if !name.is_empty() => {
            images::get(&ctx, vec![images::name_of(name)]).await
        }
        (&Method::POST, ["images", name @ .., "push"]) if !name.is_empty() => {
            images::push(&ctx, images::name_of(name), req).await
        }
        (&Method::GET, ["images", name @ .., "json"]) if !name.is_empty() => {
            images::inspect(&ctx, images::name_of(name)).await
        }
        (&Method::GET, ["images", name @ .., "history"]) if !name.is_empty() => {
            images::history(&ctx, images::name_of(name)).await
        }
        (&Method::POST, ["images", name @ .., "tag"]) if !name.is_empty() => {
            images::tag(&ctx, images::name_of(name)).await
        }
        (&Method::DELETE, ["images", name @ ..]) if !name.is_empty() => {
            images::remove(&ctx, images::name_of(name)).await
        }

        (&Method::GET, ["networks"]) => networks::list(&ctx).await,
        (&Method::POST, ["networks", "create"]) => networks::create(&ctx, req).await,
        (&Method::POST, ["networks", "prune"]) => networks::prune(&ctx).await,
        (&Method::GET, ["networks", id]) => networks::inspect(&ctx, id).await,
        (&Method::DELETE, ["networks", id]) => networks::remove(&ctx, id).await,
        (&Method::POST, ["networks", id, "connect"]) => networks::connect(&ctx, id, req).await,
        (&Method::POST, ["networks", id, "disconnect"]) => {
            networks::disconnect(&ctx, id, req).await
        }

        (&Method::GET, ["volumes"]) => volumes::list(&ctx).await,
        (&Method::POST, ["volumes", "create"]) => volumes::create(&ctx, req).await,
        (&Method::POST, ["volumes", "prune"]) => volumes::prune(&ctx).await,
        (&Method::GET, ["volumes", name]) => volumes::inspect(&ctx, name).await,
        (&Method::DELETE, ["volumes", name]) => volumes::remove(&ctx, name).await,

        (&Method::POST, ["images", "create"]) => images::create(&ctx, req).await,
        (&Method::GET, ["containers", "json"]) => containers::list(&ctx).await,
        (&Method::POST, ["containers", "create"]) => containers::create(&ctx, req).await,
        (&Method::POST, ["containers", "prune"]) => containers::prune(&ctx).await,
        (&Method::GET, ["containers", id, "json"]) => containers::inspect(&ctx, id).await,
        (&Method::POST, ["containers", id, "start"]) => containers::start(&ctx, id).await,
        (&Method::POST, ["containers", id, "stop"]) => containers::stop(&ctx, id).await,
        (&Method::POST, ["containers", id, "restart"]) => containers::restart(&ctx, id).await,
        (&Method::POST, ["containers", id, "kill"]) => containers::kill(&ctx, id).await,
        (&Method::POST, ["containers", id, "pause"]) => containers::pause(&ctx, id, true).await,
        (&Method::POST, ["containers", id, "unpause"]) => containers::pause(&ctx, id, false).await,
        (&Method::POST, ["containers", id, "rename"]) => containers::rename(&ctx, id).await,
        (&Method::POST, ["containers", id, "update"]) => containers::update(&ctx, id, req).await,
        (&Method::POST, ["containers", id, "wait"]) => containers::wait(&ctx, id).await,
        (&Method::POST, ["containers", id, "resize"]) => containers::resize(&ctx, id).await,
        (&Method::GET, ["containers", id, "logs"]) => containers::logs(&ctx, id).await,
        (&Method::GET, ["containers", id, "top"]) => containers::top(&ctx, id).await,
        (&Method::GET, ["containers", id, "stats"]) => stats::stats(&ctx, id).await,
        (&Method::GET, ["containers", id, "archive"]) => archive::get(&ctx, id).await,
        (&Method::HEAD, ["containers", id, "archive"]) => archive::head(&ctx, id).await,
        (&Method::PUT, ["containers", id, "archive"]) => archive::put(&ctx, id, req).await,
        (&Method::GET, ["containers", id, "export"]) => archive::export(&ctx, id).await,
        (&Method::GET, ["containers", id, "changes"]) => archive::changes(&ctx, id).await,
        (&Method::DELETE, ["containers", id]) => containers::remove(&ctx, id).await,
        (&Method::POST, ["containers", id, "attach"]) => attach::attach(&ctx, id, req).await,
        (&Method::GET, ["containers", id, "attach", "ws"]) => {
            attach_ws::attach_ws(&ctx, id, req).await
        }
        (&Method::POST, ["containers", id, "exec"]) => exec::create(&ctx, id, req).await,
        (&Method::POST, ["exec", id, "start"]) => exec::start(&ctx, id, req).await,
        (&Method::POST, ["exec", id, "resize"]) => exec::resize(&ctx, id).await,
        (&Method::GET, ["exec", id, "json"]) => exec::inspect(&ctx, id),
        _ => Err(ApiError {
            status: StatusCode::NOT_FOUND,
            message: "page not found".into(),
        }),
    }
}
