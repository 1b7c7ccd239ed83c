//! The client side of a container monitor's `monitor.sock` (docs/engine-design.md): attach
//! to the container's stdio, or wait for its exit. When the monitor is gone, `exit.json` (its
//! last word) answers `wait`.

use crate::error::{Error, Result};
use std::io::{Read, Write};
use std::os::fd::AsRawFd;
use std::os::unix::net::UnixStream;
use std::path::Path;

use berth_monitor_proto::{frame, Request, WaitAnswer, EXIT_FILE, RESIZED};
pub use berth_monitor_proto::{ExitRecord, Streams, SOCKET};

/// `exit.json` of the container dir `dir`, if the container's last run has ended.
pub fn exit_record(dir: &Path) -> Result<Option<ExitRecord>> {
    let path = dir.join(EXIT_FILE);
    match std::fs::read(&path) {
        Ok(bytes) => serde_json::from_slice(&bytes).map(Some).map_err(|e| {
            Error::io(
                "read",
                &path,
                std::io::Error::new(std::io::ErrorKind::InvalidData, e),
            )
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(Error::io("read", path, e)),
    }
}

/// Attaches to the container's stdout and stderr (and stdin when given: its end closes the
/// container's stdin) and copies them until the container exits; returns its exit status.
/// The thread copying `stdin` is left behind when the container ends first (it may be
/// blocked on a terminal); it ends with the process.
pub fn attach(
    dir: &Path,
    stdin: Option<impl Read + Send + 'static>,
    stdout: &mut dyn Write,
    stderr: &mut dyn Write,
) -> Result<i32> {
    let streams = Streams {
        stdin: stdin.is_some(),
        stdout: true,
        stderr: true,
    };
    attach_streams(dir, streams, stdin, stdout, stderr)
}

/// [`attach`] with a choice of streams (`docker attach --no-stdin`, `start -a` without -i).
pub fn attach_streams(
    dir: &Path,
    streams: Streams,
    stdin: Option<impl Read + Send + 'static>,
    stdout: &mut dyn Write,
    stderr: &mut dyn Write,
) -> Result<i32> {
    match attach_frames(dir, streams, stdin, stdout, stderr)?.0 {
        AttachEnd::Exited(code) => Ok(code),
        // The monitor went away without a word: its exit.json may still tell.
        AttachEnd::Lost | AttachEnd::OutputFailed(_) => {
            exit_record(dir)?.map(|r| r.exit_code).ok_or_else(|| {
                Error::Conflict(format!(
                    "the container's monitor ended without an exit status ({})",
                    dir.display()
                ))
            })
        }
    }
}

/// How an attach connection ended.
#[derive(Debug)]
pub enum AttachEnd {
    /// The monitor's exit frame: the container's status.
    Exited(i32),
    /// The connection ended without an exit frame (the monitor was killed or dropped us).
    Lost,
    /// Our own output could not take the container's (a closed pipe): the copy stopped, the
    /// container may still run.
    OutputFailed(std::io::Error),
}

/// [`attach_streams`] without a fallback for the status: the bytes of each stream copied
/// as they come, until the exit frame or the end of the connection. The connection comes
/// back with the end: an `--rm` monitor removes the container itself once its attached
/// clients hang up, so a client that removes it keeps the connection until it has.
pub fn attach_frames(
    dir: &Path,
    streams: Streams,
    stdin: Option<impl Read + Send + 'static>,
    stdout: &mut dyn Write,
    stderr: &mut dyn Write,
) -> Result<(AttachEnd, UnixStream)> {
    let streams = Streams {
        stdin: streams.stdin && stdin.is_some(),
        ..streams
    };
    let mut sock = open_attach(dir, streams)?;
    if let (true, Some(mut input)) = (streams.stdin, stdin) {
        let mut to_monitor = sock
            .try_clone()
            .map_err(|e| Error::io("attach to", dir.join(SOCKET), e))?;
        std::thread::spawn(move || {
            // Errors end the copy: the monitor is gone or the container exited.
            let _ = std::io::copy(&mut input, &mut to_monitor);
            let _ = to_monitor.shutdown(std::net::Shutdown::Write);
        });
    }
    let end = match read_frames(&mut sock, stdout, stderr) {
        Ok(Some(code)) => AttachEnd::Exited(code),
        Ok(None) => AttachEnd::Lost,
        Err(e) => AttachEnd::OutputFailed(e),
    };
    Ok((end, sock))
}

/// Opens an attach connection and sends the request; the caller copies stdin into the
/// socket and reads the frames with [`read_frames`] (a terminal's client, which must watch
/// its input for the detach keys).
pub fn open_attach(dir: &Path, streams: Streams) -> Result<UnixStream> {
    let gone =
        || Error::Conflict("You cannot attach to a stopped container, start it first".into());
    let mut sock = connect(dir)?.ok_or_else(gone)?;
    match sock.write_all(&Request::Attach(streams).line()) {
        Ok(()) => Ok(sock),
        // The monitor died between the connect and the request: as if nobody listened.
        Err(e)
            if matches!(
                e.kind(),
                std::io::ErrorKind::BrokenPipe | std::io::ErrorKind::ConnectionReset
            ) =>
        {
            Err(gone())
        }
        Err(e) => Err(Error::io("attach to", dir.join(SOCKET), e)),
    }
}

/// Copies frames until the exit frame (`Some(status)`) or the end of the connection (`None`).
/// An error is a failed write to `stdout` or `stderr` (a read error from the monitor ends the
/// copy as the end of the connection would, the caller then looks for the status elsewhere).
pub fn read_frames(
    sock: &mut UnixStream,
    stdout: &mut dyn Write,
    stderr: &mut dyn Write,
) -> std::io::Result<Option<i32>> {
    let mut head = [0u8; frame::HEAD];
    let mut body = Vec::new();
    loop {
        if sock.read_exact(&mut head).is_err() {
            return Ok(None);
        }
        let (stream, len) = frame::parse_head(&head);
        body.resize(len, 0);
        if sock.read_exact(&mut body).is_err() {
            return Ok(None);
        }
        match stream {
            frame::STDOUT => {
                stdout.write_all(&body)?;
                stdout.flush()?;
            }
            frame::STDERR => {
                stderr.write_all(&body)?;
                stderr.flush()?;
            }
            // Not the monitor's protocol: whatever follows cannot be trusted either.
            frame::EXIT => return Ok(frame::exit_code(&body)),
            _ => return Ok(None),
        }
    }
}

/// Waits for the container to exit and returns its status: from the monitor, or from
/// `exit.json` when the monitor has already ended.
pub fn wait(dir: &Path) -> Result<i32> {
    if let Some(mut sock) = connect(dir)? {
        let asked = sock.write_all(&Request::Wait {}.line());
        let mut answer = Vec::new();
        if asked.is_ok() && sock.read_to_end(&mut answer).is_ok() {
            if let Some(w) = WaitAnswer::parse(&answer) {
                return Ok(w.exit_code);
            }
        }
    }
    exit_record(dir)?.map(|r| r.exit_code).ok_or_else(|| {
        Error::Conflict(format!(
            "the container has no monitor and no recorded exit ({})",
            dir.display()
        ))
    })
}

/// [`wait`] that gives up (None) as soon as `wanted` says so, checked every 200 ms: an API
/// client that went away must not leave a thread waiting for a container that may run for
/// months.
pub fn wait_while(dir: &Path, wanted: &dyn Fn() -> bool) -> Result<Option<i32>> {
    if let Some(mut sock) = connect(dir)? {
        let asked = sock.write_all(&Request::Wait {}.line());
        let _ = sock.set_read_timeout(Some(std::time::Duration::from_millis(200)));
        let mut answer = Vec::new();
        let mut buf = [0u8; 256];
        while asked.is_ok() {
            match sock.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => answer.extend_from_slice(&buf[..n]),
                Err(e)
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::WouldBlock
                            | std::io::ErrorKind::TimedOut
                            | std::io::ErrorKind::Interrupted
                    ) =>
                {
                    if !wanted() {
                        return Ok(None);
                    }
                }
                Err(_) => break,
            }
        }
        if let Some(w) = WaitAnswer::parse(&answer) {
            return Ok(Some(w.exit_code));
        }
    }
    exit_record(dir)?.map(|r| Some(r.exit_code)).ok_or_else(|| {
        Error::Conflict(format!(
            "the container has no monitor and no recorded exit ({})",
            dir.display()
        ))
    })
}

/// Sets the window size of the container's terminal (`-t`: its output is a pty the monitor
/// holds), as a terminal's SIGWINCH asks.
pub fn resize(dir: &Path, rows: u16, cols: u16) -> Result<()> {
    let mut sock =
        connect(dir)?.ok_or_else(|| Error::Conflict("the container is not running".into()))?;
    let io = |e| Error::io("resize through", dir.join(SOCKET), e);
    sock.write_all(&Request::Resize { rows, cols }.line())
        .map_err(io)?;
    let mut answer = String::new();
    sock.read_to_string(&mut answer).map_err(io)?;
    if answer == RESIZED {
        Ok(())
    } else {
        Err(Error::Conflict(format!(
            "the container has no terminal to resize ({})",
            answer.trim()
        )))
    }
}

/// Connects to `dir/monitor.sock`; `None` when nobody listens there. The path goes through
/// `/proc/self/fd` so that a long data root still fits a socket address (108 bytes).
pub fn connect(dir: &Path) -> Result<Option<UnixStream>> {
    let handle = match std::fs::File::open(dir) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(Error::io("open", dir, e)),
    };
    let path = format!("/proc/self/fd/{}/{SOCKET}", handle.as_raw_fd());
    match UnixStream::connect(path) {
        Ok(s) => Ok(Some(s)),
        Err(e)
            if matches!(
                e.kind(),
                std::io::ErrorKind::NotFound | std::io::ErrorKind::ConnectionRefused
            ) =>
        {
            Ok(None)
        }
        Err(e) => Err(Error::io("connect to", dir.join(SOCKET), e)),
    }
}
