//! `create` and `run`: the image (pulled if need be), the container, and for `run` its start;
//! attached, the output is streamed until the container exits and its status is ours.

use super::image::resolve_image;
use super::{engine, Failure};
use crate::cli::RunArgs;
use crate::env::Env;
use berth_engine::container::ImageInput;
use berth_engine::store::{Row, State};
use berth_engine::Engine;
use std::io::{BufRead, Write};
use std::path::PathBuf;
use std::sync::atomic::{AtomicI32, Ordering};
use std::time::Duration;

/// A SIGINT or SIGTERM berth received while attached, to pass on to the container.
static PENDING: AtomicI32 = AtomicI32::new(0);

extern "C" fn remember(sig: libc::c_int) {
    PENDING.store(sig, Ordering::SeqCst);
}

/// `run` without -d passes SIGINT and SIGTERM on to the container, as docker does.
fn forward_signals() {
    for sig in [libc::SIGINT, libc::SIGTERM] {
        // SAFETY: the handler only stores into an atomic, which is async-signal-safe.
        unsafe { libc::signal(sig, remember as *const () as libc::sighandler_t) };
    }
}

fn create_container(env: &Env, e: &Engine, a: &RunArgs) -> Result<Row, Failure> {
    let opts = a.flags.to_options(a.image(), a.cmd())?;
    let cidfile = a
        .flags
        .cidfile
        .as_deref()
        .map(super::cidfile::CidFile::create)
        .transpose()?;
    let img = resolve_image(env, a.image(), opts.pull, opts.platform.as_deref())?;
    if let Some(p) = &opts.platform {
        let blob = env.store()?.read(&img.image.id)?;
        berth_engine::options::host_config::check_platform(p, a.image(), &blob)?;
    }
    let row = e.create(
        &opts,
        ImageInput {
            id: &img.image.id,
            chain: &img.image.chain,
            config: &img.config,
        },
    )?;
    if let Some(c) = cidfile {
        c.write(&row.id)?;
    }
    Ok(row)
}

pub fn create(env: &Env, a: &RunArgs) -> Result<i32, Failure> {
    let e = engine(env)?;
    let row = create_container(env, &e, a)?;
    println!("{}", row.id);
    Ok(0)
}

pub fn run(env: &Env, a: &RunArgs) -> Result<i32, Failure> {
    berth_engine::container::start::warm_start();
    let e = engine(env)?;
    if let Some(k) = &a.detach_keys {
        super::tty::parse_detach_keys(k)?;
    }
    let row = create_container(env, &e, a)?;
    let with_tty = a.flags.tty && !a.flags.detach;
    let started = if with_tty {
        e.start_attached(&row.id)
    } else if a.flags.detach {
        e.start(&row.id)
    } else {
        e.start_waited(&row.id)
    };
    if let Err(err) = started {
        if a.flags.rm {
            let _ = e.remove(&row.id, true, true);
        }
        return Err(err.into());
    }
    if a.flags.detach {
        println!("{}", row.id);
        return Ok(0);
    }
    if with_tty {
        return super::tty::attach_started(
            &e.dir(&row.id),
            a.flags.interactive,
            a.detach_keys.as_deref(),
        );
    }
    if a.flags.interactive {
        send_stdin(e.dir(&row.id));
    }
    follow(&e, &row.id)
}

/// `start -a` / `start -ai`: start `arg` and stay attached; a tty container gets a terminal
/// session, the others their output from the log (and our stdin with -i).
pub fn start_and_attach(
    e: &Engine,
    arg: &str,
    interactive: bool,
    detach_keys: Option<&str>,
) -> Result<i32, Failure> {
    if let Some(k) = detach_keys {
        super::tty::parse_detach_keys(k)?;
    }
    let found = e.find(arg)?;
    if berth_engine::container::options_of(&found).tty {
        let r = e.start_attached(arg)?;
        return super::tty::attach_started(&e.dir(&r.id), interactive, detach_keys);
    }
    let r = e.start(arg)?;
    if interactive {
        send_stdin(e.dir(&r.id));
    }
    follow(e, &r.id)
}

/// `-i`: our stdin to the container's, through the monitor's attach protocol (a stdin-only
/// attach; our EOF closes the container's stdin). The start bound the monitor's socket
/// before it returned.
pub fn send_stdin(dir: PathBuf) {
    std::thread::spawn(move || {
        let Ok(Some(mut c)) = berth_engine::monitor_client::connect(&dir) else {
            return;
        };
        let hello = b"{\"attach\":{\"stdin\":true,\"stdout\":false,\"stderr\":false}}\n";
        if c.write_all(hello).is_ok() {
            let _ = std::io::copy(&mut std::io::stdin().lock(), &mut c);
        }
        let _ = c.shutdown(std::net::Shutdown::Write);
        // Keep the connection until the container ends (the monitor may close on EOF).
        let _ = std::io::copy(&mut c, &mut std::io::sink());
    });
}

/// The monitor's `wait` answer (`{"exit_code":N}`), which it gives even while an `--rm`
/// removal runs: the status survives the container's dir. Read by the following loop itself
/// between its log reads (a thread and a channel cost a thread start and one more wake-up).
struct Waiter {
    conn: Option<std::os::unix::net::UnixStream>,
    answer: Vec<u8>,
}

impl Waiter {
    /// The start bound the socket before it returned; gone, the monitor is done and
    /// `follow` finds the exit in exit.json or the row.
    fn ask(dir: &std::path::Path) -> Waiter {
        let conn = berth_engine::monitor_client::connect(dir)
            .ok()
            .flatten()
            .filter(|c| {
                let mut w = c;
                w.write_all(b"{\"wait\":{}}\n").is_ok() && c.set_nonblocking(true).is_ok()
            });
        Waiter {
            conn,
            answer: Vec::new(),
        }
    }

    /// Waits up to `timeout` for the answer (a signal ends the wait early); its status once
    /// it came. Without a monitor to ask, just sleeps.
    fn wait(&mut self, timeout: Duration) -> Option<i32> {
        use std::io::Read;
        use std::os::fd::AsRawFd;
        let Some(c) = self.conn.as_mut() else {
            std::thread::sleep(timeout);
            return None;
        };
        let ms = timeout.as_millis().min(i32::MAX as u128) as i32;
        let mut fd = libc::pollfd {
            fd: c.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        // SAFETY: poll on one pollfd we own, for one entry.
        if unsafe { libc::poll(&mut fd, 1, ms) } <= 0 {
            return None;
        }
        let mut buf = [0u8; 256];
        loop {
            match c.read(&mut buf) {
                Ok(0) => {
                    // Hung up without an answer: exit.json or the row will tell.
                    self.conn = None;
                    return None;
                }
                Ok(n) => self.answer.extend_from_slice(&buf[..n]),
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(_) => {
                    // A broken connection stays readable: polling it again would spin.
                    self.conn = None;
                    return None;
                }
            }
        }
        let line = self.answer.split(|b| *b == b'\n').next()?;
        if line.len() == self.answer.len() {
            return None;
        }
        let v: serde_json::Value = serde_json::from_slice(line).unwrap_or_default();
        let code = v["exit_code"].as_i64().map(|c| c as i32);
        if code.is_none() {
            self.conn = None;
        }
        code
    }
}

impl Drop for Waiter {
    fn drop(&mut self) {
        // Held until we exit: with --rm the monitor starts the removal when we hang up, so
        // that it does not compete with the end of this command.
        std::mem::forget(self.conn.take());
    }
}

/// Copy the container's output from its json-file log to ours until it exits; its status,
/// from the monitor's `wait` answer, else `exit.json`, else the row. The monitor writes the
/// whole output to the log before either.
pub fn follow(e: &Engine, id: &str) -> Result<i32, Failure> {
    forward_signals();
    let mut waited = Waiter::ask(&e.dir(id));
    let log_path = e.dir(id).join(format!("{id}-json.log"));
    let mut log: Option<std::io::BufReader<std::fs::File>> = None;
    let mut partial = String::new();
    let mut last_code = 0;
    // Returns whether it copied anything.
    let mut pump = |log: &mut Option<std::io::BufReader<std::fs::File>>| -> bool {
        let mut copied = false;
        if log.is_none() {
            *log = std::fs::File::open(&log_path)
                .ok()
                .map(std::io::BufReader::new);
        }
        let Some(r) = log.as_mut() else {
            return false;
        };
        loop {
            let mut line = String::new();
            match r.read_line(&mut line) {
                Ok(0) | Err(_) => break,
                Ok(_) => copied = true,
            }
            partial.push_str(&line);
            if !partial.ends_with('\n') {
                continue;
            }
            let entry: serde_json::Value = serde_json::from_str(&partial).unwrap_or_default();
            partial.clear();
            let text = entry["log"].as_str().unwrap_or("");
            if entry["stream"] == "stderr" {
                let _ = std::io::stderr().write_all(text.as_bytes());
            } else {
                let mut out = std::io::stdout().lock();
                let _ = out.write_all(text.as_bytes());
                let _ = out.flush();
            }
        }
        copied
    };
    // The exit comes at once through `waited`; the log is polled, quickly while output
    // flows and backing off to 50 ms while it does not, and the state database is looked
    // at every 100 ms only: a busy container must not share its CPUs with our polling
    // (measured: iperf3 in an attached `run` lost ~10% to a 2 ms poll with a query each).
    let mut idle = Duration::from_millis(2);
    let mut next_check = std::time::Instant::now();
    loop {
        let sig = PENDING.swap(0, Ordering::SeqCst);
        if sig != 0 {
            // Not there any more, or not running: the exit below tells what happened.
            let _ = e.kill(id, &sig.to_string());
        }
        let copied = pump(&mut log);
        if let Some(code) = waited.wait(Duration::ZERO) {
            pump(&mut log);
            return Ok(code);
        }
        if std::time::Instant::now() >= next_check {
            next_check = std::time::Instant::now() + Duration::from_millis(100);
            if let Some(x) = berth_engine::container::exit::read(e, id) {
                // The monitor writes the whole output to the log before exit.json.
                pump(&mut log);
                return Ok(x.exit_code);
            }
            match e.store.get(id)? {
                None => {
                    pump(&mut log);
                    return Ok(last_code);
                }
                Some(mut r) => {
                    berth_engine::container::exit::refresh(e, &mut r)?;
                    last_code = r.exit_code;
                    if !matches!(r.state, State::Running | State::Paused) {
                        pump(&mut log);
                        return Ok(r.exit_code);
                    }
                    if !berth_engine::container::monitor_alive(&r) {
                        berth_engine::reconcile::reconcile(e);
                    }
                }
            }
        }
        idle = if copied {
            Duration::from_millis(2)
        } else {
            (idle * 2).min(Duration::from_millis(50))
        };
        // Wakes at once when the monitor answers the wait (no poll interval on the exit).
        if let Some(code) = waited.wait(idle) {
            pump(&mut log);
            return Ok(code);
        }
    }
}
