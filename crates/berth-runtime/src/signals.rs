//! Signal names and numbers as `kill` accepts them, and the foreground wait loop of `run`
//! and `exec`: signals are blocked before any child is cloned (no SIGCHLD race), then
//! taken synchronously with sigwaitinfo and forwarded to the container process.

use nix::sys::signal::{SigSet, Signal};
use nix::sys::wait::{waitpid, WaitPidFlag, WaitStatus};
use nix::unistd::Pid;
use std::str::FromStr;

pub fn parse(s: &str) -> Result<Signal, String> {
    if let Ok(n) = s.parse::<i32>() {
        return Signal::try_from(n).map_err(|_| format!("invalid signal: {s}"));
    }
    let up = s.to_ascii_uppercase();
    let name = if up.starts_with("SIG") {
        up
    } else {
        format!("SIG{up}")
    };
    Signal::from_str(&name).map_err(|_| format!("unknown signal {s:?}"))
}

const FORWARDED: &[Signal] = &[
    Signal::SIGHUP,
    Signal::SIGINT,
    Signal::SIGQUIT,
    Signal::SIGTERM,
    Signal::SIGUSR1,
    Signal::SIGUSR2,
    Signal::SIGWINCH,
    Signal::SIGCONT,
    Signal::SIGTSTP,
    Signal::SIGTTIN,
    Signal::SIGTTOU,
    Signal::SIGPIPE,
    Signal::SIGALRM,
];

fn set() -> SigSet {
    let mut s = SigSet::empty();
    for sig in FORWARDED {
        s.add(*sig);
    }
    s.add(Signal::SIGCHLD);
    s
}

/// Block the signals we will wait for; children restore an empty mask before execve.
pub fn block() {
    let _ = set().thread_block();
}

/// Wait for `pid` to exit, forwarding signals to it; returns its exit code (128+signal).
/// Other children (stage-1 leftovers) are reaped on the way.
pub fn wait_forwarding(pid: i32, on_winch: Option<&dyn Fn()>) -> i32 {
    let s = set();
    loop {
        // Reap first: the child may have exited before we got here.
        loop {
            match waitpid(None, Some(WaitPidFlag::WNOHANG)) {
                Ok(WaitStatus::Exited(p, code)) if p.as_raw() == pid => return code,
                Ok(WaitStatus::Signaled(p, sig, _)) if p.as_raw() == pid => {
                    return 128 + sig as i32
                }
                Ok(WaitStatus::StillAlive) | Err(_) => break,
                Ok(_) => continue,
            }
        }
        match s.wait() {
            Ok(Signal::SIGCHLD) => continue,
            // With our own pty, a resize of our terminal is passed to it; the kernel then
            // signals the container's foreground process group itself.
            Ok(Signal::SIGWINCH) if on_winch.is_some() => on_winch.expect("checked")(),
            Ok(sig) => {
                let _ = nix::sys::signal::kill(Pid::from_raw(pid), sig);
            }
            Err(_) => continue,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn names_and_numbers() {
        assert_eq!(parse("KILL").unwrap(), Signal::SIGKILL);
        assert_eq!(parse("sigterm").unwrap(), Signal::SIGTERM);
        assert_eq!(parse("9").unwrap(), Signal::SIGKILL);
        assert!(parse("NOPE").is_err());
        assert!(parse("99").is_err());
    }
}
