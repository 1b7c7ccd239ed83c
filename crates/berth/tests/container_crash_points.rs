//! Crash safety of the container lifecycle berth killed with SIGKILL at
//! each named point of create, start, stop and rm (`berth_engine::crash_point`, through
//! `BERTH_TEST_CRASH_AT`), then the next command repairs: a container cut short in its
//! create is undone, one whose monitor never came is marked exited with a recorded cause, a
//! removal cut short is finished; a surviving container starts and runs again, and `rm`
//! leaves no mount, cgroup, process, runtime state, directory, row or volume use behind.
//!
//! Every point of `CONTAINER_CRASH_POINTS` is visited; a point the command never reaches
//! fails the test (the process must have died by SIGKILL), except the start child's points,
//! which kill the forked child and leave the command itself to report (by design).

mod container_support;
use berth_engine::crash_point::CONTAINER_CRASH_POINTS;
use container_support::*;

/// A named volume and an anonymous one: their uses are recorded by create, released by rm.
const RUN: &[&str] = &[
    "run",
    "-d",
    "--network",
    "none",
    "-v",
    "crashvol:/data",
    "-v",
    "/anon",
    IMAGE,
    "sleep",
    "1000",
];

fn points(prefix: &str) -> impl Iterator<Item = &'static str> + '_ {
    CONTAINER_CRASH_POINTS
        .iter()
        .copied()
        .filter(move |p| p.starts_with(prefix))
}

/// The one container the command made, from its lock file (the command may have died
/// before printing its ID, and any berth command would repair before listing).
fn the_one_container(root: &Root) -> String {
    let ids: Vec<String> = std::fs::read_dir(root.path().join("containers"))
        .unwrap()
        .flatten()
        .filter_map(|e| {
            e.file_name()
                .to_str()?
                .strip_suffix(".lock")
                .map(str::to_string)
        })
        .collect();
    assert_eq!(ids.len(), 1, "{ids:?}");
    ids[0].clone()
}

fn volumes(root: &Root) -> Vec<String> {
    root.ok(&["volume", "ls", "-q"])
        .lines()
        .map(str::to_string)
        .collect()
}

/// Nothing of `id` is left, and nothing at all under the root: no mount, no volume but the
/// named one, which no container uses any more (its removal succeeds), no runtime state.
fn assert_all_gone(root: &Root, id: &str, at: &str) {
    eventually("its processes to end", || processes_with(id).is_empty());
    assert_nothing_left(root, id);
    let root_path = root.path().display().to_string();
    let mounts = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
    assert!(
        !mounts.contains(&root_path),
        "{at}: mounts left under {root_path}"
    );
    let left = volumes(root);
    assert!(
        left.iter().all(|v| v == "crashvol"),
        "{at}: volumes left: {left:?}"
    );
    // (Not made when the create died before its volumes.)
    if !left.is_empty() {
        let o = root.berth(&["volume", "rm", "crashvol"]);
        assert!(
            o.status.success(),
            "{at}: the named volume is still in use: {}",
            stderr(&o)
        );
    }
    let rt = root.runtime_state();
    assert!(rt.is_empty(), "{at}: runtime state left: {rt:?}");
}

/// The repaired container starts and runs (an exec in it succeeds), then `rm -f -v`
/// leaves nothing.
fn starts_and_runs_then_rm_leaves_nothing(root: &Root, id: &str, at: &str) {
    let o = root.berth(&["start", id]);
    assert!(o.status.success(), "{at}: start failed: {}", stderr(&o));
    assert_eq!(
        root.inspect(id)["State"]["Status"],
        "running",
        "{at}: not running after start"
    );
    let o = root.berth(&["exec", id, "true"]);
    assert!(o.status.success(), "{at}: exec failed: {}", stderr(&o));
    root.ok(&["rm", "-f", "-v", id]);
    assert_all_gone(root, id, at);
}

/// `run -d` killed at each point of create and start; the forked start child's points kill
/// the child, and the command reports (an error; or, once the child had reported, success
/// with a monitor that never was).
#[test]
fn a_run_killed_at_each_create_and_start_point_is_repaired() {
    let root = Root::new();
    for point in points("ctr-create:").chain(points("ctr-start:")) {
        let o = berth_crashing_at(&root, point, RUN);
        let id = the_one_container(&root);
        match point {
            "ctr-start:child-created" => assert_eq!(
                o.status.code(),
                Some(125),
                "{point}: the start's error was not reported: {}",
                stderr(&o)
            ),
            "ctr-start:child-reported" => {
                ok(&o);
            }
            _ => assert_killed(&o, point, "run"),
        }
        root.ok(&["ps", "-a"]);
        let created_whole = point == "ctr-create:config" || point.starts_with("ctr-start:");
        if !created_whole {
            // A create cut short is undone: its row, dir, mount and volumes go.
            assert!(!root.ids().contains(&id), "{point}: the row survived");
            assert_all_gone(&root, &id, point);
            continue;
        }
        let state = root.inspect(&id)["State"].clone();
        match point {
            // The monitor was running when the row update was cut short: adopted.
            "ctr-start:spawned" => assert_eq!(state["Status"], "running", "{point}: {state}"),
            // The row names as monitor a process that died: exited, with the cause.
            "ctr-start:child-reported" => {
                assert_eq!(state["Status"], "exited", "{point}: {state}");
                assert_eq!(state["Error"], "monitor died", "{point}: {state}");
                assert_eq!(state["ExitCode"], 255, "{point}: {state}");
            }
            _ => assert_eq!(state["Status"], "created", "{point}: {state}"),
        }
        // No process of the container runs unwatched (the repair killed the init of a
        // start whose monitor never came).
        if point != "ctr-start:spawned" {
            eventually("its processes to end", || processes_with(&id).is_empty());
        }
        starts_and_runs_then_rm_leaves_nothing(&root, &id, point);
    }
}

/// A start killed after the monitor took over, before the row said so, whose monitor then
/// dies too: the next command marks the container exited with a recorded cause and kills
/// its init.
#[test]
fn a_start_cut_short_whose_monitor_died_is_marked_exited_with_the_cause() {
    let root = Root::new();
    let id = root
        .ok(&["create", "--network", "none", IMAGE, "sleep", "1000"])
        .trim()
        .to_string();
    let o = berth_crashing_at(&root, "ctr-start:spawned", &["start", &id]);
    assert_killed(&o, "ctr-start:spawned", "start");
    let monitor = monitor_of(&id);
    // SAFETY: signalling the monitor this test's berth started.
    assert_eq!(unsafe { libc::kill(monitor, libc::SIGKILL) }, 0);
    eventually("the monitor to die", || {
        processes_with(&format!("--id\0{id}\0")).is_empty()
    });
    // Repaired by the dead monitor's watcher or by a command, whichever takes the lock
    // first (a command finds the lock held while the watcher repairs, and leaves it to it).
    eventually("the repair", || {
        root.inspect(&id)["State"]["Status"] != "created"
    });
    let state = root.inspect(&id)["State"].clone();
    assert_eq!(state["Status"], "exited", "{state}");
    assert_eq!(state["Error"], "monitor died", "{state}");
    assert_eq!(state["ExitCode"], 255, "{state}");
    eventually("its init to die", || processes_with(&id).is_empty());
    starts_and_runs_then_rm_leaves_nothing(&root, &id, "a dead monitor");
}

/// `stop -t 0` of a running container killed at each stop point: the next command has the
/// container exited (or still running, when the kill came before the signal), and it
/// starts again.
#[test]
fn a_stop_killed_at_each_point_is_repaired_and_starts_again() {
    let root = Root::new();
    for point in points("ctr-stop:") {
        let id = root.ok(RUN).trim().to_string();
        let o = berth_crashing_at(&root, point, &["stop", "-t", "0", &id]);
        assert_killed(&o, point, "stop");
        root.ok(&["ps", "-a"]);
        let state = root.inspect(&id)["State"].clone();
        let expected = if point == "ctr-stop:marked" {
            "running"
        } else {
            "exited"
        };
        assert_eq!(state["Status"], expected, "{point}: {state}");
        if expected == "exited" {
            // The monitor recorded the SIGKILL before it went.
            assert_eq!(state["ExitCode"], 137, "{point}: {state}");
            eventually("its processes to end", || processes_with(&id).is_empty());
        }
        starts_and_runs_then_rm_leaves_nothing(&root, &id, point);
    }
}

/// `rm -f -v` of a running container killed at each removal point: the next command
/// finishes the removal, its anonymous volume included.
#[test]
fn an_rm_killed_at_each_point_is_finished_by_the_next_command() {
    let root = Root::new();
    for point in points("ctr-rm:") {
        let id = root.ok(RUN).trim().to_string();
        let o = berth_crashing_at(&root, point, &["rm", "-f", "-v", &id]);
        assert_killed(&o, point, "rm");
        root.ok(&["ps", "-a"]);
        assert_all_gone(&root, &id, point);
    }
}
