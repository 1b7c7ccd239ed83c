//! Repairs after crashes: the engine never trusts a row alone.
//! A container whose row says running/paused/restarting but whose monitor is gone gets its
//! `exit.json` applied if there is one, else is marked exited with the error "monitor
//! died"; its runtime state is deleted (which kills what is left in its cgroup), its
//! network given back, and an `--rm` container is then removed, or one whose restart policy
//! says so started again, as its monitor would have.
//! A removal that was cut short is finished; a create that was cut short is undone; a
//! running container that a killed `commit` left frozen is thawed.
//! Containers locked by another command are left to it.
//!
//! Who repairs: a dead monitor's watcher at once ([`Engine::monitor_died`]); a command for
//! the rows it reads ([`needs_repair`], [`repair_row`]); and the full [`reconcile`] when
//! [`crate::ops`] shows a command was killed or the host rebooted, and when a server starts.
//! Each repair is logged with `tracing` (the CLI installs no subscriber; the server does).

use crate::container::commit::COMMIT_PAUSED;
use crate::container::{exit, monitor_alive, options_of, Engine};
use crate::store::{Row, State};

/// Repair what can be repaired; failures are left for later (never fatal). What another
/// command holds locked is left to it, and a mark asks the next command to look again.
pub fn reconcile(e: &Engine) {
    let Ok(rows) = e.store.list() else {
        return;
    };
    let ids = rows.iter().map(|r| r.id.clone()).collect();
    let mut left = false;
    for r in rows {
        let suspect = match r.state {
            State::Running | State::Paused | State::Restarting => {
                !monitor_alive(&r) || left_frozen_by_commit(e, &r)
            }
            State::Removing => true,
            // A start whose CLI was killed after the monitor took over, before the row said so.
            State::Created => {
                !e.dir(&r.id).join("config.json").exists() || e.runtime_for(&r).exists(&r.id)
            }
            // The runtime state of an exited container holds its cgroup: release it.
            State::Exited => !monitor_alive(&r) && e.runtime_for(&r).exists(&r.id),
            _ => false,
        };
        if suspect {
            match repair(e, &r, true) {
                Ok(true) => {}
                Ok(false) => left = true,
                Err(err) => {
                    tracing::warn!(container = %r.id, error = %err, "repair failed");
                    left = true;
                }
            }
        }
    }
    remove_orphan_locks(e, &ids);
    if let Ok(rows) = e.store.list() {
        e.network_repair(&rows);
    }
    if left {
        crate::ops::request_repair(&e.root);
    }
}

/// Does row `r`, read by a command, show a container whose monitor is gone? (Cheap: see
/// [`crate::container::monitor_alive`].)
pub fn needs_repair(r: &Row) -> bool {
    matches!(r.state, State::Running | State::Paused | State::Restarting) && !monitor_alive(r)
}

/// Repair the container of row `r` now, unless another command holds it (which then acts
/// on what it finds, as the full repair would leave it to it).
pub fn repair_row(e: &Engine, r: &Row) {
    if let Err(err) = repair(e, r, true) {
        tracing::warn!(container = %r.id, error = %err, "repair failed");
    }
}

/// Does `r` carry the mark of a commit's freeze? While the commit runs, it holds the
/// container's lock, so repair (which only try-locks) leaves it alone.
fn left_frozen_by_commit(e: &Engine, r: &Row) -> bool {
    r.state == State::Running && e.dir(&r.id).join(COMMIT_PAUSED).exists()
}

/// A create killed between taking its container's lock and inserting the row leaves a lock
/// file that no row names: removed once nobody holds it (a create still running does).
fn remove_orphan_locks(e: &Engine, ids: &std::collections::HashSet<String>) {
    let Ok(dir) = std::fs::read_dir(e.containers_dir()) else {
        return;
    };
    for entry in dir.flatten() {
        let name = entry.file_name();
        let Some(id) = name.to_str().and_then(|n| n.strip_suffix(".lock")) else {
            continue;
        };
        if ids.contains(id) {
            continue;
        }
        if let Ok(Some(lock)) = e.try_lock(id) {
            if matches!(e.store.get(id), Ok(None)) {
                lock.remove_file();
            }
        }
    }
}

/// The repair of one container for the client attached to it (`run` without -d), which
/// takes the status from the row and removes an `--rm` container itself afterwards.
pub fn repair_for_attached_client(e: &Engine, seen: &Row) -> crate::Result<()> {
    repair(e, seen, false).map(drop)
}

/// `apply_policy`: an `--rm` container whose monitor died is removed, and one whose restart
/// policy says so is started again, as its monitor would have; not for an attached client,
/// which still has to read its status (and, like docker's, ends with the container's end).
/// False when another command holds the container.
fn repair(e: &Engine, seen: &Row, apply_policy: bool) -> crate::Result<bool> {
    let Some(lock) = e.try_lock(&seen.id)? else {
        return Ok(false);
    };
    repair_locked(e, lock, &seen.id, apply_policy)?;
    Ok(true)
}

fn repair_locked(
    e: &Engine,
    lock: crate::lock::ContainerLock,
    id: &str,
    apply_policy: bool,
) -> crate::Result<()> {
    let Some(mut r) = e.store.get(id)? else {
        // Removed since we listed it: our try_lock made its lock file again.
        lock.remove_file();
        return Ok(());
    };
    match r.state {
        State::Removing => {
            tracing::info!(container = %id, "finishing a removal that was cut short");
            e.remove_locked(&mut r, false)?;
            lock.remove_file();
        }
        State::Created if !e.dir(&r.id).join("config.json").exists() => {
            // Its creator died before the end (it holds the lock while it works): undone as
            // its create would have, the anonymous volumes made for it included.
            tracing::info!(container = %id, "undoing a create that was cut short");
            e.remove_locked(&mut r, true)?;
            lock.remove_file();
        }
        State::Running | State::Paused | State::Restarting if !monitor_alive(&r) => {
            tracing::info!(container = %id, "its monitor is gone: recording its end");
            let rt = e.runtime_for(&r);
            if rt.exists(&r.id) {
                let _ = rt.resume(&r.id);
                rt.delete(&r.id, true)?;
            }
            let _ = std::fs::remove_file(e.dir(&r.id).join(COMMIT_PAUSED));
            match exit::read(e, &r.id).filter(|x| x.finished_at >= r.started_at) {
                Some(x) => {
                    r.exit_code = x.exit_code;
                    r.finished_at = x.finished_at;
                }
                None => {
                    r.exit_code = 255;
                    r.finished_at = crate::container::now();
                    r.error = "monitor died".into();
                    // Its monitor never recorded the end: recorded here, once (under the lock).
                    e.container_event(&r, "die", &[("exitCode", "255")]);
                }
            }
            r.state = State::Exited;
            r.pid = 0;
            e.store.update(&r)?;
            // Its ports, addresses and names, which its monitor's cleanup would have given
            // back.
            if let Err(err) = e.network_down(&r.id) {
                tracing::warn!(container = %id, error = %err, "network not given back");
            }
            let client_removes = crate::lock::AttachMark::held(&e.dir(&r.id));
            if apply_policy && options_of(&r).auto_remove && !client_removes {
                // Its monitor would have removed it (`--rm`) had it lived: done here, as it
                // would have, with its anonymous volumes.
                e.remove_locked(&mut r, true)?;
                lock.remove_file();
            } else if apply_policy && exit::will_restart(e, &r, r.exit_code) {
                // Its monitor would have restarted it: its policy applies as Docker's
                // daemon applies it to a container whose shim died.
                r.restart_count += 1;
                e.store.update(&r)?;
                e.start_locked(&mut r)?;
            }
        }
        State::Running if left_frozen_by_commit(e, &r) => {
            tracing::info!(container = %id, "thawing after a commit that was cut short");
            e.thaw_after_commit(&r)
        }
        State::Created => {
            let rt = e.runtime_for(&r);
            match (rt.live_init(&r.id), find_monitor(&r.id)) {
                (Some((pid, created)), Some(monitor)) => {
                    r.state = State::Running;
                    r.pid = pid;
                    r.monitor_pid = monitor;
                    r.started_at = created;
                    e.store.update(&r)?;
                }
                _ => {
                    tracing::info!(container = %id, "a start was cut short: its init stopped");
                    if let Some(m) = find_monitor(&r.id) {
                        let _ = nix::sys::signal::kill(
                            nix::unistd::Pid::from_raw(m),
                            nix::sys::signal::Signal::SIGKILL,
                        );
                    }
                    rt.delete(&r.id, true)?;
                    // Its init ran (or was made) with no monitor to record its end: the
                    // container exited, and the row says why.
                    r.state = State::Exited;
                    r.exit_code = 255;
                    r.finished_at = crate::container::now();
                    r.error = "monitor died".into();
                    r.pid = 0;
                    e.store.update(&r)?;
                }
            }
        }
        State::Exited if !monitor_alive(&r) => {
            let rt = e.runtime_for(&r);
            if rt.exists(&r.id) {
                rt.delete(&r.id, true)?;
            }
        }
        _ => {}
    }
    Ok(())
}

/// The monitor of container `id`, looked for among all processes (only when the row does not
/// name it: a start cut short). Its watcher is a fork of it, with the same command line: it
/// is the one named `berth-watcher`, or (the moment after the fork, before it renames
/// itself) the one whose parent names the container too.
fn find_monitor(id: &str) -> Option<i32> {
    let needle = format!("--id\0{id}\0");
    let names_id = |pid: i32| {
        std::fs::read(format!("/proc/{pid}/cmdline"))
            .is_ok_and(|c| String::from_utf8_lossy(&c).contains(&needle))
    };
    std::fs::read_dir("/proc").ok()?.flatten().find_map(|p| {
        let pid: i32 = p.file_name().to_str()?.parse().ok()?;
        let watcher = std::fs::read_to_string(p.path().join("comm"))
            .is_ok_and(|c| c.trim_end() == "berth-watcher")
            || parent_of(pid).is_some_and(names_id);
        (names_id(pid) && !watcher && crate::container::process_is(pid, "berth-monitor"))
            .then_some(pid)
    })
}

fn parent_of(pid: i32) -> Option<i32> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // comm may hold spaces and parens: the fields after the last ')' are state, ppid, ...
    s[s.rfind(')')? + 2..].split(' ').nth(1)?.parse().ok()
}

impl Engine {
    /// The hidden `container-monitor-died ID`, run by the watcher of container `id`'s monitor
    /// when that monitor died: the repair a command would make, without waiting for one. It
    /// waits for the container's lock (a command holding it, such as the monitor's own `rm`,
    /// finishes first) and changes nothing unless the monitor is provably gone.
    pub fn monitor_died(&self, id: &str) -> crate::Result<()> {
        let lock = self.lock(id)?;
        repair_locked(self, lock, id, true)
    }
}
