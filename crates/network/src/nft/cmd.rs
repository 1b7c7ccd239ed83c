//! Running `nft`: one JSON batch in (`nft -j -f -`, applied atomically by the kernel), one
//! table's listing out (`nft -j list table ip NAME`).

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use serde_json::Value;

use crate::error::{Error, Result};

fn nft_binary() -> &'static str {
    // Berth may run with a PATH that lacks the sbin directories (sudo -E, systemd units).
    ["/usr/sbin/nft", "/sbin/nft", "/usr/bin/nft"]
        .into_iter()
        .find(|p| Path::new(p).exists())
        .unwrap_or("nft")
}

/// Applies `cmds` as one transaction: either all of them take effect or none.
pub fn apply(what: &str, cmds: Vec<Value>) -> Result<()> {
    if cmds.is_empty() {
        return Ok(());
    }
    let input = serde_json::json!({ "nftables": cmds }).to_string();
    let mut child = Command::new(nft_binary())
        .args(["-j", "-f", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| Error::io("run", "nft", e))?;
    let written = child
        .stdin
        .take()
        .expect("stdin is piped")
        .write_all(input.as_bytes());
    let out = child
        .wait_with_output()
        .map_err(|e| Error::io("wait for", "nft", e))?;
    if !out.status.success() {
        return Err(Error::Nft {
            what: what.to_string(),
            why: why(&out.stderr),
        });
    }
    written.map_err(|e| Error::io("write to", "nft", e))
}

/// The table's objects (`nftables` array of the listing), `None` when the table does not
/// exist.
pub fn list_table(table: &str) -> Result<Option<Vec<Value>>> {
    let out = Command::new(nft_binary())
        .args(["-j", "list", "table", "ip", table])
        .stdin(Stdio::null())
        .output()
        .map_err(|e| Error::io("run", "nft", e))?;
    if !out.status.success() {
        let why = why(&out.stderr);
        if why.contains("No such file or directory") {
            return Ok(None);
        }
        return Err(Error::Nft {
            what: format!("list table ip {table}"),
            why,
        });
    }
    let mut v: Value = serde_json::from_slice(&out.stdout).map_err(|e| Error::Nft {
        what: format!("list table ip {table}"),
        why: format!("unreadable JSON from nft: {e}"),
    })?;
    match v.get_mut("nftables").map(Value::take) {
        Some(Value::Array(items)) => Ok(Some(items)),
        _ => Err(Error::Nft {
            what: format!("list table ip {table}"),
            why: "no nftables array in nft's JSON".into(),
        }),
    }
}

/// nft's first error line, without its `Error: ` prefix (the lines after it repeat the
/// input with carets).
fn why(stderr: &[u8]) -> String {
    let text = String::from_utf8_lossy(stderr);
    let line = text
        .lines()
        .find(|l| l.starts_with("Error:"))
        .or_else(|| text.lines().find(|l| !l.trim().is_empty()))
        .unwrap_or("failed with no message");
    line.trim_start_matches("Error:").trim().to_string()
}
