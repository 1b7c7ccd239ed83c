//! Capabilities, privileges, SecurityOpt, sysctls, groups; PID, IPC, UTS and user
//! namespaces.

use super::*;

/// Capabilities, privileges, SecurityOpt, sysctls, groups.
pub(super) fn security(hc: &HostConfig, o: &mut RunOptions) -> Result<()> {
    for c in list(&hc.cap_add) {
        o.cap_add
            .push(at("HostConfig.CapAdd", parse::capability("--cap-add", c))?);
    }
    for c in list(&hc.cap_drop) {
        o.cap_drop.push(at(
            "HostConfig.CapDrop",
            parse::capability("--cap-drop", c),
        )?);
    }
    o.privileged = hc.privileged.unwrap_or(false);
    for s in list(&hc.security_opt) {
        let field = "HostConfig.SecurityOpt";
        if let Some(label) = at(field, host_config::security_label(s))? {
            o.security_labels.push(label);
            continue;
        }
        // The API carries a profile's JSON itself (the docker CLI reads the file), never a
        // path on the server.
        if let Some(v) = s
            .strip_prefix("seccomp=")
            .or_else(|| s.strip_prefix("seccomp:"))
        {
            o.seccomp = match v {
                "unconfined" => Seccomp::Unconfined,
                "builtin" => Seccomp::Default,
                json => {
                    serde_json::from_str::<Value>(json).map_err(|e| {
                        Error::invalid(field, s, format!("decoding seccomp profile failed: {e}"))
                    })?;
                    Seccomp::Inline(json.to_string())
                }
            };
            continue;
        }
        match at(field, parse::security_opt(s))? {
            SecurityOpt::Seccomp(p) => o.seccomp = p,
            SecurityOpt::NoNewPrivileges(b) => o.no_new_privileges = b,
        }
    }
    for (k, v) in hc.sysctls.iter().flatten() {
        let (k, v) = at(
            "HostConfig.Sysctls",
            host_config::sysctl(&format!("{k}={v}")),
        )?;
        o.sysctls.insert(k, v);
    }
    o.group_add = list(&hc.group_add).to_vec();
    Ok(())
}

/// PID, IPC, UTS and user namespaces.
pub(super) fn namespaces(hc: &HostConfig, o: &mut RunOptions) -> Result<()> {
    let mode = |v: &Option<String>| v.clone().unwrap_or_default();
    o.pid_mode = at(
        "HostConfig.PidMode",
        host_config::namespace_mode("--pid", &mode(&hc.pid_mode), true),
    )?;
    o.ipc_mode = at(
        "HostConfig.IpcMode",
        host_config::ipc_mode(&mode(&hc.ipc_mode)),
    )?;
    o.uts_mode = at(
        "HostConfig.UTSMode",
        host_config::namespace_mode("--uts", &mode(&hc.uts_mode), false),
    )?;
    o.userns = at(
        "HostConfig.UsernsMode",
        parse::userns(&mode(&hc.userns_mode)),
    )?;
    Ok(())
}
