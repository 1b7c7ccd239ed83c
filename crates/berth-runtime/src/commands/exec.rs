//! `exec`: a process from --process FILE, or the container's process with inline overrides.

use super::Result;
use crate::cli::ExecArgs;
use crate::signals;
use berth_runtime::{ExecOpts, Runtime};
use oci_spec::runtime::{Capability, Process};
use std::str::FromStr;

fn build(rt: &Runtime, a: &ExecArgs) -> Result<Process> {
    if let Some(p) = &a.process {
        let data =
            std::fs::read(p).map_err(|e| format!("read process file {}: {e}", p.display()))?;
        return serde_json::from_slice::<Process>(&data)
            .map_err(|e| format!("process file {}: {e}", p.display()).into());
    }
    if a.command.is_empty() {
        return Err("exec: no command given (args cannot be empty)".into());
    }
    let st = rt.load(&a.id)?;
    let mut p = rt.config(&st)?.process().clone().unwrap_or_default();
    p.set_args(Some(a.command.clone()));
    p.set_terminal(Some(a.tty));
    let mut env = p.env().clone().unwrap_or_default();
    env.extend(a.env.iter().cloned());
    p.set_env(Some(env));
    if let Some(cwd) = &a.cwd {
        p.set_cwd(cwd.clone());
    }
    if let Some(u) = &a.user {
        let (uid, gid) = match u.split_once(':') {
            Some((u, g)) => (u.parse::<u32>()?, g.parse::<u32>()?),
            None => (
                u.parse::<u32>()
                    .map_err(|_| format!("invalid --user {u:?}: expected UID[:GID]"))?,
                0,
            ),
        };
        let mut user = p.user().clone();
        user.set_uid(uid);
        user.set_gid(gid);
        if !a.additional_gids.is_empty() {
            user.set_additional_gids(Some(a.additional_gids.clone()));
        }
        p.set_user(user);
    }
    if !a.cap.is_empty() {
        let mut caps = p.capabilities().clone().unwrap_or_default();
        for c in &a.cap {
            let name = c.trim_start_matches("CAP_");
            let cap =
                Capability::from_str(name).map_err(|_| format!("unknown capability {c:?}"))?;
            let add = |set: &Option<oci_spec::runtime::Capabilities>| {
                let mut s = set.clone().unwrap_or_default();
                s.insert(cap);
                Some(s)
            };
            // As runc: an added capability goes into the bounding, effective and permitted sets.
            let (bounding, effective, permitted) = (
                add(caps.bounding()),
                add(caps.effective()),
                add(caps.permitted()),
            );
            caps.set_bounding(bounding);
            caps.set_effective(effective);
            caps.set_permitted(permitted);
        }
        p.set_capabilities(Some(caps));
    }
    if a.no_new_privs {
        p.set_no_new_privileges(Some(true));
    }
    Ok(p)
}

pub fn exec(rt: &Runtime, a: ExecArgs) -> Result<i32> {
    berth_runtime::self_protect::ensure_sealed_exe()
        .map_err(|e| format!("protect runtime binary (CVE-2019-5736): {e}"))?;
    let process = build(rt, &a)?;
    if process.terminal().unwrap_or(false) && a.console_socket.is_none() {
        return Err("cannot allocate a tty without --console-socket".into());
    }
    if !a.detach {
        signals::block();
    }
    let pid = rt.exec(
        &a.id,
        ExecOpts {
            process: Some(process),
            console_socket: a.console_socket.clone(),
            preserve_fds: a.preserve_fds,
        },
    )?;
    if let Some(p) = &a.pid_file {
        berth_runtime::container::create::write_pid_file(p, pid)?;
    }
    if a.detach {
        return Ok(0);
    }
    Ok(signals::wait_forwarding(pid, None))
}
