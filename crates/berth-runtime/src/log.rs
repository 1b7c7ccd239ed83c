//! Errors reported the way runc reports them: a logrus-style line on stderr, and the same
//! message in `--log` (text or JSON lines), which containerd's shim reads back on failure.

use crate::cli::Global;
use std::io::Write;
use std::sync::OnceLock;

struct Sink {
    path: Option<std::path::PathBuf>,
    json: bool,
    debug: bool,
}

static SINK: OnceLock<Sink> = OnceLock::new();

pub fn init(g: &Global) {
    let _ = SINK.set(Sink {
        path: g.log.clone(),
        json: g.log_format == "json",
        debug: g.debug,
    });
}

fn line(json: bool, level: &str, msg: &str) -> String {
    let time = berth_runtime::state::now_rfc3339();
    if json {
        format!(
            "{}\n",
            serde_json::json!({"level": level, "msg": msg, "time": time})
        )
    } else {
        format!("time=\"{time}\" level={level} msg={msg:?}\n")
    }
}

fn write(level: &str, msg: &str, to_stderr: bool) {
    let Some(s) = SINK.get() else { return };
    if let Some(p) = &s.path {
        if let Ok(mut f) = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(p)
        {
            let _ = f.write_all(line(s.json, level, msg).as_bytes());
        }
    }
    if to_stderr {
        let _ = std::io::stderr().write_all(line(false, level, msg).as_bytes());
    }
}

pub fn error(msg: &str) {
    write("error", msg, true);
}

pub fn debug(msg: &str) {
    if SINK.get().is_some_and(|s| s.debug) {
        write("debug", msg, true);
    }
}
