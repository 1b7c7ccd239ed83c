//! `start`, `stop`, `restart`, `kill`, `rm`, `pause`, `unpause`, `rename`, `wait`, and the
//! hidden `container-restart-from-monitor`.

use super::{each, engine, Failure};
use crate::cli::{KillArgs, RmArgs, StartArgs, StopArgs};
use crate::env::Env;

pub fn start(env: &Env, a: &StartArgs) -> Result<i32, Failure> {
    berth_engine::container::start::warm_start();
    let e = engine(env)?;
    if a.attach || a.interactive {
        let [one] = a.containers.as_slice() else {
            return Err(super::fail(
                "you cannot start and attach multiple containers at once",
            ));
        };
        return super::run::start_and_attach(env, &e, one, a.interactive, a.detach_keys.as_deref());
    }
    each(&a.containers, |c| {
        e.start(c)?;
        Ok(Some(c.to_string()))
    })
}

pub fn stop(env: &Env, a: &StopArgs) -> Result<i32, Failure> {
    let e = engine(env)?;
    each(&a.containers, |c| {
        e.stop(c, a.time)?;
        Ok(Some(c.to_string()))
    })
}

pub fn restart(env: &Env, a: &StopArgs) -> Result<i32, Failure> {
    let e = engine(env)?;
    each(&a.containers, |c| {
        e.restart(c, a.time)?;
        Ok(Some(c.to_string()))
    })
}

pub fn kill(env: &Env, a: &KillArgs) -> Result<i32, Failure> {
    let e = engine(env)?;
    each(&a.containers, |c| {
        e.kill(c, &a.signal)?;
        Ok(Some(c.to_string()))
    })
}

pub fn rm(env: &Env, a: &RmArgs) -> Result<i32, Failure> {
    let e = engine(env)?;
    each(&a.containers, |c| {
        e.remove(c, a.force, a.volumes)?;
        Ok(Some(c.to_string()))
    })
}

pub fn pause(env: &Env, containers: &[String], un: bool) -> Result<i32, Failure> {
    let e = engine(env)?;
    each(containers, |c| {
        if un {
            e.unpause(c)?;
        } else {
            e.pause(c)?;
        }
        Ok(Some(c.to_string()))
    })
}

pub fn rename(env: &Env, old: &str, new: &str) -> Result<i32, Failure> {
    engine(env)?.rename(old, new)?;
    Ok(0)
}

pub fn wait(env: &Env, containers: &[String]) -> Result<i32, Failure> {
    let e = engine(env)?;
    each(containers, |c| Ok(Some(e.wait(c)?.to_string())))
}

pub fn restart_from_monitor(env: &Env, id: &str) -> Result<i32, Failure> {
    let e = berth_engine::Engine::open_only(&env.root)?;
    e.restart_from_monitor(id)?;
    Ok(0)
}

/// The hidden `container-health-check ID`: run by the monitor at each healthcheck interval.
pub fn health_check_from_monitor(env: &Env, id: &str) -> Result<i32, Failure> {
    let e = berth_engine::Engine::open_only(&env.root)?;
    e.health_check(id)?;
    Ok(0)
}

/// The hidden `container-cleanup ID`: run by the monitor when its container ended for good.
pub fn cleanup_from_monitor(env: &Env, id: &str) -> Result<i32, Failure> {
    let e = berth_engine::Engine::open_only(&env.root)?;
    e.cleanup_after_exit(id)?;
    Ok(0)
}

/// The hidden `container-monitor-died ID`: run by the watcher of a monitor that died.
/// The hidden `container-monitor-died ID`, run by the watcher of a monitor that died, with
/// nobody to read its output: the engine's account of the repair (tracing) is appended to
/// `R/repairs.log`.
pub fn monitor_died(env: &Env, id: &str) -> Result<i32, Failure> {
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(env.root.join("repairs.log"));
    if let Ok(file) = log {
        let _ = tracing_subscriber::fmt()
            .with_writer(std::sync::Mutex::new(file))
            .with_ansi(false)
            .with_target(false)
            .try_init();
    }
    let e = berth_engine::Engine::open_only(&env.root)?;
    e.monitor_died(id)?;
    Ok(0)
}
