//! The processes a container is made of, and how they are born.
//!
//! `create`: the runtime (parent) clones **stage 1**, which joins namespaces given by path,
//! unshares a user namespace (the parent writes its id maps), unshares the rest and clones
//! the **init** with CLONE_PARENT, so the init is the runtime's own child and pid 1 of a new
//! pid namespace. The init builds the root, reports Ready and blocks on the start fifo;
//! `start` releases it and it execs the user process. `exec` reuses stage 1 to join the
//! init's namespaces. Every step is a [`channel::Msg`].

pub mod attrs;
pub mod channel;
pub mod console;
pub mod exec;
pub mod finalize;
pub mod identity;
pub mod init;
pub mod namespaces;

use crate::error::{Error, Result};
use channel::{Channel, Msg};
use std::convert::Infallible;

pub enum Forked {
    Parent(i32),
    Child,
}

/// fork(2)-like clone with extra flags (CLONE_NEW*, CLONE_PARENT). The child is a copy of
/// the calling thread only: it first closes the fds of the caller's other threads (see
/// `init::close_inherited`). A raw clone runs no atfork handlers, so a lock another thread
/// held at that instant stays taken in the child; glibc's malloc gives each thread its own
/// arena, which keeps the allocator usable here, but a threaded caller should not hold
/// process-wide locks (stdio) across a create.
pub fn clone(flags: libc::c_ulong) -> Result<Forked> {
    // SAFETY: a raw clone without CLONE_VM and without a new stack behaves like fork: the
    // child gets a copy of our address space and continues here with return value 0.
    let r = unsafe {
        libc::syscall(
            libc::SYS_clone,
            flags | libc::SIGCHLD as libc::c_ulong,
            0usize,
            0usize,
            0usize,
            0usize,
        )
    };
    match r {
        -1 => Err(Error::Sys {
            what: "clone".into(),
            source: nix::Error::last(),
        }),
        0 => Ok(Forked::Child),
        pid => Ok(Forked::Parent(pid as i32)),
    }
}

/// Run a child's body; any error is sent to the parent as one line, then the child exits.
pub fn child_main(chan: &mut Channel, body: impl FnOnce(&mut Channel) -> Result<Infallible>) -> ! {
    let Err(e) = body(chan);
    let _ = chan.send(&Msg::Error(e.to_string()));
    // SAFETY: _exit never returns; skipping atexit handlers is what a forked child wants.
    unsafe { libc::_exit(1) }
}

pub fn exit_now(code: i32) -> ! {
    // SAFETY: as above.
    unsafe { libc::_exit(code) }
}
