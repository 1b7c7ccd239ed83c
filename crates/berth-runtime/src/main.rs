//! `berth-runtime`: a runc-compatible command line over `berth-runtime-lib`.
//!
//! Global flags, sub-commands and exit codes follow runc 1.1 as containerd's shim and Podman
//! call it; each sub-command lives in `commands/<name>.rs` and is a few lines over the library.

mod cli;
mod commands;
mod log;
mod signals;
mod tty;

fn cli_debug() -> bool {
    std::env::args().any(|a| a == "--debug")
}

fn main() {
    // `run` and `exec` wait for their child: a SIGCHLD ignored by whoever started us (it
    // survives execve) would make the kernel reap it and lose its status.
    // SAFETY: SIG_DFL installs no handler code.
    unsafe { libc::signal(libc::SIGCHLD, libc::SIG_DFL) };
    let cli = match cli::parse() {
        Ok(Some(cli)) => cli,
        Ok(None) => std::process::exit(0),
        Err(e) => {
            eprintln!("berth-runtime: {e}");
            std::process::exit(1);
        }
    };
    log::init(&cli.global);
    log::debug(&format!(
        "berth-runtime {}",
        std::env::args().collect::<Vec<_>>().join(" ")
    ));
    let code = match commands::run(cli) {
        Ok(code) => code,
        Err(e) => {
            log::error(&e.to_string());
            1
        }
    };
    if cli_debug() {
        // Memory is a feature here: --debug reports what this invocation used.
        if let Ok(st) = std::fs::read_to_string("/proc/self/status") {
            let pick: Vec<&str> = st
                .lines()
                .filter(|l| {
                    l.starts_with("VmHWM") || l.starts_with("RssAnon") || l.starts_with("RssFile")
                })
                .collect();
            log::debug(
                &pick
                    .join(" ")
                    .split_whitespace()
                    .collect::<Vec<_>>()
                    .join(" "),
            );
        }
    }
    std::process::exit(code);
}
