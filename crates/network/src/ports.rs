//! STUB (replaced by the ports helper's work).
use crate::nft::Proto;
use crate::Result;
use std::net::Ipv4Addr;
pub fn check_free(_proto: Proto, _ip: Option<Ipv4Addr>, _port: u16) -> Result<()> {
    Ok(())
}
pub fn random_free(_proto: Proto, _ip: Option<Ipv4Addr>, _avoid: &[u16]) -> Result<u16> {
    Ok(40000)
}
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Publish {
    pub host_ip: Option<Ipv4Addr>,
    pub host_port: Option<u16>,
    pub container_port: u16,
    pub proto: Proto,
}
pub fn parse_publish(_spec: &str) -> Result<Vec<Publish>> {
    Ok(vec![])
}
