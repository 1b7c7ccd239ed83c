//! `berth`: Berth's Docker-like command line. Each command is a thin layer over the
//! libraries (`berth-image` today; the engine, containers and networks come with issues 4-5).
//! Errors are one line on stderr, exit code 1, as the docker CLI does for these commands.

mod cli;
mod commands;
mod env;

fn main() {
    let code = match cli::parse().and_then(commands::run) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("Error: {e}");
            1
        }
    };
    std::process::exit(code);
}
