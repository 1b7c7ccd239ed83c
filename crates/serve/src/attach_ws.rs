//! `GET /containers/{id}/attach/ws`: the container's stdio over a WebSocket (RFC 6455, the
//! handshake and framing from `tokio-tungstenite`). Output goes out raw, one message per
//! chunk the monitor sends, stdout and stderr alike (no multiplexing, as dockerd); binary
//! messages from API 1.42 on, text before, as dockerd. Each message from the client is
//! stdin; its close is the end of stdin. The socket closes when the container exits.

use crate::reply::{self, ApiError, ApiResult};
use crate::req::Ctx;
use berth_engine::container::{exit, options_of};
use berth_engine::monitor_client;
use berth_monitor_proto::frame;
use futures_util::{SinkExt, StreamExt};
use http::{Request, StatusCode};
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;
use tokio_tungstenite::tungstenite::protocol::Role;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::WebSocketStream;

pub async fn attach_ws(ctx: &Ctx, id: &str, mut req: Request<Incoming>) -> ApiResult {
    let header = |name: &str| {
        req.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string()
    };
    let key = header("sec-websocket-key");
    if !header("upgrade").eq_ignore_ascii_case("websocket") || key.is_empty() {
        return Err(ApiError::bad_request(
            "attach/ws is a WebSocket: send Upgrade: websocket and Sec-WebSocket-Key",
        ));
    }
    let streams = ctx.streams();
    // dockerd sends binary messages from API 1.42 on, text before.
    let binary = ctx.version.is_none_or(|v| v >= (1, 42));
    let id = id.to_string();
    let state = ctx.state.clone();
    let (cid, auto_remove, dir) = ctx
        .engine(move |e| {
            let mut r = e.find(&id)?;
            exit::refresh(e, &mut r)?;
            if !r.state.is_live() {
                return Err(ApiError::conflict(format!(
                    "container {} is not running",
                    r.id
                )));
            }
            Ok((r.id.clone(), options_of(&r).auto_remove, e.dir(&r.id)))
        })
        .await?;
    let monitor = monitor_client::open_attach(&dir, streams)?;
    let upgrade = hyper::upgrade::on(&mut req);
    tokio::spawn(async move {
        let upgraded = match upgrade.await {
            Ok(u) => u,
            Err(e) => {
                tracing::debug!(error = %e, "the WebSocket upgrade failed");
                return;
            }
        };
        let ws = WebSocketStream::from_raw_socket(TokioIo::new(upgraded), Role::Server, None).await;
        let exited = match relay(ws, monitor, streams.stdin, binary).await {
            Ok(exited) => exited,
            Err(e) => {
                tracing::debug!(error = %e, container = %cid, "attach/ws ended");
                false
            }
        };
        if exited && auto_remove {
            let _ = tokio::task::spawn_blocking(move || {
                state.engine().and_then(|e| e.remove_after_exit(&cid))
            })
            .await;
        }
    });
    Ok(http::Response::builder()
        .status(StatusCode::SWITCHING_PROTOCOLS)
        .header("connection", "Upgrade")
        .header("upgrade", "websocket")
        .header("sec-websocket-accept", derive_accept_key(key.as_bytes()))
        .body(crate::body::Body::empty())
        .unwrap_or_else(|_| reply::status(StatusCode::INTERNAL_SERVER_ERROR)))
}

/// Copies the monitor's output frames to the socket and the socket's messages to the
/// container's stdin; true when the container exited (its exit frame came).
async fn relay(
    ws: WebSocketStream<TokioIo<hyper::upgrade::Upgraded>>,
    monitor: std::os::unix::net::UnixStream,
    stdin: bool,
    binary: bool,
) -> std::io::Result<bool> {
    monitor.set_nonblocking(true)?;
    let (mut from_monitor, mut to_monitor) =
        tokio::net::UnixStream::from_std(monitor)?.into_split();
    let (mut sink, mut source) = ws.split();
    let input = tokio::spawn(async move {
        while let Some(Ok(msg)) = source.next().await {
            let bytes = match msg {
                Message::Binary(b) => b.to_vec(),
                Message::Text(t) => t.as_bytes().to_vec(),
                Message::Close(_) => break,
                // Pings are answered by the library.
                _ => continue,
            };
            if stdin && to_monitor.write_all(&bytes).await.is_err() {
                break;
            }
        }
        // The client's close (or its going away) is the container's end of input.
        let _ = to_monitor.shutdown().await;
    });
    let mut head = [0u8; frame::HEAD];
    let mut exited = false;
    loop {
        if from_monitor.read_exact(&mut head).await.is_err() {
            break;
        }
        let (stream, len) = frame::parse_head(&head);
        let mut body = vec![0u8; len];
        if from_monitor.read_exact(&mut body).await.is_err() {
            break;
        }
        match stream {
            frame::STDOUT | frame::STDERR => {
                let msg = if binary {
                    Message::binary(body)
                } else {
                    Message::text(String::from_utf8_lossy(&body).into_owned())
                };
                if sink.send(msg).await.is_err() {
                    break;
                }
            }
            frame::EXIT => {
                exited = true;
                break;
            }
            _ => break,
        }
    }
    input.abort();
    let _ = sink.send(Message::Close(None)).await;
    let _ = sink.close().await;
    Ok(exited)
}
