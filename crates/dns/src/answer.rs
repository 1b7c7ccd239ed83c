//! What to do with one DNS request: answer it from the hosts table, or hand it to the
//! upstream resolvers. Knows nothing of sockets.

use std::net::IpAddr;

use hickory_proto::op::{Edns, Message, MessageType, Metadata, OpCode, ResponseCode};
use hickory_proto::rr::rdata::{A, AAAA, PTR};
use hickory_proto::rr::{DNSClass, Name, RData, Record, RecordType};

use crate::hosts::Hosts;

/// As Docker's embedded server: container addresses change only when containers do.
const TTL: u32 = 600;

/// The UDP payload size this server offers in its EDNS answers (the DNS flag day value:
/// fits any path MTU without fragments).
const EDNS_PAYLOAD: u16 = 1232;

pub enum Reply {
    /// Send these bytes back to the client.
    Answer(Vec<u8>),
    /// Not a name of this network: ask the upstream resolvers.
    Forward,
    /// Not worth an answer (a response, or too short to carry an ID to answer to).
    Drop,
}

/// `udp`: the reply must fit the client's UDP payload size (else TCP: any size).
pub fn answer(request: &[u8], hosts: &Hosts, udp: bool) -> Reply {
    let Ok(req) = Message::from_vec(request) else {
        return match error_header(request, ResponseCode::FormErr) {
            Some(bytes) => Reply::Answer(bytes),
            None => Reply::Drop,
        };
    };
    if req.metadata.message_type != MessageType::Query {
        return Reply::Drop;
    }
    if req.metadata.op_code != OpCode::Query {
        return encode(reply_to(&req, ResponseCode::NotImp), &req, udp);
    }
    let [query] = req.queries.as_slice() else {
        return encode(reply_to(&req, ResponseCode::FormErr), &req, udp);
    };
    if !matches!(query.query_class(), DNSClass::IN | DNSClass::ANY) {
        return Reply::Forward;
    }
    let name = query.name();
    let mut reply = reply_to(&req, ResponseCode::NoError);
    if let Some(ips) = hosts.lookup(&name.to_ascii()) {
        let qtype = query.query_type();
        for ip in ips {
            let rdata = match (ip, qtype) {
                (IpAddr::V4(v4), RecordType::A | RecordType::ANY) => RData::A(A(*v4)),
                (IpAddr::V6(v6), RecordType::AAAA | RecordType::ANY) => RData::AAAA(AAAA(*v6)),
                _ => continue,
            };
            reply
                .answers
                .push(Record::from_rdata(name.clone(), TTL, rdata));
        }
        reply.metadata.authoritative = true;
        return encode(reply, &req, udp);
    }
    if query.query_type() == RecordType::PTR {
        if let Some(owner) = reverse_lookup(name, hosts) {
            reply.answers.push(Record::from_rdata(
                name.clone(),
                TTL,
                RData::PTR(PTR(owner)),
            ));
            reply.metadata.authoritative = true;
            return encode(reply, &req, udp);
        }
    }
    Reply::Forward
}

/// The reply for a request that no upstream answered (or that there was none to ask).
pub fn servfail(request: &[u8]) -> Option<Vec<u8>> {
    match Message::from_vec(request) {
        Ok(req) => match encode(reply_to(&req, ResponseCode::ServFail), &req, false) {
            Reply::Answer(bytes) => Some(bytes),
            _ => None,
        },
        Err(_) => error_header(request, ResponseCode::ServFail),
    }
}

/// The name of the container at the address an `in-addr.arpa` (or `ip6.arpa`) name spells.
fn reverse_lookup(name: &Name, hosts: &Hosts) -> Option<Name> {
    let net = name.parse_arpa_name().ok()?;
    if net.prefix_len() != net.max_prefix_len() {
        return None;
    }
    let owner = hosts.name_of(net.addr())?;
    let mut owner = Name::from_ascii(owner).ok()?;
    owner.set_fqdn(true);
    Some(owner)
}

fn reply_to(req: &Message, code: ResponseCode) -> Message {
    let mut reply = Message::response(req.metadata.id, req.metadata.op_code);
    reply.metadata = Metadata::response_from_request(&req.metadata);
    reply.metadata.recursion_available = true;
    reply.metadata.response_code = code;
    reply.queries = req.queries.clone();
    if req.edns.is_some() {
        let mut edns = Edns::new();
        edns.set_max_payload(EDNS_PAYLOAD);
        reply.edns = Some(edns);
    }
    reply
}

/// Over UDP, a reply larger than the client can take keeps the answers that fit and sets
/// TC: resolvers that retry over TCP get all of them there, and those that never do (older
/// musl) still get some addresses rather than none.
fn encode(mut reply: Message, req: &Message, udp: bool) -> Reply {
    let limit = if udp {
        usize::from(req.max_payload().min(EDNS_PAYLOAD))
    } else {
        usize::MAX
    };
    loop {
        match reply.to_vec() {
            Ok(bytes) if bytes.len() <= limit => return Reply::Answer(bytes),
            Ok(_) if !reply.answers.is_empty() => {
                reply.answers.pop();
                reply.metadata.truncation = true;
            }
            // Not encodable (a name from the hosts file hickory rejects): say so, briefly.
            _ => {
                let opcode: u8 = req.metadata.op_code.into();
                let flags = opcode << 3 | u8::from(req.metadata.recursion_desired);
                return Reply::Answer(bare_reply(req.metadata.id, flags, ResponseCode::ServFail));
            }
        }
    }
}

/// A bare header answering the request's ID, for requests that do not parse: built by hand,
/// since there is no message to build it from.
fn error_header(request: &[u8], code: ResponseCode) -> Option<Vec<u8>> {
    let [hi, lo, flags, ..] = *request else {
        return None;
    };
    if request.len() < 12 {
        return None; // not even a header: likely not DNS at all
    }
    if flags & 0x80 != 0 {
        return None; // a response: answering it could start a loop between two servers
    }
    Some(bare_reply(u16::from_be_bytes([hi, lo]), flags, code))
}

/// `query_flags`: the request's first flags byte, whose opcode and RD bits are echoed.
fn bare_reply(id: u16, query_flags: u8, code: ResponseCode) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(12);
    bytes.extend_from_slice(&id.to_be_bytes());
    bytes.push(0x80 | (query_flags & 0x79)); // QR, opcode, RD
    bytes.push(0x80 | code.low()); // RA, rcode
    bytes.extend_from_slice(&[0; 8]); // no records
    bytes
}

#[cfg(test)]
mod tests {
    use super::*;
    use hickory_proto::op::Query;

    fn request(op_code: OpCode, message_type: MessageType) -> Vec<u8> {
        let mut msg = Message::new(0x4242, message_type, op_code);
        msg.queries.push(Query::query(
            Name::from_ascii("web.").unwrap(),
            RecordType::A,
        ));
        msg.to_vec().unwrap()
    }

    fn rcode(reply: Reply) -> ResponseCode {
        let Reply::Answer(bytes) = reply else {
            panic!("no answer")
        };
        let msg = Message::from_vec(&bytes).unwrap();
        assert_eq!(msg.metadata.id, 0x4242);
        msg.metadata.response_code
    }

    #[test]
    fn responses_are_never_answered() {
        let hosts = Hosts::parse("10.0.0.2 web\n");
        let bytes = request(OpCode::Query, MessageType::Response);
        assert!(matches!(answer(&bytes, &hosts, true), Reply::Drop));
        let mut garbage = bytes.clone();
        garbage.truncate(13);
        assert!(matches!(answer(&garbage, &hosts, true), Reply::Drop));
    }

    #[test]
    fn other_opcodes_get_notimp() {
        let hosts = Hosts::parse("");
        let bytes = request(OpCode::Update, MessageType::Query);
        assert_eq!(rcode(answer(&bytes, &hosts, true)), ResponseCode::NotImp);
    }

    #[test]
    fn servfail_keeps_the_id_and_question() {
        let bytes = request(OpCode::Query, MessageType::Query);
        let reply = Message::from_vec(&servfail(&bytes).unwrap()).unwrap();
        assert_eq!(reply.metadata.id, 0x4242);
        assert_eq!(reply.metadata.response_code, ResponseCode::ServFail);
        assert_eq!(reply.queries.len(), 1);
    }
}
