//! OCI hooks: run with the container state on stdin, killed when their timeout passes.

use crate::error::{Error, Result};
use oci_spec::runtime::Hook;
use std::io::Write;
use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

pub fn run_all(kind: &str, hooks: Option<&Vec<Hook>>, state: &serde_json::Value) -> Result<()> {
    let Some(hooks) = hooks else { return Ok(()) };
    let input = serde_json::to_vec(state).map_err(|e| Error::Hook(format!("encode state: {e}")))?;
    for (i, h) in hooks.iter().enumerate() {
        run_one(h, &input)
            .map_err(|e| Error::Hook(format!("error running {kind} hook #{i}: {e}")))?;
    }
    Ok(())
}

/// poststart and poststop: a failing hook is only a warning, and the remaining hooks still
/// run (OCI runtime-spec, config.md "Lifecycle hooks").
pub fn run_all_warn(kind: &str, hooks: Option<&Vec<Hook>>, state: &serde_json::Value) {
    let Some(hooks) = hooks else { return };
    let input = serde_json::to_vec(state).unwrap_or_default();
    for (i, h) in hooks.iter().enumerate() {
        if let Err(e) = run_one(h, &input) {
            eprintln!("berth-runtime: warning: error running {kind} hook #{i}: {e}");
        }
    }
}

fn run_one(h: &Hook, input: &[u8]) -> std::result::Result<(), String> {
    let mut cmd = Command::new(h.path());
    let args = h.args().as_deref().unwrap_or(&[]);
    if let Some(a0) = args.first() {
        cmd.arg0(a0);
    }
    cmd.args(args.iter().skip(1));
    cmd.env_clear();
    for kv in h.env().as_deref().unwrap_or(&[]) {
        if let Some((k, v)) = kv.split_once('=') {
            cmd.env(k, v);
        }
    }
    cmd.stdin(Stdio::piped());
    let mut child = cmd
        .spawn()
        .map_err(|e| format!("{}: {e}", h.path().display()))?;
    if let Some(mut stdin) = child.stdin.take() {
        // A hook that does not read its stdin must not make us fail.
        let _ = stdin.write_all(input);
    }
    let deadline = h
        .timeout()
        .filter(|t| *t > 0)
        .map(|t| Instant::now() + Duration::from_secs(t as u64));
    if deadline.is_none() {
        // No timeout: just wait, no polling.
        return match child.wait() {
            Ok(st) if st.success() => Ok(()),
            Ok(st) => Err(format!("{}: {st}", h.path().display())),
            Err(e) => Err(e.to_string()),
        };
    }
    loop {
        match child.try_wait() {
            Ok(Some(st)) if st.success() => return Ok(()),
            Ok(Some(st)) => return Err(format!("{}: {st}", h.path().display())),
            Ok(None) => {}
            Err(e) => return Err(e.to_string()),
        }
        if deadline.is_some_and(|d| Instant::now() >= d) {
            let _ = child.kill();
            let _ = child.wait();
            return Err(format!(
                "{}: timed out after {}s",
                h.path().display(),
                h.timeout().unwrap_or(0)
            ));
        }
        std::thread::sleep(Duration::from_millis(2));
    }
}
