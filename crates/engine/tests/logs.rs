//! `berth logs` over json-file logs as berth-monitor writes them: the current file and its
//! rotated ones, tail, since/until, timestamps, and follow across a rotation until exit.json.

use berth_engine::logs::{self, LogOptions};
use std::io::Write;
use std::path::Path;

const ID: &str = "c0ffee";
const S: i128 = 1_000_000_000;
/// 2026-11-28T00:00:00Z
const T0: i128 = 1_795_824_000 * S;

fn line(stream: &str, text: &str, t: i128) -> String {
    format!(
        "{}\n",
        serde_json::json!({"log": text, "stream": stream, "time": logs::format_rfc3339_nanos(t)})
    )
}

/// Entries 0..n, one second apart, "out i" on stdout and every third "err i" on stderr,
/// spread over `<id>-json.log.2` (oldest), `.1`, and the current file.
fn write_rotated(dir: &Path, n: usize) {
    let base = dir.join(format!("{ID}-json.log"));
    let names = [
        format!("{}.2", base.display()),
        format!("{}.1", base.display()),
        base.display().to_string(),
    ];
    for (part, name) in names.iter().enumerate() {
        let mut f = std::fs::File::create(name).unwrap();
        for i in (0..n).filter(|i| i * 3 / n == part) {
            let (stream, text) = if i % 3 == 0 {
                ("stderr", format!("err {i}\n"))
            } else {
                ("stdout", format!("out {i}\n"))
            };
            f.write_all(line(stream, &text, T0 + i as i128 * S).as_bytes())
                .unwrap();
        }
    }
}

fn run(dir: &Path, opts: &LogOptions) -> (String, String) {
    let (mut out, mut err) = (Vec::new(), Vec::new());
    logs::write_logs(dir, ID, opts, &mut out, &mut err).unwrap();
    (
        String::from_utf8(out).unwrap(),
        String::from_utf8(err).unwrap(),
    )
}

#[test]
fn all_files_are_read_oldest_first_and_streams_kept_apart() {
    let dir = tempfile::tempdir().unwrap();
    write_rotated(dir.path(), 30);
    let (out, err) = run(dir.path(), &LogOptions::default());
    let expect_out: String = (0..30)
        .filter(|i| i % 3 != 0)
        .map(|i| format!("out {i}\n"))
        .collect();
    let expect_err: String = (0..30)
        .filter(|i| i % 3 == 0)
        .map(|i| format!("err {i}\n"))
        .collect();
    assert_eq!(out, expect_out);
    assert_eq!(err, expect_err);
}

#[test]
fn tail_takes_the_last_entries_across_files() {
    let dir = tempfile::tempdir().unwrap();
    write_rotated(dir.path(), 30);
    // The current file holds entries 20..30: a tail of 12 reaches into `.1`.
    let (out, err) = run(
        dir.path(),
        &LogOptions {
            tail: Some(12),
            ..Default::default()
        },
    );
    let expect_out: String = (18..30)
        .filter(|i| i % 3 != 0)
        .map(|i| format!("out {i}\n"))
        .collect();
    let expect_err: String = (18..30)
        .filter(|i| i % 3 == 0)
        .map(|i| format!("err {i}\n"))
        .collect();
    assert_eq!((out, err), (expect_out, expect_err));
    let (out, err) = run(
        dir.path(),
        &LogOptions {
            tail: Some(0),
            ..Default::default()
        },
    );
    assert_eq!((out.as_str(), err.as_str()), ("", ""));
    let (out, _) = run(
        dir.path(),
        &LogOptions {
            tail: Some(1000),
            ..Default::default()
        },
    );
    assert_eq!(out.lines().count(), 20);
}

#[test]
fn tail_of_a_big_file_reads_only_its_end() {
    let dir = tempfile::tempdir().unwrap();
    let mut f = std::fs::File::create(dir.path().join(format!("{ID}-json.log"))).unwrap();
    let mut body = String::new();
    for i in 0..20000 {
        body.push_str(&line("stdout", &format!("line {i}\n"), T0 + i));
    }
    f.write_all(body.as_bytes()).unwrap();
    let (out, _) = run(
        dir.path(),
        &LogOptions {
            tail: Some(3),
            ..Default::default()
        },
    );
    assert_eq!(out, "line 19997\nline 19998\nline 19999\n");
}

#[test]
fn since_and_until_bound_the_entries_by_time() {
    let dir = tempfile::tempdir().unwrap();
    write_rotated(dir.path(), 30);
    let since = logs::parse_time("--since", &logs::format_rfc3339_nanos(T0 + 10 * S), 0).unwrap();
    let until = logs::parse_time("--until", &format!("{}", (T0 + 14 * S) / S), 0).unwrap();
    let (out, err) = run(
        dir.path(),
        &LogOptions {
            since: Some(since),
            until: Some(until),
            ..Default::default()
        },
    );
    assert_eq!(out, "out 10\nout 11\nout 13\nout 14\n");
    assert_eq!(err, "err 12\n");
    // Relative: entries of the last 5 s before "now" = T0 + 29 s.
    let since = logs::parse_time("--since", "5s", T0 + 29 * S).unwrap();
    let (out, _) = run(
        dir.path(),
        &LogOptions {
            since: Some(since),
            ..Default::default()
        },
    );
    assert_eq!(out, "out 25\nout 26\nout 28\nout 29\n");
}

#[test]
fn timestamps_prefix_each_entry() {
    let dir = tempfile::tempdir().unwrap();
    write_rotated(dir.path(), 3);
    let (out, err) = run(
        dir.path(),
        &LogOptions {
            timestamps: true,
            ..Default::default()
        },
    );
    assert_eq!(err, "2026-11-28T00:00:00.000000000Z err 0\n");
    assert_eq!(
        out,
        "2026-11-28T00:00:01.000000000Z out 1\n2026-11-28T00:00:02.000000000Z out 2\n"
    );
}

#[test]
fn partial_entries_join_as_written() {
    let dir = tempfile::tempdir().unwrap();
    let body = line("stdout", "abc", T0)
        + &line("stdout", "def\n", T0 + 1)
        + &line("stdout", "no newline", T0 + 2);
    std::fs::write(dir.path().join(format!("{ID}-json.log")), body).unwrap();
    let (out, _) = run(dir.path(), &LogOptions::default());
    assert_eq!(out, "abcdef\nno newline");
}

#[test]
fn a_missing_log_is_empty() {
    let dir = tempfile::tempdir().unwrap();
    let (out, err) = run(
        dir.path(),
        &LogOptions {
            follow: false,
            ..Default::default()
        },
    );
    assert_eq!((out.as_str(), err.as_str()), ("", ""));
}

#[test]
fn follow_reads_new_lines_across_a_rotation_until_exit_json() {
    let dir = tempfile::tempdir().unwrap();
    let base = dir.path().join(format!("{ID}-json.log"));
    std::fs::write(&base, line("stdout", "before\n", T0)).unwrap();
    let (tx, rx) = std::sync::mpsc::channel::<Vec<u8>>();
    let reader_dir = dir.path().to_path_buf();
    let reader = std::thread::spawn(move || {
        struct Chan(std::sync::mpsc::Sender<Vec<u8>>);
        impl Write for Chan {
            fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
                let _ = self.0.send(b.to_vec());
                Ok(b.len())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let mut out = Chan(tx);
        let mut err = Vec::new();
        logs::write_logs(
            &reader_dir,
            ID,
            &LogOptions {
                follow: true,
                ..Default::default()
            },
            &mut out,
            &mut err,
        )
        .unwrap();
    });
    let mut seen = String::new();
    let mut expect = |want: &str| {
        while !seen.contains(want) {
            let chunk = rx
                .recv_timeout(std::time::Duration::from_secs(30))
                .expect(want);
            seen.push_str(&String::from_utf8(chunk).unwrap());
        }
    };
    expect("before\n");
    let append = |text: &str, t: i128| {
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .create(true)
            .open(&base)
            .unwrap();
        f.write_all(line("stdout", text, t).as_bytes()).unwrap();
    };
    append("one\n", T0 + 1);
    expect("one\n");
    // Rotation as the monitor does it: the last line of the old file lands just before.
    append("two\n", T0 + 2);
    std::fs::rename(&base, format!("{}.1", base.display())).unwrap();
    append("three\n", T0 + 3);
    expect("three\n");
    append("last\n", T0 + 4);
    std::fs::write(
        dir.path().join("exit.json"),
        r#"{"exit_code":0,"finished_at":"x","oom_killed":false}"#,
    )
    .unwrap();
    reader.join().unwrap();
    while let Ok(chunk) = rx.try_recv() {
        seen.push_str(&String::from_utf8(chunk).unwrap());
    }
    assert_eq!(seen, "before\none\ntwo\nthree\nlast\n");
}

#[test]
fn follow_of_an_ended_container_stops_at_once() {
    let dir = tempfile::tempdir().unwrap();
    write_rotated(dir.path(), 3);
    std::fs::write(dir.path().join("exit.json"), "{}").unwrap();
    let (out, _) = run(
        dir.path(),
        &LogOptions {
            follow: true,
            ..Default::default()
        },
    );
    assert_eq!(out, "out 1\nout 2\n");
}
