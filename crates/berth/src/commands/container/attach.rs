//! `berth attach`: the running container's output here, our stdin to it (when it was
//! created with -i), until it exits; its exit status is ours, as with docker.

use super::{engine, fail, Failure};
use crate::cli::AttachArgs;
use crate::env::Env;
use berth_engine::monitor_client::{self, Streams};
use berth_engine::store::State;

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
    let _proxy = a
        .sig_proxy
        .then(|| proxy_signals(env.root.clone(), r.id.clone()));
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

/// While this lives, the proxied signals are blocked in the thread that made it.
pub struct Proxying {
    set: libc::sigset_t,
}

impl Drop for Proxying {
    /// What this thread starts from now on (an `--rm` removal may start a network's DNS
    /// server) must not inherit the blocked signals. One that came meanwhile was passed on.
    fn drop(&mut self) {
        // SAFETY: unblocks the set we blocked; no other pointer is passed.
        unsafe { libc::pthread_sigmask(libc::SIG_UNBLOCK, &self.set, std::ptr::null_mut()) };
    }
}

/// `--sig-proxy` (the default): the signals berth receives go to the container instead.
/// They are blocked here before any other thread exists (threads inherit the mask) and
/// taken by one thread with sigwait(2), which has the engine send them.
pub fn proxy_signals(root: std::path::PathBuf, id: String) -> Proxying {
    // SAFETY: the set is a local initialised by sigemptyset; masks take no other pointers.
    let set = unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        for s in PROXIED {
            libc::sigaddset(&mut set, s);
        }
        libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut());
        set
    };
    std::thread::spawn(move || loop {
        let mut sig = 0;
        // SAFETY: sigwait reads the set we own and writes the signal number into `sig`.
        if unsafe { libc::sigwait(&set, &mut sig) } != 0 {
            return;
        }
        if let Ok(e) = berth_engine::Engine::open_only(&root) {
            // Gone or stopped: the attach ends with its exit anyway.
            let _ = e.kill(&id, &sig.to_string());
        }
    });
    Proxying { set }
}
