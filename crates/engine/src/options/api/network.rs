//! NetworkMode, the one endpoint of NetworkingConfig, ports and name resolution.

use super::*;

/// NetworkMode, the one endpoint of NetworkingConfig, ports, name resolution.
pub(super) fn network(req: &CreateRequest, hc: &HostConfig, o: &mut RunOptions) -> Result<()> {
    let field = "HostConfig.NetworkMode";
    let mode = hc.network_mode.clone().unwrap_or_default();
    // A network namespace path is the CLI's (for pods), not an API network name.
    if mode.starts_with('/') {
        return Err(Error::invalid(field, &mode, "invalid network name"));
    }
    o.network = at(field, parse::network(&mode))?;
    if req.network_disabled.unwrap_or(false) {
        o.network = Network::None;
    }
    let endpoints = req
        .networking_config
        .as_ref()
        .and_then(|n| n.endpoints_config.as_ref());
    if let Some(eps) = endpoints.filter(|e| e.len() > 1) {
        let names: Vec<&str> = eps.keys().map(String::as_str).collect();
        return Err(Error::InvalidArgument(format!(
            "Container cannot be connected to network endpoints: {} (Berth connects a \
             container to one network when it is created; connect it to the others after)",
            names.join(", ")
        )));
    }
    if let Some((net, ep)) = endpoints.and_then(|e| e.iter().next()) {
        endpoint(net, ep.as_ref(), o)?;
    }
    for (key, bindings) in hc.port_bindings.iter().flatten() {
        let (port, proto) = key.split_once('/').unwrap_or((key, "tcp"));
        for b in bindings.iter().flatten() {
            let ip = b.host_ip.clone().unwrap_or_default();
            let ip = if ip.contains(':') {
                format!("[{ip}]")
            } else {
                ip
            };
            let host = b.host_port.clone().unwrap_or_default();
            let spec = match (ip.is_empty(), host.is_empty()) {
                (true, true) => format!("{port}/{proto}"),
                (true, false) => format!("{host}:{port}/{proto}"),
                (false, _) => format!("{ip}:{host}:{port}/{proto}"),
            };
            o.ports
                .extend(at("HostConfig.PortBindings", parse::publish(&spec))?);
        }
    }
    o.publish_all = hc.publish_all_ports.unwrap_or(false);
    for h in list(&hc.extra_hosts) {
        o.extra_hosts
            .push(at("HostConfig.ExtraHosts", host_config::add_host(h))?);
    }
    for d in list(&hc.dns) {
        o.dns.push(at("HostConfig.Dns", host_config::dns(d))?);
    }
    for d in list(&hc.dns_search) {
        o.dns_search
            .push(at("HostConfig.DnsSearch", host_config::dns_search(d))?);
    }
    o.dns_options = list(&hc.dns_options).to_vec();
    Ok(())
}

/// The endpoint settings for network `net`: it must be the network NetworkMode names (or,
/// when NetworkMode leaves the default, becomes it).
pub(super) fn endpoint(net: &str, ep: Option<&EndpointSettings>, o: &mut RunOptions) -> Result<()> {
    let field = format!("NetworkingConfig.EndpointsConfig.{net}");
    let same = match &o.network {
        Network::Default => {
            if !matches!(net, "default" | "bridge" | "") {
                o.network = at(&field, parse::network(net))?;
            }
            true
        }
        Network::Named(n) => n == net || (n == "bridge" && net == "default"),
        Network::Host => net == "host",
        Network::None => net == "none",
        Network::Container(_) | Network::Path(_) => true,
    };
    if !same {
        return Err(Error::InvalidArgument(format!(
            "{field}: the container's network is its NetworkMode's (Berth connects a container \
             to one network when it is created)"
        )));
    }
    let Some(ep) = ep else { return Ok(()) };
    refuse(&format!("{field}.Links"), &ep.links, |l| !l.is_empty())?;
    refuse(&format!("{field}.MacAddress"), &ep.mac_address, |m| {
        !m.is_empty()
    })?;
    refuse(&format!("{field}.DriverOpts"), &ep.driver_opts, |d| {
        !d.is_empty()
    })?;
    o.network_aliases = list(&ep.aliases).to_vec();
    if let Some(ipam) = &ep.ipam_config {
        refuse(
            &format!("{field}.IPAMConfig.IPv6Address"),
            &ipam.ipv6_address,
            |a| !a.is_empty(),
        )?;
        refuse(
            &format!("{field}.IPAMConfig.LinkLocalIPs"),
            &ipam.link_local_ips,
            |l| !l.is_empty(),
        )?;
        if let Some(ip) = non_empty(&ipam.ipv4_address) {
            o.ip = Some(ip.parse().map_err(|_| {
                Error::invalid(
                    &format!("{field}.IPAMConfig.IPv4Address"),
                    &ip,
                    "invalid IPv4 address",
                )
            })?);
        }
    }
    Ok(())
}
