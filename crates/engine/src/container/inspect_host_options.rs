//! Inspect's keys for the host-facing run options (DNS, hosts, sysctls, namespaces, groups,
//! OOM, LSM labels) in Docker's HostConfig shape, and Config.Healthcheck.

use crate::options::{IpcMode, NamespaceMode, RunOptions};
use serde_json::{json, Value};

fn mode(m: &NamespaceMode) -> String {
    match m {
        NamespaceMode::Private => String::new(),
        NamespaceMode::Host => "host".into(),
        NamespaceMode::Container(c) => format!("container:{c}"),
    }
}

fn ipc(m: &IpcMode) -> String {
    match m {
        IpcMode::Private => "private".into(),
        IpcMode::Shareable => "shareable".into(),
        IpcMode::None => "none".into(),
        IpcMode::Host => "host".into(),
        IpcMode::Container(c) => format!("container:{c}"),
    }
}

/// Adds them to an inspect document (`HostConfig` and `Config` objects present).
pub fn add(doc: &mut Value, o: &RunOptions) {
    let hc = &mut doc["HostConfig"];
    hc["ExtraHosts"] = if o.extra_hosts.is_empty() {
        Value::Null
    } else {
        json!(o.extra_hosts)
    };
    hc["Dns"] = json!(o.dns.iter().map(|ip| ip.to_string()).collect::<Vec<_>>());
    hc["DnsSearch"] = json!(o.dns_search);
    hc["DnsOptions"] = json!(o.dns_options);
    if !o.sysctls.is_empty() {
        hc["Sysctls"] = json!(o.sysctls);
    }
    hc["ShmSize"] = json!(o.shm_size.unwrap_or(crate::spec::defaults::SHM_SIZE as i64));
    hc["PidMode"] = json!(mode(&o.pid_mode));
    hc["IpcMode"] = json!(ipc(&o.ipc_mode));
    hc["UTSMode"] = json!(mode(&o.uts_mode));
    hc["GroupAdd"] = if o.group_add.is_empty() {
        Value::Null
    } else {
        json!(o.group_add)
    };
    hc["VolumesFrom"] = if o.volumes_from.is_empty() {
        Value::Null
    } else {
        json!(o.volumes_from)
    };
    hc["OomScoreAdj"] = json!(o.oom_score_adj.unwrap_or(0));
    hc["OomKillDisable"] = json!(o.oom_kill_disable);
    if !o.security_labels.is_empty() {
        let mut all: Vec<String> = hc["SecurityOpt"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|v| v.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default();
        all.extend(o.security_labels.iter().cloned());
        hc["SecurityOpt"] = json!(all);
    }
    if let Some(h) = &o.healthcheck {
        doc["Config"]["Healthcheck"] = json!(h);
    }
}
