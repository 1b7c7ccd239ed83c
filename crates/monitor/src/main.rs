//! `berth-monitor`: one per running container, as docs/engine-design.md describes. It is the
//! container init's parent and a subreaper; it copies the container's stdout/stderr to the
//! json-file log, serves `monitor.sock` (attach, wait), writes `exit.json` when the init
//! ends, and applies the restart policy and `--rm`. It outlives the `berth` command that
//! started it and keeps a small resident set (no async runtime, a poll(2) loop).

mod args;
mod clients;
mod events;
mod exit;
mod jsonlog;
mod monitor;
mod policy;
mod sys;
mod timefmt;
mod watcher;

fn main() {
    let args = match args::parse(std::env::args().skip(1)) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("berth-monitor: {e}");
            std::process::exit(2);
        }
    };
    let dir = args.dir.clone();
    // Without a watcher the container's end would wait for the next berth command to be
    // noticed if we die; we still do our work.
    // An exec's monitor has none: its death leaves nothing for the engine to repair.
    let watcher = (!args.exec)
        .then(|| watcher::Watcher::spawn(&args.berth, &args.root, &args.id).ok())
        .flatten();
    if let Err(e) = monitor::Monitor::new(args).and_then(monitor::Monitor::run) {
        // stderr is /dev/null by now: leave the reason where the engine can find it.
        let _ = std::fs::write(dir.join("monitor.error"), format!("{e}\n"));
        // The watcher is left to report the death: the engine repairs what we left.
        std::process::exit(1);
    }
    if let Some(w) = watcher {
        w.dismiss();
    }
}
