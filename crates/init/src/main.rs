//! `berth-init [-g] [--] COMMAND [ARG...]`: the PID 1 of `berth run --init`.
//!
//! A process that is PID 1 of its pid namespace has two jobs the usual program does not do:
//! orphans are re-parented to it, so it must reap them or they stay zombies; and the kernel
//! drops signals sent to PID 1 for which it has no handler, so `docker stop`'s SIGTERM would
//! never reach a program that does not expect to be PID 1. This binary runs the command as
//! its child, blocks every catchable signal and takes them with `sigwaitinfo`: SIGCHLD reaps
//! everything that died, anything else is forwarded to the child (to its whole process group
//! with `-g`; the child leads a process group of its own, in the terminal's foreground). When
//! the child exits, so does this process, with the child's status (128+N if
//! a signal N killed it); the kernel then kills what is left in the namespace.
//!
//! Only libc: it is bind-mounted into every `--init` container and must stay small and
//! static.

use std::ffi::{CString, OsString};
use std::os::unix::ffi::OsStringExt;

/// Signals that are not forwarded: they cannot be caught (KILL, STOP) or are sent by the
/// kernel to this process for its own faults.
const NOT_FORWARDED: [libc::c_int; 8] = [
    libc::SIGKILL,
    libc::SIGSTOP,
    libc::SIGSEGV,
    libc::SIGBUS,
    libc::SIGFPE,
    libc::SIGILL,
    libc::SIGTRAP,
    libc::SIGSYS,
];

struct Args {
    group: bool,
    command: Vec<CString>,
}

fn usage() -> ! {
    eprintln!("usage: berth-init [-g] [--] COMMAND [ARG...]");
    std::process::exit(1);
}

fn parse(args: Vec<OsString>) -> Args {
    let mut group = false;
    let mut i = 0;
    while i < args.len() {
        match args[i].to_str() {
            Some("-g") => group = true,
            Some("--") => {
                i += 1;
                break;
            }
            Some("-h") | Some("--help") => usage(),
            _ => break,
        }
        i += 1;
    }
    let command: Vec<CString> = args[i..]
        .iter()
        .map(|a| CString::new(a.clone().into_vec()).unwrap_or_else(|_| usage()))
        .collect();
    if command.is_empty() {
        usage();
    }
    Args { group, command }
}

fn all_signals() -> libc::sigset_t {
    // SAFETY: sigset_t is plain data; sigfillset initialises all of it.
    let mut set: libc::sigset_t = unsafe { std::mem::zeroed() };
    // SAFETY: `set` is a valid sigset_t; removing members of a filled set cannot fail.
    unsafe {
        libc::sigfillset(&mut set);
        for s in NOT_FORWARDED {
            libc::sigdelset(&mut set, s);
        }
    }
    set
}

extern "C" fn ignore(_: libc::c_int) {}

/// A handler for each forwarded signal: the kernel only queues a signal for a namespace's
/// PID 1 when it has one (blocked signals are queued as well, but a handler makes it true
/// whatever the mask).
fn install_handlers() {
    for sig in 1..=libc::SIGRTMAX() {
        if NOT_FORWARDED.contains(&sig) || sig == libc::SIGCHLD {
            continue;
        }
        // SAFETY: sigaction with a zeroed struct plus a valid handler is well-formed; errors
        // (signals the libc reserves) leave that signal as it was.
        unsafe {
            let mut sa: libc::sigaction = std::mem::zeroed();
            sa.sa_sigaction = ignore as extern "C" fn(libc::c_int) as libc::sighandler_t;
            libc::sigaction(sig, &sa, std::ptr::null_mut());
        }
    }
}

/// The status the way a shell reports it: the exit code, or 128+N for signal N.
fn status_code(status: libc::c_int) -> i32 {
    if libc::WIFEXITED(status) {
        libc::WEXITSTATUS(status)
    } else if libc::WIFSIGNALED(status) {
        128 + libc::WTERMSIG(status)
    } else {
        1
    }
}

/// In the child between fork and exec: take back the parent's signal state and run the
/// command. Only async-signal-safe calls (the parent may have had other threads: it has not,
/// but fork rules are kept anyway).
fn exec_child(argv: &[*const libc::c_char], old_mask: &libc::sigset_t) -> ! {
    // SAFETY: only async-signal-safe calls on memory prepared before the fork.
    unsafe {
        for sig in 1..=libc::SIGRTMAX() {
            libc::signal(sig, libc::SIG_DFL);
        }
        // A process group of its own, in the foreground of the terminal if there is one:
        // Ctrl-C and window changes then reach the command once, from the kernel, and not a
        // second time through this process.
        libc::setpgid(0, 0);
        if libc::isatty(0) == 1 {
            libc::signal(libc::SIGTTOU, libc::SIG_IGN);
            libc::tcsetpgrp(0, libc::getpgrp());
            libc::signal(libc::SIGTTOU, libc::SIG_DFL);
        }
        libc::sigprocmask(libc::SIG_SETMASK, old_mask, std::ptr::null_mut());
        libc::execvp(argv[0], argv.as_ptr());
        let errno = *libc::__errno_location();
        let msg: &[u8] = if errno == libc::ENOENT {
            b"berth-init: exec failed: no such file or directory\n"
        } else {
            b"berth-init: exec failed: permission denied or not executable\n"
        };
        libc::write(2, msg.as_ptr().cast(), msg.len());
        libc::_exit(if errno == libc::ENOENT { 127 } else { 126 });
    }
}

fn main() {
    let args = parse(std::env::args_os().skip(1).collect());
    let mut argv: Vec<*const libc::c_char> = args.command.iter().map(|a| a.as_ptr()).collect();
    argv.push(std::ptr::null());

    let set = all_signals();
    // SAFETY: sigset_t is plain data, filled by sigprocmask.
    let mut old_mask: libc::sigset_t = unsafe { std::mem::zeroed() };
    // SAFETY: valid sigset pointers; blocking before the fork means no signal is lost
    // between the fork and the first sigwaitinfo.
    unsafe { libc::sigprocmask(libc::SIG_BLOCK, &set, &mut old_mask) };
    install_handlers();

    // SAFETY: single-threaded; the child only execs (see exec_child).
    let child = unsafe { libc::fork() };
    if child < 0 {
        eprintln!("berth-init: fork: {}", std::io::Error::last_os_error());
        std::process::exit(1);
    }
    if child == 0 {
        exec_child(&argv, &old_mask);
    }

    loop {
        // SAFETY: siginfo_t is plain data that sigwaitinfo fills.
        let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
        // SAFETY: `set` and `info` are valid for the call.
        let sig = unsafe { libc::sigwaitinfo(&set, &mut info) };
        if sig < 0 {
            continue; // EINTR
        }
        if sig != libc::SIGCHLD {
            let to = if args.group { -child } else { child };
            // SAFETY: kill has no memory arguments; a child already gone gives ESRCH.
            unsafe { libc::kill(to, sig) };
            continue;
        }
        if let Some(code) = reap(child) {
            std::process::exit(code);
        }
    }
}

/// Reap every child that has exited; the exit code of `child` if it was among them.
fn reap(child: libc::pid_t) -> Option<i32> {
    let mut code = None;
    loop {
        let mut status = 0;
        // SAFETY: `status` is a valid out pointer.
        let pid = unsafe { libc::waitpid(-1, &mut status, libc::WNOHANG) };
        if pid <= 0 {
            return code;
        }
        if pid == child {
            code = Some(status_code(status));
        }
    }
}
