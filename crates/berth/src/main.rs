//! `berth`: Berth's Docker-like command line. Each command is a thin layer over the
//! libraries (`berth-engine` for containers, networks, volumes and events, `berth-image`
//! for images).
//! Errors are one line on stderr; the exit code is docker's: 125 for a bad flag and for
//! `run`/`create`'s own failures, 1 for the other commands' failures and for missing
//! arguments, 126/127 when the container's command cannot be run, else the container's
//! status.

mod cli;
mod commands;
mod env;
mod progress;

fn main() {
    // `run` and `exec` wait for what they start: a SIGCHLD ignored by whoever started us (it
    // survives execve) would make the kernel reap it and lose its status.
    // SAFETY: SIG_DFL installs no handler code.
    unsafe { libc::signal(libc::SIGCHLD, libc::SIG_DFL) };
    let code = match cli::parse() {
        Ok(None) => 0,
        Ok(Some(cli)) => commands::run(cli).unwrap_or_else(|e| {
            if !e.msg.is_empty() {
                eprintln!("Error: {}", e.msg);
            }
            e.code
        }),
        Err(e) => {
            eprintln!("Error: {}", e.msg);
            e.code
        }
    };
    std::process::exit(code);
}
