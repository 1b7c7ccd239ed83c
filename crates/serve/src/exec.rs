//! `/containers/{id}/exec` and `/exec/{id}/...`: an exec is recorded at create and run at
//! start, under a monitor of its own (`Engine::exec_monitored`, as containerd's shim or
//! conmon): the process is not the server's child, its stdio goes through the monitor's
//! socket in the exec's dir (the container attach's protocol and frames), and its exit
//! status is the monitor's `exit.json` there.

use crate::body::shared_writers;
use crate::reply::{self, ApiError, ApiResult};
use crate::req::{json_body, Ctx};
use berth_engine::container::exec::ExecOptions;
use berth_engine::container::exit;
use berth_engine::monitor_client::{self, Streams};
use hyper::body::Incoming;
use serde::Deserialize;
use std::collections::HashMap;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

#[derive(Debug, Default, Deserialize, Clone)]
#[serde(rename_all = "PascalCase")]
pub struct ExecConfig {
    pub attach_stdin: Option<bool>,
    pub attach_stdout: Option<bool>,
    pub attach_stderr: Option<bool>,
    pub tty: Option<bool>,
    pub cmd: Option<Vec<String>>,
    pub env: Option<Vec<String>>,
    pub working_dir: Option<String>,
    pub user: Option<String>,
    pub privileged: Option<bool>,
    pub detach_keys: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct StartConfig {
    detach: Option<bool>,
    tty: Option<bool>,
}

struct Exec {
    container: String,
    config: ExecConfig,
    running: bool,
    started: bool,
    exit_code: Option<i32>,
    pid: i32,
    /// The exec's dir once started: its monitor's socket (attach, resize) and `exit.json`.
    dir: Option<PathBuf>,
}

/// The execs this server made, by ID.
#[derive(Default)]
pub struct Execs(Mutex<HashMap<String, Exec>>);

impl Execs {
    fn with<T>(&self, id: &str, f: impl FnOnce(&mut Exec) -> T) -> Result<T, ApiError> {
        let mut m = self.0.lock().unwrap_or_else(|p| p.into_inner());
        m.get_mut(id)
            .map(f)
            .ok_or_else(|| ApiError::not_found(format!("No such exec instance: {id}")))
    }
}

pub async fn create(ctx: &Ctx, id: &str, req: http::Request<Incoming>) -> ApiResult {
    let config: ExecConfig = json_body(req.into_body()).await?;
    if config.cmd.as_ref().is_none_or(|c| c.is_empty()) {
        return Err(ApiError::bad_request("No exec command specified"));
    }
    let id = id.to_string();
    let container = ctx
        .engine(move |e| {
            let mut r = e.find(&id)?;
            exit::refresh(e, &mut r)?;
            if r.state == berth_engine::store::State::Paused {
                return Err(ApiError::conflict(format!(
                    "Container {} is paused, unpause the container before exec",
                    r.id
                )));
            }
            if !r.state.is_live() {
                return Err(ApiError::conflict(format!(
                    "Container {} is not running",
                    r.id
                )));
            }
            Ok(r.id)
        })
        .await?;
    let exec_id = berth_engine::names::new_id()?;
    ctx.state
        .execs
        .0
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .insert(
            exec_id.clone(),
            Exec {
                container,
                config,
                running: false,
                started: false,
                exit_code: None,
                pid: 0,
                dir: None,
            },
        );
    Ok(reply::json(
        http::StatusCode::CREATED,
        &serde_json::json!({ "Id": exec_id }),
    ))
}

/// The engine's options for the exec's config.
fn options(c: &ExecConfig, tty: bool) -> ExecOptions {
    ExecOptions {
        cmd: c.cmd.clone().unwrap_or_default(),
        tty,
        env: c.env.clone().unwrap_or_default(),
        user: c.user.clone().filter(|u| !u.is_empty()),
        workdir: c.working_dir.clone().filter(|w| !w.is_empty()),
        privileged: c.privileged.unwrap_or(false),
    }
}

pub async fn start(ctx: &Ctx, id: &str, mut req: http::Request<Incoming>) -> ApiResult {
    let upgrade = crate::hijack::wants_upgrade(&req);
    let on_upgrade = hyper::upgrade::on(&mut req);
    let start: StartConfig = json_body(req.into_body()).await?;
    let id = id.to_string();
    let detach = start.detach.unwrap_or(false);
    if !detach && !upgrade {
        return Err(ApiError::bad_request(
            "exec start takes the connection over: send Connection: Upgrade and Upgrade: tcp",
        ));
    }
    let (container, config) = ctx.state.execs.with(&id, |x| {
        if x.started {
            return Err(ApiError::conflict(format!(
                "Exec {id} has already been started"
            )));
        }
        x.started = true;
        Ok((x.container.clone(), x.config.clone()))
    })??;
    let tty = start.tty.or(config.tty).unwrap_or(false);
    let stdin = !detach && config.attach_stdin.unwrap_or(false);
    let o = options(&config, tty);
    let state = ctx.state.clone();
    if detach {
        let exec_id = id.clone();
        let started = ctx
            .engine(move |e| Ok(e.exec_monitored(&container, &exec_id, &o, false, false)))
            .await?;
        match started {
            Ok(started) => {
                let dir = started.dir.clone();
                record_start(&state, &id, started)?;
                tokio::task::spawn_blocking(move || finish(&state, &id, &dir));
            }
            // The command could not run (not found, not executable, a bad user or
            // directory): the exec ended with docker's status.
            Err(berth_engine::Error::Exec { code, .. }) => {
                state.execs.with(&id, |x| x.exit_code = Some(code))?;
            }
            Err(e) => return Err(e.into()),
        }
        return Ok(reply::status(http::StatusCode::OK));
    }
    // Checked now, so that a container that is not running is a 409 before the upgrade;
    // started once the connection is the client's, as dockerd does: the process's first
    // output then never arrives with the 101 (a client that reads the answer's head through
    // a buffer, as docker-py does, would lose it).
    let checked = (container.clone(), o.clone());
    ctx.engine(move |e| Ok(e.exec_target(&checked.0, &checked.1).map(drop)?))
        .await?;
    crate::hijack::take_over(on_upgrade, move |conn| {
        let Some((rd, wr)) = conn else {
            return;
        };
        // Held until the attach below is connected: it sees every byte.
        let started = state
            .engine()
            .and_then(|e| e.exec_monitored(&container, &id, &o, stdin, true));
        match started {
            Ok(started) => {
                let dir = started.dir.clone();
                if record_start(&state, &id, started).is_ok() {
                    relay(&dir, rd, wr, stdin, tty);
                }
                finish(&state, &id, &dir);
            }
            // The command could not run: its status is the exec's, its reason the client's.
            Err(e) => {
                let code = match &e {
                    berth_engine::Error::Exec { code, .. } => *code,
                    _ => 126,
                };
                let _ = state.execs.with(&id, |x| x.exit_code = Some(code));
                let (_, mut err) = shared_writers(wr, tty);
                let message = match e {
                    berth_engine::Error::Exec { message, .. } => message,
                    e => e.to_string(),
                };
                let _ = writeln!(err, "{message}");
            }
        }
    });
    Ok(crate::hijack::reply(tty))
}

/// The exec runs: its process and its dir are recorded.
fn record_start(
    state: &crate::state::State,
    id: &str,
    started: berth_engine::container::exec_monitor::MonitoredExec,
) -> Result<(), ApiError> {
    state.execs.with(id, |x| {
        x.running = true;
        x.pid = started.pid;
        x.dir = Some(started.dir);
    })
}

/// The exec's output to the client (multiplexed frames, raw with a terminal) and the
/// client's input to the exec, through its monitor, until the exit frame or either side
/// goes away.
fn relay<R: Read + Send + 'static, W: Write + Send + 'static>(
    dir: &Path,
    mut rd: R,
    wr: Arc<Mutex<W>>,
    stdin: bool,
    tty: bool,
) {
    let (mut out, mut err) = shared_writers(wr, tty);
    let streams = Streams {
        stdin,
        stdout: true,
        stderr: true,
    };
    let Ok(mut sock) = monitor_client::open_attach(dir, streams) else {
        return;
    };
    if stdin {
        if let Ok(mut to_monitor) = sock.try_clone() {
            std::thread::spawn(move || {
                // The client's half-close is the exec's end of input.
                let _ = std::io::copy(&mut rd, &mut to_monitor);
                let _ = to_monitor.shutdown(std::net::Shutdown::Write);
            });
        }
    }
    let _ = monitor_client::read_frames(&mut sock, &mut out, &mut err);
    let _ = sock.shutdown(std::net::Shutdown::Both);
}

/// Waits for the exec's end (its monitor's answer, else its `exit.json`) and records it.
fn finish(state: &crate::state::State, id: &str, dir: &Path) {
    let code = monitor_client::wait(dir).unwrap_or(126);
    let _ = state.execs.with(id, |x| {
        x.running = false;
        x.exit_code = Some(code);
    });
}

pub async fn resize(ctx: &Ctx, id: &str) -> ApiResult {
    let h = ctx.int("h")?.unwrap_or(0).clamp(0, u16::MAX as i64) as u16;
    let w = ctx.int("w")?.unwrap_or(0).clamp(0, u16::MAX as i64) as u16;
    let dir = ctx.state.execs.with(id, |x| x.dir.clone())?;
    if let Some(dir) = dir {
        // Only a terminal has a size; the monitor says so for others, which docker ignores.
        let _ = crate::req::blocking(move || {
            let _ = monitor_client::resize(&dir, h, w);
            Ok(())
        })
        .await;
    }
    Ok(reply::status(http::StatusCode::OK))
}

pub fn inspect(ctx: &Ctx, id: &str) -> ApiResult {
    let v = ctx.state.execs.with(id, |x| {
        let c = &x.config;
        let cmd = c.cmd.clone().unwrap_or_default();
        serde_json::json!({
            "ID": id,
            "Running": x.running,
            "ExitCode": x.exit_code,
            "ProcessConfig": {
                "tty": c.tty.unwrap_or(false),
                "entrypoint": cmd.first(),
                "arguments": cmd.get(1..).unwrap_or(&[]),
                "privileged": c.privileged.unwrap_or(false),
                "user": c.user.clone().unwrap_or_default(),
            },
            "OpenStdin": c.attach_stdin.unwrap_or(false),
            "OpenStderr": c.attach_stderr.unwrap_or(false),
            "OpenStdout": c.attach_stdout.unwrap_or(false),
            "CanRemove": false,
            "ContainerID": x.container,
            "DetachKeys": c.detach_keys.clone().unwrap_or_default(),
            "Pid": x.pid,
        })
    })?;
    Ok(reply::ok(&v))
}
