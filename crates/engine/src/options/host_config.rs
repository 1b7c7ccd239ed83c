//! Parsers for the flags that shape a container's view of the host: `--add-host`, `--dns*`,
//! `--sysctl`, `--shm-size`, `--pid`/`--ipc`/`--uts`, `--oom-score-adj`, `--platform` and
//! the LSM parts of `--security-opt`, with docker's rules and wording.

use super::{IpcMode, NamespaceMode, Network, RunOptions};
use crate::{Error, Result};
use std::net::IpAddr;

/// `--add-host NAME:IP` (or `NAME=IP`; IP may be `host-gateway`), as `NAME:IP`.
pub fn add_host(s: &str) -> Result<String> {
    let flag = "--add-host";
    let (name, ip) = s
        .split_once('=')
        .or_else(|| s.split_once(':'))
        .filter(|(n, ip)| !n.is_empty() && !ip.is_empty())
        .ok_or_else(|| Error::invalid(flag, s, format!("bad format for add-host: {s:?}")))?;
    let ip = ip.trim_start_matches('[').trim_end_matches(']');
    if ip != "host-gateway" && ip.parse::<IpAddr>().is_err() {
        return Err(Error::invalid(
            flag,
            s,
            format!("invalid IP address in add-host: {ip:?}"),
        ));
    }
    Ok(format!("{name}:{ip}"))
}

/// `--dns IP`
pub fn dns(s: &str) -> Result<IpAddr> {
    s.trim()
        .parse()
        .map_err(|_| Error::invalid("--dns", s, format!("{s} is not an ip address")))
}

/// `--dns-search DOMAIN` (`.` alone: none).
pub fn dns_search(s: &str) -> Result<String> {
    let d = s.trim_end_matches('.');
    let valid = s == "."
        || (!d.is_empty()
            && d.len() <= 255
            && !d.starts_with(['.', '-'])
            && d.split('.').all(|l| {
                !l.is_empty()
                    && l.len() <= 63
                    && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            }));
    if !valid {
        return Err(Error::invalid(
            "--dns-search",
            s,
            format!("{s} is not a valid domain"),
        ));
    }
    Ok(s.to_string())
}

/// Sysctls a container may set: docker's list of those the kernel keeps per IPC namespace,
/// and the network and POSIX mqueue ones.
fn sysctl_allowed(key: &str) -> bool {
    const IPC: &[&str] = &[
        "kernel.msgmax",
        "kernel.msgmnb",
        "kernel.msgmni",
        "kernel.sem",
        "kernel.shmall",
        "kernel.shmmax",
        "kernel.shmmni",
        "kernel.shm_rmid_forced",
    ];
    IPC.contains(&key) || key.starts_with("net.") || key.starts_with("fs.mqueue.")
}

/// `--sysctl KEY=VALUE`
pub fn sysctl(s: &str) -> Result<(String, String)> {
    let not_allowed = || Error::invalid("--sysctl", s, format!("sysctl '{s}' is not allowed"));
    let (k, v) = s.split_once('=').ok_or_else(not_allowed)?;
    let k = k.trim();
    if !sysctl_allowed(k) {
        return Err(not_allowed());
    }
    Ok((k.to_string(), v.to_string()))
}

/// The options against each other, as docker's daemon checks them: a network sysctl needs
/// a network namespace of its own, an IPC one an IPC namespace of its own; a hostname needs
/// a UTS namespace of its own.
pub fn check(o: &RunOptions) -> Result<()> {
    if matches!(o.network, Network::Container(_)) {
        // Its hosts and resolv.conf are the other container's business.
        if !o.extra_hosts.is_empty() {
            return Err(Error::InvalidArgument(
                "conflicting options: custom host-to-IP mapping and the network mode".into(),
            ));
        }
        if !o.dns.is_empty() || !o.dns_search.is_empty() || !o.dns_options.is_empty() {
            return Err(Error::InvalidArgument(
                "conflicting options: dns and the network mode".into(),
            ));
        }
    }
    if o.uts_mode == NamespaceMode::Host && o.hostname.as_deref().is_some_and(|h| !h.is_empty()) {
        return Err(Error::InvalidArgument(
            "Conflicting options: hostname and the UTS mode".into(),
        ));
    }
    for k in o.sysctls.keys() {
        if k.starts_with("net.") && matches!(o.network, Network::Host | Network::Container(_)) {
            return Err(Error::InvalidArgument(format!(
                "sysctl {k:?} not allowed in host network namespace"
            )));
        }
        let ipc = !k.starts_with("net.");
        if ipc && matches!(o.ipc_mode, IpcMode::Host | IpcMode::Container(_)) {
            return Err(Error::InvalidArgument(format!(
                "sysctl {k:?} is not allowed in host IPC namespace"
            )));
        }
    }
    Ok(())
}

/// `--shm-size` in bytes (0: the default).
pub fn shm_size(s: &str) -> Result<i64> {
    let n = super::parse::memory("--shm-size", s)?;
    if n < 0 {
        return Err(Error::InvalidArgument(
            "SHM size can not be less than 0".into(),
        ));
    }
    Ok(n)
}

/// `--pid` and `--uts`: `host`, `container:NAME` (pid only), or empty for a private one.
pub fn namespace_mode(flag: &str, s: &str, container_allowed: bool) -> Result<NamespaceMode> {
    match s.split_once(':') {
        None if s.is_empty() || s == "private" => Ok(NamespaceMode::Private),
        None if s == "host" => Ok(NamespaceMode::Host),
        Some(("container", c)) if container_allowed && !c.is_empty() => {
            Ok(NamespaceMode::Container(c.to_string()))
        }
        _ => {
            let what = flag.trim_start_matches("--").to_ascii_uppercase();
            Err(Error::invalid(
                flag,
                s,
                format!("{flag}: invalid {what} mode"),
            ))
        }
    }
}

/// `--ipc`: `private`, `shareable`, `none`, `host` or `container:NAME`.
pub fn ipc_mode(s: &str) -> Result<IpcMode> {
    match s.split_once(':') {
        None if s.is_empty() || s == "private" => Ok(IpcMode::Private),
        None if s == "shareable" => Ok(IpcMode::Shareable),
        None if s == "none" => Ok(IpcMode::None),
        None if s == "host" => Ok(IpcMode::Host),
        Some(("container", c)) if !c.is_empty() => Ok(IpcMode::Container(c.to_string())),
        _ => Err(Error::invalid("--ipc", s, "--ipc: invalid IPC mode")),
    }
}

/// `--oom-score-adj`
pub fn oom_score_adj(n: i64) -> Result<i32> {
    if !(-1000..=1000).contains(&n) {
        return Err(Error::InvalidArgument(format!(
            "Invalid value {n}, range for oom score adj is [-1000, 1000]"
        )));
    }
    Ok(n as i32)
}

/// What the kernel has of the LSMs `--security-opt` can name.
fn lsm_enabled(name: &str) -> bool {
    std::fs::read_to_string("/sys/kernel/security/lsm")
        .map(|l| l.trim().split(',').any(|x| x == name))
        .unwrap_or(false)
}

/// `--security-opt apparmor=PROFILE` / `label=...`: accepted as docker accepts them; a value
/// that asks for confinement by an LSM this kernel does not run is an error saying so
/// (`apparmor=unconfined` and `label=disable` need none).
pub fn security_label(s: &str) -> Result<Option<String>> {
    let Some((k, v)) = s.split_once('=').or_else(|| s.split_once(':')) else {
        return Ok(None);
    };
    let (lsm, harmless) = match k {
        "apparmor" => ("apparmor", v == "unconfined"),
        "label" => (
            "selinux",
            v == "disable" || v == "nested" || v.starts_with("filetype:"),
        ),
        _ => return Ok(None),
    };
    if v.is_empty() {
        return Err(Error::invalid(
            "--security-opt",
            s,
            format!("Invalid --security-opt: {s:?}"),
        ));
    }
    if !harmless && !lsm_enabled(lsm) {
        let what = if lsm == "apparmor" {
            "AppArmor"
        } else {
            "SELinux"
        };
        return Err(Error::InvalidArgument(format!(
            "--security-opt {s}: {what} is not enabled on this host, so the profile cannot \
             be applied"
        )));
    }
    if !harmless {
        // Enabled, but Berth does not load or apply LSM profiles.
        return Err(Error::InvalidArgument(format!(
            "--security-opt {s}: applying {lsm} profiles is not supported by Berth"
        )));
    }
    Ok(Some(format!("{k}={v}")))
}

/// `--platform os[/arch[/variant]]` or `arch`, normalized as containerd does (`x86_64` is
/// `amd64`, `aarch64` is `arm64`).
fn normalize(s: &str) -> (String, String, String) {
    let parts: Vec<String> = s.split('/').map(|p| p.to_ascii_lowercase()).collect();
    let arch = |a: &str| match a {
        "x86_64" | "x86-64" => "amd64".to_string(),
        "aarch64" => "arm64".to_string(),
        "armhf" => "arm".to_string(),
        a => a.to_string(),
    };
    let host_arch = arch(std::env::consts::ARCH);
    match parts.as_slice() {
        [one] if one == "linux" || one == "windows" || one == "darwin" => {
            (one.clone(), host_arch, String::new())
        }
        [one] => ("linux".into(), arch(one), String::new()),
        [os, a] => (os.clone(), arch(a), String::new()),
        [os, a, v, ..] => (os.clone(), arch(a), v.clone()),
        [] => ("linux".into(), host_arch, String::new()),
    }
}

/// `--platform`: the image (its config blob) must be of the platform asked for.
pub fn check_platform(wanted: &str, image: &str, config_blob: &[u8]) -> Result<()> {
    let v: serde_json::Value = serde_json::from_slice(config_blob).unwrap_or_default();
    let field = |k: &str| v[k].as_str().unwrap_or("").to_string();
    let actual = format!(
        "{}/{}{}",
        field("os"),
        field("architecture"),
        match field("variant").as_str() {
            "" => String::new(),
            x => format!("/{x}"),
        }
    );
    let (wos, warch, wvar) = normalize(wanted);
    let (aos, aarch, avar) = normalize(&actual);
    let variant_ok = wvar.is_empty() || avar.is_empty() || wvar == avar;
    if wos == aos && warch == aarch && variant_ok {
        return Ok(());
    }
    let wanted_text = if wvar.is_empty() {
        format!("{wos}/{warch}")
    } else {
        format!("{wos}/{warch}/{wvar}")
    };
    Err(Error::InvalidArgument(format!(
        "image with reference {image} was found but does not match the specified platform: \
         wanted {wanted_text}, actual: {actual}"
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn add_host_forms_and_errors() {
        assert_eq!(add_host("db:10.0.0.5").unwrap(), "db:10.0.0.5");
        assert_eq!(add_host("db=10.0.0.5").unwrap(), "db:10.0.0.5");
        assert_eq!(add_host("v6:::1").unwrap(), "v6:::1");
        assert_eq!(add_host("gw:host-gateway").unwrap(), "gw:host-gateway");
        assert!(add_host("db")
            .unwrap_err()
            .to_string()
            .contains("bad format"));
        assert!(add_host("db:nope")
            .unwrap_err()
            .to_string()
            .contains("invalid IP address in add-host"));
    }

    #[test]
    fn sysctls_are_dockers_namespaced_ones() {
        assert_eq!(
            sysctl("net.ipv4.ip_forward=1").unwrap(),
            ("net.ipv4.ip_forward".into(), "1".into())
        );
        assert!(sysctl("kernel.shmmax=1000").is_ok());
        assert!(sysctl("fs.mqueue.msg_max=20").is_ok());
        for bad in [
            "kernel.hostname=x",
            "vm.swappiness=1",
            "net.ipv4.ip_forward",
        ] {
            assert!(
                sysctl(bad)
                    .unwrap_err()
                    .to_string()
                    .contains("is not allowed"),
                "{bad}"
            );
        }
        let mut o = RunOptions {
            network: Network::Host,
            ..Default::default()
        };
        o.sysctls.insert("net.ipv4.ip_forward".into(), "1".into());
        assert!(check(&o).is_err());
        o.network = Network::None;
        assert!(check(&o).is_ok());
        let o = RunOptions {
            network: Network::Container("x".into()),
            extra_hosts: vec!["a:1.2.3.4".into()],
            ..Default::default()
        };
        assert!(check(&o).unwrap_err().to_string().contains("host-to-IP"));
    }

    #[test]
    fn namespace_modes() {
        assert_eq!(
            namespace_mode("--pid", "host", true).unwrap(),
            NamespaceMode::Host
        );
        assert_eq!(
            namespace_mode("--pid", "container:web", true).unwrap(),
            NamespaceMode::Container("web".into())
        );
        assert!(namespace_mode("--uts", "container:web", false).is_err());
        assert!(namespace_mode("--pid", "sideways", true)
            .unwrap_err()
            .to_string()
            .contains("--pid: invalid PID mode"));
        assert_eq!(ipc_mode("shareable").unwrap(), IpcMode::Shareable);
        assert_eq!(
            ipc_mode("container:a").unwrap(),
            IpcMode::Container("a".into())
        );
        assert!(ipc_mode("x").is_err());
    }

    #[test]
    fn platform_matches_by_normalized_name() {
        let blob = br#"{"os":"linux","architecture":"amd64"}"#;
        assert!(check_platform("linux/amd64", "img", blob).is_ok());
        assert!(check_platform("linux/x86_64", "img", blob).is_ok());
        let e = check_platform("linux/arm64", "img", blob).unwrap_err();
        assert!(
            e.to_string()
                .contains("wanted linux/arm64, actual: linux/amd64"),
            "{e}"
        );
    }

    #[test]
    fn lsm_values_that_need_no_lsm_are_fine() {
        assert_eq!(
            security_label("apparmor=unconfined").unwrap().as_deref(),
            Some("apparmor=unconfined")
        );
        assert_eq!(
            security_label("label=disable").unwrap().as_deref(),
            Some("label=disable")
        );
        assert_eq!(security_label("seccomp=unconfined").unwrap(), None);
        assert!(security_label("apparmor=my-profile").is_err());
    }
}
