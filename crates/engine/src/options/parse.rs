//! The string forms of `docker run`'s flags, parsed into [`super::RunOptions`]' types.
//!
//! Each parser accepts what the docker CLI accepts and refuses the rest with
//! [`Error::InvalidValue`] naming the flag as docker does (`"-m, --memory"`), so the CLI and
//! the API server (roadmap) report the same one-line errors. Mount-like flags (`-v`,
//! `--mount`, `--tmpfs`, `--device`) live in [`super::mounts`], re-exported here.

use super::{LogConfig, LogDriver, Network, PullPolicy, RestartPolicy, Seccomp, Ulimit, Userns};
use crate::{Error, Result};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

pub use super::mounts::{device, mount, mount_fields, tmpfs, volume};

/// `512m`, `1g`, `1.5GiB`, `1024` (bytes): go-units' RAMInBytes, binary multiples, as
/// docker's `-m`, `--memory-swap`, `--memory-reservation`, `--shm-size`, `tmpfs-size` and
/// json-file's `max-size`.
pub fn ram_bytes(s: &str) -> Option<i64> {
    let t = s.trim_end();
    let num_end = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (num, unit) = t.split_at(num_end);
    if num.is_empty() || num.starts_with('.') || num.ends_with('.') || num.matches('.').count() > 1
    {
        return None;
    }
    let mut u = unit.strip_prefix(' ').unwrap_or(unit).to_ascii_lowercase();
    let mult: f64 = match u.chars().next() {
        Some(c @ ('k' | 'm' | 'g' | 't' | 'p')) => {
            u.remove(0);
            1024f64.powi("kmgtp".find(c).unwrap() as i32 + 1)
        }
        _ => 1.0,
    };
    // What may follow the multiplier: nothing, `b`, `i` or `ib` (`1k`, `1kb`, `1kib`).
    if !matches!(u.as_str(), "" | "b" | "i" | "ib") || (mult == 1.0 && u.starts_with('i')) {
        return None;
    }
    let v: f64 = num.parse().ok()?;
    let bytes = v * mult;
    (bytes.is_finite() && bytes < i64::MAX as f64).then_some(bytes as i64)
}

/// `-m`, `--memory-reservation`, `--memory-swap` (which also takes `-1`: unlimited).
pub fn memory(flag: &str, s: &str) -> Result<i64> {
    if flag.contains("memory-swap") && s.trim() == "-1" {
        return Ok(-1);
    }
    ram_bytes(s).ok_or_else(|| Error::invalid(flag, s, format!("invalid size: '{s}'")))
}

/// The CPUs this machine has online (what `--cpus` and `--cpuset-cpus` are checked against).
pub fn host_cpus() -> Vec<u32> {
    std::fs::read_to_string("/sys/devices/system/cpu/online")
        .ok()
        .and_then(|s| cpu_list(s.trim()))
        .unwrap_or_else(|| {
            let n = std::thread::available_parallelism().map_or(1, |n| n.get());
            (0..n as u32).collect()
        })
}

/// `--cpus 1.5`: billionths of a CPU, > 0 and at most the host's CPUs.
pub fn cpus(s: &str) -> Result<i64> {
    cpus_with(s, host_cpus().len() as i64)
}

pub fn cpus_with(s: &str, ncpu: i64) -> Result<i64> {
    let bad = |why: String| Error::invalid("--cpus", s, why);
    let t = s.trim();
    let (neg, digits) = match t.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, t.strip_prefix('+').unwrap_or(t)),
    };
    let (int, frac) = digits.split_once('.').unwrap_or((digits, ""));
    let numeric = |p: &str| p.chars().all(|c| c.is_ascii_digit());
    if (int.is_empty() && frac.is_empty()) || !numeric(int) || !numeric(frac) {
        return Err(bad(format!("failed to parse {t} as a rational number")));
    }
    if frac.len() > 9 {
        return Err(bad("value is too precise".into()));
    }
    let range = || {
        format!("range of CPUs is from 0.01 to {ncpu}.00, as there are only {ncpu} CPUs available")
    };
    let whole: i64 = if int.is_empty() {
        0
    } else {
        int.parse().map_err(|_| bad(range()))?
    };
    let frac_nanos: i64 = format!("{frac:0<9}").parse().unwrap_or(0);
    let nanos = whole
        .checked_mul(1_000_000_000)
        .and_then(|w| w.checked_add(frac_nanos))
        .ok_or_else(|| bad(range()))?;
    if neg || nanos < 10_000_000 || nanos > ncpu * 1_000_000_000 {
        return Err(bad(range()));
    }
    Ok(nanos)
}

/// `-c, --cpu-shares`: a positive integer (the kernel clamps to 2..262144).
pub fn cpu_shares(s: &str) -> Result<u64> {
    s.trim().parse::<u64>().map_err(|_| {
        Error::invalid(
            "-c, --cpu-shares",
            s,
            "strconv.ParseInt: parsing: invalid syntax",
        )
    })
}

/// `0-3,5`: the CPU numbers listed, or None when malformed.
pub fn cpu_list(s: &str) -> Option<Vec<u32>> {
    let mut out = Vec::new();
    for part in s.split(',') {
        match part.split_once('-') {
            Some((a, b)) => {
                let (a, b): (u32, u32) = (a.parse().ok()?, b.parse().ok()?);
                if a > b || b - a > 8192 {
                    return None;
                }
                out.extend(a..=b);
            }
            None => out.push(part.parse().ok()?),
        }
    }
    Some(out)
}

/// `--cpuset-cpus 0-1,3`: well formed and every CPU online.
pub fn cpuset(s: &str) -> Result<String> {
    cpuset_with(s, &host_cpus())
}

pub fn cpuset_with(s: &str, online: &[u32]) -> Result<String> {
    let flag = "--cpuset-cpus";
    let list = cpu_list(s)
        .ok_or_else(|| Error::invalid(flag, s, format!("invalid value {s} for cpuset cpus")))?;
    if let Some(c) = list.iter().find(|c| !online.contains(c)) {
        return Err(Error::invalid(
            flag,
            s,
            format!("requested CPUs are not available - requested {s}, CPU {c} is not online"),
        ));
    }
    Ok(s.to_string())
}

/// `--pids-limit N`: -1 or 0 = unlimited.
pub fn pids_limit(s: &str) -> Result<i64> {
    let n: i64 = s.trim().parse().map_err(|_| {
        Error::invalid(
            "--pids-limit",
            s,
            "strconv.ParseInt: parsing: invalid syntax",
        )
    })?;
    if n < -1 {
        return Err(Error::invalid(
            "--pids-limit",
            s,
            "must be -1 (unlimited), 0 (unlimited) or a positive number",
        ));
    }
    Ok(n)
}

/// The resource names `--ulimit` knows (RLIMIT_* without the prefix).
pub const ULIMITS: &[&str] = &[
    "core",
    "cpu",
    "data",
    "fsize",
    "locks",
    "memlock",
    "msgqueue",
    "nice",
    "nofile",
    "nproc",
    "rss",
    "rtprio",
    "rttime",
    "sigpending",
    "stack",
];

/// `--ulimit nofile=1024[:2048]`; `-1` is unlimited.
pub fn ulimit(s: &str) -> Result<Ulimit> {
    let flag = "--ulimit";
    let (name, vals) = s
        .split_once('=')
        .ok_or_else(|| Error::invalid(flag, s, format!("invalid ulimit argument: {s}")))?;
    if !ULIMITS.contains(&name) {
        return Err(Error::invalid(
            flag,
            s,
            format!("invalid ulimit type: {name}"),
        ));
    }
    let num = |v: &str| -> Result<u64> {
        match v.trim() {
            "-1" | "unlimited" => Ok(u64::MAX),
            t => t.parse::<u64>().map_err(|_| {
                Error::invalid(flag, s, format!("invalid ulimit value {v:?} for {name}"))
            }),
        }
    };
    let (soft, hard) = match vals.split_once(':') {
        Some((a, b)) => (num(a)?, num(b)?),
        None => {
            let v = num(vals)?;
            (v, v)
        }
    };
    if soft > hard {
        return Err(Error::invalid(
            flag,
            s,
            format!("ulimit soft limit must be less than or equal to hard limit: {soft} > {hard}"),
        ));
    }
    Ok(Ulimit {
        name: name.to_string(),
        soft,
        hard,
    })
}

/// `--restart no|on-failure[:N]|always|unless-stopped`.
pub fn restart(s: &str) -> Result<RestartPolicy> {
    let flag = "--restart";
    let (name, count) = match s.split_once(':') {
        Some((n, c)) => (n, Some(c)),
        None => (s, None),
    };
    let no_count = |p: RestartPolicy| match count {
        None => Ok(p),
        Some(_) => Err(Error::invalid(
            flag,
            s,
            format!("maximum retry count cannot be used with restart policy '{name}'"),
        )),
    };
    match name {
        "" | "no" => no_count(RestartPolicy::No),
        "always" => no_count(RestartPolicy::Always),
        "unless-stopped" => no_count(RestartPolicy::UnlessStopped),
        "on-failure" => match count {
            None => Ok(RestartPolicy::OnFailure(0)),
            Some(c) => c.parse().map(RestartPolicy::OnFailure).map_err(|_| {
                Error::invalid(flag, s, format!("invalid restart policy: maximum retry count must be a non-negative integer: {c:?}"))
            }),
        },
        _ => Err(Error::invalid(
            flag,
            s,
            format!(
                "invalid restart policy: unknown policy '{name}'; use one of 'no', 'always', \
                 'on-failure', or 'unless-stopped'"
            ),
        )),
    }
}

/// What `--security-opt` sets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecurityOpt {
    Seccomp(Seccomp),
    NoNewPrivileges(bool),
}

/// `--security-opt seccomp=PATH|unconfined`, `no-new-privileges[=true|false]` (also the
/// legacy `no-new-privileges:true` form). The profile file must exist now, as the docker CLI
/// reads it when the flag is parsed.
pub fn security_opt(s: &str) -> Result<SecurityOpt> {
    let flag = "--security-opt";
    let bad = || Error::invalid(flag, s, format!("Invalid --security-opt: {s:?}"));
    if s == "no-new-privileges" {
        return Ok(SecurityOpt::NoNewPrivileges(true));
    }
    let (k, v) = s
        .split_once('=')
        .or_else(|| s.split_once(':'))
        .ok_or_else(bad)?;
    match k {
        "no-new-privileges" => match v {
            "true" | "1" => Ok(SecurityOpt::NoNewPrivileges(true)),
            "false" | "0" => Ok(SecurityOpt::NoNewPrivileges(false)),
            _ => Err(Error::invalid(
                flag,
                s,
                "invalid --security-opt 2: \"no-new-privileges\" takes true or false",
            )),
        },
        "seccomp" => match v {
            "unconfined" => Ok(SecurityOpt::Seccomp(Seccomp::Unconfined)),
            "" => Err(bad()),
            path => {
                let p = PathBuf::from(path);
                std::fs::metadata(&p).map_err(|e| {
                    Error::invalid(
                        flag,
                        s,
                        format!("opening seccomp profile ({path}) failed: {e}"),
                    )
                })?;
                let abs = std::path::absolute(&p).unwrap_or(p);
                Ok(SecurityOpt::Seccomp(Seccomp::Profile(abs)))
            }
        },
        _ => Err(bad()),
    }
}

/// The capability names Linux defines, by number.
pub const CAPABILITIES: &[&str] = &[
    "CAP_CHOWN",
    "CAP_DAC_OVERRIDE",
    "CAP_DAC_READ_SEARCH",
    "CAP_FOWNER",
    "CAP_FSETID",
    "CAP_KILL",
    "CAP_SETGID",
    "CAP_SETUID",
    "CAP_SETPCAP",
    "CAP_LINUX_IMMUTABLE",
    "CAP_NET_BIND_SERVICE",
    "CAP_NET_BROADCAST",
    "CAP_NET_ADMIN",
    "CAP_NET_RAW",
    "CAP_IPC_LOCK",
    "CAP_IPC_OWNER",
    "CAP_SYS_MODULE",
    "CAP_SYS_RAWIO",
    "CAP_SYS_CHROOT",
    "CAP_SYS_PTRACE",
    "CAP_SYS_PACCT",
    "CAP_SYS_ADMIN",
    "CAP_SYS_BOOT",
    "CAP_SYS_NICE",
    "CAP_SYS_RESOURCE",
    "CAP_SYS_TIME",
    "CAP_SYS_TTY_CONFIG",
    "CAP_MKNOD",
    "CAP_LEASE",
    "CAP_AUDIT_WRITE",
    "CAP_AUDIT_CONTROL",
    "CAP_SETFCAP",
    "CAP_MAC_OVERRIDE",
    "CAP_MAC_ADMIN",
    "CAP_SYSLOG",
    "CAP_WAKE_ALARM",
    "CAP_BLOCK_SUSPEND",
    "CAP_AUDIT_READ",
    "CAP_PERFMON",
    "CAP_BPF",
    "CAP_CHECKPOINT_RESTORE",
];

/// The capabilities this kernel knows (`/proc/sys/kernel/cap_last_cap`).
pub fn kernel_capabilities() -> &'static [&'static str] {
    let last = std::fs::read_to_string("/proc/sys/kernel/cap_last_cap")
        .ok()
        .and_then(|s| s.trim().parse::<usize>().ok())
        .unwrap_or(CAPABILITIES.len() - 1);
    &CAPABILITIES[..=last.min(CAPABILITIES.len() - 1)]
}

/// `--cap-add`/`--cap-drop` values: `net_admin`, `NET_ADMIN`, `CAP_NET_ADMIN` -> the
/// `CAP_*` name; `all` -> `ALL`. Names this kernel does not know are refused.
pub fn capability(flag: &str, s: &str) -> Result<String> {
    let up = s.trim().to_ascii_uppercase();
    if up == "ALL" {
        return Ok(up);
    }
    let name = if up.starts_with("CAP_") {
        up
    } else {
        format!("CAP_{up}")
    };
    if !kernel_capabilities().contains(&name.as_str()) {
        return Err(Error::invalid(
            flag,
            s,
            format!("unknown capability: {name:?}"),
        ));
    }
    Ok(name)
}

/// Where `--userns private` maps a container's ids on the host: the first `berth` line of
/// `/etc/subuid` and `/etc/subgid` (as docker's `dockremap` user), else
/// [`DEFAULT_PRIVATE_RANGE`]. Every private container shares the range, as with docker's
/// `--userns-remap`: container root is an unprivileged host id, not another container's.
pub const DEFAULT_PRIVATE_RANGE: (u32, u32) = (1_000_000_000, 65536);

/// `--userns host|private` (`""` = host).
pub fn userns(s: &str) -> Result<Userns> {
    userns_in(s, Path::new("/etc"))
}

pub fn userns_in(s: &str, etc: &Path) -> Result<Userns> {
    match s {
        "" | "host" => Ok(Userns::Host),
        "private" => {
            let uid = subid_range(&etc.join("subuid"));
            let gid = subid_range(&etc.join("subgid"));
            let (host_id, size) = match (uid, gid) {
                (Some(u), Some(g)) if u == g => u,
                (Some(u), Some(g)) => {
                    return Err(Error::invalid(
                        "--userns",
                        s,
                        format!(
                        "the berth ranges of /etc/subuid ({}:{}) and /etc/subgid ({}:{}) differ; \
                             Berth maps uids and gids alike",
                        u.0, u.1, g.0, g.1
                    ),
                    ))
                }
                _ => DEFAULT_PRIVATE_RANGE,
            };
            Ok(Userns::Private { host_id, size })
        }
        _ => Err(Error::invalid(
            "--userns",
            s,
            "invalid USER mode: use \"host\" or \"private\"",
        )),
    }
}

fn subid_range(file: &Path) -> Option<(u32, u32)> {
    let text = std::fs::read_to_string(file).ok()?;
    text.lines().find_map(|l| {
        let mut f = l.trim().split(':');
        if f.next()? != "berth" {
            return None;
        }
        let start: u32 = f.next()?.parse().ok()?;
        let size: u32 = f.next()?.parse().ok()?;
        (size > 0 && start > 0).then_some((start, size))
    })
}

/// `--network none|host|bridge|container:NAME|NAME|/path/to/netns`.
pub fn network(s: &str) -> Result<Network> {
    match s {
        "" | "default" => Ok(Network::Default),
        "none" => Ok(Network::None),
        "host" => Ok(Network::Host),
        _ if s.starts_with('/') => Ok(Network::Path(PathBuf::from(s))),
        _ => match s.strip_prefix("container:") {
            Some("") => Err(Error::invalid(
                "--network",
                s,
                "invalid container format container:<name|id>",
            )),
            Some(c) => Ok(Network::Container(c.to_string())),
            None if valid_name(s) => Ok(Network::Named(s.to_string())),
            None => Err(Error::invalid("--network", s, "invalid network name")),
        },
    }
}

/// `-p [ip:][hostPort:]containerPort[/tcp|udp]`, ranges included (one entry per port).
pub fn publish(s: &str) -> Result<Vec<super::PortSpec>> {
    let parsed = berth_network::ports::parse_publish(s)
        .map_err(|e| Error::invalid("--publish", s, e.to_string()))?;
    Ok(parsed
        .into_iter()
        .map(|p| super::PortSpec {
            host_ip: p.host_ip,
            host_port: p.host_port,
            host_port_last: p.host_port_last,
            container_port: p.container_port,
            proto: match p.proto {
                berth_network::nft::Proto::Udp => "udp".into(),
                berth_network::nft::Proto::Tcp => "tcp".into(),
            },
        })
        .collect())
}

/// Docker's container/network name rule: `[a-zA-Z0-9][a-zA-Z0-9_.-]*`.
pub fn valid_name(s: &str) -> bool {
    let mut c = s.chars();
    c.next().is_some_and(|f| f.is_ascii_alphanumeric())
        && c.all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c))
}

/// `--log-driver json-file|none`.
pub fn log_driver(s: &str) -> Result<LogDriver> {
    match s {
        "json-file" => Ok(LogDriver::JsonFile),
        "none" => Ok(LogDriver::None),
        _ => Err(Error::invalid(
            "--log-driver",
            s,
            format!("error looking up logging plugin {s}: plugin \"{s}\" not found (Berth has json-file and none)"),
        )),
    }
}

/// Applies one `--log-opt key=value` to `log` (after the driver is known).
pub fn log_opt(log: &mut LogConfig, s: &str) -> Result<()> {
    let flag = "--log-opt";
    let (k, v) = s.split_once('=').ok_or_else(|| {
        Error::invalid(flag, s, "invalid key value pair format in driver options")
    })?;
    if log.driver == LogDriver::None {
        return Err(Error::invalid(
            flag,
            s,
            "logger: no log driver named 'none' takes options",
        ));
    }
    match k {
        "max-size" => {
            let n = ram_bytes(v)
                .filter(|n| *n > 0)
                .ok_or_else(|| Error::invalid(flag, s, format!("invalid size: '{v}'")))?;
            log.max_size = Some(n as u64);
        }
        "max-file" => {
            let n: i64 = v
                .parse()
                .map_err(|_| Error::invalid(flag, s, format!("invalid max-file: {v:?}")))?;
            if n < 1 {
                return Err(Error::invalid(flag, s, "max-file cannot be less than 1"));
            }
            log.max_file = Some(n.min(u32::MAX as i64) as u32);
        }
        _ => {
            return Err(Error::invalid(
                flag,
                s,
                format!("unknown log opt '{k}' for json-file log driver"),
            ))
        }
    }
    Ok(())
}

/// `--pull missing|always|never`.
pub fn pull(s: &str) -> Result<PullPolicy> {
    match s {
        "missing" => Ok(PullPolicy::Missing),
        "always" => Ok(PullPolicy::Always),
        "never" => Ok(PullPolicy::Never),
        _ => Err(Error::invalid(
            "--pull",
            s,
            format!(
                "invalid pull option: '{s}': must be one of \"always\", \"missing\" or \"never\""
            ),
        )),
    }
}

/// A signal by name (`SIGTERM`, `term`, `SIGRTMIN+3`) or number, as `--stop-signal` and
/// an image's StopSignal give it.
pub fn signal_number(s: &str) -> Option<i32> {
    let t = s.trim();
    if let Ok(n) = t.parse::<i32>() {
        return (1..=64).contains(&n).then_some(n);
    }
    let up = t.to_ascii_uppercase();
    let name = up.strip_prefix("SIG").unwrap_or(&up);
    if let Some(rt) = name.strip_prefix("RTMIN") {
        let off: i32 = if rt.is_empty() {
            0
        } else {
            rt.strip_prefix('+')?.parse().ok()?
        };
        let n = libc::SIGRTMIN() + off;
        return (off >= 0 && n <= libc::SIGRTMAX()).then_some(n);
    }
    if let Some(rt) = name.strip_prefix("RTMAX") {
        let off: i32 = if rt.is_empty() {
            0
        } else {
            rt.strip_prefix('-')?.parse().ok()?
        };
        let n = libc::SIGRTMAX() - off;
        return (off >= 0 && n >= libc::SIGRTMIN()).then_some(n);
    }
    let full = format!("SIG{name}");
    full.parse::<nix::sys::signal::Signal>()
        .ok()
        .map(|s| s as i32)
}

/// `--stop-signal`: validated, kept as given (docker stores it as typed).
pub fn stop_signal(s: &str) -> Result<String> {
    signal_number(s)
        .map(|_| s.to_string())
        .ok_or_else(|| Error::invalid("--stop-signal", s, format!("Invalid signal: {s}")))
}

/// `-l key=value` (or `key`: empty value).
pub fn label(s: &str) -> Result<(String, String)> {
    let (k, v) = s.split_once('=').unwrap_or((s, ""));
    if k.is_empty() {
        return Err(Error::invalid(
            "-l, --label",
            s,
            "label key must not be empty",
        ));
    }
    Ok((k.to_string(), v.to_string()))
}

/// The lines of an `--env-file` or `--label-file`, as the docker CLI reads them: leading
/// blanks trimmed, blank lines and `#` comments skipped, `KEY=VALUE` taken verbatim (no
/// quote handling), a bare `KEY` looked up with `lookup` (dropped when it gives None).
pub fn key_value_file(
    flag: &str,
    path: &Path,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<Vec<String>> {
    let shown = path.display().to_string();
    let bytes = std::fs::read(path)
        .map_err(|e| Error::invalid(flag, &shown, format!("open {shown}: {e}")))?;
    let text = String::from_utf8(bytes).map_err(|_| {
        Error::invalid(
            flag,
            &shown,
            format!("env file {shown} contains invalid utf8 bytes"),
        )
    })?;
    let mut out = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim_start();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (key, value) = match line.split_once('=') {
            Some((k, v)) => (k, Some(v)),
            None => (line, None),
        };
        if key.is_empty() {
            return Err(Error::invalid(
                flag,
                &shown,
                format!("no variable name on line '{line}' ({shown}:{})", i + 1),
            ));
        }
        if key.contains(char::is_whitespace) {
            return Err(Error::invalid(
                flag,
                &shown,
                format!("variable '{key}' contains whitespaces ({shown}:{})", i + 1),
            ));
        }
        match value {
            Some(v) => out.push(format!("{key}={v}")),
            None => {
                if let Some(v) = lookup(key) {
                    out.push(format!("{key}={v}"));
                }
            }
        }
    }
    Ok(out)
}

/// `--env-file`: a bare name takes its value from `lookup` (the client's environment, which
/// only the client has: the engine never reads its own) and is dropped when it gives None.
pub fn env_file(path: &Path, lookup: &dyn Fn(&str) -> Option<String>) -> Result<Vec<String>> {
    key_value_file("--env-file", path, lookup)
}

/// `-e KEY=VALUE` as is; `-e KEY` takes its value from `lookup` (the client's environment)
/// or is dropped when it gives None.
pub fn env(s: &str, lookup: &dyn Fn(&str) -> Option<String>) -> Result<Option<String>> {
    match s.split_once('=') {
        Some(("", _)) => Err(Error::invalid(
            "-e, --env",
            s,
            "invalid environment variable: no name",
        )),
        Some(_) => Ok(Some(s.to_string())),
        None if s.is_empty() => Err(Error::invalid(
            "-e, --env",
            s,
            "invalid environment variable: no name",
        )),
        None => Ok(lookup(s).map(|v| format!("{s}={v}"))),
    }
}

/// `--label-file`: a bare key is a label with an empty value.
pub fn label_file(path: &Path) -> Result<BTreeMap<String, String>> {
    let lines = key_value_file("--label-file", path, &|_| Some(String::new()))?;
    Ok(lines
        .into_iter()
        .map(|l| {
            let (k, v) = l.split_once('=').unwrap_or((&l, ""));
            (k.to_string(), v.to_string())
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg<T: std::fmt::Debug>(r: Result<T>) -> String {
        r.unwrap_err().to_string()
    }

    #[test]
    fn memory_sizes_as_docker_reads_them() {
        let m = |s| memory("-m, --memory", s);
        assert_eq!(m("512m").unwrap(), 512 << 20);
        assert_eq!(m("1g").unwrap(), 1 << 30);
        assert_eq!(m("1G").unwrap(), 1 << 30);
        assert_eq!(m("1gb").unwrap(), 1 << 30);
        assert_eq!(m("1GiB").unwrap(), 1 << 30);
        assert_eq!(m("1.5g").unwrap(), 3 << 29);
        assert_eq!(m("1024").unwrap(), 1024);
        assert_eq!(m("64k").unwrap(), 64 << 10);
        assert_eq!(m("10 m").unwrap(), 10 << 20);
        assert_eq!(
            msg(m("12x")),
            r#"invalid argument "12x" for "-m, --memory": invalid size: '12x'"#
        );
        for bad in ["", "m", "-1", "1.2.3m", "1i", "1mm", ".5m", "5.m", "1 0m"] {
            assert!(m(bad).is_err(), "{bad:?} accepted");
        }
        assert_eq!(memory("--memory-swap", "-1").unwrap(), -1);
        assert!(memory("-m, --memory", "-1").is_err());
    }

    #[test]
    fn cpus_are_positive_and_at_most_the_host_cpus() {
        assert_eq!(cpus_with("1.5", 2).unwrap(), 1_500_000_000);
        assert_eq!(cpus_with("2", 2).unwrap(), 2_000_000_000);
        assert_eq!(cpus_with(".5", 2).unwrap(), 500_000_000);
        assert_eq!(cpus_with("0.01", 2).unwrap(), 10_000_000);
        assert_eq!(
            msg(cpus_with("-1", 2)),
            r#"invalid argument "-1" for "--cpus": range of CPUs is from 0.01 to 2.00, as there are only 2 CPUs available"#
        );
        assert!(cpus_with("0", 2).is_err());
        assert!(cpus_with("2.5", 2).is_err());
        assert!(cpus_with("99999999999999999999", 2).is_err());
        assert!(msg(cpus_with("abc", 2)).contains("failed to parse abc as a rational number"));
        assert!(msg(cpus_with("0.0000000001", 2)).contains("too precise"));
        assert!(cpus("1").is_ok(), "this host has at least one CPU");
    }

    #[test]
    fn cpu_shares_cpuset_and_pids() {
        assert_eq!(cpu_shares("512").unwrap(), 512);
        assert!(cpu_shares("-2").is_err());
        assert!(cpu_shares("x").is_err());
        assert_eq!(cpu_list("0-2,4").unwrap(), vec![0, 1, 2, 4]);
        assert!(cpu_list("2-0").is_none());
        assert!(cpu_list("a").is_none());
        assert!(cpu_list("").is_none());
        assert_eq!(cpuset_with("0-1", &[0, 1]).unwrap(), "0-1");
        assert!(msg(cpuset_with("0,x", &[0, 1])).contains("invalid value 0,x for cpuset cpus"));
        assert!(msg(cpuset_with("0-3", &[0, 1])).contains("not available"));
        assert!(cpuset("0").is_ok());
        assert_eq!(pids_limit("100").unwrap(), 100);
        assert_eq!(pids_limit("-1").unwrap(), -1);
        assert_eq!(pids_limit("0").unwrap(), 0);
        assert!(pids_limit("-2").is_err());
        assert!(pids_limit("ten").is_err());
    }

    #[test]
    fn ulimits() {
        let u = ulimit("nofile=1024:2048").unwrap();
        assert_eq!((u.name.as_str(), u.soft, u.hard), ("nofile", 1024, 2048));
        let u = ulimit("nproc=64").unwrap();
        assert_eq!((u.soft, u.hard), (64, 64));
        let u = ulimit("memlock=-1:-1").unwrap();
        assert_eq!((u.soft, u.hard), (u64::MAX, u64::MAX));
        assert!(msg(ulimit("nofile")).contains("invalid ulimit argument: nofile"));
        assert!(msg(ulimit("nofiles=1")).contains("invalid ulimit type: nofiles"));
        assert!(msg(ulimit("nofile=2:1"))
            .contains("ulimit soft limit must be less than or equal to hard limit: 2 > 1"));
        assert!(ulimit("nofile=a").is_err());
        assert!(ulimit("nofile=1:").is_err());
    }

    #[test]
    fn restart_policies() {
        assert_eq!(restart("no").unwrap(), RestartPolicy::No);
        assert_eq!(restart("always").unwrap(), RestartPolicy::Always);
        assert_eq!(
            restart("unless-stopped").unwrap(),
            RestartPolicy::UnlessStopped
        );
        assert_eq!(restart("on-failure").unwrap(), RestartPolicy::OnFailure(0));
        assert_eq!(
            restart("on-failure:3").unwrap(),
            RestartPolicy::OnFailure(3)
        );
        assert_eq!(
            msg(restart("sometimes")),
            "invalid argument \"sometimes\" for \"--restart\": invalid restart policy: unknown \
             policy 'sometimes'; use one of 'no', 'always', 'on-failure', or 'unless-stopped'"
        );
        assert!(msg(restart("always:3")).contains("maximum retry count cannot be used"));
        assert!(restart("on-failure:x").is_err());
        assert!(restart("on-failure:-1").is_err());
    }

    #[test]
    fn security_opts() {
        assert_eq!(
            security_opt("seccomp=unconfined").unwrap(),
            SecurityOpt::Seccomp(Seccomp::Unconfined)
        );
        assert_eq!(
            security_opt("no-new-privileges").unwrap(),
            SecurityOpt::NoNewPrivileges(true)
        );
        assert_eq!(
            security_opt("no-new-privileges=true").unwrap(),
            SecurityOpt::NoNewPrivileges(true)
        );
        assert_eq!(
            security_opt("no-new-privileges:false").unwrap(),
            SecurityOpt::NoNewPrivileges(false)
        );
        let f = tempfile::NamedTempFile::new().unwrap();
        let s = format!("seccomp={}", f.path().display());
        assert_eq!(
            security_opt(&s).unwrap(),
            SecurityOpt::Seccomp(Seccomp::Profile(f.path().to_path_buf()))
        );
        assert!(
            msg(security_opt("seccomp=/nonexistent/p.json")).contains("opening seccomp profile")
        );
        assert!(msg(security_opt("apparmor")).contains("Invalid --security-opt"));
        assert!(security_opt("no-new-privileges=maybe").is_err());
    }

    #[test]
    fn capabilities_are_normalized_and_checked_against_the_kernel() {
        assert_eq!(
            capability("--cap-add", "net_admin").unwrap(),
            "CAP_NET_ADMIN"
        );
        assert_eq!(
            capability("--cap-add", "CAP_SYS_ADMIN").unwrap(),
            "CAP_SYS_ADMIN"
        );
        assert_eq!(capability("--cap-drop", "all").unwrap(), "ALL");
        assert_eq!(
            msg(capability("--cap-add", "foo")),
            r#"invalid argument "foo" for "--cap-add": unknown capability: "CAP_FOO""#
        );
        assert!(kernel_capabilities().len() >= 38);
        assert_eq!(CAPABILITIES[21], "CAP_SYS_ADMIN");
        assert_eq!(CAPABILITIES[40], "CAP_CHECKPOINT_RESTORE");
    }

    #[test]
    fn userns_private_range_from_subid_files_or_the_default() {
        let d = tempfile::tempdir().unwrap();
        assert_eq!(userns_in("host", d.path()).unwrap(), Userns::Host);
        assert_eq!(
            userns_in("private", d.path()).unwrap(),
            Userns::Private {
                host_id: 1_000_000_000,
                size: 65536
            }
        );
        std::fs::write(
            d.path().join("subuid"),
            "alice:100000:65536\nberth:200000:65536\n",
        )
        .unwrap();
        std::fs::write(d.path().join("subgid"), "berth:200000:65536\n").unwrap();
        assert_eq!(
            userns_in("private", d.path()).unwrap(),
            Userns::Private {
                host_id: 200000,
                size: 65536
            }
        );
        std::fs::write(d.path().join("subgid"), "berth:300000:65536\n").unwrap();
        assert!(msg(userns_in("private", d.path())).contains("differ"));
        assert!(userns_in("auto", d.path()).is_err());
    }

    #[test]
    fn networks() {
        assert_eq!(network("none").unwrap(), Network::None);
        assert_eq!(network("host").unwrap(), Network::Host);
        assert_eq!(network("bridge").unwrap(), Network::Named("bridge".into()));
        assert_eq!(network("mynet").unwrap(), Network::Named("mynet".into()));
        assert_eq!(
            network("container:web").unwrap(),
            Network::Container("web".into())
        );
        assert_eq!(
            network("/run/netns/x").unwrap(),
            Network::Path("/run/netns/x".into())
        );
        assert!(network("container:").is_err());
        assert!(network("bad name").is_err());
    }

    #[test]
    fn log_driver_and_opts() {
        assert_eq!(log_driver("json-file").unwrap(), LogDriver::JsonFile);
        assert_eq!(log_driver("none").unwrap(), LogDriver::None);
        assert!(msg(log_driver("syslog")).contains("plugin \"syslog\" not found"));
        let mut l = LogConfig::default();
        log_opt(&mut l, "max-size=10m").unwrap();
        log_opt(&mut l, "max-file=3").unwrap();
        assert_eq!((l.max_size, l.max_file), (Some(10 << 20), Some(3)));
        assert!(msg(log_opt(&mut l, "max-file=0")).contains("max-file cannot be less than 1"));
        assert!(log_opt(&mut l, "max-size=10x").is_err());
        assert!(msg(log_opt(&mut l, "mode=blocking")).contains("unknown log opt 'mode'"));
        assert!(log_opt(&mut l, "max-size").is_err());
        let mut none = LogConfig {
            driver: LogDriver::None,
            ..Default::default()
        };
        assert!(log_opt(&mut none, "max-size=1m").is_err());
    }

    #[test]
    fn pull_policies() {
        assert_eq!(pull("missing").unwrap(), PullPolicy::Missing);
        assert_eq!(pull("always").unwrap(), PullPolicy::Always);
        assert_eq!(pull("never").unwrap(), PullPolicy::Never);
        assert!(msg(pull("sometimes")).contains("invalid pull option: 'sometimes'"));
    }

    #[test]
    fn stop_signals_by_name_and_number() {
        assert_eq!(signal_number("SIGTERM"), Some(15));
        assert_eq!(signal_number("term"), Some(15));
        assert_eq!(signal_number("KILL"), Some(9));
        assert_eq!(signal_number("9"), Some(9));
        assert_eq!(signal_number("SIGRTMIN+3"), Some(libc::SIGRTMIN() + 3));
        assert_eq!(signal_number("RTMAX"), Some(libc::SIGRTMAX()));
        assert_eq!(signal_number("0"), None);
        assert_eq!(signal_number("65"), None);
        assert_eq!(signal_number("SIGFOO"), None);
        assert_eq!(stop_signal("SIGUSR1").unwrap(), "SIGUSR1");
        assert!(msg(stop_signal("FOO")).contains("Invalid signal: FOO"));
    }

    #[test]
    fn env_file_lines_as_the_docker_cli_reads_them() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("env");
        std::fs::write(
            &p,
            "# comment\n\n  A=1\nB= spaced value \nC=\"quoted\"\nD=x=y\nBERTH_TEST_UNSET_VAR\nBERTH_TEST_SET_VAR\n",
        )
        .unwrap();
        let lookup = |k: &str| (k == "BERTH_TEST_SET_VAR").then(|| "from-env".to_string());
        let got = key_value_file("--env-file", &p, &lookup).unwrap();
        assert_eq!(
            got,
            vec![
                "A=1",
                "B= spaced value ",
                "C=\"quoted\"",
                "D=x=y",
                "BERTH_TEST_SET_VAR=from-env"
            ]
        );
        std::fs::write(&p, "BAD KEY=1\n").unwrap();
        assert!(msg(env_file(&p, &|_| None)).contains("variable 'BAD KEY' contains whitespaces"));
        std::fs::write(&p, "=1\n").unwrap();
        assert!(msg(env_file(&p, &|_| None)).contains("no variable name"));
        std::fs::write(&p, b"A=\xff\n").unwrap();
        assert!(msg(env_file(&p, &|_| None)).contains("invalid utf8"));
        assert!(env_file(&d.path().join("missing"), &|_| None).is_err());
    }

    #[test]
    fn env_and_labels() {
        let none = |_: &str| None;
        assert_eq!(env("A=1", &none).unwrap(), Some("A=1".into()));
        assert_eq!(env("A=", &none).unwrap(), Some("A=".into()));
        assert_eq!(env("B", &none).unwrap(), None);
        let client = |k: &str| (k == "B").then(|| "from-client".to_string());
        assert_eq!(env("B", &client).unwrap(), Some("B=from-client".into()));
        assert!(env("=x", &none).is_err());
        assert_eq!(label("a=b").unwrap(), ("a".into(), "b".into()));
        assert_eq!(label("a").unwrap(), ("a".into(), "".into()));
        assert!(label("=b").is_err());
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("labels");
        std::fs::write(&p, "# x\ncom.example=1\nflag\n").unwrap();
        let m = label_file(&p).unwrap();
        assert_eq!(m.get("com.example").map(String::as_str), Some("1"));
        assert_eq!(m.get("flag").map(String::as_str), Some(""));
    }
}
