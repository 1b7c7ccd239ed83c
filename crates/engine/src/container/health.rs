//! Healthchecks as Docker runs them: the container's monitor runs the hidden
//! `container-health-check ID` at each interval; it runs the check's test in the container
//! (an exec, killed at the timeout) and records the result in `health.json`, Docker's
//! `State.Health` (status, failing streak, the last 5 results).

use super::exec::{become_subreaper, ExecOptions};
use super::Engine;
use crate::options::{Healthcheck, RunOptions};
use crate::store::{Row, State};
use crate::{Error, Result};
use serde::{Deserialize, Serialize};
use std::io::{Read, Seek, SeekFrom};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::time::{Duration, Instant};

/// The results of the running container's checks, next to its config.
pub const HEALTH_FILE: &str = "health.json";
/// Docker keeps this many results and this many bytes of each one's output.
const MAX_LOG: usize = 5;
const MAX_OUTPUT: usize = 4096;
const DEFAULT_INTERVAL: i64 = 30_000_000_000;
const DEFAULT_TIMEOUT: i64 = 30_000_000_000;
const DEFAULT_RETRIES: i64 = 3;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct HealthResult {
    pub start: String,
    pub end: String,
    pub exit_code: i64,
    pub output: String,
}

/// Docker's `State.Health`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Health {
    /// `starting`, `healthy` or `unhealthy`.
    pub status: String,
    pub failing_streak: i64,
    pub log: Vec<HealthResult>,
}

impl Default for Health {
    fn default() -> Self {
        Health {
            status: "starting".into(),
            failing_streak: 0,
            log: Vec::new(),
        }
    }
}

/// The check a container runs: its options' (the image's merged at create), unless it has
/// none or `NONE`.
pub fn check_of(o: &RunOptions) -> Option<&Healthcheck> {
    o.healthcheck
        .as_ref()
        .filter(|h| !h.test.is_empty() && h.test[0] != "NONE")
}

/// The check's interval, Docker's default when unset.
pub fn interval(h: &Healthcheck) -> Duration {
    Duration::from_nanos(if h.interval > 0 {
        h.interval
    } else {
        DEFAULT_INTERVAL
    } as u64)
}

/// The image's check under the flags': flags win field by field (a flag-only timing keeps
/// the image's test), `--no-healthcheck` (`NONE`) disables.
pub fn merge(flags: Option<&Healthcheck>, image: Option<&Healthcheck>) -> Option<Healthcheck> {
    let Some(image) = image else {
        return flags.cloned();
    };
    let Some(f) = flags else {
        return Some(image.clone());
    };
    let pick = |a: i64, b: i64| if a != 0 { a } else { b };
    Some(Healthcheck {
        test: if f.test.is_empty() {
            image.test.clone()
        } else {
            f.test.clone()
        },
        interval: pick(f.interval, image.interval),
        timeout: pick(f.timeout, image.timeout),
        start_period: pick(f.start_period, image.start_period),
        retries: pick(f.retries, image.retries),
    })
}

/// What `health.json` says; a container with a check and no result yet is `starting`.
pub fn read(e: &Engine, r: &Row) -> Option<Health> {
    read_with(e, r, &super::options_of(r))
}

/// [`read`], with the row's options already decoded.
pub fn read_with(e: &Engine, r: &Row, o: &crate::options::RunOptions) -> Option<Health> {
    check_of(o)?;
    let bytes = std::fs::read(e.dir(&r.id).join(HEALTH_FILE)).ok();
    Some(
        bytes
            .and_then(|b| serde_json::from_slice(&b).ok())
            .unwrap_or_default(),
    )
}

/// Forget the last run's results (each start begins `starting`, as Docker's).
pub fn reset(e: &Engine, id: &str) {
    let _ = std::fs::remove_file(e.dir(id).join(HEALTH_FILE));
}

/// One result applied to the state: Docker's rules (a failure inside the start period does
/// not count while the container has not been healthy yet).
pub fn record(h: &mut Health, check: &Healthcheck, result: HealthResult, in_start_period: bool) {
    let retries = if check.retries > 0 {
        check.retries
    } else {
        DEFAULT_RETRIES
    };
    if result.exit_code == 0 {
        h.status = "healthy".into();
        h.failing_streak = 0;
    } else if !(in_start_period && h.status == "starting") {
        h.failing_streak += 1;
        if h.failing_streak >= retries {
            h.status = "unhealthy".into();
        }
    }
    h.log.push(result);
    let extra = h.log.len().saturating_sub(MAX_LOG);
    h.log.drain(..extra);
}

/// The argv that runs a test in the container.
fn argv(test: &[String]) -> Option<Vec<String>> {
    match test.first()?.as_str() {
        "CMD" => Some(test[1..].to_vec()).filter(|a| !a.is_empty()),
        "CMD-SHELL" => Some(vec!["/bin/sh".into(), "-c".into(), test[1..].join(" ")]),
        _ => None,
    }
}

impl Engine {
    /// The hidden `container-health-check ID`, run by the monitor: one check, its result in
    /// `health.json`, a `health_status` event when the status changes. This process's stdio
    /// becomes the check's (to capture its output): the command is run for this alone.
    pub fn health_check(&self, id: &str) -> Result<()> {
        let r = self.find(id)?;
        let o = super::options_of(&r);
        let Some(check) = check_of(&o).cloned() else {
            return Ok(());
        };
        let cmd = argv(&check.test).ok_or_else(|| {
            Error::InvalidArgument(format!("unknown healthcheck test {:?}", check.test))
        })?;
        let timeout = Duration::from_nanos(if check.timeout > 0 {
            check.timeout
        } else {
            DEFAULT_TIMEOUT
        } as u64);
        let start = super::now();
        let (exit_code, output) = self.run_check(&r.id, cmd, timeout)?;
        let result = HealthResult {
            start,
            end: super::now(),
            exit_code,
            output,
        };
        let _lock = self.lock(&r.id)?;
        let r = self.reload(&r.id, id)?;
        if r.state != State::Running {
            return Ok(());
        }
        let started = berth_image::timestamp::parse_rfc3339(&r.started_at).unwrap_or(0);
        let in_start_period =
            (berth_image::timestamp::now() - started) * 1_000_000_000 < check.start_period;
        let mut h = read(self, &r).unwrap_or_default();
        let before = h.status.clone();
        record(&mut h, &check, result, in_start_period);
        let bytes = serde_json::to_vec(&h)
            .map_err(|e| Error::InvalidArgument(format!("health state: {e}")))?;
        super::create::write_atomic(&self.dir(&r.id).join(HEALTH_FILE), &bytes)?;
        if h.status != before {
            self.container_event(&r, &format!("health_status: {}", h.status), &[]);
        }
        Ok(())
    }

    /// Runs `cmd` in the container with its output in a memfd; killed at `timeout`
    /// (Docker's exit code -1 and message then). Returns (exit code, output).
    fn run_check(&self, id: &str, cmd: Vec<String>, timeout: Duration) -> Result<(i64, String)> {
        become_subreaper()?;
        let out = memfd()?;
        // SAFETY: dup2 onto our own stdout/stderr: this process exists to run the check.
        unsafe {
            libc::dup2(out.as_raw_fd(), 1);
            libc::dup2(out.as_raw_fd(), 2);
        }
        let opts = ExecOptions {
            cmd,
            ..Default::default()
        };
        let started = match self.exec(id, &opts) {
            Ok(s) => s,
            Err(Error::Exec { message, code }) => return Ok((code as i64, message)),
            Err(e) => return Err(e),
        };
        let code = match wait_until(started.pid, Instant::now() + timeout) {
            Some(code) => code as i64,
            None => {
                // SAFETY: a signal to the check's process, ours to wait for.
                unsafe { libc::kill(started.pid, libc::SIGKILL) };
                super::exec::wait_pid(started.pid);
                return Ok((
                    -1,
                    format!("Health check exceeded timeout ({})", go_string(timeout)),
                ));
            }
        };
        let mut f = std::fs::File::from(out);
        let mut buf = Vec::new();
        let _ = f.seek(SeekFrom::Start(0));
        let _ = f.take(MAX_OUTPUT as u64).read_to_end(&mut buf);
        Ok((code, String::from_utf8_lossy(&buf).into_owned()))
    }
}

/// A duration as Go prints the usual ones: `30s`, `1.5s`, `300ms`.
fn go_string(d: Duration) -> String {
    if d.as_millis() < 1000 {
        format!("{}ms", d.as_millis())
    } else {
        format!("{}s", d.as_secs_f64())
    }
}

fn memfd() -> Result<OwnedFd> {
    // SAFETY: a NUL-terminated name; the fd returned is wrapped once.
    let fd = unsafe { libc::memfd_create(c"health-output".as_ptr(), libc::MFD_CLOEXEC) };
    if fd < 0 {
        return Err(Error::io(
            "memfd_create",
            "",
            std::io::Error::last_os_error(),
        ));
    }
    // SAFETY: a new fd, owned here alone.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// Waits for `pid` until `deadline`: its status as a shell gives it, or None at the
/// deadline. Only `pid` is waited for: no other child's status is taken from its owner.
fn wait_until(pid: i32, deadline: Instant) -> Option<i32> {
    loop {
        let mut status = 0;
        // SAFETY: waitpid writes the status into a local.
        let got = unsafe { libc::waitpid(pid, &mut status, libc::WNOHANG) };
        if got == pid {
            if libc::WIFEXITED(status) {
                return Some(libc::WEXITSTATUS(status));
            }
            if libc::WIFSIGNALED(status) {
                return Some(128 + libc::WTERMSIG(status));
            }
        }
        if got > 0 {
            continue;
        }
        if got < 0 && std::io::Error::last_os_error().raw_os_error() == Some(libc::ECHILD) {
            return Some(125);
        }
        if Instant::now() >= deadline {
            return None;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn result(code: i64) -> HealthResult {
        HealthResult {
            start: String::new(),
            end: String::new(),
            exit_code: code,
            output: String::new(),
        }
    }

    #[test]
    fn failures_count_to_unhealthy_and_a_success_heals() {
        let check = Healthcheck {
            test: vec!["CMD".into(), "true".into()],
            retries: 2,
            ..Default::default()
        };
        let mut h = Health::default();
        record(&mut h, &check, result(1), false);
        assert_eq!((h.status.as_str(), h.failing_streak), ("starting", 1));
        record(&mut h, &check, result(1), false);
        assert_eq!((h.status.as_str(), h.failing_streak), ("unhealthy", 2));
        for _ in 0..6 {
            record(&mut h, &check, result(1), false);
        }
        assert_eq!(h.log.len(), MAX_LOG);
        record(&mut h, &check, result(0), false);
        assert_eq!((h.status.as_str(), h.failing_streak), ("healthy", 0));
    }

    #[test]
    fn timeouts_print_as_go_durations() {
        assert_eq!(go_string(Duration::from_millis(300)), "300ms");
        assert_eq!(go_string(Duration::from_secs(30)), "30s");
        assert_eq!(go_string(Duration::from_millis(1500)), "1.5s");
    }

    #[test]
    fn failures_inside_the_start_period_do_not_count() {
        let check = Healthcheck {
            test: vec!["CMD".into(), "true".into()],
            retries: 1,
            ..Default::default()
        };
        let mut h = Health::default();
        record(&mut h, &check, result(1), true);
        assert_eq!((h.status.as_str(), h.failing_streak), ("starting", 0));
    }

    #[test]
    fn flags_win_over_the_image_field_by_field() {
        let image = Healthcheck {
            test: vec!["CMD-SHELL".into(), "true".into()],
            interval: 5,
            retries: 4,
            ..Default::default()
        };
        let flags = Healthcheck {
            interval: 7,
            ..Default::default()
        };
        let m = merge(Some(&flags), Some(&image)).unwrap();
        assert_eq!((m.test, m.interval, m.retries), (image.test.clone(), 7, 4));
        let none = Healthcheck {
            test: vec!["NONE".into()],
            ..Default::default()
        };
        let m = merge(Some(&none), Some(&image)).unwrap();
        assert!(check_of(&RunOptions {
            healthcheck: Some(m),
            ..Default::default()
        })
        .is_none());
    }
}
