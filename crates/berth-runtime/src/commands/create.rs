//! `create` and `run`.

use super::Result;
use crate::cli::CreateArgs;
use crate::signals;
use berth_runtime::{CreateOpts, Runtime};

fn opts(a: &CreateArgs) -> CreateOpts {
    CreateOpts {
        id: a.id.clone(),
        bundle: a.bundle.clone(),
        pid_file: a.pid_file.clone(),
        console_socket: a.console_socket.clone(),
        preserve_fds: a.preserve_fds,
        no_pivot: a.no_pivot,
        no_new_keyring: a.no_new_keyring,
    }
}

pub fn create(rt: &Runtime, a: &CreateArgs) -> Result<i32> {
    berth_runtime::self_protect::ensure_sealed_exe()
        .map_err(|e| format!("protect runtime binary (CVE-2019-5736): {e}"))?;
    rt.create(&opts(a))?;
    Ok(0)
}

pub fn run(rt: &Runtime, a: &CreateArgs, detach: bool, keep: bool) -> Result<i32> {
    berth_runtime::self_protect::ensure_sealed_exe()
        .map_err(|e| format!("protect runtime binary (CVE-2019-5736): {e}"))?;
    if !detach {
        signals::block();
    }
    let c = rt.create(&opts(a))?;
    if let Err(e) = rt.start(&a.id) {
        let _ = rt.delete(&a.id, true);
        return Err(e.into());
    }
    if detach {
        return Ok(0);
    }
    let code = signals::wait_forwarding(c.pid);
    if !keep {
        rt.delete(&a.id, true)?;
    }
    Ok(code)
}
