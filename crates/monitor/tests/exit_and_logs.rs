//! The container's output lands in the json-file log; its exit lands in exit.json.

mod common;
use common::*;

#[test]
fn output_is_logged_per_stream_and_the_exit_code_recorded() {
    let bb = busybox();
    let mut started = Setup::new(&format!(
        "{bb} sh -c 'echo out; echo err >&2; printf partial; exit 3'"
    ))
    .arg("--log-driver")
    .arg("json-file")
    .start();
    let exit = started.finish();
    let setup = &started.setup;
    assert_eq!(exit["exit_code"], 3);
    assert_eq!(exit["oom_killed"], false);
    assert!(exit["finished_at"].as_str().unwrap().ends_with('Z'));
    let lines = log_lines(&setup.log_path());
    let mut got: Vec<(String, String)> = lines
        .iter()
        .map(|l| {
            (
                l["stream"].as_str().unwrap().into(),
                l["log"].as_str().unwrap().into(),
            )
        })
        .collect();
    got.sort();
    assert_eq!(
        got,
        [
            ("stderr".to_string(), "err\n".to_string()),
            ("stdout".into(), "out\n".into()),
            ("stdout".into(), "partial".into()),
        ]
    );
    for l in &lines {
        let t = l["time"].as_str().unwrap();
        // 2026-11-28T19:42:13.123456789Z
        assert_eq!(t.len(), 30, "{t}");
        assert_eq!(&t[10..11], "T");
        assert_eq!(&t[19..20], ".");
        assert!(t[20..29].bytes().all(|b| b.is_ascii_digit()) && t.ends_with('Z'));
    }
    // Keys in Docker's order.
    let raw = std::fs::read_to_string(setup.log_path()).unwrap();
    assert!(raw
        .lines()
        .all(|l| l.starts_with("{\"log\":") && l.contains(",\"stream\":\"")));
    assert!(
        !setup.dir.join("monitor.sock").exists(),
        "socket left behind"
    );
}

#[test]
fn a_signalled_exit_is_128_plus_the_signal() {
    let bb = busybox();
    let mut started = Setup::new(&format!("exec {bb} sleep 1000")).start();
    let pid = started.container_pid();
    // Wait for the monitor's socket so the kill hits a running monitor.
    drop(started.connect());
    // SAFETY: kill takes no pointers.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGKILL) }, 0);
    let exit = started.finish();
    assert_eq!(exit["exit_code"], 137);
}

#[test]
fn log_driver_none_writes_no_log() {
    let bb = busybox();
    let mut started = Setup::new(&format!("{bb} echo hi"))
        .arg("--log-driver")
        .arg("none")
        .start();
    let exit = started.finish();
    let setup = &started.setup;
    assert_eq!(exit["exit_code"], 0);
    assert!(!setup.log_path().exists());
}

#[test]
fn long_lines_are_cut_at_16k_like_docker() {
    let bb = busybox();
    let mut started = Setup::new(&format!(
        "{bb} sh -c '{bb} head -c 40000 /dev/zero | {bb} tr \"\\\\0\" x; echo'"
    ))
    .start();
    started.finish();
    let setup = &started.setup;
    let lines = log_lines(&setup.log_path());
    let text: String = lines.iter().map(|l| l["log"].as_str().unwrap()).collect();
    assert_eq!(text.len(), 40001);
    assert!(lines.len() >= 3);
    assert!(lines
        .iter()
        .all(|l| l["log"].as_str().unwrap().len() <= 16384));
}

#[test]
fn rotation_keeps_at_most_max_file_files_with_the_newest_data() {
    let bb = busybox();
    let mut started = Setup::new(&format!(
        "{bb} sh -c 'i=0; while [ $i -lt 300 ]; do echo line$i; i=$((i+1)); done'"
    ))
    .arg("--max-size")
    .arg("1000")
    .arg("--max-file")
    .arg("3")
    .start();
    started.finish();
    let setup = &started.setup;
    let mut names: Vec<String> = std::fs::read_dir(&setup.dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.contains("-json.log"))
        .collect();
    names.sort();
    let base = format!("{ID}-json.log");
    assert_eq!(
        names,
        [base.clone(), format!("{base}.1"), format!("{base}.2")]
    );
    for n in &names {
        assert!(std::fs::metadata(setup.dir.join(n)).unwrap().len() <= 1000);
    }
    let mut all = Vec::new();
    for n in names.iter().rev() {
        all.extend(log_lines(&setup.dir.join(n)));
    }
    let texts: Vec<&str> = all.iter().map(|l| l["log"].as_str().unwrap()).collect();
    assert_eq!(*texts.last().unwrap(), "line299\n");
    // Oldest first and contiguous: nothing lost between the kept files.
    let first: usize = texts[0].trim()[4..].parse().unwrap();
    let expected: Vec<String> = (first..300).map(|i| format!("line{i}\n")).collect();
    assert_eq!(texts, expected);
}

/// A v1 memory cgroup (this host's memory controller is on v1) removed when dropped.
struct MemoryCgroup(std::path::PathBuf);

impl Drop for MemoryCgroup {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir(&self.0);
    }
}

#[test]
fn an_oom_kill_is_recorded_from_the_containers_memory_cgroup() {
    let v1 = std::path::Path::new("/sys/fs/cgroup/memory");
    let v2 = std::path::Path::new("/sys/fs/cgroup/cgroup.controllers");
    let (dir, limit_files): (_, &[&str]) = if v1.join("memory.limit_in_bytes").exists() {
        (
            v1.join(format!("berth-monitor-test-{}", std::process::id())),
            &["memory.limit_in_bytes", "memory.memsw.limit_in_bytes"],
        )
    } else if std::fs::read_to_string(v2)
        .unwrap_or_default()
        .contains("memory")
    {
        (
            std::path::Path::new("/sys/fs/cgroup")
                .join(format!("berth-monitor-test-{}", std::process::id())),
            &["memory.max", "memory.swap.max"],
        )
    } else {
        panic!("no memory cgroup controller on this host");
    };
    std::fs::create_dir(&dir).unwrap();
    let cg = MemoryCgroup(dir);
    for f in limit_files {
        // The swap limit files exist only with swap accounting.
        let _ = std::fs::write(cg.0.join(f), "16777216");
    }
    let bb = busybox();
    let mut setup = Setup::new(&format!(
        "exec {bb} dd if=/dev/zero of=/dev/null bs=64M count=1"
    ));
    setup.cgroup = Some(cg.0.clone());
    let mut started = setup.start();
    let exit = started.finish();
    assert_eq!(exit["exit_code"], 137, "{exit}");
    assert_eq!(exit["oom_killed"], true, "{exit}");
}

#[test]
fn one_pipe_for_both_streams_is_read_once_as_stdout() {
    let bb = busybox();
    let mut setup = Setup::new(&format!("{bb} sh -c 'echo a; echo b >&2'"));
    setup.one_pipe = true;
    let mut started = setup.stdin().start();
    assert_eq!(started.finish()["exit_code"], 0);
    let lines = log_lines(&started.setup.log_path());
    let got: Vec<(&str, &str)> = lines
        .iter()
        .map(|l| (l["stream"].as_str().unwrap(), l["log"].as_str().unwrap()))
        .collect();
    assert_eq!(got, [("stdout", "a\n"), ("stdout", "b\n")]);
}
