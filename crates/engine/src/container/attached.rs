//! A client attached to the container it started (`run` without -d, `start -a`): the
//! container's output as the exact bytes it wrote, each stream on its own, from the monitor's
//! attach frames (never through the log driver, which may be `none` and escapes what is not
//! UTF-8); its status from the monitor's exit frame, else `exit.json`, else the row; and for
//! an `--rm` container the removal, done before the client returns, as docker's `run --rm`
//! waits for it.

use super::{exit, monitor_alive, Engine};
use crate::monitor_client::{self, AttachEnd, Streams};
use crate::store::State;
use crate::{Error, Result};
use std::io::{Read, Write};
use std::time::Duration;

/// How an attached session ended.
#[derive(Debug)]
pub enum Attached {
    /// The container exited with this status.
    Exited(i32),
    /// Our output was closed (`berth run ... | head -1`): the copy stopped, the container
    /// may still run (its monitor removes an `--rm` one once it ends).
    OutputClosed(std::io::Error),
}

impl Engine {
    /// Attaches to the container `id` started by [`Engine::start_attached`] (its monitor holds
    /// the output until this attach arrives) and copies its stdout and stderr to ours, and our
    /// `stdin` to its stdin (our end of input closes its), until it exits. With `remove` (an
    /// `--rm` container) it is removed before this returns, as docker's `run --rm` waits for
    /// its removal; a failed removal is the error.
    pub fn attach_until_exit(
        &self,
        id: &str,
        remove: bool,
        stdin: Option<impl Read + Send + 'static>,
        stdout: &mut dyn Write,
        stderr: &mut dyn Write,
    ) -> Result<Attached> {
        // Taken before the connection: a monitor that dies at any point after it finds it.
        let _mark = crate::lock::AttachMark::hold(&self.dir(id))?;
        let streams = Streams {
            stdin: stdin.is_some(),
            stdout: true,
            stderr: true,
        };
        let (end, connection) =
            match monitor_client::attach_frames(&self.dir(id), streams, stdin, stdout, stderr) {
                Ok((end, connection)) => (end, Some(connection)),
                // Nobody listens on the monitor's socket: the monitor died between the
                // start and this attach. Its status is looked for as for a lost connection.
                Err(Error::Conflict(_)) => (AttachEnd::Lost, None),
                Err(e) => return Err(e),
            };
        let code = match end {
            AttachEnd::Exited(code) => code,
            AttachEnd::Lost => self.exit_status_after_attach(id)?,
            // Still running, maybe: its monitor removes it once it ends.
            AttachEnd::OutputFailed(e) => return Ok(Attached::OutputClosed(e)),
        };
        if remove {
            self.remove_after_exit(id)?;
        }
        // Hung up only now: the monitor's own removal finds nothing left to do.
        drop(connection);
        Ok(Attached::Exited(code))
    }

    /// The status of the container `id` when its attach connection ended without the
    /// monitor's exit frame (a killed monitor): `exit.json`, else the row once the container
    /// no longer runs (repaired first when its monitor is gone). Never a made-up status: an
    /// error when the container was removed before its status could be read.
    pub fn exit_status_after_attach(&self, id: &str) -> Result<i32> {
        let mut delay = Duration::from_millis(2);
        loop {
            if let Some(x) = exit::read(self, id) {
                return Ok(x.exit_code);
            }
            let Some(mut r) = self.store.get(id)? else {
                return Err(Error::Conflict(format!(
                    "container {id} was removed before its exit status could be read"
                )));
            };
            exit::refresh(self, &mut r)?;
            match r.state {
                State::Running | State::Paused => {
                    if !monitor_alive(&r) {
                        crate::reconcile::repair_for_attached_client(self, &r)?;
                    }
                }
                // Its remover is at work: the row goes, and the status with it. A remover
                // that was killed is finished here (the repair only try-locks, so a live
                // one is left alone), or this would wait for ever.
                State::Removing => crate::reconcile::repair_for_attached_client(self, &r)?,
                _ => return Ok(r.exit_code),
            }
            std::thread::sleep(delay);
            delay = (delay * 2).min(Duration::from_millis(50));
        }
    }

    /// The end of an attached `run --rm` (or `start -a` of an `--rm` container) once its exit
    /// is known: the container is removed before the command returns, as docker's is. Its
    /// monitor removes it when no attached client does (`run -d --rm`, a client that went
    /// away); a removal that comes second waits for the first one's lock and finds the
    /// container gone for good, which is no error.
    pub fn remove_after_exit(&self, id: &str) -> Result<()> {
        match self.remove(id, true, true) {
            Ok(_) | Err(Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(e),
        }
    }
}
