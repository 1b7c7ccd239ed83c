//! One client's TCP connection: DNS messages framed by a 2-byte length (RFC 1035 4.2.2),
//! several per connection, read and written without blocking.

use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

/// A connection with nothing in flight is closed after this long idle (RFC 7766 suggests
/// seconds, so that idle clients cannot hold every slot).
pub const IDLE: Duration = Duration::from_secs(10);

/// Answers queued for a client that sends but does not read, before it is dropped.
const MAX_UNREAD: usize = 256 * 1024;

pub struct Conn {
    pub stream: TcpStream,
    inbuf: Vec<u8>,
    outbuf: Vec<u8>,
    /// Requests of this connection waiting for an upstream.
    pub in_flight: usize,
    eof: bool,
    pub last_active: Instant,
}

impl Conn {
    pub fn new(stream: TcpStream) -> io::Result<Conn> {
        stream.set_nonblocking(true)?;
        Ok(Conn {
            stream,
            inbuf: Vec::new(),
            outbuf: Vec::new(),
            in_flight: 0,
            eof: false,
            last_active: Instant::now(),
        })
    }

    /// Reads what has arrived and returns the complete requests in it.
    pub fn read_requests(&mut self) -> io::Result<Vec<Vec<u8>>> {
        let mut chunk = [0u8; 4096];
        loop {
            match self.stream.read(&mut chunk) {
                Ok(0) => {
                    self.eof = true;
                    break;
                }
                Ok(n) => self.inbuf.extend_from_slice(&chunk[..n]),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
        }
        self.last_active = Instant::now();
        let mut requests = Vec::new();
        while let [hi, lo, ..] = self.inbuf[..] {
            let len = usize::from(u16::from_be_bytes([hi, lo]));
            if self.inbuf.len() < 2 + len {
                break;
            }
            requests.push(self.inbuf[2..2 + len].to_vec());
            self.inbuf.drain(..2 + len);
        }
        Ok(requests)
    }

    /// Queues a reply and writes what the socket takes now.
    pub fn send(&mut self, reply: &[u8]) -> io::Result<()> {
        let Ok(len) = u16::try_from(reply.len()) else {
            return Ok(()); // cannot be framed; an upstream UDP reply never gets here
        };
        if self.outbuf.len() > MAX_UNREAD {
            return Err(io::Error::other("client does not read its answers"));
        }
        self.outbuf.extend_from_slice(&len.to_be_bytes());
        self.outbuf.extend_from_slice(reply);
        self.flush()
    }

    pub fn flush(&mut self) -> io::Result<()> {
        while !self.outbuf.is_empty() {
            match self.stream.write(&self.outbuf) {
                Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                Ok(n) => {
                    self.outbuf.drain(..n);
                    self.last_active = Instant::now();
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    pub fn wants_write(&self) -> bool {
        !self.outbuf.is_empty()
    }

    /// Whether the connection has nothing more to do: the client hung up (or went idle) and
    /// every answer it is owed has been written.
    pub fn finished(&self, now: Instant) -> bool {
        let idle = now.duration_since(self.last_active) >= IDLE;
        self.in_flight == 0 && (self.eof && self.outbuf.is_empty() || idle)
    }
}
