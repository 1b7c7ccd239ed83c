//! One file per command group.

mod image;
mod login;

use crate::cli::{Cli, Cmd};
use crate::env::Env;

pub fn run(cli: Cli) -> Result<i32, String> {
    let env = Env::new(cli.root);
    match cli.cmd {
        Cmd::Pull {
            reference,
            quiet,
            platform,
        } => image::pull(&env, &reference, quiet, platform.as_deref()),
        Cmd::Images {
            quiet,
            digests,
            no_trunc,
        } => image::images(&env, quiet, digests, no_trunc),
        Cmd::Tag { source, target } => image::tag(&env, &source, &target),
        Cmd::Rmi { references } => image::rmi(&env, &references),
        Cmd::Login {
            server,
            username,
            password,
            password_stdin,
        } => login::login(server.as_deref(), username, password, password_stdin),
        Cmd::Logout { server } => login::logout(server.as_deref()),
        Cmd::Inspect { references } => image::inspect(&env, &references),
        Cmd::Version => {
            println!("berth version {}", env!("CARGO_PKG_VERSION"));
            Ok(0)
        }
        Cmd::Help => {
            println!("{}", crate::cli::help());
            Ok(0)
        }
    }
}
