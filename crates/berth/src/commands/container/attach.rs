//! `berth attach`: the running container's output here, our stdin to it (when it was
//! created with -i), until it exits; its exit status is ours, as with docker.

use super::{engine, fail, Failure};
use crate::cli::AttachArgs;
use crate::env::Env;
use berth_engine::monitor_client::{self, Streams};
use berth_engine::store::State;
use std::io::Read;
use std::os::fd::FromRawFd;
use std::sync::atomic::{AtomicI32, Ordering};

pub fn attach(env: &Env, a: &AttachArgs) -> Result<i32, Failure> {
    let e = engine(env)?;
    let mut r = e.find(&a.container)?;
    berth_engine::container::exit::refresh(&e, &mut r)?;
    match r.state {
        State::Running => {}
        State::Paused => {
            return Err(fail(
                "You cannot attach to a paused container, unpause it first",
            ))
        }
        _ => {
            return Err(fail(
                "You cannot attach to a stopped container, start it first",
            ))
        }
    }
    let opts = berth_engine::container::options_of(&r);
    if opts.tty {
        let keys = super::tty::parse_detach_keys(
            a.detach_keys
                .as_deref()
                .unwrap_or(super::tty::DEFAULT_DETACH_KEYS),
        )?;
        let stdin = opts.interactive && !a.no_stdin;
        return super::tty::finish(super::tty::attach_monitor(&e.dir(&r.id), stdin, &keys)?);
    }
    if a.sig_proxy {
        proxy_signals(env.root.clone(), r.id.clone());
    }
    let with_stdin = opts.interactive && !a.no_stdin;
    let streams = Streams {
        stdin: with_stdin,
        stdout: true,
        stderr: true,
    };
    let stdin = with_stdin.then(std::io::stdin);
    let (mut out, mut err) = (std::io::stdout(), std::io::stderr());
    Ok(monitor_client::attach_streams(
        &e.dir(&r.id),
        streams,
        stdin,
        &mut out,
        &mut err,
    )?)
}

/// The signals an attached client passes on to its container (docker's `--sig-proxy`).
const PROXIED: [libc::c_int; 6] = [
    libc::SIGINT,
    libc::SIGTERM,
    libc::SIGHUP,
    libc::SIGQUIT,
    libc::SIGUSR1,
    libc::SIGUSR2,
];

/// The write end of the pipe the signal handler reports to (-1: none yet).
static PROXY_PIPE: AtomicI32 = AtomicI32::new(-1);

extern "C" fn pass_on(sig: libc::c_int) {
    let fd = PROXY_PIPE.load(Ordering::Relaxed);
    if fd < 0 {
        return;
    }
    let byte = sig as u8;
    // SAFETY: errno is saved and restored around write(2), which is async-signal-safe and
    // reads one byte of our stack.
    unsafe {
        let errno = *libc::__errno_location();
        libc::write(fd, (&byte as *const u8).cast(), 1);
        *libc::__errno_location() = errno;
    }
}

/// `--sig-proxy` (the default): the signals berth receives go to the container instead. A
/// handler (not a blocked mask: what berth starts afterwards, such as a network's DNS server
/// during an `--rm` removal, must not inherit blocked signals, and an exec resets handlers)
/// writes each to a pipe that a thread reads, which has the engine send it.
pub fn proxy_signals(root: std::path::PathBuf, id: String) {
    let mut fds = [0; 2];
    // SAFETY: pipe2 writes two fds into the local array.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
        return;
    }
    // SAFETY: the read end was just made and is owned here alone.
    let mut signals = unsafe { std::fs::File::from_raw_fd(fds[0]) };
    // The write end lives as long as berth: the handler may use it any time.
    PROXY_PIPE.store(fds[1], Ordering::Relaxed);
    for sig in PROXIED {
        // SAFETY: the handler only loads an atomic and writes to a pipe; the sigaction
        // struct is a local, zeroed then filled.
        unsafe {
            let mut sa: libc::sigaction = std::mem::zeroed();
            sa.sa_sigaction = pass_on as *const () as libc::sighandler_t;
            sa.sa_flags = libc::SA_RESTART;
            libc::sigemptyset(&mut sa.sa_mask);
            libc::sigaction(sig, &sa, std::ptr::null_mut());
        }
    }
    std::thread::spawn(move || {
        let mut buf = [0u8; 16];
        while let Ok(n @ 1..) = signals.read(&mut buf) {
            let Ok(e) = berth_engine::Engine::open_only(&root) else {
                continue;
            };
            for sig in &buf[..n] {
                // Gone or stopped: the attach ends with its exit anyway.
                let _ = e.kill(&id, &sig.to_string());
            }
        }
    });
}
