//! `/containers/...`: create, the lifecycle, inspect, wait, logs, remove.

use crate::body::{stream_writers, Body, ChanWriter};
use crate::reply::{self, ApiError, ApiResult};
use crate::req::Ctx;
use berth_engine::container::{exit, options_of, ImageInput};
use berth_engine::store::State;
use berth_engine::Engine;
use http::{Request, Response, StatusCode};
use hyper::body::Incoming;
use std::time::Duration;

pub async fn list(ctx: &Ctx) -> ApiResult {
    use berth_engine::service::containers::{self, ListOptions};
    let o = ListOptions {
        all: ctx.flag("all"),
        limit: ctx.int("limit")?.filter(|n| *n > 0).map(|n| n as usize),
        size: ctx.flag("size"),
        filters: berth_engine::service::Filters::from_api_json(ctx.q("filters").unwrap_or(""))?,
    };
    let v = ctx.engine(move |e| Ok(containers::list(e, &o)?)).await?;
    Ok(reply::ok(&v))
}

pub async fn create(ctx: &Ctx, req: Request<Incoming>) -> ApiResult {
    // A start follows a create: the kernel's cgroup attach gets warm meanwhile.
    berth_engine::container::start::warm_start();
    let body = crate::req::body_bytes(req.into_body()).await?;
    let name = ctx.q("name").filter(|n| !n.is_empty()).map(str::to_string);
    let platform = ctx
        .q("platform")
        .filter(|p| !p.is_empty())
        .map(str::to_string);
    let root = ctx.state.root.clone();
    let id = ctx
        .engine(move |e| {
            let request = berth_engine::options::api::parse_request(&body)?;
            let mut opts = berth_engine::options::api::run_options(&request, name.as_deref())?;
            opts.platform = platform;
            // As dockerd: no pull here (the client pulls on a 404 and asks again).
            let img = crate::images::stored(&root, &opts.image)?;
            let row = e.create(
                &opts,
                ImageInput {
                    id: &img.0.id,
                    chain: &img.0.chain,
                    config: &img.1,
                },
            )?;
            Ok(row.id)
        })
        .await?;
    Ok(reply::json(
        StatusCode::CREATED,
        &serde_json::json!({ "Id": id, "Warnings": [] }),
    ))
}

pub async fn inspect(ctx: &Ctx, id: &str) -> ApiResult {
    let id = id.to_string();
    let v = ctx
        .engine(move |e| {
            let mut r = e.find(&id)?;
            exit::refresh(e, &mut r)?;
            Ok(e.inspect_json(&r))
        })
        .await?;
    Ok(reply::ok(&v))
}

pub async fn start(ctx: &Ctx, id: &str) -> ApiResult {
    let id = id.to_string();
    let state = ctx.state.clone();
    let started = ctx
        .engine(move |e| {
            let mut r = e.find(&id)?;
            exit::refresh(e, &mut r)?;
            if matches!(r.state, State::Running | State::Restarting) {
                return Ok(false);
            }
            let t = std::time::Instant::now();
            if state.has_attach_pending(&r.id) {
                e.start_attached(&r.id)?;
            } else {
                e.start(&r.id)?;
            }
            tracing::debug!(container = %r.id, took = ?t.elapsed(), "started");
            state.note_start();
            Ok(true)
        })
        .await?;
    Ok(if started {
        reply::no_content()
    } else {
        reply::status(StatusCode::NOT_MODIFIED)
    })
}

fn timeout(ctx: &Ctx) -> Result<Option<i64>, ApiError> {
    Ok(ctx.int("t")?.or(ctx.int("timeout")?))
}

pub async fn stop(ctx: &Ctx, id: &str) -> ApiResult {
    let id = id.to_string();
    let t = timeout(ctx)?;
    let stopped = ctx
        .engine(move |e| {
            let mut r = e.find(&id)?;
            exit::refresh(e, &mut r)?;
            if !r.state.is_live() {
                return Ok(false);
            }
            e.stop(&r.id, t)?;
            Ok(true)
        })
        .await?;
    Ok(if stopped {
        reply::no_content()
    } else {
        reply::status(StatusCode::NOT_MODIFIED)
    })
}

pub async fn restart(ctx: &Ctx, id: &str) -> ApiResult {
    let id = id.to_string();
    let t = timeout(ctx)?;
    let state = ctx.state.clone();
    ctx.engine(move |e| {
        e.restart(&id, t)?;
        state.note_start();
        Ok(())
    })
    .await?;
    Ok(reply::no_content())
}

pub async fn kill(ctx: &Ctx, id: &str) -> ApiResult {
    let id = id.to_string();
    let sig = ctx.q("signal").unwrap_or("SIGKILL").to_string();
    ctx.engine(move |e| {
        let mut r = e.find(&id)?;
        exit::refresh(e, &mut r)?;
        if !r.state.is_live() {
            return Err(ApiError::conflict(format!(
                "Cannot kill container: {id}: Container {} is not running",
                r.id
            )));
        }
        e.kill(&r.id, &sig)?;
        Ok(())
    })
    .await?;
    Ok(reply::no_content())
}

pub async fn pause(ctx: &Ctx, id: &str, pause: bool) -> ApiResult {
    let id = id.to_string();
    ctx.engine(move |e| {
        if pause {
            e.pause(&id)?;
        } else {
            e.unpause(&id)?;
        }
        Ok(())
    })
    .await?;
    Ok(reply::no_content())
}

pub async fn rename(ctx: &Ctx, id: &str) -> ApiResult {
    let id = id.to_string();
    let name = ctx
        .q("name")
        .ok_or_else(|| ApiError::bad_request("name cannot be empty"))?
        .to_string();
    ctx.engine(move |e| {
        e.rename(&id, &name)?;
        Ok(())
    })
    .await?;
    Ok(reply::no_content())
}

pub async fn resize(ctx: &Ctx, id: &str) -> ApiResult {
    let id = id.to_string();
    let h = ctx.int("h")?.unwrap_or(0).clamp(0, u16::MAX as i64) as u16;
    let w = ctx.int("w")?.unwrap_or(0).clamp(0, u16::MAX as i64) as u16;
    ctx.engine(move |e| {
        let r = e.find(&id)?;
        berth_engine::monitor_client::resize(&e.dir(&r.id), h, w)?;
        Ok(())
    })
    .await?;
    Ok(reply::status(StatusCode::OK))
}

pub async fn remove(ctx: &Ctx, id: &str) -> ApiResult {
    let id = id.to_string();
    let (force, volumes) = (ctx.flag("force"), ctx.flag("v"));
    ctx.engine(move |e| {
        e.remove(&id, force, volumes)?;
        Ok(())
    })
    .await?;
    Ok(reply::no_content())
}

pub async fn prune(ctx: &Ctx) -> ApiResult {
    let filters = ctx.filter_args()?;
    let v = ctx
        .engine(move |e| {
            let f = berth_engine::container::prune::PruneFilter::parse(&filters)?;
            let p = e.prune_containers(&f)?;
            Ok(serde_json::json!({ "ContainersDeleted": p.ids, "SpaceReclaimed": p.bytes }))
        })
        .await?;
    Ok(reply::ok(&v))
}

/// `POST /containers/{id}/wait?condition=not-running|next-exit|removed`. The answer's status
/// line goes out at once (the docker CLI starts the container once its wait is registered),
/// the `{"StatusCode": N}` body when the condition is met.
pub async fn wait(ctx: &Ctx, id: &str) -> ApiResult {
    let condition = match ctx.q("condition").unwrap_or("") {
        "" | "not-running" => Condition::NotRunning,
        "next-exit" => Condition::NextExit,
        "removed" => Condition::Removed,
        c => return Err(ApiError::bad_request(format!("invalid condition: \"{c}\""))),
    };
    let id = id.to_string();
    // The container is looked up before the answer starts: a missing one is a 404.
    let first = ctx
        .engine(move |e| {
            let mut r = e.find(&id)?;
            exit::refresh(e, &mut r)?;
            Ok(r)
        })
        .await?;
    let (tx, body) = Body::channel();
    let state = ctx.state.clone();
    tokio::task::spawn_blocking(move || {
        let wanted = || !tx.is_closed();
        let out = match state.engine() {
            Ok(e) => wait_for(&e, &state, first, condition, &wanted),
            Err(err) => Err(err),
        };
        let v = match out {
            // The client went away (`docker run -d` hangs up once its start is done).
            Ok(None) => return,
            Ok(Some(code)) => serde_json::json!({ "StatusCode": code, "Error": null }),
            Err(err) => {
                serde_json::json!({ "StatusCode": -1, "Error": { "Message": err.to_string() } })
            }
        };
        let mut b = v.to_string().into_bytes();
        b.push(b'\n');
        let _ = tx.blocking_send(b.into());
    });
    Ok(Response::builder()
        .status(StatusCode::OK)
        .header("content-type", "application/json")
        .body(body)
        .unwrap_or_else(|_| reply::status(StatusCode::INTERNAL_SERVER_ERROR)))
}

#[derive(Clone, Copy, PartialEq)]
enum Condition {
    NotRunning,
    NextExit,
    Removed,
}

fn wait_for(
    e: &Engine,
    state: &crate::state::State,
    first: berth_engine::store::Row,
    condition: Condition,
    wanted: &dyn Fn() -> bool,
) -> berth_engine::Result<Option<i64>> {
    let id = first.id.clone();
    let dir = e.dir(&id);
    // A wait for the next exit of a container that is not running waits for it to start.
    let mut must_start = condition != Condition::NotRunning && !first.state.is_live();
    let mut last = first.exit_code as i64;
    loop {
        if !wanted() {
            return Ok(None);
        }
        let seen = state.starts();
        let Some(mut r) = e.store.get(&id)? else {
            // Gone: what `removed` waits for; the status is the last one seen.
            return Ok(Some(last));
        };
        exit::refresh(e, &mut r)?;
        if must_start {
            if r.state.is_live() || r.started_at != first.started_at {
                must_start = false;
            } else {
                state.wait_for_a_start(seen, Duration::from_millis(100));
                continue;
            }
        }
        if r.state.is_live() {
            // The monitor answers when the init exits.
            match berth_engine::monitor_client::wait_while(&dir, wanted) {
                Ok(Some(code)) => last = code.into(),
                Ok(None) => return Ok(None),
                // No monitor and no record yet: the row is looked at again.
                Err(_) => std::thread::sleep(Duration::from_millis(20)),
            }
            continue;
        }
        last = r.exit_code as i64;
        if condition != Condition::Removed {
            return Ok(Some(last));
        }
        if options_of(&r).auto_remove {
            // As dockerd's AutoRemove: gone before the wait answers. The monitor removes it
            // too once its clients hang up; whoever comes second finds nothing to do.
            e.remove_after_exit(&id)?;
            return Ok(Some(last));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

pub async fn logs(ctx: &Ctx, id: &str) -> ApiResult {
    use berth_engine::logs::{self, LogOptions};
    let id = id.to_string();
    let (stdout, stderr) = (ctx.flag("stdout"), ctx.flag("stderr"));
    if !stdout && !stderr {
        return Err(ApiError::bad_request(
            "Bad parameters: you must choose at least one stream",
        ));
    }
    let follow = ctx.flag("follow");
    let timestamps = ctx.flag("timestamps");
    let tail = match ctx.q("tail").unwrap_or("all") {
        "all" | "" => None,
        n => match n.parse::<i64>() {
            Ok(n) if n < 0 => None,
            Ok(n) => Some(n as usize),
            Err(_) => {
                return Err(ApiError::bad_request(format!(
                    "invalid value for tail: {n:?}"
                )))
            }
        },
    };
    let now = logs::now();
    let time = |key: &str| -> Result<Option<logs::Nanos>, ApiError> {
        match ctx.q(key).filter(|v| !v.is_empty() && *v != "0") {
            None => Ok(None),
            Some(v) => Ok(Some(logs::parse_time(key, v, now)?)),
        }
    };
    let (since, until) = (time("since")?, time("until")?);
    let (r, tty) = ctx
        .engine(move |e| {
            let mut r = e.find(&id)?;
            exit::refresh(e, &mut r)?;
            let o = options_of(&r);
            if o.log.driver == berth_engine::options::LogDriver::None {
                return Err(ApiError::bad_request(
                    "configured logging driver does not support reading",
                ));
            }
            Ok((r, o.tty))
        })
        .await?;
    let (tx, body) = Body::channel();
    let state = ctx.state.clone();
    tokio::task::spawn_blocking(move || {
        let Ok(e) = state.engine() else { return };
        let o = options_of(&r);
        let opts = LogOptions {
            tail,
            since,
            until,
            timestamps,
            follow: follow && matches!(r.state, State::Running | State::Paused | State::Restarting),
            monitor_pid: (r.monitor_pid > 0).then_some(r.monitor_pid),
            across_restarts: o.restart != berth_engine::options::RestartPolicy::No,
        };
        let (mut out, mut err) = stream_writers(ChanWriter(tx), tty);
        let mut sink = std::io::sink();
        let (o_w, e_w): (&mut dyn std::io::Write, &mut dyn std::io::Write) = match (stdout, stderr)
        {
            (true, true) => (&mut *out, &mut *err),
            (true, false) => (&mut *out, &mut sink),
            _ => (&mut sink, &mut *err),
        };
        // A client gone mid-stream ends the copy with a write error: nothing to report.
        let _ = logs::write_logs(&e.dir(&r.id), &r.id, &opts, o_w, e_w);
    });
    let ctype = if tty {
        "application/vnd.docker.raw-stream"
    } else {
        "application/vnd.docker.multiplexed-stream"
    };
    Ok(Response::builder()
        .status(StatusCode::OK)
        .header("content-type", ctype)
        .body(body)
        .unwrap_or_else(|_| reply::status(StatusCode::INTERNAL_SERVER_ERROR)))
}

pub async fn top(ctx: &Ctx, id: &str) -> ApiResult {
    let id = id.to_string();
    let args: Vec<String> = ctx
        .q("ps_args")
        .map(|a| a.split_whitespace().map(str::to_string).collect())
        .unwrap_or_default();
    let t = ctx.engine(move |e| Ok(e.top(&id, &args)?)).await?;
    Ok(reply::ok(&t))
}

/// `POST /containers/{id}/update` (`docker update`): resources and the restart policy.
pub async fn update(ctx: &Ctx, id: &str, req: Request<Incoming>) -> ApiResult {
    let body = crate::req::body_bytes(req.into_body()).await?;
    let id = id.to_string();
    ctx.engine(move |e| {
        let u = berth_engine::options::api::update_request(&body)?;
        e.update(&id, &u)?;
        Ok(())
    })
    .await?;
    Ok(reply::ok(&serde_json::json!({ "Warnings": [] })))
}
