//! The poll(2) loop: container output to the log and to attached clients, client stdin to
//! the container, children reaped (SIGCHLD via a signalfd), exit recorded, restarts run.

use crate::args::Args;
use crate::clients::{Client, Input};
use crate::exit::{self, OomWatch};
use crate::jsonlog::JsonLog;
use crate::policy::Policy;
use crate::{sys, timefmt};
use berth_monitor_proto::frame;
use std::fs::File;
use std::io::{ErrorKind, Read, Write};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::net::UnixListener;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Docker cuts lines longer than this into several entries.
const MAX_ENTRY: usize = 16 << 10;
/// After the init exits, how long its output pipes may stay open (held by a process that
/// escaped the container's pid namespace) before the exit is recorded anyway.
const DRAIN_LIMIT: Duration = Duration::from_secs(2);
/// How long `--wait-attach` holds the output for the attach client that is coming (the
/// `berth run` that started the container may have been killed).
const ATTACH_LIMIT: Duration = Duration::from_secs(30);
/// With `--rm`, how long the removal waits for the clients told of the exit to go. The
/// attached `berth run --rm` removes its container itself before it hangs up (it returns
/// once the container is gone, as docker's does); a `berth rm` started at once would only
/// compete with it for the lock and the CPU. A client that stays does not keep the container
/// past this.
const LINGER_LIMIT: Duration = Duration::from_secs(2);
/// How long finished clients get to take their last bytes before the monitor exits.
const FAREWELL_LIMIT: Duration = Duration::from_secs(5);

struct Output {
    file: File,
    /// 1 stdout, 2 stderr.
    stream: u8,
    pending: Vec<u8>,
    eof: bool,
}

struct Stdin {
    file: File,
    pending: Vec<u8>,
    close_when_sent: bool,
    /// A pty master (`-t`): a client's EOF must not close it (closing our copy would not
    /// end the container's input anyway, and the next attach could not type any more).
    terminal: bool,
}

enum Phase {
    Running {
        init: libc::pid_t,
        since: Instant,
    },
    Draining {
        code: i32,
        ran: Duration,
        deadline: Instant,
    },
    Backoff {
        until: Instant,
    },
    Restarting {
        cmd: libc::pid_t,
        reaped: Vec<(libc::pid_t, i32)>,
    },
    /// `--rm`, the exit told: waiting for those clients to hang up, then the removal.
    Lingering {
        deadline: Instant,
    },
    Removing {
        cmd: libc::pid_t,
    },
    Done {
        deadline: Instant,
    },
}

pub struct Monitor {
    args: Args,
    sigchld: OwnedFd,
    listener: Option<UnixListener>,
    outputs: Vec<Output>,
    stdin: Option<Stdin>,
    clients: Vec<Client>,
    /// Clients told of the exit, kept to see them hang up (see [`LINGER_LIMIT`]).
    leaving: Vec<std::os::unix::net::UnixStream>,
    log: Option<JsonLog>,
    phase: Phase,
    last_exit: Option<i32>,
    policy: Policy,
    oom: Option<OomWatch>,
    /// The container's stdio is a pty (`-t`): its master is stdout, stderr and stdin.
    tty: bool,
    /// A tty container's restart command sends the new pty master over this socket.
    restart_sock: Option<OwnedFd>,
    /// With `--wait-attach`: output is left in the pipes (the container waits on them, as it
    /// waits on an attached docker client) until an attach client arrives or this time.
    hold_until: Option<Instant>,
    /// The container's root (an `O_PATH` reference), held while the monitor lives. An `--rm`
    /// removal then finds the overlay busy and detaches it, and the kernel's teardown of the
    /// overlay, which syncs its whole upper filesystem (3-60 ms measured on a busy disk),
    /// runs when this monitor exits, after `berth run --rm` has returned, instead of on the
    /// path the user waits on. A plain `rm` waits for the monitor to end before it unmounts.
    _root: Option<File>,
    /// When the next healthcheck is due (while the container runs, with a check).
    health_next: Option<Instant>,
    /// The `container-health-check` command in flight: one at a time.
    health_cmd: Option<libc::pid_t>,
}

fn file_of(fd: i32) -> File {
    // SAFETY: the fd numbers come from our command line (inherited for us alone) or from
    // pipes we made; each is wrapped exactly once.
    unsafe { File::from_raw_fd(fd) }
}

impl Monitor {
    pub fn new(args: Args) -> std::io::Result<Self> {
        sys::detach_and_subreap();
        sys::ignore_sigpipe();
        let stdout = sys::above_stdio(args.stdout_fd)?;
        // One fd for both streams (a terminal) is read once, as stdout.
        let stderr = (args.stderr_fd != args.stdout_fd)
            .then(|| sys::above_stdio(args.stderr_fd))
            .transpose()?;
        // A stdin that is also an output (a pty master) gets its own fd number, so that each
        // is owned (and closed) once.
        let stdin = match args.stdin_fd {
            Some(fd) if fd == args.stdout_fd || fd == args.stderr_fd => Some(sys::dup(fd)?),
            Some(fd) => Some(sys::above_stdio(fd)?),
            None => None,
        };
        sys::stdio_to_null()?;
        sys::cloexec_all();
        let sigchld = sys::sigchld_fd()?;
        let mut outputs = Vec::new();
        for (fd, stream) in [(Some(stdout), frame::STDOUT), (stderr, frame::STDERR)] {
            let Some(fd) = fd else { continue };
            sys::set_nonblocking(fd)?;
            outputs.push(Output {
                file: file_of(fd),
                stream,
                pending: Vec::new(),
                eof: false,
            });
        }
        let stdin = match stdin {
            Some(fd) => {
                sys::set_nonblocking(fd)?;
                Some(Stdin {
                    file: file_of(fd),
                    pending: Vec::new(),
                    close_when_sent: false,
                    terminal: args.stdin_fd == Some(args.stdout_fd),
                })
            }
            None => None,
        };
        exit::remove(&args.dir);
        let log = if args.log {
            let path = args.dir.join(format!("{}-json.log", args.id));
            Some(JsonLog::open(path, args.max_size, args.max_file)?)
        } else {
            None
        };
        let listener = match args.listen_fd {
            Some(fd) => {
                let fd = sys::above_stdio(fd)?;
                // SAFETY: the fd number comes from our command line, inherited for us alone,
                // and is wrapped only here.
                let l = unsafe { UnixListener::from_raw_fd(fd) };
                l.set_nonblocking(true)?;
                l
            }
            None => listen(&args.dir)?,
        };
        let pid = args.pid;
        let oom = OomWatch::of(pid, true);
        let phase = Phase::Running {
            init: pid,
            since: Instant::now(),
        };
        let policy = Policy::new(args.restart);
        let hold_until = args.wait_attach.then(|| Instant::now() + ATTACH_LIMIT);
        let tty = args.stdin_fd == Some(args.stdout_fd);
        let root = {
            use std::os::unix::fs::OpenOptionsExt;
            std::fs::OpenOptions::new()
                .read(true)
                .custom_flags(libc::O_PATH | libc::O_DIRECTORY)
                .open(args.dir.join("rootfs"))
                .ok()
        };
        let health_next = args.health_interval.map(|i| Instant::now() + i);
        Ok(Monitor {
            _root: root,
            health_next,
            health_cmd: None,
            tty,
            restart_sock: None,
            hold_until,
            args,
            sigchld,
            listener: Some(listener),
            outputs,
            stdin,
            clients: Vec::new(),
            leaving: Vec::new(),
            log,
            phase,
            last_exit: None,
            policy,
            oom,
        })
    }

    pub fn run(mut self) -> std::io::Result<()> {
        // An init that ended before the signalfd existed sent a SIGCHLD nobody saw.
        self.reap();
        loop {
            self.advance();
            if let Phase::Done { deadline } = self.phase {
                self.clients.retain(|c| !c.finished());
                if self.clients.is_empty() || Instant::now() >= deadline {
                    return Ok(());
                }
            }
            self.poll_once()?;
        }
    }

    fn poll_once(&mut self) -> std::io::Result<()> {
        const IN: i16 = libc::POLLIN;
        let mut fds = vec![pollfd(self.sigchld.as_raw_fd(), IN)];
        let listen_at = fds.len();
        if let Some(l) = &self.listener {
            fds.push(pollfd(l.as_raw_fd(), IN));
        }
        let outputs_at = fds.len();
        // Held for the coming client, or an attached client is behind: the output waits in
        // the pipes (and the container on them).
        let behind = self.clients.iter().any(Client::behind);
        if behind {
            if let Phase::Draining { deadline, .. } = &mut self.phase {
                // The time a slow client takes is not the container's output staying open.
                *deadline = (*deadline).max(Instant::now() + DRAIN_LIMIT);
            }
        }
        let holding = self.hold_until.is_some() || behind;
        for o in self.outputs.iter() {
            // A negative fd is skipped by poll: a held pipe's POLLHUP must not spin the loop.
            let fd = if holding { -1 } else { o.file.as_raw_fd() };
            fds.push(pollfd(fd, IN));
        }
        let stdin_at = fds.len();
        let stdin_busy = self.stdin.as_ref().is_some_and(|s| !s.pending.is_empty());
        if let Some(s) = self.stdin.as_ref().filter(|_| stdin_busy) {
            fds.push(pollfd(s.file.as_raw_fd(), libc::POLLOUT));
        }
        let leaving_at = fds.len();
        for l in &self.leaving {
            fds.push(pollfd(l.as_raw_fd(), IN));
        }
        let clients_at = fds.len();
        for c in &self.clients {
            // While the container's stdin is full, stop reading clients (back-pressure).
            let mut ev = 0;
            if c.wants_read() && !stdin_busy {
                ev |= IN;
            }
            if c.wants_write() {
                ev |= libc::POLLOUT;
            }
            fds.push(pollfd(c.sock.as_raw_fd(), ev));
        }
        sys::poll(&mut fds, self.timeout_ms())?;
        let ready = |i: usize| fds[i].revents != 0;

        if ready(0) {
            drain_signalfd(self.sigchld.as_raw_fd());
            self.reap();
        }
        for i in 0..self.clients.len() {
            let revents = fds[clients_at + i].revents;
            if revents == 0 {
                continue;
            }
            self.client_io(i);
            if revents & (libc::POLLHUP | libc::POLLERR) != 0 {
                // The peer closed both ways: take what it left (its last stdin bytes and
                // EOF), then drop it. Left in the set, its POLLHUP would spin the loop.
                for _ in 0..64 {
                    if !self.clients[i].wants_read() {
                        break;
                    }
                    self.client_io(i);
                }
                self.clients[i].dead = true;
            }
        }
        // Anything from a leaving client (it sends nothing more) is its hang-up.
        let mut i = 0;
        self.leaving.retain(|_| {
            i += 1;
            !ready(leaving_at + i - 1)
        });
        if stdin_busy && ready(stdin_at) {
            self.push_stdin(Vec::new());
        }
        // A restart reaped above may have replaced the outputs (a tty's new master): only
        // those polled have a place in `fds`; a read of a new one that is not ready just
        // finds nothing.
        for i in 0..self.outputs.len().min(stdin_at - outputs_at) {
            if !holding && ready(outputs_at + i) {
                self.read_output(i);
            }
        }
        self.outputs.retain(|o| !o.eof);
        if self.listener.is_some() && ready(listen_at) {
            self.accept();
        }
        self.clients.retain(|c| !c.finished());
        Ok(())
    }

    fn timeout_ms(&self) -> i32 {
        let deadline = match (&self.phase, self.hold_until) {
            (_, Some(hold)) => hold,
            (
                Phase::Draining { deadline, .. }
                | Phase::Lingering { deadline }
                | Phase::Done { deadline },
                _,
            ) => *deadline,
            (Phase::Backoff { until }, _) => *until,
            (Phase::Running { .. }, _) => match self.health_next {
                Some(next) if self.health_cmd.is_none() => next,
                _ => return -1,
            },
            _ => return -1,
        };
        let left = deadline.saturating_duration_since(Instant::now());
        (left.as_millis() as i32).saturating_add(1)
    }

    fn accept(&mut self) {
        let Some(l) = &self.listener else { return };
        while let Ok((sock, _)) = l.accept() {
            self.clients.push(Client::new(sock));
        }
    }

    fn client_io(&mut self, i: usize) {
        let running = self.last_exit.is_none()
            || matches!(self.phase, Phase::Running { .. } | Phase::Draining { .. });
        let client = &mut self.clients[i];
        client.flush();
        if !client.wants_read() {
            return;
        }
        let was_request = matches!(client.kind, crate::clients::Kind::Request);
        let input = client.read();
        if was_request && (client.wants_output(frame::STDOUT) || client.wants_output(frame::STDERR))
        {
            self.release_output();
        }
        let client = &mut self.clients[i];
        if let crate::clients::Kind::Resize { rows, cols } = client.kind {
            if was_request {
                let tty = self.outputs.iter().find(|o| o.stream == frame::STDOUT);
                let done =
                    tty.is_some_and(|o| sys::set_window_size(o.file.as_raw_fd(), rows, cols));
                client.answer(if done {
                    berth_monitor_proto::RESIZED
                } else {
                    "{\"error\":\"no terminal\"}\n"
                });
            }
            return;
        }
        if was_request && !matches!(client.kind, crate::clients::Kind::Request) && !running {
            // Asked after the container ended (and before any restart): answer at once.
            if let Some(code) = self.last_exit {
                client.exited(code);
                client.flush();
                // A lingering --rm removal now waits for this one to hang up.
                if self.args.auto_remove && client.told_of_exit() {
                    if let Ok(sock) = client.sock.try_clone() {
                        self.leaving.push(sock);
                    }
                }
            }
        }
        match input {
            Input::Nothing => {}
            Input::Stdin(bytes) => self.push_stdin(bytes),
            Input::StdinEof => {
                if let Some(s) = self.stdin.as_mut().filter(|s| !s.terminal) {
                    s.close_when_sent = true;
                }
                self.push_stdin(Vec::new());
            }
        }
    }

    /// Starts reading the container's output (held for `--wait-attach`).
    fn release_output(&mut self) {
        if self.hold_until.take().is_some() {
            if let Phase::Draining { deadline, .. } = &mut self.phase {
                *deadline = Instant::now() + DRAIN_LIMIT;
            }
        }
    }

    /// Queues `bytes` for the container's stdin and writes what the pipe takes now.
    fn push_stdin(&mut self, bytes: Vec<u8>) {
        let Some(s) = &mut self.stdin else { return };
        s.pending.extend_from_slice(&bytes);
        while !s.pending.is_empty() {
            match s.file.write(&s.pending) {
                Ok(n) => {
                    s.pending.drain(..n);
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => return,
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(_) => {
                    // Nobody reads the container's stdin any more.
                    self.stdin = None;
                    return;
                }
            }
        }
        if s.close_when_sent {
            self.stdin = None;
        }
    }

    fn read_output(&mut self, i: usize) {
        let mut buf = vec![0u8; 64 << 10];
        let n = loop {
            match self.outputs[i].file.read(&mut buf) {
                Ok(n) => break n,
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) if e.kind() == ErrorKind::WouldBlock => return,
                Err(_) => break 0,
            }
        };
        let time = timefmt::now_rfc3339_nano();
        let stream = self.outputs[i].stream;
        let name = if stream == frame::STDOUT {
            "stdout"
        } else {
            "stderr"
        };
        if n == 0 {
            let o = &mut self.outputs[i];
            o.eof = true;
            let rest = std::mem::take(&mut o.pending);
            if !rest.is_empty() {
                self.log_entry(name, &rest, &time);
            }
            return;
        }
        let data = &buf[..n];
        for c in self.clients.iter_mut().filter(|c| c.wants_output(stream)) {
            c.frame(stream, data);
            c.flush();
        }
        let mut pending = std::mem::take(&mut self.outputs[i].pending);
        pending.extend_from_slice(data);
        let mut start = 0;
        while let Some(nl) = pending[start..].iter().position(|&b| b == b'\n') {
            let end = start + nl + 1;
            for chunk in pending[start..end].chunks(MAX_ENTRY) {
                self.log_entry(name, chunk, &time);
            }
            start = end;
        }
        while pending.len() - start >= MAX_ENTRY {
            self.log_entry(name, &pending[start..start + MAX_ENTRY], &time);
            start += MAX_ENTRY;
        }
        pending.drain(..start);
        self.outputs[i].pending = pending;
    }

    fn log_entry(&mut self, stream: &str, text: &[u8], time: &str) {
        if let Some(log) = &mut self.log {
            // A full disk must not stop the container: the entry is lost, the monitor goes on.
            let _ = log.write(stream, text, time);
        }
    }

    fn reap(&mut self) {
        while let Some((pid, code)) = sys::reap_one() {
            if self.health_cmd == Some(pid) {
                self.health_cmd = None;
                continue;
            }
            match &mut self.phase {
                Phase::Running { init, since } if *init == pid => {
                    self.phase = Phase::Draining {
                        code,
                        ran: since.elapsed(),
                        deadline: Instant::now() + DRAIN_LIMIT,
                    };
                }
                Phase::Restarting { cmd, reaped } => {
                    if *cmd == pid {
                        let reaped = std::mem::take(reaped);
                        self.restarted(code, reaped);
                    } else {
                        reaped.push((pid, code));
                    }
                }
                Phase::Removing { cmd } if *cmd == pid => self.done(),
                // An orphan that ended inside the container, or a restarted init reaped
                // before its restart command ended: kept above, others ignored.
                _ => {}
            }
        }
    }

    /// Moves the phase on when its time or condition has come.
    fn advance(&mut self) {
        let now = Instant::now();
        match self.hold_until {
            Some(until) if now >= until => self.release_output(),
            Some(_) => return,
            None => {}
        }
        match self.phase {
            Phase::Draining {
                code,
                ran,
                deadline,
            } if self.outputs.is_empty() || now >= deadline => self.exited(code, ran),
            Phase::Backoff { until } if now >= until => self.restart(),
            Phase::Running { .. } => self.health_check(now),
            Phase::Lingering { deadline } if self.leaving.is_empty() || now >= deadline => {
                self.leaving.clear();
                self.remove();
            }
            _ => {}
        }
    }

    /// Starts the container's healthcheck when it is due and none is in flight (a check
    /// that takes longer than the interval delays the next, as Docker's).
    fn health_check(&mut self, now: Instant) {
        let (Some(next), Some(interval)) = (self.health_next, self.args.health_interval) else {
            return;
        };
        if now < next || self.health_cmd.is_some() {
            return;
        }
        let mut cmd = self.berth();
        cmd.args(["container-health-check", &self.args.id])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        if let Ok(child) = cmd.spawn() {
            self.health_cmd = Some(child.id() as libc::pid_t);
        }
        self.health_next = Some(now + interval);
    }

    fn exited(&mut self, code: i32, ran: Duration) {
        // The rest of the output (and partial lines) reaches the log before exit.json.
        for i in 0..self.outputs.len() {
            self.read_output(i);
        }
        self.outputs.retain(|o| !o.eof);
        for o in &mut self.outputs {
            let rest = std::mem::take(&mut o.pending);
            if !rest.is_empty() && self.log.is_some() {
                let name = if o.stream == frame::STDOUT {
                    "stdout"
                } else {
                    "stderr"
                };
                let _ = self
                    .log
                    .as_mut()
                    .map(|l| l.write(name, &rest, &timefmt::now_rfc3339_nano()));
            }
        }
        // Clients still in the backlog (an attached `run` connects as soon as the start
        // returns) hear of the exit with the others, before exit.json is synced.
        self.accept();
        for i in 0..self.clients.len() {
            self.client_io(i);
        }
        let oom = self.oom.as_ref().is_some_and(OomWatch::killed);
        self.record_exit_events(code, oom);
        let _ = exit::write(&self.args.dir, code, &timefmt::now_rfc3339_nano(), oom);
        self.last_exit = Some(code);
        for c in &mut self.clients {
            c.exited(code);
            c.flush();
            if self.args.auto_remove && c.told_of_exit() {
                if let Ok(sock) = c.sock.try_clone() {
                    self.leaving.push(sock);
                }
            }
        }
        exit::sync(&self.args.dir);
        let stopped = self.stopped_by_user();
        // `berth update --restart` may have changed the policy since we started.
        self.policy.reload(&self.args.dir);
        match self.policy.next(code, stopped, ran) {
            Some(delay) => {
                self.phase = Phase::Backoff {
                    until: Instant::now() + delay,
                }
            }
            None => self.finish(),
        }
    }

    fn record_exit_events(&self, code: i32, oom: bool) {
        if self.args.exec {
            return;
        }
        let (root, dir, id) = (&self.args.root, &self.args.dir, &self.args.id);
        if oom {
            crate::events::container(root, dir, id, "oom", &[]);
        }
        crate::events::container(root, dir, id, "die", &[("exitCode", code.to_string())]);
        crate::events::volumes_unmounted(root, dir, id);
    }

    fn stopped_by_user(&self) -> bool {
        self.args.dir.join("stopped-by-user").exists()
    }

    /// No restart: remove the container if asked (once the clients told of the exit are
    /// gone), then end.
    fn finish(&mut self) {
        if self.args.auto_remove && !self.leaving.is_empty() {
            self.phase = Phase::Lingering {
                deadline: Instant::now() + LINGER_LIMIT,
            };
            return;
        }
        self.remove();
    }

    fn remove(&mut self) {
        let id = self.args.id.clone();
        // The attached `berth run --rm` that was told of the exit has removed it already.
        let gone = !self.args.dir.exists();
        let args: &[&str] = if gone {
            &[]
        } else if self.args.auto_remove {
            // As docker run --rm: anonymous volumes go with the container.
            &["rm", "-f", "-v", &id]
        } else if self.args.cleanup && !self.stopped_by_user() {
            // (`stop` and `rm` give the network back themselves, holding the container's
            // lock: a cleanup command would only wait for them.)
            &["container-cleanup", &id]
        } else {
            &[]
        };
        if !args.is_empty() {
            let mut cmd = self.berth();
            cmd.args(args)
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null());
            if let Ok(child) = cmd.spawn() {
                self.phase = Phase::Removing {
                    cmd: child.id() as libc::pid_t,
                };
                return;
            }
        }
        self.done();
    }

    fn done(&mut self) {
        if let Some(l) = self.listener.take() {
            drop(l);
            let _ = std::fs::remove_file(self.args.dir.join(berth_monitor_proto::SOCKET));
        }
        self.phase = Phase::Done {
            deadline: Instant::now() + FAREWELL_LIMIT,
        };
    }

    fn berth(&self) -> Command {
        let mut cmd = Command::new(&self.args.berth);
        cmd.arg("--root").arg(&self.args.root);
        cmd
    }

    /// Runs `berth --root R container-restart-from-monitor ID` with new pipes as its stdio:
    /// the container it starts inherits them, the monitor keeps the other ends.
    fn restart(&mut self) {
        if self.stopped_by_user() {
            return self.finish();
        }
        match self.spawn_restart() {
            Ok(cmd) => {
                self.phase = Phase::Restarting {
                    cmd,
                    reaped: Vec::new(),
                }
            }
            Err(_) => self.finish(),
        }
    }

    fn spawn_restart(&mut self) -> std::io::Result<libc::pid_t> {
        if self.tty {
            return self.spawn_tty_restart();
        }
        let (out_r, out_w) = sys::pipe()?;
        let (err_r, err_w) = sys::pipe()?;
        let stdin = match self.args.stdin_fd {
            Some(_) => {
                let (r, w) = sys::pipe()?;
                Some((r, w))
            }
            None => None,
        };
        let mut cmd = self.berth();
        cmd.args(["container-restart-from-monitor", &self.args.id]);
        cmd.stdout(Stdio::from(out_w)).stderr(Stdio::from(err_w));
        let stdin_w = match stdin {
            Some((r, w)) => {
                cmd.stdin(Stdio::from(r));
                Some(w)
            }
            None => {
                cmd.stdin(Stdio::null());
                None
            }
        };
        let child = cmd.spawn()?;
        drop(cmd); // our copies of the write ends close here
        for (fd, stream) in [(out_r, frame::STDOUT), (err_r, frame::STDERR)] {
            sys::set_nonblocking(fd.as_raw_fd())?;
            self.outputs.push(Output {
                file: File::from(fd),
                stream,
                pending: Vec::new(),
                eof: false,
            });
        }
        if let Some(w) = stdin_w {
            sys::set_nonblocking(w.as_raw_fd())?;
            self.stdin = Some(Stdin {
                file: File::from(w),
                pending: Vec::new(),
                close_when_sent: false,
                terminal: false,
            });
        }
        Ok(child.id() as libc::pid_t)
    }

    /// A tty container's restart: the command makes a new pty and sends its master back over
    /// a socket that is its stdout (see `restarted`).
    fn spawn_tty_restart(&mut self) -> std::io::Result<libc::pid_t> {
        let (ours, theirs) = sys::socketpair()?;
        let mut cmd = self.berth();
        cmd.args(["container-restart-from-monitor", &self.args.id]);
        cmd.stdin(Stdio::null())
            .stdout(Stdio::from(theirs))
            .stderr(Stdio::null());
        let child = cmd.spawn()?;
        drop(cmd);
        self.restart_sock = Some(ours);
        Ok(child.id() as libc::pid_t)
    }

    /// The new pty master a tty container's restart command sent: the container's stdio.
    fn take_new_terminal(&mut self) -> bool {
        let Some(sock) = self.restart_sock.take() else {
            return true;
        };
        let Some(master) = sys::receive_fd(sock.as_raw_fd()) else {
            return false;
        };
        let fd = master.as_raw_fd();
        let (Ok(()), Ok(input)) = (sys::set_nonblocking(fd), sys::dup(fd)) else {
            return false;
        };
        self.outputs.clear();
        self.outputs.push(Output {
            file: File::from(master),
            stream: 1,
            pending: Vec::new(),
            eof: false,
        });
        self.stdin = Some(Stdin {
            file: file_of(input),
            pending: Vec::new(),
            close_when_sent: false,
            terminal: true,
        });
        true
    }

    /// The restart command ended with `code`; `reaped` are the processes that ended while it
    /// ran (the new init among them if it was quick).
    fn restarted(&mut self, code: i32, reaped: Vec<(libc::pid_t, i32)>) {
        if code != 0 || !self.take_new_terminal() {
            return self.finish();
        }
        let hint = self.runtime_pid();
        let live = sys::children();
        let init = hint.filter(|p| live.contains(p)).or_else(|| newest(&live));
        if let Some(init) = init {
            exit::remove(&self.args.dir);
            self.last_exit = None;
            self.oom = OomWatch::of(init, false);
            self.health_next = self.args.health_interval.map(|i| Instant::now() + i);
            self.phase = Phase::Running {
                init,
                since: Instant::now(),
            };
            return;
        }
        // The new init has already ended.
        let ended = hint
            .and_then(|h| reaped.iter().find(|(p, _)| *p == h))
            .or(reaped.last());
        match ended {
            Some(&(_, code)) => {
                self.last_exit = None;
                self.phase = Phase::Draining {
                    code,
                    ran: Duration::ZERO,
                    deadline: Instant::now() + DRAIN_LIMIT,
                };
            }
            None => self.finish(),
        }
    }

    /// The init pid the in-process runtime recorded (`R/runtime/ID/state.json`).
    fn runtime_pid(&self) -> Option<libc::pid_t> {
        let path: PathBuf = self
            .args
            .root
            .join("runtime")
            .join(&self.args.id)
            .join("state.json");
        let state: serde_json::Value = serde_json::from_slice(&std::fs::read(path).ok()?).ok()?;
        state.get("pid")?.as_i64().map(|p| p as libc::pid_t)
    }
}

/// The most recently started of `pids` (start time, field 22 of /proc/PID/stat).
fn newest(pids: &[libc::pid_t]) -> Option<libc::pid_t> {
    pids.iter()
        .filter_map(|&p| {
            let stat = std::fs::read_to_string(format!("/proc/{p}/stat")).ok()?;
            let after = &stat[stat.rfind(')')? + 2..];
            let start: u64 = after.split(' ').nth(19)?.parse().ok()?;
            Some((start, p))
        })
        .max()
        .map(|(_, p)| p)
}

fn drain_signalfd(fd: i32) {
    let mut buf = [0u8; 128 * 4];
    // SAFETY: reads into a local buffer of the given length; the fd is non-blocking.
    while unsafe { libc::read(fd, buf.as_mut_ptr().cast(), buf.len()) } > 0 {}
}

fn pollfd(fd: i32, events: i16) -> libc::pollfd {
    libc::pollfd {
        fd,
        events,
        revents: 0,
    }
}

/// Binds `monitor.sock` by a relative name from inside the directory: the full path can be
/// longer than a socket address holds (108 bytes).
fn listen(dir: &std::path::Path) -> std::io::Result<UnixListener> {
    let _ = std::fs::remove_file(dir.join(berth_monitor_proto::SOCKET));
    std::env::set_current_dir(dir)?;
    let listener = UnixListener::bind(berth_monitor_proto::SOCKET);
    std::env::set_current_dir("/")?;
    let listener = listener?;
    listener.set_nonblocking(true)?;
    Ok(listener)
}
