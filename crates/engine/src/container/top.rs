//! `top`: a running container's processes (its cgroup) as the host's `ps` shows them, the
//! lines of other processes left out, as docker does; the CLI prints the table, the API
//! server sends it.

use super::{exit, Engine};
use crate::store::{Row, State};
use crate::{Error, Result};

impl Engine {
    /// The container `arg` names, which must be running (or paused).
    pub fn running(&self, arg: &str) -> Result<Row> {
        let mut r = self.find(arg)?;
        exit::refresh(self, &mut r)?;
        if !matches!(r.state, State::Running | State::Paused | State::Restarting) {
            return Err(Error::Conflict(format!(
                "container {} is not running",
                r.id
            )));
        }
        Ok(r)
    }

    /// Every process in the container's cgroup.
    pub fn top_pids(&self, r: &Row) -> Result<Vec<i32>> {
        let mut pids = self.runtime_for(r).pids(&r.id)?;
        pids.sort_unstable();
        Ok(pids)
    }
}

/// `top`'s answer, as the API's `ContainerTopResponse`.
#[derive(Debug, Clone, serde::Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Top {
    pub titles: Vec<String>,
    pub processes: Vec<Vec<String>>,
}

impl Engine {
    /// `ps ARGS` (default `-ef`) of the running container `arg`'s processes.
    pub fn top(&self, arg: &str, ps_args: &[String]) -> Result<Top> {
        let r = self.running(arg)?;
        let pids = self.top_pids(&r)?;
        let args = if ps_args.is_empty() {
            vec!["-ef".to_string()]
        } else {
            ps_args.to_vec()
        };
        let out = std::process::Command::new("ps")
            .args(&args)
            .output()
            .map_err(|e| Error::io("run", "ps", e))?;
        if !out.status.success() {
            return Err(Error::InvalidArgument(format!(
                "ps: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            )));
        }
        let mut rows = filter_ps(&String::from_utf8_lossy(&out.stdout), &pids)?;
        let titles = if rows.is_empty() {
            Vec::new()
        } else {
            rows.remove(0)
        };
        Ok(Top {
            titles,
            processes: rows,
        })
    }
}

/// Keeps the header and the lines whose PID is in `pids`; split as docker splits them (the
/// last column keeps its spaces).
pub fn filter_ps(out: &str, pids: &[i32]) -> Result<Vec<Vec<String>>> {
    let mut lines = out.lines();
    let header: Vec<String> = lines
        .next()
        .unwrap_or("")
        .split_whitespace()
        .map(str::to_string)
        .collect();
    let col = header
        .iter()
        .position(|h| h == "PID")
        .ok_or_else(|| Error::InvalidArgument("Couldn't find PID field in ps output".into()))?;
    let mut rows = vec![header.clone()];
    for l in lines {
        if l.trim().is_empty() {
            continue;
        }
        let mut f: Vec<String> = Vec::new();
        let mut rest = l.trim_start();
        while f.len() + 1 < header.len() {
            let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
            f.push(rest[..end].to_string());
            rest = rest[end..].trim_start();
        }
        f.push(rest.to_string());
        let pid: i32 = f
            .get(col)
            .and_then(|p| p.parse().ok())
            .ok_or_else(|| Error::InvalidArgument(format!("Unexpected pid {:?}", f.get(col))))?;
        if pids.contains(&pid) {
            rows.push(f);
        }
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::filter_ps;

    #[test]
    fn keeps_the_containers_lines_and_the_command_whole() {
        let out = "UID PID PPID CMD\nroot 1 0 /sbin/init\nroot 42 1 sleep 100 now\n";
        let rows = filter_ps(out, &[42]).unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[1], ["root", "42", "1", "sleep 100 now"]);
    }

    #[test]
    fn no_pid_column_is_docker_error() {
        assert!(filter_ps("UID CMD\nroot x\n", &[1])
            .unwrap_err()
            .to_string()
            .contains("Couldn't find PID field"));
    }
}
