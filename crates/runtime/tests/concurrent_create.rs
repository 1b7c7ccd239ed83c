//! The library used by a threaded caller: several threads creating and starting containers
//! at once. Each container's init is a fork of whichever thread made it, so it starts with
//! copies of every fd the other threads hold at that moment (their state dir locks, start
//! fifos, channel sockets). It must drop them at once: an init that kept another
//! container's lock would block that container's `start` until it itself was started,
//! and two such inits deadlock their threads.

use berth_runtime::{CreateOpts, Runtime};
use std::path::Path;
use std::process::Command;
use std::sync::{mpsc, Mutex};
use std::time::Duration;

const THREADS: usize = 4;
const ROUNDS: usize = 5;

fn busybox_rootfs(root: &Path) {
    let bin = root.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    std::fs::copy("/bin/busybox", bin.join("busybox"))
        .expect("busybox-static must be installed (apt-get install busybox-static)");
    let out = Command::new("/bin/busybox").arg("--list").output().unwrap();
    for applet in String::from_utf8_lossy(&out.stdout).lines() {
        if applet != "busybox" {
            std::os::unix::fs::symlink("busybox", bin.join(applet)).unwrap();
        }
    }
    for d in ["etc", "proc", "sys", "dev", "tmp", "root"] {
        std::fs::create_dir_all(root.join(d)).unwrap();
    }
    std::fs::write(root.join("etc/passwd"), "root:x:0:0:root:/root:/bin/sh\n").unwrap();
}

/// A bundle whose process writes `ran` into the root and exits.
fn bundle(dir: &Path) {
    busybox_rootfs(&dir.join("rootfs"));
    let mut cfg = berth_runtime::default_spec::spec(false);
    cfg["process"]["terminal"] = false.into();
    cfg["process"]["args"] = serde_json::json!(["sh", "-c", "echo ran > /ran"]);
    cfg["root"]["readonly"] = false.into();
    std::fs::write(
        dir.join("config.json"),
        serde_json::to_vec_pretty(&cfg).unwrap(),
    )
    .unwrap();
}

/// The inits made, to kill if the test fails (they would hold its output pipe open).
static INITS: Mutex<Vec<i32>> = Mutex::new(Vec::new());

/// Create, start and wait for one container, then delete it; the error text on failure.
fn run_one(rt: &Runtime, bundle: &Path, id: &str) -> Result<(), String> {
    let _ = std::fs::remove_file(bundle.join("rootfs/ran"));
    let created = rt
        .create(&CreateOpts {
            id: id.into(),
            bundle: bundle.into(),
            ..Default::default()
        })
        .map_err(|e| format!("create {id}: {e}"))?;
    INITS.lock().unwrap().push(created.pid);
    rt.start(id).map_err(|e| format!("start {id}: {e}"))?;
    let pid = nix::unistd::Pid::from_raw(created.pid);
    let status = nix::sys::wait::waitpid(pid, None).map_err(|e| format!("wait {id}: {e}"))?;
    rt.delete(id, true)
        .map_err(|e| format!("delete {id}: {e}"))?;
    match (status, std::fs::read_to_string(bundle.join("rootfs/ran"))) {
        (nix::sys::wait::WaitStatus::Exited(_, 0), Ok(t)) if t == "ran\n" => Ok(()),
        other => Err(format!("{id}: {other:?}")),
    }
}

#[test]
fn threads_creating_and_starting_containers_at_once_all_finish() {
    let state = tempfile::tempdir().unwrap();
    let (tx, rx) = mpsc::channel();
    for t in 0..THREADS {
        let (tx, root) = (tx.clone(), state.path().join("state"));
        std::thread::spawn(move || {
            let dir = tempfile::tempdir().unwrap();
            bundle(dir.path());
            let rt = Runtime::new(root);
            for round in 0..ROUNDS {
                let id = format!("threads-{}-{t}-{round}", std::process::id());
                let r = run_one(&rt, dir.path(), &id);
                let failed = r.is_err();
                tx.send(r).unwrap();
                if failed {
                    return;
                }
            }
        });
    }
    drop(tx);
    let mut done = 0;
    while done < THREADS * ROUNDS {
        // A generous bound that only a deadlock reaches: it turns a hang into a failure.
        match rx.recv_timeout(Duration::from_secs(120)) {
            Ok(r) => {
                r.unwrap();
                done += 1;
            }
            Err(e) => {
                for &pid in INITS.lock().unwrap().iter() {
                    // SAFETY: signalling a container init this test made (a dead one is
                    // still its unreaped child, so the pid is not reused).
                    unsafe { libc::kill(pid, libc::SIGKILL) };
                }
                panic!("{done} of {} containers finished: {e}", THREADS * ROUNDS)
            }
        }
    }
}
