//! Helpers shared by the integration tests: unique cgroup names, child processes that wait
//! for a go signal on stdin, line reads with a timeout, cleanup guards.

#![allow(dead_code)]

use std::io::{Read, Write};
use std::os::fd::AsFd;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use berth_cgroups::{CgroupManager, Layout, Manager};
use nix::poll::{poll, PollFd, PollFlags};
use oci_spec::runtime::LinuxResources;

pub const UNIFIED: &str = "/sys/fs/cgroup/unified";

static COUNTER: AtomicUsize = AtomicUsize::new(0);

/// "/berth-test-<pid>-<tag>-<n>"
pub fn unique(tag: &str) -> PathBuf {
    let n = COUNTER.fetch_add(1, Ordering::SeqCst);
    PathBuf::from(format!("/berth-test-{}-{tag}-{n}", std::process::id()))
}

pub fn layout() -> Layout {
    Layout::detect().expect("detect layout")
}

/// True on legacy/hybrid hosts; v1 tests print why they do nothing elsewhere.
pub fn has_v1() -> bool {
    let v1 = layout() != Layout::Unified;
    if !v1 {
        eprintln!("host has no cgroup v1 hierarchies; test skipped");
    }
    v1
}

/// The cgroup2 mount to run v2 tests on: /sys/fs/cgroup/unified (hybrid) or /sys/fs/cgroup.
pub fn v2_root() -> PathBuf {
    match layout() {
        Layout::Unified => PathBuf::from("/sys/fs/cgroup"),
        _ => PathBuf::from(UNIFIED),
    }
}

pub fn resources(json: &str) -> LinuxResources {
    serde_json::from_str(json).expect("valid LinuxResources json")
}

pub fn read(p: impl AsRef<Path>) -> String {
    let p = p.as_ref();
    std::fs::read_to_string(p)
        .unwrap_or_else(|e| panic!("read {}: {e}", p.display()))
        .trim()
        .to_string()
}

/// Destroys the cgroup (killing what is left in it) when the test ends, pass or fail.
pub struct Cleanup<'a>(pub &'a Manager);

impl Drop for Cleanup<'_> {
    fn drop(&mut self) {
        let _ = self.0.freeze(berth_cgroups::FreezerState::Thawed);
        if let Ok(pids) = self.0.pids() {
            for p in pids {
                let _ = nix::sys::signal::kill(
                    nix::unistd::Pid::from_raw(p),
                    nix::sys::signal::Signal::SIGKILL,
                );
            }
        }
        let deadline = Instant::now() + Duration::from_secs(2);
        while self.0.destroy().is_err() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

/// A shell child that blocks on its first stdin line before running `script`, so it can be
/// moved into a cgroup first. Killed and reaped on drop.
pub struct Proc {
    pub child: Child,
    buf: Vec<u8>,
}

impl Proc {
    pub fn sh(script: &str) -> Proc {
        let child = Command::new("/bin/sh")
            .arg("-c")
            .arg(format!("read _go; {script}"))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn /bin/sh");
        Proc {
            child,
            buf: Vec::new(),
        }
    }

    pub fn pid(&self) -> i32 {
        self.child.id() as i32
    }

    /// Write a line to the child's stdin (the first one is the go signal).
    pub fn send(&mut self, line: &str) {
        let stdin = self.child.stdin.as_mut().expect("stdin");
        stdin
            .write_all(format!("{line}\n").as_bytes())
            .expect("write to child");
        stdin.flush().unwrap();
    }

    /// Next stdout line, or None if nothing arrives within `timeout`.
    pub fn line(&mut self, timeout: Duration) -> Option<String> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(i) = self.buf.iter().position(|b| *b == b'\n') {
                let line: Vec<u8> = self.buf.drain(..=i).collect();
                return Some(String::from_utf8_lossy(&line[..i]).into_owned());
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return None;
            }
            let out: &mut ChildStdout = self.child.stdout.as_mut().expect("stdout");
            let ms = left.as_millis().min(u16::MAX as u128) as u16;
            let ready = {
                let mut fds = [PollFd::new(out.as_fd(), PollFlags::POLLIN)];
                poll(&mut fds, ms).expect("poll")
            };
            if ready == 0 {
                continue;
            }
            let mut chunk = [0u8; 256];
            let n = out.read(&mut chunk).expect("read child stdout");
            if n == 0 {
                // EOF: return what is left, if anything.
                if self.buf.is_empty() {
                    return None;
                }
                let line = String::from_utf8_lossy(&self.buf).into_owned();
                self.buf.clear();
                return Some(line);
            }
            self.buf.extend_from_slice(&chunk[..n]);
        }
    }

    /// Wait for exit; returns (exit code, terminating signal) and stderr.
    pub fn wait(mut self) -> (Option<i32>, Option<i32>, String) {
        use std::os::unix::process::ExitStatusExt;
        drop(self.child.stdin.take());
        let status = self.child.wait().expect("wait");
        let mut err = String::new();
        if let Some(mut e) = self.child.stderr.take() {
            let _ = e.read_to_string(&mut err);
        }
        (status.code(), status.signal(), err)
    }

    /// Wait for exit at most `timeout`; None if still running.
    pub fn wait_timeout(&mut self, timeout: Duration) -> Option<std::process::ExitStatus> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(s) = self.child.try_wait().expect("try_wait") {
                return Some(s);
            }
            if Instant::now() >= deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
