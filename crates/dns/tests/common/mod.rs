//! A real `berth-dns` on 127.0.0.1 with a free port, and a tiny DNS client to ask it.

#![allow(dead_code)] // each test file uses its own part of this

use std::fs;
use std::io::{Read, Write};
use std::net::{IpAddr, Ipv4Addr, SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::thread::sleep;
use std::time::{Duration, Instant};

use hickory_proto::op::{Message, MessageType, OpCode, Query};
use hickory_proto::rr::{Name, RData, RecordType};

/// Long enough for the server's own 2 s forwarding limit to show.
const CLIENT_TIMEOUT: Duration = Duration::from_secs(6);

pub struct Dns {
    child: Child,
    pub addr: SocketAddr,
    pub hosts: PathBuf,
    pub pid_file: PathBuf,
    _dir: tempfile::TempDir,
}

impl Dns {
    pub fn start(hosts: &str, upstreams: &[SocketAddr]) -> Dns {
        let dir = tempfile::tempdir().unwrap();
        let hosts_path = dir.path().join("net.hosts");
        fs::write(&hosts_path, hosts).unwrap();
        let pid_file = dir.path().join("net.pid");
        // The port is free when picked but could be taken before the server binds it: try
        // again with another.
        for _ in 0..10 {
            let addr = free_port();
            let mut cmd = Command::new(env!("CARGO_BIN_EXE_berth-dns"));
            cmd.arg("--listen").arg(addr.to_string());
            cmd.arg("--hosts").arg(&hosts_path);
            cmd.arg("--pid-file").arg(&pid_file);
            for upstream in upstreams {
                cmd.arg("--upstream").arg(upstream.to_string());
            }
            let mut child = cmd.stderr(Stdio::piped()).spawn().unwrap();
            let deadline = Instant::now() + Duration::from_secs(10);
            loop {
                if pid_file.exists() {
                    return Dns {
                        child,
                        addr,
                        hosts: hosts_path,
                        pid_file,
                        _dir: dir,
                    };
                }
                if let Some(status) = child.try_wait().unwrap() {
                    let mut err = String::new();
                    child
                        .stderr
                        .take()
                        .unwrap()
                        .read_to_string(&mut err)
                        .unwrap();
                    assert!(
                        err.contains("listening on"),
                        "berth-dns exited ({status}): {err}"
                    );
                    break;
                }
                assert!(Instant::now() < deadline, "berth-dns wrote no pid file");
                sleep(Duration::from_millis(5));
            }
        }
        panic!("no free port for berth-dns");
    }

    pub fn pid(&self) -> i32 {
        self.child.id() as i32
    }

    /// Replaces the hosts file as the engine does: a new file renamed over the old one.
    pub fn rewrite_hosts(&self, text: &str) {
        let tmp = self.hosts.with_extension("tmp");
        fs::write(&tmp, text).unwrap();
        fs::rename(&tmp, &self.hosts).unwrap();
    }

    pub fn terminate(&mut self) -> ExitStatus {
        // SAFETY: kill(2) on the pid of our own child, which has not been reaped yet.
        unsafe { libc::kill(self.pid(), libc::SIGTERM) };
        self.child.wait().unwrap()
    }

    /// Waits (up to 10 s) for the server to exit on its own.
    pub fn wait_exit(&mut self) -> Option<ExitStatus> {
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Some(status) = self.child.try_wait().unwrap() {
                return Some(status);
            }
            sleep(Duration::from_millis(20));
        }
        None
    }
}

impl Drop for Dns {
    fn drop(&mut self) {
        if self.child.try_wait().ok().flatten().is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// A port free on both UDP and TCP at 127.0.0.1.
pub fn free_port() -> SocketAddr {
    loop {
        let udp = UdpSocket::bind("127.0.0.1:0").unwrap();
        let addr = udp.local_addr().unwrap();
        if TcpListener::bind(addr).is_ok() {
            return addr;
        }
    }
}

pub fn query(name: &str, rtype: RecordType) -> Message {
    let mut msg = Message::new(rand_id(), MessageType::Query, OpCode::Query);
    msg.metadata.recursion_desired = true;
    // On the wire every name is absolute: make it so here, to compare with the echo.
    let mut name = Name::from_ascii(name).unwrap();
    name.set_fqdn(true);
    msg.queries.push(Query::query(name, rtype));
    msg
}

fn rand_id() -> u16 {
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap();
    (t.subsec_nanos() >> 8) as u16
}

pub fn udp(server: SocketAddr, msg: &Message) -> Message {
    let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
    sock.set_read_timeout(Some(CLIENT_TIMEOUT)).unwrap();
    sock.send_to(&msg.to_vec().unwrap(), server).unwrap();
    let mut buf = vec![0; 65535];
    let (len, from) = sock.recv_from(&mut buf).expect("no UDP answer");
    assert_eq!(from, server);
    checked_reply(msg, &buf[..len])
}

pub fn tcp(server: SocketAddr, msg: &Message) -> Message {
    let mut stream = TcpStream::connect(server).unwrap();
    stream.set_read_timeout(Some(CLIENT_TIMEOUT)).unwrap();
    let bytes = msg.to_vec().unwrap();
    let mut framed = (bytes.len() as u16).to_be_bytes().to_vec();
    framed.extend_from_slice(&bytes);
    stream.write_all(&framed).unwrap();
    let mut len = [0u8; 2];
    stream.read_exact(&mut len).expect("no TCP answer");
    let mut buf = vec![0; usize::from(u16::from_be_bytes(len))];
    stream.read_exact(&mut buf).unwrap();
    checked_reply(msg, &buf)
}

fn checked_reply(msg: &Message, bytes: &[u8]) -> Message {
    let reply = Message::from_vec(bytes).unwrap();
    assert_eq!(
        reply.metadata.id, msg.metadata.id,
        "reply to another request"
    );
    assert_eq!(reply.metadata.message_type, MessageType::Response);
    assert_eq!(reply.queries, msg.queries, "reply echoes another question");
    reply
}

/// The addresses in a reply's A and AAAA answers, in order.
pub fn addresses(reply: &Message) -> Vec<IpAddr> {
    reply
        .answers
        .iter()
        .filter_map(|r| match &r.data {
            RData::A(a) => Some(IpAddr::V4(a.0)),
            RData::AAAA(a) => Some(IpAddr::V6(a.0)),
            _ => None,
        })
        .collect()
}

pub fn v4(s: &str) -> IpAddr {
    IpAddr::V4(s.parse::<Ipv4Addr>().unwrap())
}
