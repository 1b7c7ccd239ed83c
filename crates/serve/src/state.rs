//! What the server's requests share: the data root, and the meeting points of requests about
//! one container that dockerd's clients send in a known order (`docker run` attaches and
//! waits before it starts).

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Condvar, Mutex};
use std::time::Duration;

pub struct State {
    pub root: PathBuf,
    /// Attach requests waiting for their container to start, by container ID: its start
    /// then has the monitor hold the output until they are connected.
    attaching: Mutex<HashMap<String, usize>>,
    /// Counts the starts this server made, for waits on a container not started yet.
    starts: Mutex<u64>,
    started: Condvar,
    pub execs: crate::exec::Execs,
}

impl State {
    pub fn new(root: PathBuf) -> State {
        State {
            root,
            attaching: Mutex::default(),
            starts: Mutex::new(0),
            started: Condvar::new(),
            execs: Default::default(),
        }
    }

    pub fn engine(&self) -> berth_engine::Result<berth_engine::Engine> {
        berth_engine::Engine::open(&self.root)
    }

    pub fn attach_pending(&self, id: &str, delta: isize) {
        let mut m = self.attaching.lock().unwrap_or_else(|p| p.into_inner());
        let n = m.entry(id.to_string()).or_default();
        *n = n.saturating_add_signed(delta);
        if *n == 0 {
            m.remove(id);
        }
    }

    pub fn has_attach_pending(&self, id: &str) -> bool {
        self.attaching
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .contains_key(id)
    }

    pub fn note_start(&self) {
        *self.starts.lock().unwrap_or_else(|p| p.into_inner()) += 1;
        self.started.notify_all();
    }

    /// How many starts this server has made: taken before a look at a container, then given
    /// to [`State::wait_for_a_start`], so that a start between the look and the wait is not
    /// slept through.
    pub fn starts(&self) -> u64 {
        *self.starts.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Sleeps until this server has made more starts than `seen`, or `limit` passes (a start
    /// by another process, such as the CLI, is seen by the caller's next look).
    pub fn wait_for_a_start(&self, seen: u64, limit: Duration) {
        let g = self.starts.lock().unwrap_or_else(|p| p.into_inner());
        let _ = self
            .started
            .wait_timeout_while(g, limit, |n| *n == seen)
            .map(|(g, _)| drop(g));
    }
}
