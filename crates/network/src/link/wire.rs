//! The transport under [`super::Netlink`]: one blocking NETLINK_ROUTE socket, requests sent
//! with NLM_F_ACK (several in one datagram where the caller batches them), replies matched by
//! sequence number, and kernel refusals turned into [`Error::Netlink`] with the errno text and
//! the kernel's extended-ack message when it gives one.

use netlink_packet_core::{
    NetlinkBuffer, NetlinkHeader, NetlinkMessage, NetlinkPayload, NlasIterator, NLM_F_ACK,
    NLM_F_ACK_TLVS, NLM_F_CAPPED, NLM_F_DUMP, NLM_F_DUMP_INTR, NLM_F_REQUEST,
};
use netlink_packet_route::RouteNetlinkMessage;
use netlink_sys::{protocols::NETLINK_ROUTE, Socket, SocketAddr};
use nix::errno::Errno;

use crate::error::{Error, Result};

/// Large enough for one datagram of a dump (the kernel fills at most 32 KiB per recv).
const RECV_BUF: usize = 64 * 1024;
/// `struct nlmsghdr`, which is all of the request an error echoes back under NETLINK_CAP_ACK.
const NLMSGHDR_LEN: usize = 16;
/// Reads of a dump before taking an interrupted one as it is.
const DUMP_TRIES: u32 = 5;
/// NLMSGERR_ATTR_MSG: the kernel's human-readable reason (extended ack).
const NLMSGERR_ATTR_MSG: u16 = 1;

pub(super) struct Wire {
    sock: Socket,
    seq: u32,
    buf: Vec<u8>,
}

/// A refusal from the kernel: the errno and the extended-ack text, if any.
pub(super) struct Refusal {
    pub errno: Errno,
    pub msg: Option<String>,
}

impl Refusal {
    pub fn into_error(self, what: impl Into<String>) -> Error {
        let mut why = self.errno.desc().to_string();
        if let Some(msg) = self.msg {
            why = format!("{why} ({msg})");
        }
        Error::Netlink {
            what: what.into(),
            why,
        }
    }
}

impl Wire {
    pub fn open() -> Result<Wire> {
        let io = |e| Error::io("open", "netlink route socket", e);
        let mut sock = Socket::new(NETLINK_ROUTE).map_err(io)?;
        sock.bind_auto().map_err(io)?;
        sock.connect(&SocketAddr::new(0, 0)).map_err(io)?;
        // Best effort: older kernels lack them, and they only improve error texts.
        let _ = sock.set_ext_ack(true);
        let _ = sock.set_cap_ack(true);
        Ok(Wire {
            sock,
            seq: 0,
            buf: Vec::with_capacity(RECV_BUF),
        })
    }

    /// Sends every request in one datagram and waits for each ack. Returns the first refusal
    /// with the index of the request it answers.
    pub fn batch(
        &mut self,
        reqs: Vec<(RouteNetlinkMessage, u16)>,
    ) -> Result<std::result::Result<(), (usize, Refusal)>> {
        let first = self.seq.wrapping_add(1);
        let mut out = Vec::new();
        for (msg, flags) in reqs.into_iter() {
            self.encode(&mut out, msg, flags | NLM_F_ACK);
        }
        let count = self.seq.wrapping_sub(first).wrapping_add(1);
        self.send(&out)?;
        let mut acked = 0;
        let mut refused = None;
        while acked < count {
            self.recv_each(|seq, flags, payload| {
                let index = seq.wrapping_sub(first);
                if index >= count {
                    return Ok(false);
                }
                if let NetlinkPayload::Error(e) = payload {
                    acked += 1;
                    if e.code.is_some() && refused.is_none() {
                        refused = Some((index as usize, refusal(flags, &e)));
                    }
                }
                Ok(false)
            })?;
        }
        Ok(match refused {
            Some(r) => Err(r),
            None => Ok(()),
        })
    }

    /// One request that the kernel answers with one message (or a refusal).
    pub fn get(
        &mut self,
        msg: RouteNetlinkMessage,
    ) -> Result<std::result::Result<RouteNetlinkMessage, Refusal>> {
        let mut out = Vec::new();
        self.encode(&mut out, msg, 0);
        let want = self.seq;
        self.send(&out)?;
        let mut answer = None;
        while answer.is_none() {
            self.recv_each(|seq, flags, payload| {
                if seq != want {
                    return Ok(false);
                }
                answer = match payload {
                    NetlinkPayload::InnerMessage(m) => Some(Ok(m)),
                    NetlinkPayload::Error(e) if e.code.is_some() => Some(Err(refusal(flags, &e))),
                    _ => None,
                };
                Ok(answer.is_some())
            })?;
        }
        Ok(answer.expect("loop ends on an answer"))
    }

    /// A dump request: every message until NLMSG_DONE. A dump the kernel marks as
    /// interrupted (the table changed while it was read) is read again.
    pub fn dump(
        &mut self,
        msg: RouteNetlinkMessage,
    ) -> Result<std::result::Result<Vec<RouteNetlinkMessage>, Refusal>> {
        let mut tries = 0;
        loop {
            let (all, interrupted) = match self.dump_once(msg.clone())? {
                Ok(read) => read,
                Err(r) => return Ok(Err(r)),
            };
            tries += 1;
            if !interrupted || tries == DUMP_TRIES {
                return Ok(Ok(all));
            }
        }
    }

    fn dump_once(
        &mut self,
        msg: RouteNetlinkMessage,
    ) -> Result<std::result::Result<(Vec<RouteNetlinkMessage>, bool), Refusal>> {
        let mut out = Vec::new();
        self.encode(&mut out, msg, NLM_F_DUMP);
        let want = self.seq;
        self.send(&out)?;
        let mut all = Vec::new();
        let mut interrupted = false;
        let mut end = None;
        while end.is_none() {
            self.recv_each(|seq, flags, payload| {
                if seq != want {
                    return Ok(false);
                }
                interrupted |= flags & NLM_F_DUMP_INTR != 0;
                match payload {
                    NetlinkPayload::InnerMessage(m) => all.push(m),
                    NetlinkPayload::Done(_) => end = Some(Ok(())),
                    NetlinkPayload::Error(e) if e.code.is_some() => {
                        end = Some(Err(refusal(flags, &e)))
                    }
                    _ => {}
                }
                Ok(end.is_some())
            })?;
        }
        Ok(end.expect("loop ends on done").map(|()| (all, interrupted)))
    }

    fn encode(&mut self, out: &mut Vec<u8>, msg: RouteNetlinkMessage, flags: u16) {
        self.seq = self.seq.wrapping_add(1);
        let mut header = NetlinkHeader::default();
        header.flags = NLM_F_REQUEST | flags;
        header.sequence_number = self.seq;
        let mut packet = NetlinkMessage::new(header, NetlinkPayload::InnerMessage(msg));
        packet.finalize();
        let start = out.len();
        out.resize(start + packet.buffer_len(), 0);
        packet.serialize(&mut out[start..]);
    }

    fn send(&mut self, out: &[u8]) -> Result<()> {
        self.sock
            .send(out, 0)
            .map_err(|e| Error::io("send", "netlink request", e))?;
        Ok(())
    }

    /// Reads one datagram and hands each message in it to `each` (sequence number, flags,
    /// payload)
    /// until `each` returns true.
    fn recv_each(
        &mut self,
        mut each: impl FnMut(u32, u16, NetlinkPayload<RouteNetlinkMessage>) -> Result<bool>,
    ) -> Result<()> {
        self.buf.clear();
        let len = loop {
            match self.sock.recv(&mut self.buf, 0) {
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                other => break other.map_err(|e| Error::io("receive", "netlink reply", e))?,
            }
        };
        if len > self.buf.len() {
            return Err(Error::Netlink {
                what: "receive reply".into(),
                why: format!("reply of {len} bytes truncated to {}", self.buf.len()),
            });
        }
        let mut off = 0;
        while off < len {
            let rest = &self.buf[off..len];
            let size = NetlinkBuffer::new_checked(rest)
                .map(|b| b.length() as usize)
                .map_err(|e| decode_error(&e))?;
            if size == 0 || size > rest.len() {
                break;
            }
            let msg = NetlinkMessage::<RouteNetlinkMessage>::deserialize(&rest[..size])
                .map_err(|e| decode_error(&e))?;
            if each(msg.header.sequence_number, msg.header.flags, msg.payload)? {
                break;
            }
            off += (size + 3) & !3;
        }
        Ok(())
    }
}

fn refusal(flags: u16, e: &netlink_packet_core::ErrorMessage) -> Refusal {
    let errno = Errno::from_raw(e.raw_code().abs());
    // Without NLM_F_CAPPED the whole request sits before the TLVs; skip the text then.
    let tlvs = flags & NLM_F_CAPPED != 0 && flags & NLM_F_ACK_TLVS != 0;
    let msg = e
        .header
        .get(NLMSGHDR_LEN..)
        .filter(|_| tlvs)
        .and_then(|tlvs| {
            NlasIterator::new(tlvs)
                .filter_map(|nla| nla.ok())
                .find(|nla| nla.kind() == NLMSGERR_ATTR_MSG)
                .map(|nla| {
                    String::from_utf8_lossy(nla.value())
                        .trim_end_matches('\0')
                        .to_string()
                })
        });
    Refusal { errno, msg }
}

fn decode_error(e: &netlink_packet_core::DecodeError) -> Error {
    Error::Netlink {
        what: "decode reply".into(),
        why: e.to_string(),
    }
}
