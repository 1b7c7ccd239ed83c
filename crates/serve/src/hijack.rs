//! Streams that take the connection over (attach, exec start): the client asks for an
//! upgrade (`Connection: Upgrade`, `Upgrade: tcp`), gets `101` with the stream's type, and the
//! connection then carries the process's output one way and the client's input the other.

use crate::body::Body;
use crate::reply::{self, Reply};
use http::{Request, StatusCode};
use hyper_util::rt::TokioIo;
use std::sync::{Arc, Mutex};
use tokio_util::io::SyncIoBridge;

/// The client's side of a taken-over connection, for a blocking thread.
pub type Reader = SyncIoBridge<tokio::io::ReadHalf<TokioIo<hyper::upgrade::Upgraded>>>;
pub type Writer = SyncIoBridge<tokio::io::WriteHalf<TokioIo<hyper::upgrade::Upgraded>>>;

/// Did the client ask to take the connection over?
pub fn wants_upgrade<B>(req: &Request<B>) -> bool {
    let has = |name: &str, value: &str| {
        req.headers()
            .get_all(name)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .any(|v| v.split(',').any(|t| t.trim().eq_ignore_ascii_case(value)))
    };
    has("connection", "upgrade") && has("upgrade", "tcp")
}

/// The `101` that hands the connection over, with the stream's type: raw with a terminal,
/// else Docker's multiplexed frames.
pub fn reply(tty: bool) -> Reply {
    let ctype = if tty {
        "application/vnd.docker.raw-stream"
    } else {
        "application/vnd.docker.multiplexed-stream"
    };
    http::Response::builder()
        .status(StatusCode::SWITCHING_PROTOCOLS)
        .header("content-type", ctype)
        .header("connection", "Upgrade")
        .header("upgrade", "tcp")
        .body(Body::empty())
        .unwrap_or_else(|_| reply::status(StatusCode::INTERNAL_SERVER_ERROR))
}

/// Once the `101` has gone out, runs `work` on a blocking thread with the connection's two
/// halves, then shuts the write side down (the client reads EOF). `work` gets None when the
/// client never took the connection over, to undo what was made for it.
pub fn take_over<F>(upgrade: hyper::upgrade::OnUpgrade, work: F)
where
    F: FnOnce(Option<(Reader, Arc<Mutex<Writer>>)>) + Send + 'static,
{
    tokio::spawn(async move {
        let upgraded = match upgrade.await {
            Ok(u) => u,
            Err(e) => {
                tracing::debug!(error = %e, "the upgrade failed");
                let _ = tokio::task::spawn_blocking(move || work(None)).await;
                return;
            }
        };
        let (rd, wr) = tokio::io::split(TokioIo::new(upgraded));
        let rd = SyncIoBridge::new(rd);
        let wr = Arc::new(Mutex::new(SyncIoBridge::new(wr)));
        let _ = tokio::task::spawn_blocking(move || {
            work(Some((rd, wr.clone())));
            let _ = wr.lock().unwrap_or_else(|p| p.into_inner()).shutdown();
        })
        .await;
    });
}
