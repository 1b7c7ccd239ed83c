//! Whether and when to restart, as Docker's restart manager decides: 100 ms back-off
//! doubling up to one minute, reset once a run lasted 10 s; `on-failure:N` counts restarts;
//! nothing restarts after `berth stop` (the `stopped-by-user` file).

use crate::args::Restart;
use std::time::Duration;

const FIRST: Duration = Duration::from_millis(100);
const MAX: Duration = Duration::from_secs(60);
const STEADY: Duration = Duration::from_secs(10);
/// The restart policy set by `berth update` after the monitor started.
const POLICY_FILE: &str = "restart-policy";

pub struct Policy {
    restart: Restart,
    delay: Duration,
    pub count: u32,
}

impl Policy {
    pub fn new(restart: Restart) -> Self {
        Policy {
            restart,
            delay: Duration::ZERO,
            count: 0,
        }
    }

    /// Take the policy `berth update --restart` left in the container's dir, if any (the
    /// engine writes it atomically; the restart count is kept, as Docker keeps it).
    pub fn reload(&mut self, dir: &std::path::Path) {
        if let Ok(v) = std::fs::read_to_string(dir.join(POLICY_FILE)) {
            if let Ok(r) = crate::args::parse_restart(v.trim()) {
                self.restart = r;
            }
        }
    }

    /// The delay before the next start, or None for no restart.
    pub fn next(
        &mut self,
        exit_code: i32,
        stopped_by_user: bool,
        ran: Duration,
    ) -> Option<Duration> {
        if ran >= STEADY {
            self.delay = Duration::ZERO;
        }
        self.delay = if self.delay.is_zero() {
            FIRST
        } else {
            (self.delay * 2).min(MAX)
        };
        let restart = !stopped_by_user
            && match self.restart {
                Restart::No => false,
                Restart::Always | Restart::UnlessStopped => true,
                Restart::OnFailure(max) => exit_code != 0 && (max == 0 || self.count < max),
            };
        if !restart {
            return None;
        }
        self.count += 1;
        Some(self.delay)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    const QUICK: Duration = Duration::from_millis(5);

    #[test]
    fn on_failure_counts_and_ignores_success() {
        let mut p = Policy::new(Restart::OnFailure(2));
        assert_eq!(p.next(0, false, QUICK), None);
        assert_eq!(p.next(1, false, QUICK), Some(Duration::from_millis(200)));
        assert_eq!(p.next(1, false, QUICK), Some(Duration::from_millis(400)));
        assert_eq!(p.next(1, false, QUICK), None);
    }

    #[test]
    fn backoff_doubles_to_a_minute_and_resets_after_a_steady_run() {
        let mut p = Policy::new(Restart::Always);
        let delays: Vec<_> = (0..12).map(|_| p.next(0, false, QUICK).unwrap()).collect();
        assert_eq!(delays[0], FIRST);
        assert_eq!(delays[1], FIRST * 2);
        assert_eq!(*delays.last().unwrap(), MAX);
        assert_eq!(p.next(0, false, STEADY), Some(FIRST));
    }

    #[test]
    fn an_updated_policy_is_taken_from_the_container_dir() {
        let dir = std::env::temp_dir().join(format!("berth-policy-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let mut p = Policy::new(Restart::No);
        p.reload(&dir);
        assert_eq!(p.next(1, false, QUICK), None);
        std::fs::write(dir.join(POLICY_FILE), "on-failure:1\n").unwrap();
        p.reload(&dir);
        assert!(p.next(1, false, QUICK).is_some());
        assert_eq!(p.next(1, false, QUICK), None);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_user_stop_prevents_every_restart() {
        for r in [
            Restart::Always,
            Restart::UnlessStopped,
            Restart::OnFailure(0),
        ] {
            assert_eq!(Policy::new(r).next(1, true, QUICK), None);
        }
        assert_eq!(Policy::new(Restart::No).next(1, false, QUICK), None);
    }
}
