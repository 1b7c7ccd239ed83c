//! Clients of `monitor.sock`, speaking `berth_monitor_proto`: one request line (attach,
//! wait or resize), then output frames and raw stdin bytes for an attach, one answer line
//! for a wait or a resize.

use berth_monitor_proto::{frame, Request, WaitAnswer, MAX_REQUEST};
use std::io::{ErrorKind, Read, Write};
use std::os::unix::net::UnixStream;

/// Past this much unsent output the client is too slow and is dropped, so that one stuck
/// client cannot grow the monitor without bound. The monitor stops reading the container's
/// output long before (see [`Client::behind`]), so only a bug reaches it.
const MAX_BACKLOG: usize = 4 << 20;

/// Past this much unsent output the monitor reads no more of the container's output until
/// the client has taken it: the container then blocks on its pipes, as it does behind a slow
/// attached docker client, and no byte is dropped.
const HIGH_WATER: usize = 256 << 10;

pub enum Kind {
    /// The request line has not arrived yet.
    Request,
    Attach {
        stdin: bool,
        stdout: bool,
        stderr: bool,
    },
    Wait,
    /// Done at once: the monitor applies it and answers.
    Resize {
        rows: u16,
        cols: u16,
    },
}

pub struct Client {
    pub sock: UnixStream,
    pub kind: Kind,
    inbuf: Vec<u8>,
    out: Vec<u8>,
    /// Close once `out` is sent.
    closing: bool,
    /// The client half-closed its side.
    pub read_eof: bool,
    pub dead: bool,
}

/// What a read from a client produced.
pub enum Input {
    Nothing,
    /// Bytes for the container's stdin.
    Stdin(Vec<u8>),
    /// The client will send no more: close the container's stdin.
    StdinEof,
}

impl Client {
    pub fn new(sock: UnixStream) -> Self {
        let _ = sock.set_nonblocking(true);
        Client {
            sock,
            kind: Kind::Request,
            inbuf: Vec::new(),
            out: Vec::new(),
            closing: false,
            read_eof: false,
            dead: false,
        }
    }

    pub fn wants_output(&self, stream: u8) -> bool {
        match self.kind {
            Kind::Attach { stdout, stderr, .. } => {
                !self.closing
                    && ((stream == frame::STDOUT && stdout) || (stream == frame::STDERR && stderr))
            }
            _ => false,
        }
    }

    pub fn wants_read(&self) -> bool {
        !self.dead && !self.read_eof
    }

    pub fn wants_write(&self) -> bool {
        !self.dead && !self.out.is_empty()
    }

    /// A client with [`HIGH_WATER`] bytes or more of output it has not taken yet.
    pub fn behind(&self) -> bool {
        !self.dead && self.out.len() >= HIGH_WATER
    }

    pub fn finished(&self) -> bool {
        self.dead || (self.closing && self.out.is_empty())
    }

    pub fn frame(&mut self, stream: u8, bytes: &[u8]) {
        self.out
            .extend_from_slice(&frame::head(stream, bytes.len()));
        self.out.extend_from_slice(bytes);
        if self.out.len() > MAX_BACKLOG {
            self.dead = true;
        }
    }

    /// The container exited with `code`: tell the client if it asked for that, then close.
    pub fn exited(&mut self, code: i32) {
        match self.kind {
            Kind::Attach { .. } => self.frame(frame::EXIT, &frame::exit_body(code)),
            Kind::Wait => self
                .out
                .extend_from_slice(&WaitAnswer { exit_code: code }.line()),
            Kind::Request | Kind::Resize { .. } => {}
        }
        self.closing = true;
    }

    /// A client [`Client::exited`] told of the exit (sent, or queued behind its output).
    pub fn told_of_exit(&self) -> bool {
        matches!(self.kind, Kind::Wait | Kind::Attach { .. }) && !self.dead && self.closing
    }

    /// Answers a finished one-shot request and closes after it.
    pub fn answer(&mut self, text: &str) {
        self.out.extend_from_slice(text.as_bytes());
        self.closing = true;
        self.flush();
    }

    pub fn flush(&mut self) {
        while !self.out.is_empty() && !self.dead {
            match self.sock.write(&self.out) {
                Ok(0) => self.dead = true,
                Ok(n) => {
                    self.out.drain(..n);
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(_) => self.dead = true,
            }
        }
    }

    /// Reads what the client sent. `stdin_open` says whether the container still has a stdin
    /// to write to; when it does not, stdin bytes are read and dropped.
    pub fn read(&mut self) -> Input {
        let mut buf = [0u8; 16 << 10];
        let n = match self.sock.read(&mut buf) {
            Ok(n) => n,
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::Interrupted) => {
                return Input::Nothing
            }
            Err(_) => {
                self.dead = true;
                return Input::Nothing;
            }
        };
        if n == 0 {
            self.read_eof = true;
            return match self.kind {
                Kind::Attach { stdin: true, .. } => Input::StdinEof,
                // A client that asked for nothing more than output is gone.
                Kind::Attach { .. } | Kind::Request => {
                    self.dead = true;
                    Input::Nothing
                }
                Kind::Wait | Kind::Resize { .. } => Input::Nothing,
            };
        }
        match self.kind {
            Kind::Request => {
                self.inbuf.extend_from_slice(&buf[..n]);
                self.parse_request()
            }
            Kind::Attach { stdin: true, .. } => Input::Stdin(buf[..n].to_vec()),
            _ => Input::Nothing,
        }
    }

    fn parse_request(&mut self) -> Input {
        let Some(end) = self.inbuf.iter().position(|&b| b == b'\n') else {
            if self.inbuf.len() > MAX_REQUEST {
                self.dead = true;
            }
            return Input::Nothing;
        };
        let rest = self.inbuf.split_off(end + 1);
        let request = Request::parse(&self.inbuf[..end]);
        self.inbuf = Vec::new();
        match request {
            Some(Request::Attach(a)) => {
                self.kind = Kind::Attach {
                    stdin: a.stdin,
                    stdout: a.stdout,
                    stderr: a.stderr,
                };
                if a.stdin && !rest.is_empty() {
                    return Input::Stdin(rest);
                }
            }
            Some(Request::Wait {}) => self.kind = Kind::Wait,
            Some(Request::Resize { rows, cols }) => self.kind = Kind::Resize { rows, cols },
            None => self.dead = true,
        }
        Input::Nothing
    }
}

impl Drop for Client {
    /// The peer sees the end of the connection now, even while the monitor keeps a copy of
    /// the socket to see it hang up (an `--rm` removal waits for that).
    fn drop(&mut self) {
        let _ = self.sock.shutdown(std::net::Shutdown::Write);
    }
}
