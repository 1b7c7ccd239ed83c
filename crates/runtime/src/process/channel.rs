//! The parent <-> child protocol of container creation and exec: named messages over a
//! SOCK_SEQPACKET pair, so no step is ever inferred from timing.

use crate::error::{Error, Result};
use nix::sys::socket::{socketpair, AddressFamily, SockFlag, SockType};
use serde::{Deserialize, Serialize};
use std::io::{Read, Write};
use std::os::fd::OwnedFd;
use std::os::unix::net::UnixStream;

#[derive(Debug, Serialize, Deserialize, PartialEq)]
pub enum Msg {
    /// Parent -> child: the step the child waits for is done, go on.
    Continue,
    /// Child -> parent: I made my user namespace; write my uid/gid maps.
    MapIds,
    /// Child -> parent: the host pid of the container process I forked.
    Pid(i32),
    /// Child -> parent: namespaces are up; run prestart/createRuntime hooks now.
    RunRuntimeHooks,
    /// Child -> parent: everything is set up, I wait for `start`.
    Ready,
    /// Child -> parent: a step failed; the text is the whole error line.
    Error(String),
}

pub struct Channel(UnixStream);

pub fn pair() -> Result<(Channel, Channel)> {
    let (a, b) = socketpair(
        AddressFamily::Unix,
        SockType::SeqPacket,
        None,
        SockFlag::SOCK_CLOEXEC,
    )
    .map_err(|e| Error::sys("socketpair", e))?;
    Ok((Channel::from(a), Channel::from(b)))
}

impl From<OwnedFd> for Channel {
    fn from(fd: OwnedFd) -> Self {
        Channel(UnixStream::from(fd))
    }
}

impl Channel {
    pub fn send(&mut self, m: &Msg) -> Result<()> {
        let buf =
            serde_json::to_vec(m).map_err(|e| Error::State(format!("encode message: {e}")))?;
        self.0
            .write_all(&buf)
            .map_err(|e| Error::io("send to", "container process", e))
    }

    /// Receive one message; `None` when the peer closed (exited or exec'd).
    pub fn recv(&mut self) -> Result<Option<Msg>> {
        let mut buf = [0u8; 4096];
        let n = loop {
            match self.0.read(&mut buf) {
                Ok(n) => break n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(Error::io("receive from", "container process", e)),
            }
        };
        if n == 0 {
            return Ok(None);
        }
        serde_json::from_slice(&buf[..n])
            .map(Some)
            .map_err(|e| Error::State(format!("decode message: {e}")))
    }

    /// Receive and require a specific message, turning a child's Error into ours.
    pub fn expect(&mut self, want: Msg) -> Result<()> {
        match self.recv()? {
            Some(m) if m == want => Ok(()),
            Some(Msg::Error(e)) => Err(Error::Child(e)),
            Some(m) => Err(Error::State(format!(
                "protocol: expected {want:?}, got {m:?}"
            ))),
            None => Err(Error::Child(format!(
                "container process exited before {want:?}"
            ))),
        }
    }

    /// The error a child already reported, if any, without waiting: used when talking to it
    /// failed because it died first, so the user sees its reason rather than EPIPE.
    pub fn pending_error(&mut self) -> Option<Error> {
        self.0.set_nonblocking(true).ok()?;
        let r = self.recv();
        let _ = self.0.set_nonblocking(false);
        match r {
            Ok(Some(Msg::Error(e))) => Some(Error::Child(e)),
            _ => None,
        }
    }

    pub fn fd(&self) -> std::os::fd::BorrowedFd<'_> {
        use std::os::fd::AsFd;
        self.0.as_fd()
    }
}
