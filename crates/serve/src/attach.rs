//! `POST /containers/{id}/attach`: the connection is taken over (101, `Upgrade: tcp`) and
//! carries the container's output, framed as Docker's multiplexed stream (raw with a
//! terminal), and the client's input to its stdin. A client that attaches before the start
//! (as `docker run` does) gets every byte: the start has the monitor hold the output until
//! the attach is connected.

use crate::body::shared_writers;
use crate::hijack::{self, Reader, Writer};
use crate::reply::{ApiError, ApiResult};
use crate::req::Ctx;
use crate::state::State;
use berth_engine::container::{exit, options_of};
use berth_engine::monitor_client::{self, Streams};
use http::Request;
use hyper::body::Incoming;
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub async fn attach(ctx: &Ctx, id: &str, mut req: Request<Incoming>) -> ApiResult {
    if !hijack::wants_upgrade(&req) {
        return Err(ApiError::bad_request(
            "attach takes the connection over: send Connection: Upgrade and Upgrade: tcp",
        ));
    }
    let streams = ctx.streams();
    let id = id.to_string();
    let state = ctx.state.clone();
    // Registered before the answer: the client sends its start once it has the answer.
    let (cid, opts, pending) = ctx
        .engine(move |e| {
            let mut r = e.find(&id)?;
            exit::refresh(e, &mut r)?;
            let pending = !r.state.is_live();
            if pending {
                state.attach_pending(&r.id, 1);
            }
            Ok((r.id.clone(), options_of(&r), pending))
        })
        .await?;
    let (tty, auto_remove) = (opts.tty, opts.auto_remove);
    let state = ctx.state.clone();
    hijack::take_over(hyper::upgrade::on(&mut req), move |conn| {
        let Some((rd, wr)) = conn else {
            if pending {
                state.attach_pending(&cid, -1);
            }
            return;
        };
        let how = How {
            pending,
            streams,
            tty,
            auto_remove,
        };
        if let Err(e) = serve_attach(&state, &cid, how, rd, wr) {
            tracing::debug!(error = %e, container = %cid, "attach ended");
        }
    });
    Ok(hijack::reply(tty))
}

/// What an attach asked for, and of what container.
struct How {
    /// The container had not started when the client attached.
    pending: bool,
    streams: Streams,
    tty: bool,
    auto_remove: bool,
}

fn serve_attach(
    state: &State,
    id: &str,
    how: How,
    rd: Reader,
    wr: Arc<Mutex<Writer>>,
) -> berth_engine::Result<()> {
    let How {
        pending,
        streams,
        tty,
        auto_remove,
    } = how;
    let e = state.engine()?;
    if pending {
        let started = wait_started(&e, state, id);
        state.attach_pending(id, -1);
        if !started? {
            return Ok(());
        }
    }
    let (mut out, mut err) = shared_writers(wr.clone(), tty);
    let dir = e.dir(id);
    let mut sock = monitor_client::open_attach(&dir, streams)?;
    let io = |e| berth_engine::Error::io("attach to", dir.join("monitor.sock"), e);
    if streams.stdin {
        let mut to_monitor = sock.try_clone().map_err(io)?;
        let mut rd = rd;
        std::thread::spawn(move || {
            // The client's half-close is the container's end of input.
            let _ = std::io::copy(&mut rd, &mut to_monitor);
            let _ = to_monitor.shutdown(std::net::Shutdown::Write);
        });
    }
    let done = Arc::new(std::sync::atomic::AtomicBool::new(false));
    if !tty {
        heartbeat(wr, sock.try_clone().map_err(io)?, done.clone());
    }
    // Ends with the container's exit frame, the monitor's end, or a client gone away.
    let end = monitor_client::read_frames(&mut sock, &mut out, &mut err);
    done.store(true, std::sync::atomic::Ordering::SeqCst);
    if matches!(end, Ok(Some(_))) && auto_remove {
        // Removed here, in this process, while the monitor still has us attached: its own
        // removal (a `berth rm` process) then finds nothing to do. The client's wait for
        // `removed` answers once the row is gone.
        let _ = e.remove_after_exit(id);
    }
    // Shut down, not only closed: the heartbeat's copy of the socket must not keep the
    // monitor waiting for us to hang up.
    let _ = sock.shutdown(std::net::Shutdown::Both);
    Ok(())
}

/// While a silent container is attached, an empty frame every two seconds (Docker's clients
/// read a frame of length 0 as nothing): a client that went away makes the write fail, and
/// the attach ends instead of waiting for the container's next output. A terminal's raw
/// stream has no such frame, so it waits.
fn heartbeat(
    wr: Arc<Mutex<Writer>>,
    monitor: std::os::unix::net::UnixStream,
    done: Arc<std::sync::atomic::AtomicBool>,
) {
    std::thread::spawn(move || {
        use std::io::Write;
        let tick = Duration::from_millis(100);
        let mut waited = Duration::ZERO;
        while !done.load(std::sync::atomic::Ordering::SeqCst) {
            std::thread::sleep(tick);
            waited += tick;
            if waited < Duration::from_secs(2) {
                continue;
            }
            waited = Duration::ZERO;
            let mut w = wr.lock().unwrap_or_else(|p| p.into_inner());
            if w.write_all(&[1, 0, 0, 0, 0, 0, 0, 0])
                .and_then(|_| w.flush())
                .is_err()
            {
                let _ = monitor.shutdown(std::net::Shutdown::Both);
                return;
            }
        }
    });
}

/// Waits until container `id` runs (true), or is gone or has run and ended without it being
/// seen running (false).
fn wait_started(e: &berth_engine::Engine, state: &State, id: &str) -> berth_engine::Result<bool> {
    let first = e.store.get(id)?.map(|r| r.started_at);
    loop {
        let seen = state.starts();
        let Some(mut r) = e.store.get(id)? else {
            return Ok(false);
        };
        exit::refresh(e, &mut r)?;
        if r.state.is_live() {
            return Ok(true);
        }
        if Some(&r.started_at) != first.as_ref() {
            // It ran and ended between two looks: its monitor held the output for us.
            return Ok(e.dir(id).join("monitor.sock").exists());
        }
        state.wait_for_a_start(seen, Duration::from_millis(100));
    }
}
