//! The poll(2) loop: one thread serves the UDP socket, the TCP listener and its
//! connections, the upstream sockets of forwarded requests, and the signal descriptor.

use std::collections::HashMap;
use std::io;
use std::net::{SocketAddr, TcpListener, UdpSocket};
use std::os::fd::{AsRawFd, RawFd};
use std::time::{Duration, Instant};

use crate::answer::{self, Reply};
use crate::forward::{Client, Done, Forwarder};
use crate::hosts_file::{Gone, HostsFile};
use crate::signals::Signals;
use crate::tcp::Conn;

/// TCP clients served at once; more wait in the listen backlog.
const MAX_CONNS: usize = 64;

/// Datagrams read per wake-up, so a flood on UDP cannot starve TCP and upstream answers.
const UDP_BATCH: usize = 64;

/// While no request comes, the hosts file is still checked this often, so that a removed
/// network's server does not outlive it for long.
const IDLE_CHECK: Duration = Duration::from_secs(1);

/// Why the server stopped (both are clean exits).
#[derive(Debug)]
pub enum Stop {
    Signal,
    HostsRemoved,
}

pub struct Server {
    pub udp: UdpSocket,
    pub tcp: TcpListener,
    pub signals: Signals,
    pub hosts: HostsFile,
    pub forwarder: Forwarder,
    conns: HashMap<u64, Conn>,
    next_conn: u64,
    buf: Vec<u8>,
}

impl Server {
    pub fn new(
        udp: UdpSocket,
        tcp: TcpListener,
        signals: Signals,
        hosts: HostsFile,
        upstreams: Vec<SocketAddr>,
    ) -> io::Result<Server> {
        udp.set_nonblocking(true)?;
        tcp.set_nonblocking(true)?;
        Ok(Server {
            udp,
            tcp,
            signals,
            hosts,
            forwarder: Forwarder::new(upstreams),
            conns: HashMap::new(),
            next_conn: 1,
            buf: vec![0; 65535],
        })
    }

    pub fn run(&mut self) -> io::Result<Stop> {
        let mut fds: Vec<libc::pollfd> = Vec::new();
        let mut conn_ids: Vec<u64> = Vec::new();
        let mut next_hosts_check = Instant::now() + IDLE_CHECK;
        loop {
            fds.clear();
            conn_ids.clear();
            fds.push(pollfd(self.signals.as_raw_fd(), libc::POLLIN));
            fds.push(pollfd(self.udp.as_raw_fd(), libc::POLLIN));
            let listen_events = if self.conns.len() < MAX_CONNS {
                libc::POLLIN
            } else {
                0
            };
            fds.push(pollfd(self.tcp.as_raw_fd(), listen_events));
            for (id, conn) in &self.conns {
                let write = if conn.wants_write() { libc::POLLOUT } else { 0 };
                fds.push(pollfd(conn.stream.as_raw_fd(), libc::POLLIN | write));
                conn_ids.push(*id);
            }
            let forward_base = fds.len();
            fds.extend(self.forwarder.fds().map(|fd| pollfd(fd, libc::POLLIN)));

            let now = Instant::now();
            let mut wake = next_hosts_check;
            if let Some(t) = self.forwarder.next_deadline() {
                wake = wake.min(t);
            }
            if let Some(t) = self
                .conns
                .values()
                .map(|c| c.last_active + crate::tcp::IDLE)
                .min()
            {
                wake = wake.min(t);
            }
            let timeout = wake.saturating_duration_since(now).as_millis().min(60_000) as i32 + 1;
            // SAFETY: `fds` is a valid, initialised array of fds.len() pollfd structs.
            let n = unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, timeout) };
            if n < 0 {
                let e = io::Error::last_os_error();
                if e.kind() == io::ErrorKind::Interrupted {
                    continue;
                }
                return Err(e);
            }

            if fds[0].revents != 0 {
                return Ok(Stop::Signal);
            }
            if let Err(stop) = self.handle(&fds, &conn_ids, forward_base) {
                return Ok(stop);
            }
            let now = Instant::now();
            for done in self.forwarder.expire(now) {
                self.deliver(done);
            }
            if now >= next_hosts_check {
                if self.hosts.check().is_err() {
                    return Ok(Stop::HostsRemoved);
                }
                next_hosts_check = now + IDLE_CHECK;
            }
            self.conns.retain(|_, conn| !conn.finished(now));
        }
    }

    fn handle(
        &mut self,
        fds: &[libc::pollfd],
        conn_ids: &[u64],
        forward_base: usize,
    ) -> Result<(), Stop> {
        if fds[1].revents != 0 {
            self.serve_udp()?;
        }
        if fds[2].revents != 0 {
            self.accept();
        }
        for (id, fd) in conn_ids.iter().zip(&fds[3..]) {
            if fd.revents != 0 {
                self.serve_conn(*id, fd.revents)?;
            }
        }
        let ready: Vec<bool> = fds[forward_base..]
            .iter()
            .map(|fd| fd.revents != 0)
            .collect();
        if ready.contains(&true) {
            for done in self.forwarder.readable(&ready) {
                self.deliver(done);
            }
        }
        Ok(())
    }

    fn serve_udp(&mut self) -> Result<(), Stop> {
        for _ in 0..UDP_BATCH {
            let (len, peer) = match self.udp.recv_from(&mut self.buf) {
                Ok(got) => got,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(_) => break,
            };
            let request = &self.buf[..len];
            let hosts = self.hosts.hosts().map_err(|Gone| Stop::HostsRemoved)?;
            match answer::answer(request, hosts, true) {
                // A full socket buffer drops the reply: the client asks again, as it would
                // after any lost datagram.
                Reply::Answer(reply) => drop(self.udp.send_to(&reply, peer)),
                Reply::Forward => {
                    if let Some(done) = self.forwarder.start(Client::Udp(peer), request) {
                        self.deliver(done);
                    }
                }
                Reply::Drop => {}
            }
        }
        Ok(())
    }

    fn accept(&mut self) {
        while self.conns.len() < MAX_CONNS {
            match self.tcp.accept() {
                Ok((stream, _)) => {
                    if let Ok(conn) = Conn::new(stream) {
                        self.conns.insert(self.next_conn, conn);
                        self.next_conn += 1;
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                // WouldBlock, or a client that gave up before it was accepted.
                Err(_) => break,
            }
        }
    }

    fn serve_conn(&mut self, id: u64, revents: libc::c_short) -> Result<(), Stop> {
        let Some(conn) = self.conns.get_mut(&id) else {
            return Ok(());
        };
        let mut broken = false;
        if revents & !libc::POLLOUT != 0 {
            match conn.read_requests() {
                Ok(requests) => {
                    for request in requests {
                        let hosts = self.hosts.hosts().map_err(|Gone| Stop::HostsRemoved)?;
                        let reply = match answer::answer(&request, hosts, false) {
                            Reply::Answer(reply) => reply,
                            Reply::Forward => match self.forwarder.start(Client::Tcp(id), &request)
                            {
                                Some(done) => done.reply,
                                None => {
                                    conn.in_flight += 1;
                                    continue;
                                }
                            },
                            Reply::Drop => continue,
                        };
                        if conn.send(&reply).is_err() {
                            broken = true;
                            break;
                        }
                    }
                }
                Err(_) => broken = true,
            }
        }
        if !broken && revents & libc::POLLOUT != 0 {
            broken = conn.flush().is_err();
        }
        if broken {
            self.conns.remove(&id);
        }
        Ok(())
    }

    fn deliver(&mut self, done: Done) {
        match done.client {
            Client::Udp(peer) => drop(self.udp.send_to(&done.reply, peer)),
            Client::Tcp(id) => {
                // The connection may be gone: the client hung up while its request was out.
                if let Some(conn) = self.conns.get_mut(&id) {
                    conn.in_flight -= 1;
                    if conn.send(&done.reply).is_err() {
                        self.conns.remove(&id);
                    }
                }
            }
        }
    }
}

fn pollfd(fd: RawFd, events: libc::c_short) -> libc::pollfd {
    libc::pollfd {
        fd,
        events,
        revents: 0,
    }
}
