//! The monitor's command line, as docs/engine-design.md sets it (a hand-written parser: an
//! argument crate would be most of the binary).

use std::os::fd::RawFd;
use std::path::PathBuf;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Restart {
    No,
    /// `on-failure[:N]`; 0 = no limit.
    OnFailure(u32),
    Always,
    UnlessStopped,
}

#[derive(Debug)]
pub struct Args {
    pub id: String,
    pub dir: PathBuf,
    pub pid: libc::pid_t,
    pub stdout_fd: RawFd,
    pub stderr_fd: RawFd,
    pub stdin_fd: Option<RawFd>,
    /// `monitor.sock`, already bound and listening (by the starting process, so that clients
    /// can connect as soon as the start returns); else the monitor binds it.
    pub listen_fd: Option<RawFd>,
    /// false for `--log-driver none`.
    pub log: bool,
    /// 0: no rotation.
    pub max_size: u64,
    pub max_file: u32,
    pub restart: Restart,
    pub auto_remove: bool,
    /// Run `berth container-cleanup ID` when the container ends for good (its network:
    /// published ports, addresses, names).
    pub cleanup: bool,
    /// An attach client is coming (`berth run` without -d, `start -a`): leave the output in
    /// the pipes until it attaches, so it sees all of it.
    pub wait_attach: bool,
    pub berth: PathBuf,
    pub root: PathBuf,
    /// The container has a healthcheck: run `berth container-health-check ID` this often
    /// while it runs.
    pub health_interval: Option<std::time::Duration>,
    /// `--exec`: the process watched is an exec in container `id`, not its init; `dir` is
    /// the exec's own dir. No watcher (nothing to repair when this monitor dies) and no
    /// container events.
    pub exec: bool,
}

pub fn parse(mut argv: impl Iterator<Item = String>) -> Result<Args, String> {
    let mut id = None;
    let mut dir = None;
    let mut pid = None;
    let mut stdout_fd = None;
    let mut stderr_fd = None;
    let mut stdin_fd = None;
    let mut listen_fd = None;
    let mut log = true;
    let mut max_size = 0u64;
    let mut max_file = 1u32;
    let mut restart = Restart::No;
    let mut auto_remove = false;
    let mut cleanup = false;
    let mut wait_attach = false;
    let mut berth = None;
    let mut root = None;
    let mut health_interval = None;
    let mut exec = false;
    while let Some(flag) = argv.next() {
        match flag.as_str() {
            "--auto-remove" => {
                auto_remove = true;
                continue;
            }
            "--cleanup" => {
                cleanup = true;
                continue;
            }
            "--wait-attach" => {
                wait_attach = true;
                continue;
            }
            "--exec" => {
                exec = true;
                continue;
            }
            _ => {}
        }
        let value = argv.next().ok_or_else(|| format!("{flag} needs a value"))?;
        let num = |v: &str| {
            v.parse::<i64>()
                .map_err(|_| format!("invalid value {v:?} for {flag}"))
        };
        match flag.as_str() {
            "--id" => id = Some(value),
            "--dir" => dir = Some(PathBuf::from(value)),
            "--pid" => pid = Some(num(&value)? as libc::pid_t),
            "--stdout-fd" => stdout_fd = Some(num(&value)? as RawFd),
            "--stderr-fd" => stderr_fd = Some(num(&value)? as RawFd),
            "--stdin-fd" => stdin_fd = Some(num(&value)? as RawFd),
            "--listen-fd" => listen_fd = Some(num(&value)? as RawFd),
            "--log-driver" => {
                log = match value.as_str() {
                    "json-file" => true,
                    "none" => false,
                    _ => return Err(format!("unsupported log driver {value:?}")),
                }
            }
            "--max-size" => max_size = num(&value)?.max(0) as u64,
            "--max-file" => max_file = num(&value)?.max(1) as u32,
            "--restart" => restart = parse_restart(&value)?,
            "--berth" => berth = Some(PathBuf::from(value)),
            "--root" => root = Some(PathBuf::from(value)),
            "--health-interval-ms" => {
                let ms = num(&value)?.max(1) as u64;
                health_interval = Some(std::time::Duration::from_millis(ms));
            }
            _ => return Err(format!("unknown flag {flag:?}")),
        }
    }
    let need = |what: &str| format!("{what} is required");
    Ok(Args {
        id: id.ok_or_else(|| need("--id"))?,
        dir: dir.ok_or_else(|| need("--dir"))?,
        pid: pid.ok_or_else(|| need("--pid"))?,
        stdout_fd: stdout_fd.ok_or_else(|| need("--stdout-fd"))?,
        stderr_fd: stderr_fd.ok_or_else(|| need("--stderr-fd"))?,
        stdin_fd,
        listen_fd,
        log,
        max_size,
        max_file,
        restart,
        auto_remove,
        cleanup,
        wait_attach,
        berth: berth.ok_or_else(|| need("--berth"))?,
        root: root.ok_or_else(|| need("--root"))?,
        health_interval,
        exec,
    })
}

pub fn parse_restart(v: &str) -> Result<Restart, String> {
    let (name, count) = match v.split_once(':') {
        Some((n, c)) => (n, Some(c)),
        None => (v, None),
    };
    match (name, count) {
        ("no", None) => Ok(Restart::No),
        ("always", None) => Ok(Restart::Always),
        ("unless-stopped", None) => Ok(Restart::UnlessStopped),
        ("on-failure", None) => Ok(Restart::OnFailure(0)),
        ("on-failure", Some(c)) => c
            .parse()
            .map(Restart::OnFailure)
            .map_err(|_| format!("invalid restart count {c:?}")),
        _ => Err(format!("invalid restart policy {v:?}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(extra: &[&str]) -> Result<Args, String> {
        let base = [
            "--id",
            "abc",
            "--dir",
            "/d",
            "--pid",
            "42",
            "--stdout-fd",
            "3",
            "--stderr-fd",
            "4",
            "--berth",
            "/b",
            "--root",
            "/r",
        ];
        parse(base.iter().chain(extra).map(|s| s.to_string()))
    }

    #[test]
    fn contract_arguments_parse() {
        let a = args(&[
            "--stdin-fd",
            "5",
            "--log-driver",
            "json-file",
            "--max-size",
            "1024",
            "--max-file",
            "3",
            "--restart",
            "on-failure:2",
            "--auto-remove",
            "--health-interval-ms",
            "250",
        ])
        .unwrap();
        assert_eq!(
            a.health_interval,
            Some(std::time::Duration::from_millis(250))
        );
        assert_eq!(
            (a.pid, a.stdout_fd, a.stderr_fd, a.stdin_fd),
            (42, 3, 4, Some(5))
        );
        assert_eq!((a.max_size, a.max_file), (1024, 3));
        assert_eq!(a.restart, Restart::OnFailure(2));
        assert!(a.auto_remove && a.log);
    }

    #[test]
    fn bad_arguments_are_refused() {
        assert!(args(&["--restart", "sometimes"]).is_err());
        assert!(args(&["--log-driver", "syslog"]).is_err());
        assert!(args(&["--bogus", "1"]).is_err());
        assert!(parse(["--id".to_string()].into_iter()).is_err());
    }
}
