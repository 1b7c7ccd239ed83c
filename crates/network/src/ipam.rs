//! STUB (replaced by the ipam helper's work).
use crate::{Ipv4Net, Result};
use std::net::Ipv4Addr;
pub fn pick_subnet(_taken: &[Ipv4Net], _host_routes: &[Ipv4Net]) -> Result<Ipv4Net> {
    Ok("172.17.0.0/16".parse().unwrap())
}
pub fn overlaps(a: &Ipv4Net, b: &Ipv4Net) -> bool {
    a.contains(&b.network()) || b.contains(&a.network())
}
pub fn next_free(_subnet: Ipv4Net, _gateway: Ipv4Addr, _used: &[Ipv4Addr]) -> Result<Ipv4Addr> {
    Ok(Ipv4Addr::new(172, 17, 0, 2))
}
pub fn mac_for(ip: Ipv4Addr) -> [u8; 6] {
    let o = ip.octets();
    [2, 0x42, o[0], o[1], o[2], o[3]]
}
pub fn parse_subnet(s: &str) -> Result<Ipv4Net> {
    s.parse()
        .map_err(|_| crate::Error::Invalid(format!("invalid subnet {s}")))
}
pub fn check_gateway(_subnet: &Ipv4Net, _gw: Ipv4Addr) -> Result<()> {
    Ok(())
}
