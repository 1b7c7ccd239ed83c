//! The exit status of an attached `run --rm` is never lost, even on a loaded machine where
//! the container's end, its monitor's removal and the CLI's wait interleave every way:
//! hundreds of runs of failing commands beside two busy loops, every status checked.
//!
//! `BERTH_STRESS_RUNS=N` sets the number of runs (default 300).

mod container_support;
use container_support::*;

/// Busy loops on the host, killed when dropped.
struct Load(Vec<std::process::Child>);

impl Load {
    fn start(n: usize) -> Load {
        Load(
            (0..n)
                .map(|_| {
                    std::process::Command::new("sh")
                        .args(["-c", "while :; do :; done"])
                        .spawn()
                        .unwrap()
                })
                .collect(),
        )
    }
}

impl Drop for Load {
    fn drop(&mut self) {
        for c in &mut self.0 {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

#[test]
fn every_run_rm_of_a_failing_command_returns_its_status_under_load() {
    let runs: usize = std::env::var("BERTH_STRESS_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(300);
    let root = Root::new();
    let cases: [(&[&str], i32); 3] = [
        (&["false"], 1),
        (&["sh", "-c", "exit 3"], 3),
        (&["--read-only", IMAGE, "touch", "/x"], 1),
    ];
    let load = Load::start(2);
    let mut wrong = Vec::new();
    for i in 0..runs {
        let (cmd, want) = cases[i % cases.len()];
        let mut args = vec!["run", "--rm", "--network", "none"];
        if cmd[0] != "--read-only" {
            args.push(IMAGE);
        }
        args.extend_from_slice(cmd);
        let o = root.berth(&args);
        if o.status.code() != Some(want) {
            wrong.push(format!(
                "run {i} {cmd:?}: {:?} instead of {want} ({})",
                o.status.code(),
                stderr(&o).trim()
            ));
        }
    }
    drop(load);
    println!("{runs} runs under load, {} wrong statuses", wrong.len());
    assert!(
        wrong.is_empty(),
        "{} of {runs} statuses wrong:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
    // And each run returned after its container was removed.
    assert_eq!(root.ids(), Vec::<String>::new(), "containers left");
}
