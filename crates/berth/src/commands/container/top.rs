//! `top CONTAINER [ps OPTIONS]`: the host's `ps` (default `-ef`), its lines kept when their
//! PID column names a process of the container's cgroup, as docker does.

use super::{engine, fail, Failure};
use crate::cli::TopArgs;
use crate::env::Env;

/// Keep the header and the lines whose PID is in `pids`; split as docker splits them
/// (the last column keeps its spaces).
pub fn filter_ps(out: &str, pids: &[i32]) -> Result<Vec<Vec<String>>, String> {
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
        .ok_or("Couldn't find PID field in ps output")?;
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
            .ok_or_else(|| format!("Unexpected pid {:?}", f.get(col)))?;
        if pids.contains(&pid) {
            rows.push(f);
        }
    }
    Ok(rows)
}

/// Docker's top table: tabwriter with minimum width 20 and padding 3.
fn print(rows: &[Vec<String>]) {
    let cols = rows.first().map_or(0, Vec::len);
    let mut w = vec![20usize; cols];
    for r in rows {
        for (i, c) in r.iter().enumerate().take(cols.saturating_sub(1)) {
            w[i] = w[i].max(c.chars().count() + 3);
        }
    }
    for r in rows {
        let mut line = String::new();
        for (i, c) in r.iter().enumerate() {
            line.push_str(c);
            if i + 1 < r.len() {
                line.push_str(&" ".repeat(w[i].saturating_sub(c.chars().count())));
            }
        }
        println!("{line}");
    }
}

pub fn top(env: &Env, a: &TopArgs) -> Result<i32, Failure> {
    let e = engine(env)?;
    let r = e.running(a.container())?;
    let pids = e.top_pids(&r)?;
    let args = if a.ps_args().is_empty() {
        vec!["-ef".to_string()]
    } else {
        a.ps_args().to_vec()
    };
    let out = std::process::Command::new("ps")
        .args(&args)
        .output()
        .map_err(|e| fail(format!("ps: {e}")))?;
    if !out.status.success() {
        return Err(fail(format!(
            "ps: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    let rows = filter_ps(&String::from_utf8_lossy(&out.stdout), &pids).map_err(fail)?;
    print(&rows);
    Ok(0)
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
            .contains("Couldn't find PID field"));
    }
}
