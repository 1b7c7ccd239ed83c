//! Read-only commands: `state`, `list`, `ps`, `events`, and `spec`.

use super::Result;
use berth_runtime::state::Status;
use berth_runtime::Runtime;
use std::path::Path;

pub fn state(rt: &Runtime, id: &str) -> Result<i32> {
    let s = rt.load(id)?;
    let st = rt.status(&s);
    println!("{}", serde_json::to_string_pretty(&s.oci_json(st))?);
    Ok(0)
}

pub fn list(rt: &Runtime, format: &str, quiet: bool) -> Result<i32> {
    let all = rt.list();
    if quiet {
        for (s, _) in &all {
            println!("{}", s.id);
        }
    } else if format == "json" {
        let v: Vec<_> = all.iter().map(|(s, st)| s.oci_json(*st)).collect();
        println!("{}", serde_json::to_string(&v)?);
    } else {
        let rows: Vec<[String; 6]> = all
            .iter()
            .map(|(s, st)| {
                let pid = if *st == Status::Stopped { 0 } else { s.pid };
                [
                    s.id.clone(),
                    pid.to_string(),
                    st.to_string(),
                    s.bundle.display().to_string(),
                    s.created.clone(),
                    s.owner.clone(),
                ]
            })
            .collect();
        let head = ["ID", "PID", "STATUS", "BUNDLE", "CREATED", "OWNER"].map(String::from);
        let mut w = [0usize; 6];
        for r in std::iter::once(&head).chain(rows.iter()) {
            for (i, c) in r.iter().enumerate() {
                w[i] = w[i].max(c.len());
            }
        }
        for r in std::iter::once(&head).chain(rows.iter()) {
            let line: Vec<String> = r
                .iter()
                .enumerate()
                .map(|(i, c)| format!("{c:<width$}", width = w[i]))
                .collect();
            println!("{}", line.join("   ").trim_end());
        }
    }
    Ok(0)
}

pub fn ps(rt: &Runtime, id: &str, format: &str, ps_args: &[String]) -> Result<i32> {
    let pids = rt.pids(id)?;
    if format == "json" {
        println!("{}", serde_json::to_string(&pids)?);
        return Ok(0);
    }
    let args: Vec<String> = if ps_args.is_empty() {
        vec!["-ef".into()]
    } else {
        ps_args.to_vec()
    };
    let out = std::process::Command::new("ps")
        .args(&args)
        .output()
        .map_err(|e| format!("run ps: {e}"))?;
    let text = String::from_utf8_lossy(&out.stdout);
    let mut lines = text.lines();
    let header = lines.next().unwrap_or_default();
    let col = header
        .split_whitespace()
        .position(|h| h == "PID")
        .ok_or("ps output has no PID column")?;
    println!("{header}");
    for l in lines {
        if let Some(p) = l
            .split_whitespace()
            .nth(col)
            .and_then(|p| p.parse::<i32>().ok())
        {
            if pids.contains(&p) {
                println!("{l}");
            }
        }
    }
    Ok(0)
}

fn parse_interval(s: &str) -> Result<std::time::Duration> {
    let (num, unit) = s.split_at(
        s.find(|c: char| !c.is_ascii_digit() && c != '.')
            .unwrap_or(s.len()),
    );
    let n: f64 = num
        .parse()
        .map_err(|_| format!("invalid --interval {s:?}"))?;
    let secs = match unit {
        "ms" => n / 1000.0,
        "s" | "" => n,
        "m" => n * 60.0,
        _ => return Err(format!("invalid --interval {s:?}").into()),
    };
    Ok(std::time::Duration::from_secs_f64(secs))
}

pub fn events(rt: &Runtime, id: &str, stats_once: bool, interval: &str) -> Result<i32> {
    let every = parse_interval(interval)?;
    loop {
        let stats = rt.stats(id)?;
        println!(
            "{}",
            serde_json::json!({"type": "stats", "id": id, "data": stats})
        );
        if stats_once {
            return Ok(0);
        }
        std::thread::sleep(every);
    }
}

pub fn spec(bundle: &Path, rootless: bool) -> Result<i32> {
    let p = bundle.join("config.json");
    if p.exists() {
        return Err(format!("File {} exists. Remove it first", p.display()).into());
    }
    let data = serde_json::to_string_pretty(&berth_runtime::default_spec::spec(rootless))?;
    std::fs::write(&p, data + "\n").map_err(|e| format!("write {}: {e}", p.display()))?;
    Ok(0)
}
