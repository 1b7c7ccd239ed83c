//! One file per sub-command group; each is a thin layer over `berth_runtime::Runtime`.

mod create;
mod exec;
mod info;
mod lifecycle;
mod update;

use crate::cli::{Cli, Cmd};
use berth_runtime::Runtime;

pub type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;

/// Returns the process exit code.
pub fn run(cli: Cli) -> Result<i32> {
    if cli.global.systemd_cgroup {
        return Err("the systemd cgroup driver is not supported by berth-runtime yet; run without --systemd-cgroup (cgroupfs driver)".into());
    }
    let rt = Runtime::new(&cli.global.root);
    match cli.cmd {
        Cmd::Create(a) => create::create(&rt, &a),
        Cmd::Run {
            create,
            detach,
            keep,
        } => create::run(&rt, &create, detach, keep),
        Cmd::Start { id } => lifecycle::start(&rt, &id),
        Cmd::State { id } => info::state(&rt, &id),
        Cmd::Kill { id, signal, all } => lifecycle::kill(&rt, &id, &signal, all),
        Cmd::Delete { id, force } => lifecycle::delete(&rt, &id, force),
        Cmd::Exec(a) => exec::exec(&rt, a),
        Cmd::Ps {
            format,
            id,
            ps_args,
        } => info::ps(&rt, &id, &format, &ps_args),
        Cmd::List { format, quiet } => info::list(&rt, &format, quiet),
        Cmd::Pause { id } => lifecycle::pause(&rt, &id),
        Cmd::Resume { id } => lifecycle::resume(&rt, &id),
        Cmd::Update(a) => update::update(&rt, &a),
        Cmd::Events {
            id,
            stats,
            interval,
        } => info::events(&rt, &id, stats, &interval),
        Cmd::Spec { bundle, rootless } => info::spec(&bundle, rootless),
        Cmd::Features => {
            println!(
                "{}",
                serde_json::to_string_pretty(&berth_runtime::features::features())?
            );
            Ok(0)
        }
    }
}
