//! One file per command group; each takes its parsed arguments and the data root.

mod archive;
pub mod container;
pub mod events;
mod format;
mod history;
mod image;
mod images;
pub mod info;
mod login;
pub mod network;
mod prune;
mod pull;
mod push;
mod resolve;
pub mod run_flags;
mod search;
pub mod system;
pub mod volume;

use crate::cli::{Cli, Cmd, ContainerCmd, ImageCmd};
use crate::env::Env;

/// An error as the one line the CLI prints.
pub(crate) fn s<E: std::fmt::Display>(e: E) -> String {
    e.to_string()
}
use container::Failure;

/// Run a command. Commands fail with Docker's exit codes: 125 for `run`/`create`'s own
/// failures, 126/127 for a command that cannot be run, else 1.
pub fn run(cli: Cli) -> Result<i32, Failure> {
    let env = Env::new(cli.root);
    let Some(cmd) = cli.cmd else {
        if cli.version {
            return Ok(version()?);
        }
        use clap::CommandFactory;
        println!("{}", crate::cli::Cli::command().render_help());
        return Ok(0);
    };
    if !matches!(cmd, Cmd::Version(_) | Cmd::Login(_) | Cmd::Logout(_)) {
        // A lost state database is Berth's failure (125) whichever command meets it.
        berth_image::sqlite::check(&env.root.join("berth.db"))
            .map_err(|e| container::fail(e.to_string()))?;
    }
    if only_prints(&cmd) {
        // A closed reader (`berth ps | head -1`) ends a listing quietly, as it ends docker's
        // (SIGPIPE, status 141), instead of a panic in println!. Only for commands that
        // write nothing but their output: the others write to monitor sockets and pipes,
        // whose hang-up must be an error they handle, not a silent death.
        // SAFETY: SIG_DFL installs no handler code.
        unsafe { libc::signal(libc::SIGPIPE, libc::SIG_DFL) };
    }
    // Docker's CLI exits 125 for the daemon's failures only in `run` and `create`; the
    // other commands exit 1 on any failure (`rm`, `stop`, `inspect`, `logs` of a missing
    // container, `rm` of a running one), keeping 126/127 and a container's status.
    // `update` sorts its own: its bad flag values are 125, what the engine refuses 1.
    let keeps_125 = matches!(
        cmd,
        Cmd::Run(_)
            | Cmd::Create(_)
            | Cmd::Update(_)
            | Cmd::Container(
                ContainerCmd::Run(_) | ContainerCmd::Create(_) | ContainerCmd::Update(_)
            )
    );
    container_command(env, cmd).map_err(|mut f| {
        if f.code == 125 && !keeps_125 {
            f.code = 1;
        }
        f
    })
}

/// Commands that read the data root and print, and talk to no container's monitor.
fn only_prints(cmd: &Cmd) -> bool {
    use crate::commands::{network::NetworkCmd, system::SystemCmd, volume::VolumeCmd};
    match cmd {
        Cmd::Images(_)
        | Cmd::History(_)
        | Cmd::Version(_)
        | Cmd::Ps(_)
        | Cmd::Inspect(_)
        | Cmd::Logs(_)
        | Cmd::Top(_)
        | Cmd::Port(_)
        | Cmd::Diff(_)
        | Cmd::Events(_)
        | Cmd::Info(_) => true,
        Cmd::Image(i) => matches!(
            i,
            ImageCmd::Ls(_) | ImageCmd::Inspect(_) | ImageCmd::History(_)
        ),
        Cmd::Container(c) => matches!(
            c,
            ContainerCmd::Ls(_)
                | ContainerCmd::Inspect(_)
                | ContainerCmd::Logs(_)
                | ContainerCmd::Top(_)
                | ContainerCmd::Port(_)
                | ContainerCmd::Diff(_)
        ),
        Cmd::Network(n) => matches!(n, NetworkCmd::Ls(_) | NetworkCmd::Inspect(_)),
        Cmd::Volume(v) => matches!(v, VolumeCmd::Ls(_) | VolumeCmd::Inspect(_)),
        Cmd::System(s) => matches!(s, SystemCmd::Df(_)),
        _ => false,
    }
}

fn container_command(env: Env, cmd: Cmd) -> Result<i32, Failure> {
    use container::{inspect, lifecycle, ps, run as runc};
    match cmd {
        Cmd::Run(a) | Cmd::Container(ContainerCmd::Run(a)) => runc::run(&env, &a),
        Cmd::Create(a) | Cmd::Container(ContainerCmd::Create(a)) => runc::create(&env, &a),
        Cmd::Start(a) | Cmd::Container(ContainerCmd::Start(a)) => lifecycle::start(&env, &a),
        Cmd::Stop(a) | Cmd::Container(ContainerCmd::Stop(a)) => lifecycle::stop(&env, &a),
        Cmd::Restart(a) | Cmd::Container(ContainerCmd::Restart(a)) => lifecycle::restart(&env, &a),
        Cmd::Kill(a) | Cmd::Container(ContainerCmd::Kill(a)) => lifecycle::kill(&env, &a),
        Cmd::Rm(a) | Cmd::Container(ContainerCmd::Rm(a)) => lifecycle::rm(&env, &a),
        Cmd::Ps(a) | Cmd::Container(ContainerCmd::Ls(a)) => ps::ps(&env, &a),
        Cmd::Inspect(a) => inspect::inspect(&env, &a.objects, a.format.as_deref()),
        Cmd::Container(ContainerCmd::Inspect(a)) => {
            inspect::inspect(&env, &a.containers, a.format.as_deref())
        }
        Cmd::Wait(a) | Cmd::Container(ContainerCmd::Wait(a)) => {
            lifecycle::wait(&env, &a.containers)
        }
        Cmd::Rename(a) | Cmd::Container(ContainerCmd::Rename(a)) => {
            lifecycle::rename(&env, &a.container, &a.new_name)
        }
        Cmd::Pause(a) | Cmd::Container(ContainerCmd::Pause(a)) => {
            lifecycle::pause(&env, &a.containers, false)
        }
        Cmd::Unpause(a) | Cmd::Container(ContainerCmd::Unpause(a)) => {
            lifecycle::pause(&env, &a.containers, true)
        }
        Cmd::Logs(a) | Cmd::Container(ContainerCmd::Logs(a)) => container::logs::logs(&env, &a),
        Cmd::Attach(a) | Cmd::Container(ContainerCmd::Attach(a)) => {
            container::attach::attach(&env, &a)
        }
        Cmd::Top(a) | Cmd::Container(ContainerCmd::Top(a)) => container::top::top(&env, &a),
        Cmd::Stats(a) | Cmd::Container(ContainerCmd::Stats(a)) => container::stats::stats(&env, &a),
        Cmd::Port(a) | Cmd::Container(ContainerCmd::Port(a)) => container::port::port(&env, &a),
        Cmd::Diff(a) | Cmd::Container(ContainerCmd::Diff(a)) => {
            container::diff::diff(&env, &a.container)
        }
        Cmd::Commit(a) | Cmd::Container(ContainerCmd::Commit(a)) => {
            container::commit::commit(&env, &a)
        }
        Cmd::Export(a) | Cmd::Container(ContainerCmd::Export(a)) => {
            container::export::export(&env, &a)
        }
        Cmd::Cp(a) | Cmd::Container(ContainerCmd::Cp(a)) => container::cp::cp(&env, &a),
        Cmd::Exec(a) | Cmd::Container(ContainerCmd::Exec(a)) => container::exec::exec(&env, &a),
        Cmd::Update(a) | Cmd::Container(ContainerCmd::Update(a)) => {
            container::update::update(&env, &a)
        }
        Cmd::Container(ContainerCmd::Prune(a)) => container::prune::prune(&env, &a),
        Cmd::Events(a) => events::events(&env, &a),
        Cmd::Serve(a) => serve(&env, &a),
        Cmd::ContainerRestartFromMonitor { id } => lifecycle::restart_from_monitor(&env, &id),
        Cmd::ContainerHealthCheck { id } => lifecycle::health_check_from_monitor(&env, &id),
        Cmd::ContainerCleanup { id } => lifecycle::cleanup_from_monitor(&env, &id),
        Cmd::ContainerMonitorDied { id } => lifecycle::monitor_died(&env, &id),
        other => Ok(image_command(env, other)?),
    }
}

fn image_command(env: Env, cmd: Cmd) -> Result<i32, String> {
    match cmd {
        Cmd::Pull(a) | Cmd::Image(ImageCmd::Pull(a)) => pull::pull(&env, &a),
        Cmd::Push(a) => push::push(&env, &a),
        Cmd::Images(a) | Cmd::Image(ImageCmd::Ls(a)) => images::images(&env, &a),
        Cmd::Tag(a) | Cmd::Image(ImageCmd::Tag(a)) => image::tag(&env, &a.source, &a.target),
        Cmd::Rmi(a) | Cmd::Image(ImageCmd::Rm(a)) => image::rmi(&env, &a.references, a.force),
        Cmd::Image(ImageCmd::Inspect(a)) => {
            image::inspect(&env, &a.references, a.format.as_deref())
        }
        Cmd::Save(a) | Cmd::Image(ImageCmd::Save(a)) => archive::save(&env, &a),
        Cmd::Load(a) | Cmd::Image(ImageCmd::Load(a)) => archive::load(&env, &a),
        Cmd::Import(a) | Cmd::Image(ImageCmd::Import(a)) => archive::import(&env, &a),
        Cmd::History(a) | Cmd::Image(ImageCmd::History(a)) => history::history(&env, &a),
        Cmd::Search(a) => search::search(&a),
        Cmd::Image(ImageCmd::Prune(a)) => prune::prune(&env, &a),
        Cmd::Login(a) => login::login(
            a.server.as_deref(),
            a.username,
            a.password,
            a.password_stdin,
        ),
        Cmd::Logout(a) => login::logout(a.server.as_deref()),
        Cmd::Version(a) => info::version(&a),
        Cmd::Network(c) => network::run(&env, &c),
        Cmd::Volume(c) => volume::run(&env, &c),
        Cmd::System(c) => system::run(&env, &c),
        Cmd::Info(a) => info::info(&env, &a),
        _ => unreachable!("container commands are dispatched by run"),
    }
}

fn version() -> Result<i32, String> {
    println!("berth version {}", env!("CARGO_PKG_VERSION"));
    Ok(0)
}

/// `berth serve`: becomes `berth-serve` (next to berth, else on PATH), so the CLI does not
/// carry the server's HTTP stack.
fn serve(env: &Env, a: &crate::cli::ServeArgs) -> Result<i32, Failure> {
    use std::os::unix::process::CommandExt;
    let bin = berth_engine::container::start::find_binary("berth-serve")?;
    let err = std::process::Command::new(&bin)
        .arg("--root")
        .arg(&env.root)
        .args(&a.args)
        .exec();
    Err(Failure::from(format!("{}: {err}", bin.display())))
}
