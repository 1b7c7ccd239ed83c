//! STUB (replaced by the nft helper's work).
use crate::{Ipv4Net, Result};
use std::net::Ipv4Addr;
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Proto {
    Tcp,
    Udp,
}
pub struct NetRules<'a> {
    pub bridge: &'a str,
    pub subnet: Ipv4Net,
    pub internal: bool,
}
pub struct PortMap {
    pub host_ip: Option<Ipv4Addr>,
    pub host_port: u16,
    pub container_ip: Ipv4Addr,
    pub container_port: u16,
    pub proto: Proto,
}
pub struct Nft {}
impl Nft {
    pub fn berth() -> Nft {
        Nft {}
    }
    pub fn ensure_network(&self, _n: &NetRules) -> Result<()> {
        Ok(())
    }
    pub fn remove_network(&self, _bridge: &str) -> Result<()> {
        Ok(())
    }
    pub fn publish(&self, _c: &str, _bridge: &str, _p: &[PortMap]) -> Result<()> {
        Ok(())
    }
    pub fn unpublish(&self, _c: &str) -> Result<()> {
        Ok(())
    }
    pub fn owners(&self) -> Result<Vec<String>> {
        Ok(vec![])
    }
}
