//! `create` and `run`.

use super::Result;
use crate::cli::CreateArgs;
use crate::{signals, tty};
use berth_runtime::{CreateOpts, Runtime};
use std::os::fd::OwnedFd;

fn opts(a: &CreateArgs) -> CreateOpts {
    CreateOpts {
        id: a.id.clone(),
        bundle: a.bundle.clone(),
        pid_file: a.pid_file.clone(),
        console_socket: a.console_socket.clone(),
        preserve_fds: a.preserve_fds,
        no_pivot: a.no_pivot,
        no_new_keyring: a.no_new_keyring,
        config: None,
        start: false,
    }
}

/// Only `process.terminal` is read here, to decide whether we must be the console.
#[derive(serde::Deserialize)]
struct TerminalOnly {
    process: Option<TerminalFlag>,
}
#[derive(serde::Deserialize)]
struct TerminalFlag {
    terminal: Option<bool>,
}

fn wants_terminal(bundle: &std::path::Path) -> bool {
    std::fs::read(bundle.join("config.json"))
        .ok()
        .and_then(|d| serde_json::from_slice::<TerminalOnly>(&d).ok())
        .and_then(|c| c.process?.terminal)
        .unwrap_or(false)
}

const DETACHED_TTY: &str =
    "cannot allocate tty if berth-runtime will detach without setting console socket";

fn protect() -> Result<()> {
    berth_runtime::self_protect::ensure_sealed_exe()
        .map_err(|e| format!("protect runtime binary (CVE-2019-5736): {e}").into())
}

pub fn create(rt: &Runtime, a: &CreateArgs) -> Result<i32> {
    if a.console_socket.is_none() && wants_terminal(&a.bundle) {
        return Err(DETACHED_TTY.into());
    }
    protect()?;
    rt.create(&opts(a))?;
    Ok(0)
}

pub fn run(rt: &Runtime, a: &CreateArgs, detach: bool, keep: bool) -> Result<i32> {
    let own_tty = a.console_socket.is_none() && wants_terminal(&a.bundle);
    if own_tty && detach {
        return Err(DETACHED_TTY.into());
    }
    protect()?;
    if !detach {
        signals::block();
    }
    let console = if own_tty {
        Some(tty::ConsoleSocket::bind(&rt.root)?)
    } else {
        None
    };
    let mut o = opts(a);
    if let Some(c) = &console {
        o.console_socket = Some(c.path().to_path_buf());
    }
    // Without a terminal to receive first, the create starts the container itself.
    o.start = console.is_none();
    let c = rt.create(&o)?;
    let master: Option<OwnedFd> = match console {
        Some(cs) => Some(cs.receive()?),
        None => None,
    };
    if !o.start {
        if let Err(e) = rt.start(&a.id) {
            let _ = rt.delete(&a.id, true);
            return Err(e.into());
        }
    }
    if detach {
        return Ok(0);
    }
    let _raw = master.as_ref().map(|_| tty::RawMode::enter());
    let output = match &master {
        Some(m) => {
            tty::sync_size(m);
            Some(tty::proxy(m)?)
        }
        None => None,
    };
    let winch = master.as_ref().map(|m| move || tty::sync_size(m));
    let code = signals::wait_forwarding(c.pid, winch.as_ref().map(|f| f as &dyn Fn()));
    if let Some(h) = output {
        let _ = h.join();
    }
    if !keep {
        rt.delete(&a.id, true)?;
    }
    Ok(code)
}
