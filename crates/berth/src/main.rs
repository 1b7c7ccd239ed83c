//! `berth`: Berth's Docker-like command line. Each command is a thin layer over the
//! libraries (`berth-image` today; the engine, containers and networks come with issues 4-5).
//! Errors are one line on stderr, exit code 1, as the docker CLI does for these commands.

mod cli;
mod commands;
mod env;
mod progress;

fn main() {
    let code = match cli::parse() {
        Ok(None) => 0,
        Ok(Some(cli)) => commands::run(cli).unwrap_or_else(|e| {
            eprintln!("Error: {e}");
            1
        }),
        Err(e) => {
            eprintln!("Error: {e}");
            1
        }
    };
    std::process::exit(code);
}
