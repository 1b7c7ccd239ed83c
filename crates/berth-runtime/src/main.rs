//! `berth-runtime`: a runc-compatible command line over `berth-runtime-lib`.
//!
//! Global flags, sub-commands and exit codes follow runc 1.1 as containerd's shim and Podman
//! call it; each sub-command lives in `commands/<name>.rs` and is a few lines over the library.

mod cli;
mod commands;
mod log;
mod signals;
mod tty;

use clap::Parser;

fn main() {
    let cli = cli::Cli::parse();
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
    std::process::exit(code);
}
