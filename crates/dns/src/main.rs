//! `berth-dns`: see docs/network-design.md, "Embedded DNS".

fn main() {}
