//! `/containers/{id}/exec` and `/exec/{id}/...`: an exec is recorded at create and run at
//! start. Each runs as its own `berth exec` process (its own process tree, its own wait,
//! nothing in the server's process), which the server feeds and reads through pipes, or a
//! terminal it allocates for `Tty`; its exit status is the exec's.

use crate::body::shared_writers;
use crate::reply::{self, ApiError, ApiResult};
use crate::req::{json_body, Ctx};
use berth_engine::container::exit;
use hyper::body::Incoming;
use serde::Deserialize;
use std::collections::HashMap;
use std::io::{Read, Write};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::process::{Command, Stdio};
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
    pid: u32,
    /// The terminal's master side, for resizes.
    master: Option<Arc<OwnedFd>>,
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
                master: None,
            },
        );
    Ok(reply::json(
        http::StatusCode::CREATED,
        &serde_json::json!({ "Id": exec_id }),
    ))
}

/// `berth exec` of the exec's config.
fn command(root: &std::path::Path, container: &str, c: &ExecConfig, tty: bool) -> Command {
    let berth =
        berth_engine::container::start::find_binary("berth").unwrap_or_else(|_| "berth".into());
    let mut cmd = Command::new(berth);
    cmd.arg("--root").arg(root).arg("exec");
    if c.attach_stdin.unwrap_or(false) {
        cmd.arg("-i");
    }
    if tty {
        cmd.arg("-t");
    }
    if c.privileged.unwrap_or(false) {
        cmd.arg("--privileged");
    }
    for e in c.env.iter().flatten() {
        cmd.arg("-e").arg(e);
    }
    if let Some(w) = c.working_dir.as_deref().filter(|w| !w.is_empty()) {
        cmd.arg("-w").arg(w);
    }
    if let Some(u) = c.user.as_deref().filter(|u| !u.is_empty()) {
        cmd.arg("-u").arg(u);
    }
    cmd.arg(container);
    cmd.args(c.cmd.iter().flatten());
    // Only what the exec gives: not the server's environment.
    cmd.env_clear();
    if let Some(p) = std::env::var_os("PATH") {
        cmd.env("PATH", p);
    }
    cmd
}

pub async fn start(ctx: &Ctx, id: &str, mut req: http::Request<Incoming>) -> ApiResult {
    let upgrade = crate::hijack::wants_upgrade(&req);
    let on_upgrade = hyper::upgrade::on(&mut req);
    let start: StartConfig = json_body(req.into_body()).await?;
    let id = id.to_string();
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
    let mut cmd = command(&ctx.state.root, &container, &config, tty);
    let state = ctx.state.clone();
    if start.detach.unwrap_or(false) {
        cmd.stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        let child = cmd
            .spawn()
            .map_err(|e| ApiError::internal(format!("exec: {e}")))?;
        let id2 = id.clone();
        tokio::task::spawn_blocking(move || finish(&state, &id2, child));
        return Ok(reply::status(http::StatusCode::OK));
    }
    if !upgrade {
        return Err(ApiError::bad_request(
            "exec start takes the connection over: send Connection: Upgrade and Upgrade: tcp",
        ));
    }
    let stdin = config.attach_stdin.unwrap_or(false);
    let mut master = None;
    if tty {
        let (m, slave) = open_pty().map_err(|e| ApiError::internal(format!("exec: pty: {e}")))?;
        let slave_fd = slave.as_raw_fd();
        // SAFETY: between fork and exec: setsid and an ioctl on an inherited fd, both
        // async-signal-safe, make the terminal the exec's controlling one (for SIGWINCH).
        unsafe {
            use std::os::unix::process::CommandExt;
            cmd.pre_exec(move || {
                libc::setsid();
                libc::ioctl(slave_fd, libc::TIOCSCTTY, 0);
                Ok(())
            });
        }
        let dup = |f: &OwnedFd| {
            f.try_clone()
                .map(Stdio::from)
                .map_err(|e| ApiError::internal(format!("exec: {e}")))
        };
        cmd.stdin(dup(&slave)?)
            .stdout(dup(&slave)?)
            .stderr(dup(&slave)?);
        master = Some(Arc::new(m));
    } else {
        cmd.stdin(if stdin { Stdio::piped() } else { Stdio::null() })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
    }
    let child = cmd
        .spawn()
        .map_err(|e| ApiError::internal(format!("exec: {e}")))?;
    // The command's copy of the terminal is closed here (ours is `cmd`'s, dropped with it).
    drop(cmd);
    let pid = child.id();
    ctx.state.execs.with(&id, |x| {
        x.running = true;
        x.pid = pid;
        x.master = master.clone();
    })?;
    crate::hijack::take_over(on_upgrade, move |conn| match conn {
        Some((rd, wr)) => relay(child, master, rd, wr, stdin, tty, &state, &id),
        // Nobody to give its output to: the exec ends, its status kept as any other.
        None => {
            let mut child = child;
            let _ = child.kill();
            finish(&state, &id, child);
        }
    });
    Ok(crate::hijack::reply(tty))
}

#[allow(clippy::too_many_arguments)]
fn relay<R: Read + Send + 'static, W: Write + Send + 'static>(
    mut child: std::process::Child,
    master: Option<Arc<OwnedFd>>,
    mut rd: R,
    wr: Arc<Mutex<W>>,
    stdin: bool,
    tty: bool,
    state: &crate::state::State,
    id: &str,
) {
    let (mut out, mut err) = shared_writers(wr, tty);
    let mut copies = Vec::new();
    match master {
        Some(m) => {
            let input = m.try_clone().ok().map(std::fs::File::from);
            if let (true, Some(mut input)) = (stdin, input) {
                std::thread::spawn(move || {
                    let _ = std::io::copy(&mut rd, &mut input);
                });
            }
            if let Ok(output) = m.try_clone() {
                let mut output = std::fs::File::from(output);
                copies.push(std::thread::spawn(move || {
                    // EIO once the last holder of the terminal's other side is gone.
                    let _ = std::io::copy(&mut output, &mut out);
                }));
            }
        }
        None => {
            if let Some(mut input) = child.stdin.take() {
                std::thread::spawn(move || {
                    let _ = std::io::copy(&mut rd, &mut input);
                    // The client's half-close: the command reads EOF.
                });
            }
            if let Some(mut o) = child.stdout.take() {
                copies.push(std::thread::spawn(move || {
                    let _ = std::io::copy(&mut o, &mut out);
                }));
            }
            if let Some(mut e) = child.stderr.take() {
                copies.push(std::thread::spawn(move || {
                    let _ = std::io::copy(&mut e, &mut err);
                }));
            }
        }
    }
    let code = child
        .wait()
        .map(|s| {
            use std::os::unix::process::ExitStatusExt;
            s.code().unwrap_or_else(|| 128 + s.signal().unwrap_or(0))
        })
        .unwrap_or(126);
    for c in copies {
        let _ = c.join();
    }
    let _ = state.execs.with(id, |x| {
        x.running = false;
        x.exit_code = Some(code);
        x.master = None;
    });
}

fn finish(state: &crate::state::State, id: &str, mut child: std::process::Child) {
    let code = child.wait().ok().and_then(|s| s.code()).unwrap_or(126);
    let _ = state.execs.with(id, |x| {
        x.running = false;
        x.exit_code = Some(code);
    });
}

fn open_pty() -> std::io::Result<(OwnedFd, OwnedFd)> {
    let (mut m, mut s) = (-1, -1);
    // SAFETY: openpty writes two fds into our locals; the name and settings pointers may
    // be NULL.
    let r = unsafe {
        libc::openpty(
            &mut m,
            &mut s,
            std::ptr::null_mut(),
            std::ptr::null(),
            std::ptr::null(),
        )
    };
    if r != 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: openpty gave us these two fds, each wrapped once.
    let (m, s) = unsafe { (OwnedFd::from_raw_fd(m), OwnedFd::from_raw_fd(s)) };
    for fd in [&m, &s] {
        // SAFETY: fcntl on an fd we own; no memory is passed.
        unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_SETFD, libc::FD_CLOEXEC) };
    }
    Ok((m, s))
}

pub async fn resize(ctx: &Ctx, id: &str) -> ApiResult {
    let h = ctx.int("h")?.unwrap_or(0).clamp(0, u16::MAX as i64) as u16;
    let w = ctx.int("w")?.unwrap_or(0).clamp(0, u16::MAX as i64) as u16;
    let master = ctx.state.execs.with(id, |x| x.master.clone())?;
    if let Some(m) = master {
        let ws = libc::winsize {
            ws_row: h,
            ws_col: w,
            ws_xpixel: 0,
            ws_ypixel: 0,
        };
        // SAFETY: TIOCSWINSZ reads a winsize from our local.
        unsafe { libc::ioctl(m.as_raw_fd(), libc::TIOCSWINSZ, &ws) };
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
