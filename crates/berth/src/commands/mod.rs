//! One file per command group; each takes its parsed arguments and the data root.

mod archive;
mod format;
mod history;
mod image;
mod images;
mod login;
mod prune;
mod pull;
mod push;
mod resolve;
// Wired into run/create by the engine commands.
#[allow(dead_code)]
pub mod run_flags;

use crate::cli::{Cli, Cmd, ImageCmd};
use crate::env::Env;

pub fn run(cli: Cli) -> Result<i32, String> {
    let env = Env::new(cli.root);
    let Some(cmd) = cli.cmd else {
        if cli.version {
            return version();
        }
        use clap::CommandFactory;
        println!("{}", crate::cli::Cli::command().render_help());
        return Ok(0);
    };
    match cmd {
        Cmd::Pull(a) | Cmd::Image(ImageCmd::Pull(a)) => pull::pull(&env, &a),
        Cmd::Push(a) => push::push(&env, &a),
        Cmd::Images(a) | Cmd::Image(ImageCmd::Ls(a)) => images::images(&env, &a),
        Cmd::Tag(a) | Cmd::Image(ImageCmd::Tag(a)) => image::tag(&env, &a.source, &a.target),
        Cmd::Rmi(a) | Cmd::Image(ImageCmd::Rm(a)) => image::rmi(&env, &a.references, a.force),
        Cmd::Image(ImageCmd::Inspect(a)) => image::inspect(&env, &a.references),
        Cmd::Save(a) | Cmd::Image(ImageCmd::Save(a)) => archive::save(&env, &a),
        Cmd::Load(a) | Cmd::Image(ImageCmd::Load(a)) => archive::load(&env, &a),
        Cmd::Import(a) | Cmd::Image(ImageCmd::Import(a)) => archive::import(&env, &a),
        Cmd::History(a) | Cmd::Image(ImageCmd::History(a)) => history::history(&env, &a),
        Cmd::Image(ImageCmd::Prune(a)) => prune::prune(&env, &a),
        Cmd::Login(a) => login::login(
            a.server.as_deref(),
            a.username,
            a.password,
            a.password_stdin,
        ),
        Cmd::Logout(a) => login::logout(a.server.as_deref()),
        Cmd::Version => version(),
    }
}

fn version() -> Result<i32, String> {
    println!("berth version {}", env!("CARGO_PKG_VERSION"));
    Ok(0)
}
