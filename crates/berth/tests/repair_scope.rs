//! Who repairs what: a command repairs the rows it reads, the full repair runs only when a
//! command was killed (its mark in `R/ops/<boot>` left unlocked), and commands that end
//! normally leave no mark.

mod container_support;
use container_support::*;
use std::path::PathBuf;

fn boot_dir(root: &Root) -> PathBuf {
    let boot = std::fs::read_to_string("/proc/sys/kernel/random/boot_id").unwrap();
    root.path().join("ops").join(boot.trim())
}

fn marks(root: &Root) -> Vec<String> {
    std::fs::read_dir(boot_dir(root))
        .map(|d| {
            d.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default()
}

fn alive(pid: i32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| !s.contains(") Z "))
}

fn sigkill(pid: i32) {
    // SAFETY: signalling a process this test's berth started.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGKILL) }, 0);
}

#[test]
fn commands_that_end_leave_no_mark() {
    let root = Root::new();
    let id = root
        .ok(&["run", "-d", IMAGE, "sleep", "1000"])
        .trim()
        .to_string();
    root.ok(&["ps", "-a"]);
    root.ok(&["exec", &id, "true"]);
    root.ok(&["rm", "-f", &id]);
    assert!(boot_dir(&root).is_dir(), "the boot's mark dir is made");
    assert_eq!(marks(&root), Vec::<String>::new());
}

#[test]
fn a_container_whose_monitor_and_watcher_died_is_repaired_by_the_command_that_reads_it() {
    let root = Root::new();
    let id = root
        .ok(&["run", "-d", IMAGE, "sleep", "1000"])
        .trim()
        .to_string();
    let init = root.inspect(&id)["State"]["Pid"].as_i64().unwrap() as i32;
    let monitor = monitor_of(&id);
    let watchers: Vec<i32> = processes_with(&format!("--id\0{id}\0"))
        .into_iter()
        .filter(|p| *p != monitor)
        .collect();
    // The watcher first, so that nobody is left to notice the monitor's death.
    for w in &watchers {
        sigkill(*w);
    }
    sigkill(monitor);
    eventually("the monitor to die", || !alive(monitor));
    assert!(alive(init), "nothing repaired it yet");
    // `ps` reads the row: the monitor is gone, so the container is not up.
    let ps = root.ok(&["ps", "-a", "--format", "{{.ID}} {{.Status}}"]);
    assert!(ps.contains("Exited (255)"), "{ps}");
    eventually("the repair to kill the init", || !alive(init));
    assert_eq!(root.inspect(&id)["State"]["Error"], "monitor died");
    root.ok(&["rm", &id]);
    assert_nothing_left(&root, &id);
}

#[test]
fn a_mark_nobody_holds_makes_the_next_command_repair_everything() {
    let root = Root::new();
    let id = root.ok(&["create", IMAGE, "true"]).trim().to_string();
    // A removal cut short leaves the row `removing`: only the full repair finishes it, and
    // it runs only when a command was killed.
    let db = rusqlite::Connection::open(root.path().join("berth.db")).unwrap();
    db.execute(
        "UPDATE containers SET state = 'removing' WHERE id = ?1",
        [&id],
    )
    .unwrap();
    root.ok(&["ps", "-a"]);
    assert!(
        root.ids().contains(&id),
        "no mark was left: nothing scanned"
    );
    // What a killed command leaves: a mark nobody holds.
    std::fs::write(boot_dir(&root).join("4242-0"), "").unwrap();
    root.ok(&["ps", "-a"]);
    assert!(!root.ids().contains(&id), "the removal was finished");
    assert_eq!(marks(&root), Vec::<String>::new(), "and the mark removed");
}
