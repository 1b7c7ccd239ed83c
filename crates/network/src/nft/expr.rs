//! nft JSON statements for Berth's rules, in the shapes `nft -j list` prints them.

use std::net::Ipv4Addr;

use ipnet::Ipv4Net;
use serde_json::{json, Value};

pub fn eq(left: Value, right: Value) -> Value {
    json!({"match": {"op": "==", "left": left, "right": right}})
}

pub fn ne(left: Value, right: Value) -> Value {
    json!({"match": {"op": "!=", "left": left, "right": right}})
}

pub fn has(left: Value, right: Value) -> Value {
    json!({"match": {"op": "in", "left": left, "right": right}})
}

pub fn payload(protocol: &str, field: &str) -> Value {
    json!({"payload": {"protocol": protocol, "field": field}})
}

pub fn meta(key: &str) -> Value {
    json!({"meta": {"key": key}})
}

pub fn ct(key: &str) -> Value {
    json!({"ct": {"key": key}})
}

pub fn prefix(net: Ipv4Net) -> Value {
    json!({"prefix": {"addr": net.network().to_string(), "len": net.prefix_len()}})
}

/// `fib daddr type local`: the packet is for one of the host's own addresses.
pub fn to_local_address() -> Value {
    eq(
        json!({"fib": {"result": "type", "flags": ["daddr"]}}),
        json!("local"),
    )
}

pub fn jump(chain: &str) -> Value {
    json!({"jump": {"target": chain}})
}

pub fn dnat(addr: Ipv4Addr, port: u16) -> Value {
    json!({"dnat": {"addr": addr.to_string(), "port": port}})
}

pub fn masquerade() -> Value {
    json!({"masquerade": null})
}

pub fn accept() -> Value {
    json!({"accept": null})
}

pub fn drop() -> Value {
    json!({"drop": null})
}
