//! Handing the seccomp notify fd to the agent at `linux.seccomp.listenerPath`.

use std::io::IoSlice;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::path::Path;

use nix::errno::Errno;
use nix::sys::socket::{
    connect, send, sendmsg, socket, AddressFamily, ControlMessage, MsgFlags, SockFlag, SockType,
    UnixAddr,
};
use serde::Serialize;

use crate::error::{Error, Result};

/// Runtime spec version written as `ociVersion` of the container process state.
pub const OCI_VERSION: &str = "1.2.0";

/// Name of the seccomp notify fd in the `fds` list of the container process state.
pub const SECCOMP_FD_NAME: &str = "seccompFd";

/// The "container process state" of config-linux.md#seccomp.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ContainerProcessState<'a> {
    oci_version: &'static str,
    fds: [&'static str; 1],
    pid: i32,
    #[serde(skip_serializing_if = "Option::is_none")]
    metadata: Option<&'a str>,
    state: &'a serde_json::Value,
}

/// Connect to the unix stream socket `listener_path` and send the container process
/// state (`ociVersion`, `fds: ["seccompFd"]`, `pid`, `metadata`, `state`) as JSON with
/// `fd` attached through SCM_RIGHTS, as the runtime spec describes.
///
/// `metadata` is `linux.seccomp.listenerMetadata` (omitted when `None`), `pid` is the
/// container process, `container_state` the container's state object.
pub fn send_notify_fd(
    listener_path: &Path,
    metadata: Option<&str>,
    pid: i32,
    container_state: &serde_json::Value,
    fd: BorrowedFd,
) -> Result<()> {
    let sock = connect_listener(listener_path)?;
    send_notify_fd_on(
        sock.as_fd(),
        listener_path,
        metadata,
        pid,
        container_state,
        fd,
    )
}

fn notify_err<'a>(listener_path: &'a Path, step: &'static str) -> impl Fn(Errno) -> Error + 'a {
    move |source| Error::Notify {
        path: listener_path.to_path_buf(),
        step,
        source,
    }
}

/// Connect (CLOEXEC) to the agent's unix stream socket. A runtime whose container process
/// loads its filter after pivot_root connects early, while `listener_path` (a path of the
/// runtime's mount namespace) is still reachable, and sends later with
/// [`send_notify_fd_on`].
pub fn connect_listener(listener_path: &Path) -> Result<OwnedFd> {
    let addr = UnixAddr::new(listener_path).map_err(notify_err(listener_path, "socket address"))?;
    let sock = socket(
        AddressFamily::Unix,
        SockType::Stream,
        SockFlag::SOCK_CLOEXEC,
        None,
    )
    .map_err(notify_err(listener_path, "socket"))?;
    retry(|| connect(sock.as_raw_fd(), &addr)).map_err(notify_err(listener_path, "connect"))?;
    Ok(sock)
}

/// [`send_notify_fd`] over a socket already connected with [`connect_listener`]
/// (`listener_path` only names it in errors). One state per connection: the caller closes
/// the socket afterwards.
pub fn send_notify_fd_on(
    sock: BorrowedFd,
    listener_path: &Path,
    metadata: Option<&str>,
    pid: i32,
    container_state: &serde_json::Value,
    fd: BorrowedFd,
) -> Result<()> {
    let payload = serde_json::to_vec(&ContainerProcessState {
        oci_version: OCI_VERSION,
        fds: [SECCOMP_FD_NAME],
        pid,
        metadata,
        state: container_state,
    })?;
    let fail = |step| notify_err(listener_path, step);

    // The fd rides on the first bytes; on a stream socket the rest may need more sends.
    let fds = [fd.as_raw_fd()];
    let mut sent = retry(|| {
        sendmsg::<()>(
            sock.as_raw_fd(),
            &[IoSlice::new(&payload)],
            &[ControlMessage::ScmRights(&fds)],
            MsgFlags::MSG_NOSIGNAL,
            None,
        )
    })
    .map_err(fail("sendmsg"))?;
    while sent < payload.len() {
        sent += retry(|| send(sock.as_raw_fd(), &payload[sent..], MsgFlags::MSG_NOSIGNAL))
            .map_err(fail("send"))?;
    }
    Ok(())
}

fn retry<T>(mut f: impl FnMut() -> nix::Result<T>) -> nix::Result<T> {
    loop {
        match f() {
            Err(Errno::EINTR) => continue,
            other => return other,
        }
    }
}
