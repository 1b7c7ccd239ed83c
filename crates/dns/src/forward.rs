//! Requests for names this server does not know, on their way to the upstream resolvers.
//! Each one gets its own UDP socket (a fresh random source port) and a random ID, and is
//! tried on each upstream in turn; the sockets of earlier tries stay open, so a slow
//! answer still counts while the next upstream is being asked.

use std::io;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, UdpSocket};
use std::os::fd::{AsRawFd, RawFd};
use std::time::{Duration, Instant};

use crate::answer;

/// Past this, the client gets SERVFAIL (its own resolver times out at 5 s by default).
const TOTAL: Duration = Duration::from_secs(2);

/// Requests in flight at once; more get SERVFAIL at once rather than more file descriptors.
const MAX_PENDING: usize = 256;

/// Who is waiting for an answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Client {
    Udp(SocketAddr),
    /// A TCP connection, by the server's number for it.
    Tcp(u64),
}

/// A reply ready for its client.
pub struct Done {
    pub client: Client,
    pub reply: Vec<u8>,
}

struct Pending {
    client: Client,
    client_id: u16,
    /// The request as sent upstream (with our ID); replaced by the reply once it came.
    request: Vec<u8>,
    socks: Vec<UdpSocket>,
    /// Upstream asked last (index into `Forwarder::upstreams`).
    tried: usize,
    next_try: Instant,
    deadline: Instant,
}

pub struct Forwarder {
    upstreams: Vec<SocketAddr>,
    pending: Vec<Pending>,
    buf: Vec<u8>,
}

impl Forwarder {
    pub fn new(upstreams: Vec<SocketAddr>) -> Forwarder {
        Forwarder {
            upstreams,
            pending: Vec::new(),
            buf: vec![0; 65535],
        }
    }

    /// Sends `request` upstream; an immediate reply (SERVFAIL) when there is nobody to ask.
    pub fn start(&mut self, client: Client, request: &[u8]) -> Option<Done> {
        if self.upstreams.is_empty() || self.pending.len() >= MAX_PENDING || request.len() < 12 {
            return answer::servfail(request).map(|reply| Done { client, reply });
        }
        let client_id = u16::from_be_bytes([request[0], request[1]]);
        let mut request = request.to_vec();
        request[..2].copy_from_slice(&random_id().to_be_bytes());
        let now = Instant::now();
        let mut pending = Pending {
            client,
            client_id,
            request,
            socks: Vec::new(),
            tried: 0,
            next_try: now,
            deadline: now + TOTAL,
        };
        if !ask(&self.upstreams, &mut pending, 0) {
            return fail(&pending);
        }
        self.pending.push(pending);
        None
    }

    /// Every socket waiting for an upstream answer, for poll(2).
    pub fn fds(&self) -> impl Iterator<Item = RawFd> + '_ {
        self.pending
            .iter()
            .flat_map(|p| p.socks.iter().map(AsRawFd::as_raw_fd))
    }

    /// Reads the sockets poll(2) found ready (`ready` runs parallel to `fds()`), and
    /// returns the requests that got their answer.
    pub fn readable(&mut self, ready: &[bool]) -> Vec<Done> {
        let mut answered = Vec::new();
        let mut ready = ready.iter();
        for (p, pending) in self.pending.iter_mut().enumerate() {
            for s in 0..pending.socks.len() {
                if !ready.next().copied().unwrap_or(false) || answered.last() == Some(&p) {
                    continue;
                }
                match pending.socks[s].recv(&mut self.buf) {
                    Ok(len) => {
                        let reply = &self.buf[..len];
                        // Anything but the answer to our request (ID, QR bit) is ignored.
                        if len >= 12 && reply[..2] == pending.request[..2] && reply[2] & 0x80 != 0 {
                            pending.request = reply.to_vec();
                            answered.push(p);
                        }
                    }
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                    // ICMP unreachable from the upstream asked last: no use waiting for it.
                    Err(_) if s + 1 == pending.socks.len() => pending.next_try = Instant::now(),
                    Err(_) => {}
                }
            }
        }
        // Highest index first, so swap_remove never moves an entry still to be removed.
        let mut done = Vec::new();
        for p in answered.into_iter().rev() {
            let pending = self.pending.swap_remove(p);
            let mut reply = pending.request;
            reply[..2].copy_from_slice(&pending.client_id.to_be_bytes());
            done.push(Done {
                client: pending.client,
                reply,
            });
        }
        done
    }

    /// When `expire` next has something to do.
    pub fn next_deadline(&self) -> Option<Instant> {
        self.pending
            .iter()
            .map(|p| p.next_try.min(p.deadline))
            .min()
    }

    /// Moves on to the next upstream where a try timed out; SERVFAIL where all did.
    pub fn expire(&mut self, now: Instant) -> Vec<Done> {
        let mut done = Vec::new();
        let mut i = 0;
        while i < self.pending.len() {
            let p = &mut self.pending[i];
            let mut finished = now >= p.deadline;
            if !finished && now >= p.next_try {
                finished = !ask(&self.upstreams, p, p.tried + 1);
            }
            if finished {
                done.extend(fail(&self.pending.swap_remove(i)));
            } else {
                i += 1;
            }
        }
        done
    }
}

/// Asks upstreams from index `from` on, until one takes the request; false if none is
/// left and no earlier one can still answer. Each upstream gets an equal share of the time.
fn ask(upstreams: &[SocketAddr], p: &mut Pending, from: usize) -> bool {
    let share = TOTAL / upstreams.len() as u32;
    for (i, upstream) in upstreams.iter().enumerate().skip(from) {
        match send(*upstream, &p.request) {
            Ok(sock) => {
                p.socks.push(sock);
                p.tried = i;
                p.next_try = Instant::now() + share;
                return true;
            }
            Err(e) => eprintln!("berth-dns: asking {upstream}: {e}"),
        }
    }
    p.tried = upstreams.len();
    // Nobody left to ask: the ones already asked may still answer until the deadline.
    p.next_try = p.deadline;
    !p.socks.is_empty() && Instant::now() < p.deadline
}

fn send(upstream: SocketAddr, request: &[u8]) -> io::Result<UdpSocket> {
    let local: SocketAddr = match upstream {
        SocketAddr::V4(_) => (Ipv4Addr::UNSPECIFIED, 0).into(),
        SocketAddr::V6(_) => (Ipv6Addr::UNSPECIFIED, 0).into(),
    };
    let sock = UdpSocket::bind(local)?;
    sock.connect(upstream)?;
    sock.set_nonblocking(true)?;
    sock.send(request)?;
    Ok(sock)
}

fn fail(p: &Pending) -> Option<Done> {
    let mut request = p.request.clone();
    request[..2].copy_from_slice(&p.client_id.to_be_bytes());
    answer::servfail(&request).map(|reply| Done {
        client: p.client,
        reply,
    })
}

/// An ID an off-path attacker cannot guess, so a forged upstream answer is not taken.
fn random_id() -> u16 {
    let mut id = [0u8; 2];
    // SAFETY: getrandom writes at most id.len() bytes into the buffer it is given.
    let n = unsafe { libc::getrandom(id.as_mut_ptr().cast(), id.len(), 0) };
    if n != 2 {
        // Never seen for 2 bytes; the random source port still stands in the way.
        let t = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH);
        return t.map_or(0, |t| t.subsec_nanos() as u16);
    }
    u16::from_be_bytes(id)
}
