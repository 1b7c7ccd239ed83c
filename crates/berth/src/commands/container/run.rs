//! `create` and `run`: the image (pulled if need be), the container, and for `run` its start;
//! attached, the container's output is copied here byte for byte until it exits, its status
//! is ours, and an `--rm` container is gone before we return.

use super::image::resolve_image;
use super::tty::Outcome;
use super::{engine, fail, Failure};
use crate::cli::RunArgs;
use crate::env::Env;
use berth_engine::container::attached::Attached;
use berth_engine::container::ImageInput;
use berth_engine::store::Row;
use berth_engine::Engine;

fn create_container(env: &Env, e: &Engine, a: &RunArgs) -> Result<Row, Failure> {
    let opts = a.flags.to_options(a.image(), a.cmd())?;
    let cidfile = a
        .flags
        .cidfile
        .as_deref()
        .map(super::cidfile::CidFile::create)
        .transpose()?;
    let img = resolve_image(env, a.image(), opts.pull, opts.platform.as_deref())?;
    let row = e.create(
        &opts,
        ImageInput {
            id: &img.image.id,
            chain: &img.image.chain,
            config: &img.config,
        },
    )?;
    if let Some(c) = cidfile {
        c.write(&row.id)?;
    }
    Ok(row)
}

pub fn create(env: &Env, a: &RunArgs) -> Result<i32, Failure> {
    let e = engine(env)?;
    let row = create_container(env, &e, a)?;
    println!("{}", row.id);
    Ok(0)
}

pub fn run(env: &Env, a: &RunArgs) -> Result<i32, Failure> {
    berth_engine::container::start::warm_start();
    let e = engine(env)?;
    if let Some(k) = &a.detach_keys {
        super::tty::parse_detach_keys(k)?;
    }
    let row = create_container(env, &e, a)?;
    let started = if a.flags.detach {
        e.start(&row.id)
    } else {
        e.start_attached(&row.id)
    };
    if let Err(err) = started {
        if a.flags.rm {
            let _ = e.remove(&row.id, true, true);
        }
        return Err(err.into());
    }
    if a.flags.detach {
        println!("{}", row.id);
        return Ok(0);
    }
    attach_started(
        env,
        &e,
        &row.id,
        a.flags.tty,
        a.flags.interactive,
        a.detach_keys.as_deref(),
        a.flags.rm,
    )
}

/// `start -a` / `start -ai`: start `arg` and stay attached; a tty container gets a terminal
/// session, the others their output (and our stdin with -i).
pub fn start_and_attach(
    env: &Env,
    e: &Engine,
    arg: &str,
    interactive: bool,
    detach_keys: Option<&str>,
) -> Result<i32, Failure> {
    if let Some(k) = detach_keys {
        super::tty::parse_detach_keys(k)?;
    }
    let r = e.start_attached(arg)?;
    let opts = berth_engine::container::options_of(&r);
    attach_started(
        env,
        e,
        &r.id,
        opts.tty,
        interactive && opts.interactive,
        detach_keys,
        opts.auto_remove,
    )
}

/// Attached to a container just started with `start_attached`: a terminal session for a tty
/// container, else its stdout and stderr copied to ours as raw bytes (and our stdin to it with
/// `interactive`), with the signals we get passed on to it, as docker's `--sig-proxy`. With
/// `remove` (`--rm`) the container is gone before we return, as with docker (a failed
/// removal is its 125); then its status is ours.
fn attach_started(
    env: &Env,
    e: &Engine,
    id: &str,
    tty: bool,
    interactive: bool,
    detach_keys: Option<&str>,
    remove: bool,
) -> Result<i32, Failure> {
    if tty {
        let keys =
            super::tty::parse_detach_keys(detach_keys.unwrap_or(super::tty::DEFAULT_DETACH_KEYS))?;
        let (outcome, connection) =
            super::tty::attach_monitor_held(&e.dir(id), interactive, &keys)?;
        if remove && matches!(outcome, Outcome::Exited(_)) {
            super::tty::unwatch_signals();
            e.remove_after_exit(id)?;
        }
        drop(connection);
        return super::tty::finish(outcome);
    }
    super::attach::proxy_signals(env.root.clone(), id.to_string());
    let stdin = interactive.then(std::io::stdin);
    let (mut out, mut err) = (std::io::stdout(), std::io::stderr());
    match e.attach_until_exit(id, remove, stdin, &mut out, &mut err)? {
        Attached::Exited(code) => Ok(code),
        // As a docker client killed by SIGPIPE (a shell reports 128 + 13), without a word.
        Attached::OutputClosed(x) if x.kind() == std::io::ErrorKind::BrokenPipe => Err(Failure {
            msg: String::new(),
            code: 128 + libc::SIGPIPE,
        }),
        Attached::OutputClosed(x) => Err(fail(format!("write the container's output: {x}"))),
    }
}
