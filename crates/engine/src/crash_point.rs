//! Deterministic crash points for the crash tests (after kill -9 of berth at any step, the
//! next berth command reconciles). A kill at a random moment hits the steps that
//! take long and rarely the ones between two quick system calls, where the states that are
//! hard to undo are; a named point between each pair of state-changing steps lets a test
//! kill berth exactly there, every time. With `BERTH_TEST_CRASH_AT=<point>` in its
//! environment, a berth process sends itself SIGKILL when it reaches that point; without
//! it, a point costs one load and compare (the variable is read once per process).

use std::sync::OnceLock;

/// The environment variable naming the point to die at.
pub const ENV: &str = "BERTH_TEST_CRASH_AT";

/// Every crash point of network setup and teardown, in the order a start, then a removal,
/// reaches them. The crash tests iterate over this list; a unit test below checks that it
/// names exactly the points the engine's sources hold, so a point added later is tested.
///
/// `net-up:*` are reached by `start` (after the container's netns is pinned: the trace the
/// repair looks for); `net-up:bridge`, `net-up:network-rules` and `net-up:route-localnet`
/// only when the network's bridge is made; `net-up:dns-*` only on a user network whose DNS
/// server is not running yet. `net-down:*` are reached by `stop` and `rm`, the ports ones
/// only for a container with published ports, `net-down:detached` by `rm` only.
/// `net-connect:*` and `net-disconnect:*` are reached by `network connect` and `network
/// disconnect` of a running container; a connect also reaches the `net-up:*` points of
/// plugging one network in (from `net-up:bridge` to `net-up:hairpin`, and the DNS ones).
pub const NETWORK_CRASH_POINTS: &[&str] = &[
    "net-up:netns",
    "net-up:bridge",
    "net-up:network-rules",
    "net-up:route-localnet",
    "net-up:lease",
    "net-up:veth",
    "net-up:hairpin",
    "net-up:ports-file",
    "net-up:port-rules",
    "net-up:files",
    "net-up:dns-hosts",
    "net-up:dns-server",
    "net-up:done",
    "net-down:port-rules",
    "net-down:ports-file",
    "net-down:veth",
    "net-down:leases",
    "net-down:names",
    "net-down:netns",
    "net-down:detached",
    "net-connect:attached",
    "net-connect:plugged",
    "net-connect:names",
    "net-disconnect:veth",
    "net-disconnect:detached",
    "net-disconnect:names",
];

/// Every crash point of the container lifecycle outside networking, in the order `run -d`
/// (create, then start), `stop` and `rm` reach them; checked against the sources with
/// [`NETWORK_CRASH_POINTS`] by the same unit test.
///
/// `ctr-create:*` are reached by `create` and `run`; `ctr-start:*` by `start` and `run`
/// (`ctr-start:child-*` in the forked start child, which the parent then outlives: it
/// reports an error, or, after `child-reported`, a monitor pid that never was one);
/// `ctr-stop:*` by `stop` of a running container; `ctr-rm:*` by `rm` (and by the repair
/// that finishes a removal or undoes a create cut short).
pub const CONTAINER_CRASH_POINTS: &[&str] = &[
    "ctr-create:row",
    "ctr-create:dir",
    "ctr-create:mounted",
    "ctr-create:network",
    "ctr-create:etc-files",
    "ctr-create:volumes",
    "ctr-create:config",
    "ctr-start:runtime-deleted",
    "ctr-start:exit-removed",
    "ctr-start:mounted",
    "ctr-start:network",
    "ctr-start:child-created",
    "ctr-start:child-reported",
    "ctr-start:spawned",
    "ctr-stop:marked",
    "ctr-stop:signalled",
    "ctr-stop:settled",
    "ctr-rm:removing",
    "ctr-rm:runtime-deleted",
    "ctr-rm:monitor-gone",
    "ctr-rm:network-forgotten",
    "ctr-rm:volumes-released",
    "ctr-rm:unmounted",
    "ctr-rm:dir-removed",
];

/// The crash points of `commit`, in the order it reaches them: its layer spooled to
/// `content/ingest`, the blob written there (not yet renamed into the store), the layer
/// unpacked in `snapshots/staging` (not yet published). Each leaves temp files for the next
/// command to remove.
pub const COMMIT_CRASH_POINTS: &[&str] = &[
    "ctr-commit:layer-written",
    "ctr-commit:blob-written",
    "ctr-commit:layer-staged",
];

/// Die here (SIGKILL, as `kill -9` from outside) if [`ENV`] names this point.
pub fn crash_point(name: &str) {
    static AT: OnceLock<Option<String>> = OnceLock::new();
    let at = AT.get_or_init(|| std::env::var(ENV).ok().filter(|v| !v.is_empty()));
    if at.as_deref() == Some(name) {
        // SAFETY: kill(2) on our own pid with a signal number; no memory is involved.
        unsafe { libc::kill(libc::getpid(), libc::SIGKILL) };
        // SIGKILL to ourselves is delivered before kill(2) returns; never reached.
        std::process::abort();
    }
}

#[cfg(test)]
mod tests {
    use super::{COMMIT_CRASH_POINTS, CONTAINER_CRASH_POINTS, NETWORK_CRASH_POINTS};
    use std::path::Path;

    fn points_in(dir: &Path, out: &mut Vec<String>) {
        for e in std::fs::read_dir(dir).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                points_in(&p, out);
            } else if p.extension().is_some_and(|x| x == "rs") && !p.ends_with("crash_point.rs") {
                let text = std::fs::read_to_string(&p).unwrap();
                for part in text.split("crash_point(\"").skip(1) {
                    out.push(part.split('"').next().unwrap().to_string());
                }
            }
        }
    }

    #[test]
    fn the_list_names_every_point_in_the_sources_once() {
        let mut found = Vec::new();
        points_in(
            &Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
            &mut found,
        );
        found.sort();
        let mut listed: Vec<String> = NETWORK_CRASH_POINTS
            .iter()
            .chain(CONTAINER_CRASH_POINTS)
            .chain(COMMIT_CRASH_POINTS)
            .map(|s| s.to_string())
            .collect();
        listed.sort();
        assert_eq!(
            found, listed,
            "crash_point calls vs the lists of crash points"
        );
    }
}
