//! `berth logs` of real containers: streams kept apart, --tail, -t, --since/--until, -f until
//! the exit, rotation by --log-opt max-size/max-file, and the errors docker gives.

mod container_support;
use container_support::*;
use std::process::{Command, Stdio};

fn run_d(root: &Root, args: &[&str]) -> String {
    let mut all = vec!["run", "-d"];
    all.extend_from_slice(args);
    root.ok(&all).trim().to_string()
}

fn wait_exit(root: &Root, id: &str) {
    root.ok(&["wait", id]);
}

#[test]
fn logs_keep_stdout_and_stderr_apart_and_accept_names_and_prefixes() {
    let root = Root::new();
    let id = run_d(
        &root,
        &[
            "--name",
            "talker",
            IMAGE,
            "sh",
            "-c",
            "echo out1; echo err1 >&2; echo out2",
        ],
    );
    wait_exit(&root, &id);
    for who in ["talker", &id[..10], id.as_str()] {
        let o = root.berth(&["logs", who]);
        assert_eq!(ok(&o), "out1\nout2\n");
        assert_eq!(stderr(&o), "err1\n");
    }
    let o = root.berth(&["logs", "no-such-thing"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("No such container: no-such-thing"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn tail_timestamps_since_and_until() {
    let root = Root::new();
    let id = run_d(
        &root,
        // Apart in time, so each line has its own timestamp.
        &[
            IMAGE,
            "sh",
            "-c",
            "for i in 1 2 3 4 5; do echo line$i; sleep 0.01; done",
        ],
    );
    wait_exit(&root, &id);
    assert_eq!(root.ok(&["logs", "--tail", "2", &id]), "line4\nline5\n");
    assert_eq!(root.ok(&["logs", "-n", "0", &id]), "");
    assert_eq!(root.ok(&["logs", "--tail", "all", &id]).lines().count(), 5);
    let stamped = root.ok(&["logs", "-t", "--tail", "1", &id]);
    let (time, text) = stamped.split_once(' ').unwrap();
    assert_eq!(text, "line5\n");
    assert_eq!(time.len(), 30, "{time}");
    assert!(time.ends_with('Z') && time.as_bytes()[10] == b'T');
    // Everything was written before now, nothing in the last hour's future.
    assert_eq!(root.ok(&["logs", "--since", "1h", &id]).lines().count(), 5);
    assert_eq!(root.ok(&["logs", "--until", "1h", &id]), "");
    assert_eq!(root.ok(&["logs", "--since", time, &id]), "line5\n");
    assert_eq!(root.ok(&["logs", "--until", time, &id]).lines().count(), 5);
    let o = root.berth(&["logs", "--since", "yesterday", &id]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("--since"), "{}", stderr(&o));
}

#[test]
fn follow_streams_until_the_container_exits() {
    let root = Root::new();
    let id = run_d(
        &root,
        &[
            IMAGE,
            "sh",
            "-c",
            "for i in 1 2 3 4 5 6 7 8; do echo tick$i; sleep 0.1; done; echo done >&2",
        ],
    );
    let o = root.berth(&["logs", "-f", &id]);
    let expected: String = (1..=8).map(|i| format!("tick{i}\n")).collect();
    assert_eq!(ok(&o), expected);
    assert_eq!(stderr(&o), "done\n");
}

#[test]
fn follow_of_an_exited_container_returns_at_once() {
    let root = Root::new();
    let id = run_d(&root, &[IMAGE, "echo", "bye"]);
    wait_exit(&root, &id);
    let child = Command::new(BERTH)
        .args(["--root", root.path().to_str().unwrap(), "logs", "-f", &id])
        .stdout(Stdio::piped())
        .envs(monitor_dir_for_path().map(|d| {
            (
                "PATH",
                format!(
                    "{}:{}",
                    d.display(),
                    std::env::var("PATH").unwrap_or_default()
                ),
            )
        }))
        .spawn()
        .unwrap();
    let o = child.wait_with_output().unwrap();
    assert_eq!(String::from_utf8_lossy(&o.stdout), "bye\n");
}

#[test]
fn rotation_keeps_max_file_files_and_logs_reads_them_in_order() {
    let root = Root::new();
    let id = run_d(
        &root,
        &[
            "--log-opt",
            "max-size=1k",
            "--log-opt",
            "max-file=3",
            IMAGE,
            "sh",
            "-c",
            "i=0; while [ $i -lt 300 ]; do echo line$i; i=$((i+1)); done",
        ],
    );
    wait_exit(&root, &id);
    let dir = root.path().join("containers").join(&id);
    let files: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.contains("-json.log"))
        .collect();
    assert_eq!(files.len(), 3, "{files:?}");
    let out = root.ok(&["logs", &id]);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(*lines.last().unwrap(), "line299");
    let first: usize = lines[0][4..].parse().unwrap();
    assert!(first > 0, "rotation dropped nothing?");
    let expected: Vec<String> = (first..300).map(|i| format!("line{i}")).collect();
    assert_eq!(lines, expected);
}

#[test]
fn logs_of_a_container_without_a_log_is_an_error() {
    let root = Root::new();
    let id = run_d(&root, &["--log-driver", "none", IMAGE, "echo", "x"]);
    wait_exit(&root, &id);
    let o = root.berth(&["logs", &id]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("does not support reading"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn a_reader_that_goes_away_ends_logs_quietly() {
    let root = Root::new();
    let id = run_d(
        &root,
        &[
            IMAGE,
            "sh",
            "-c",
            "i=0; while [ $i -lt 5000 ]; do echo line$i; i=$((i+1)); done",
        ],
    );
    wait_exit(&root, &id);
    let out = Command::new("/bin/sh")
        .arg("-c")
        .arg(format!(
            "{BERTH} --root {} logs {id} | head -1",
            root.path().display()
        ))
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).lines().next(),
        Some("line0")
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "",
        "no error for a closed pipe"
    );
}

#[test]
fn follow_with_until_in_the_past_ends_without_the_exit() {
    let root = Root::new();
    let id = run_d(&root, &[IMAGE, "sh", "-c", "echo first; sleep 1000"]);
    let log = root.path().join(format!("containers/{id}/{id}-json.log"));
    eventually("the first line", || {
        std::fs::read_to_string(&log)
            .unwrap_or_default()
            .contains("first")
    });
    assert_eq!(
        root.ok(&["logs", "-f", "--until", "2000-01-01T00:00:00Z", &id]),
        ""
    );
    assert_eq!(root.ok(&["logs", "-f", "--until", "0s", &id]), "first\n");
    root.ok(&["rm", "-f", &id]);
}

/// As docker's: `logs -f` of a container with a restart policy goes on across its restarts
/// and returns once no restart is coming.
#[test]
fn follow_goes_on_across_restarts_until_the_last_exit() {
    let root = Root::new();
    let gate = tempfile::tempdir().unwrap();
    let bind = format!("{}:/gate", gate.path().display());
    // The first run waits for the gate, so that `logs -f` starts while it runs.
    let id = run_d(
        &root,
        &[
            "--restart",
            "on-failure:2",
            "-v",
            &bind,
            IMAGE,
            "sh",
            "-c",
            "echo run; while [ ! -e /gate/open ]; do sleep 0.05; done; exit 1",
        ],
    );
    let mut child = Command::new(BERTH)
        .args(["--root", root.path().to_str().unwrap(), "logs", "-f", &id])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = std::io::BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    std::io::BufRead::read_line(&mut out, &mut first).unwrap();
    assert_eq!(first, "run\n");
    // `logs -f` follows the first run now: let it and the restarts end.
    std::fs::write(gate.path().join("open"), "").unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut rest = String::new();
        std::io::Read::read_to_string(&mut out, &mut rest).unwrap();
        let _ = tx.send((rest, child.wait().unwrap()));
    });
    let (rest, status) = rx
        .recv_timeout(std::time::Duration::from_secs(60))
        .expect("logs -f did not return after the last restart");
    assert!(status.success());
    assert_eq!(rest, "run\nrun\n");
    let v: serde_json::Value = serde_json::from_str(&root.ok(&["inspect", &id])).unwrap();
    assert_eq!(v[0]["RestartCount"], 2);
    assert_eq!(v[0]["State"]["Status"], "exited");
}

/// Write a json-file log of about `bytes` straight into container `id`'s log file(s):
/// `files` files, the newest last (`-json.log.N` ... `.1`, then `-json.log`); every tenth
/// line on stderr. Returns the number of lines.
fn write_big_log(root: &Root, id: &str, bytes: u64, files: u32) -> u64 {
    use std::io::Write;
    let dir = root.path().join("containers").join(id);
    let pad = "x".repeat(80);
    let per_file = bytes / files as u64;
    let mut n = 0u64;
    for k in (0..files).rev() {
        let name = match k {
            0 => format!("{id}-json.log"),
            k => format!("{id}-json.log.{k}"),
        };
        let f = std::fs::File::create(dir.join(name)).unwrap();
        let mut w = std::io::BufWriter::with_capacity(1 << 20, f);
        let mut written = 0u64;
        while written < per_file {
            let stream = if n % 10 == 9 { "stderr" } else { "stdout" };
            let line = format!(
                "{{\"log\":\"line{n} {pad}\\n\",\"stream\":\"{stream}\",\"time\":\"2026-01-01T00:00:00.{:09}Z\"}}\n",
                n % 1_000_000_000
            );
            w.write_all(line.as_bytes()).unwrap();
            written += line.len() as u64;
            n += 1;
        }
        w.flush().unwrap();
    }
    n
}

/// Run `berth ARGS`, read at most `lines` lines of its stdout (all with None) and close the
/// pipe; returns (the lines read, the process's peak RSS in KiB) from wait4 of that child.
fn logs_with_peak_rss(root: &Root, args: &[&str], lines: Option<usize>) -> (Vec<String>, i64) {
    use std::io::BufRead;
    // Reaped by wait4 below, which also gives its peak RSS (std's wait does not).
    #[allow(clippy::zombie_processes)]
    let mut child = berth_command()
        .arg("--root")
        .arg(root.path())
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut out = Vec::new();
    {
        let mut r = std::io::BufReader::new(child.stdout.take().unwrap());
        let mut line = String::new();
        while !matches!(lines, Some(n) if out.len() >= n) {
            line.clear();
            if r.read_line(&mut line).unwrap() == 0 {
                break;
            }
            out.push(line.trim_end().to_string());
        }
        // Dropped here: the reader goes away, as `| head -N` does.
    }
    let mut status = 0;
    // SAFETY: rusage is plain data that wait4 fills.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: waits for our own child, writing into the two locals.
    let pid = unsafe { libc::wait4(child.id() as i32, &mut status, 0, &mut usage) };
    assert_eq!(pid, child.id() as i32);
    (out, usage.ru_maxrss)
}

#[test]
fn a_large_log_is_streamed_with_bounded_memory() {
    let root = Root::new();
    let id = root
        .ok(&["create", "--network", "none", IMAGE, "true"])
        .trim()
        .to_string();
    let total = write_big_log(&root, &id, 120 << 20, 1);
    // What a berth command needs anyway, for comparison.
    let (_, base) = logs_with_peak_rss(&root, &["ps", "-a"], None);
    let limit = base + 30 * 1024;

    let (first, rss) = logs_with_peak_rss(&root, &["logs", &id], Some(1));
    assert!(first[0].starts_with("line0 "), "{first:?}");
    assert!(
        rss < limit,
        "logs | head -1 peaked at {rss} KiB (ps: {base} KiB)"
    );

    let (last, rss) = logs_with_peak_rss(&root, &["logs", "--tail", "5", &id], None);
    let want: Vec<String> = (total - 5..total)
        .filter(|n| n % 10 != 9)
        .map(|n| format!("line{n} {}", "x".repeat(80)))
        .collect();
    assert_eq!(last, want);
    assert!(
        rss < limit,
        "logs --tail 5 peaked at {rss} KiB (ps: {base} KiB)"
    );

    let (all, rss) = logs_with_peak_rss(&root, &["logs", &id], None);
    assert_eq!(all.len() as u64, total - total / 10, "every stdout line");
    assert!(
        rss < limit,
        "logs of 120 MiB peaked at {rss} KiB (ps: {base} KiB)"
    );
}

#[test]
fn tail_reads_from_the_end_across_rotated_files() {
    let root = Root::new();
    let id = root
        .ok(&["create", "--network", "none", IMAGE, "true"])
        .trim()
        .to_string();
    let total = write_big_log(&root, &id, 3 << 20, 3);
    let per_file = total / 3;
    // More lines than the newest file holds: the tail starts in the one before.
    let n = per_file + 100;
    let out = root.ok(&["logs", "--tail", &n.to_string(), &id]);
    let got: Vec<u64> = out
        .lines()
        .map(|l| l[4..].split(' ').next().unwrap().parse().unwrap())
        .collect();
    let want: Vec<u64> = (total - n..total).filter(|k| k % 10 != 9).collect();
    assert_eq!(got.first(), want.first());
    assert_eq!(got, want);
    // With stderr: every line of the tail, in order per stream.
    let o = root.berth(&["logs", "--tail", "20", &id]);
    let err: Vec<u64> = stderr(&o)
        .lines()
        .map(|l| l[4..].split(' ').next().unwrap().parse().unwrap())
        .collect();
    let want: Vec<u64> = (total - 20..total).filter(|k| k % 10 == 9).collect();
    assert_eq!(err.len(), 2);
    assert_eq!(err, want);
}
