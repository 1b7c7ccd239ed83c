//! `run --rm` returns once the container is gone, as docker's does: the same name can be used
//! again at once, and the image and network it used can be removed right after.

mod container_support;
use container_support::*;

/// Nothing of the container is left the moment `run --rm` has returned: no row, no dir.
fn assert_gone_now(root: &Root, what: &str) {
    assert_eq!(
        root.ids(),
        Vec::<String>::new(),
        "{what}: a container is left"
    );
    let dirs: Vec<_> = std::fs::read_dir(root.path().join("containers"))
        .unwrap()
        .flatten()
        .filter(|e| e.path().is_dir())
        .map(|e| e.file_name())
        .collect();
    assert!(dirs.is_empty(), "{what}: left in containers/: {dirs:?}");
}

#[test]
fn run_rm_with_one_name_twice_in_a_row_never_conflicts() {
    let root = Root::new();
    for round in 0..5 {
        let o = root.berth(&[
            "run",
            "--rm",
            "--name",
            "again",
            "--network",
            "none",
            IMAGE,
            "sh",
            "-c",
            "exit 4",
        ]);
        assert_eq!(o.status.code(), Some(4), "round {round}: {}", stderr(&o));
        assert_gone_now(&root, &format!("round {round}"));
    }
    // With a terminal (-t) and with -i too.
    for flags in [["-t", "--name"], ["-i", "--name"]] {
        for round in 0..2 {
            let o = root.berth(&[
                "run",
                "--rm",
                flags[0],
                flags[1],
                "again",
                "--network",
                "none",
                IMAGE,
                "true",
            ]);
            assert_eq!(
                o.status.code(),
                Some(0),
                "{flags:?} {round}: {}",
                stderr(&o)
            );
            assert_gone_now(&root, &format!("{flags:?} round {round}"));
        }
    }
}

#[test]
fn the_network_and_image_of_a_run_rm_can_be_removed_right_after() {
    let root = Root::new();
    // An image of its own (not shared with another tag), so that rmi really deletes it and
    // would refuse while a container is made from it.
    let tgz = root.path().join("busybox.tgz");
    root.ok(&[
        "import",
        "--change",
        "ENV ONLY=this",
        tgz.to_str().unwrap(),
        "solo:1",
    ]);
    for round in 0..3 {
        root.ok(&["network", "create", "quick"]);
        let o = root.berth(&[
            "run",
            "--rm",
            "--network",
            "quick",
            "solo:1",
            "sh",
            "-c",
            "exit 2",
        ]);
        assert_eq!(o.status.code(), Some(2), "round {round}: {}", stderr(&o));
        let o = root.berth(&["network", "rm", "quick"]);
        assert!(
            o.status.success(),
            "round {round}: network rm: {}",
            stderr(&o)
        );
    }
    let o = root.berth(&["run", "--rm", "--network", "none", "solo:1", "true"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let o = root.berth(&["rmi", "solo:1"]);
    assert!(
        o.status.success(),
        "rmi right after run --rm: {}",
        stderr(&o)
    );
    assert_gone_now(&root, "after rmi");
}

#[test]
fn start_a_of_an_rm_container_returns_after_its_removal() {
    let root = Root::new();
    let id = root
        .ok(&[
            "create",
            "--rm",
            "--network",
            "none",
            IMAGE,
            "sh",
            "-c",
            "echo bye; exit 6",
        ])
        .trim()
        .to_string();
    let o = root.berth(&["start", "-a", &id]);
    assert_eq!(o.status.code(), Some(6), "{}", stderr(&o));
    assert_eq!(String::from_utf8_lossy(&o.stdout), "bye\n");
    assert_gone_now(&root, "start -a");
    eventually("its monitor to exit", || processes_with(&id).is_empty());
    assert_nothing_left(&root, &id);
}
