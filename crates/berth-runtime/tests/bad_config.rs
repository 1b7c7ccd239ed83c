//! Bad input: every broken config fails before anything is created, with one
//! line naming the field; failures injected at later steps leave nothing behind.

mod common;
use common::*;
use serde_json::json;

fn assert_nothing_left(b: &Bundle) {
    assert!(!b.root.join(&b.id).exists(), "state dir left behind");
    assert!(
        cgroup_dirs(&b.id).is_empty(),
        "cgroup left behind: {:?}",
        cgroup_dirs(&b.id)
    );
    let mi = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
    assert!(
        !mi.contains(b.rootfs().to_str().unwrap()),
        "mount left behind"
    );
}

fn fails_naming(b: &Bundle, needle: &str) {
    let o = b.create();
    assert!(!o.status.success(), "create succeeded");
    let e = stderr(&o);
    assert_eq!(e.trim().lines().count(), 1, "not one line: {e}");
    assert!(e.contains(needle), "error does not name {needle:?}: {e}");
    assert_nothing_left(b);
}

fn raw_config(b: &Bundle, text: &str) {
    std::fs::write(b.path().join("config.json"), text).unwrap();
}

#[test]
fn syntax_error_in_config_json() {
    let b = Bundle::new(&["true"]);
    raw_config(&b, "{\"ociVersion\": \"1.2.0\", ");
    fails_naming(&b, "config.json");
}

#[test]
fn wrong_type_names_the_field() {
    let b = Bundle::with(&["true"], |c| c["process"]["args"] = json!(5));
    fails_naming(&b, "process.args");
}

#[test]
fn unknown_namespace_type() {
    let b = Bundle::with(&["true"], |c| {
        c["linux"]["namespaces"]
            .as_array_mut()
            .unwrap()
            .push(json!({"type": "bogus"}))
    });
    fails_naming(&b, "linux.namespaces");
}

#[test]
fn overlapping_id_mappings() {
    let b = Bundle::with(&["true"], |c| {
        c["linux"]["namespaces"]
            .as_array_mut()
            .unwrap()
            .push(json!({"type": "user"}));
        c["linux"]["uidMappings"] = json!([{"containerID": 0, "hostID": 100000, "size": 100}, {"containerID": 50, "hostID": 300000, "size": 10}]);
        c["linux"]["gidMappings"] = json!([{"containerID": 0, "hostID": 100000, "size": 100}]);
    });
    fails_naming(&b, "linux.uidMappings[1]");
}

#[test]
fn zero_size_id_mapping() {
    let b = Bundle::with(&["true"], |c| {
        c["linux"]["namespaces"]
            .as_array_mut()
            .unwrap()
            .push(json!({"type": "user"}));
        c["linux"]["uidMappings"] = json!([{"containerID": 0, "hostID": 100000, "size": 0}]);
        c["linux"]["gidMappings"] = json!([{"containerID": 0, "hostID": 100000, "size": 1}]);
    });
    fails_naming(&b, "linux.uidMappings[0].size");
}

#[test]
fn unknown_capability() {
    let b = Bundle::with(&["true"], |c| {
        c["process"]["capabilities"]["bounding"] = json!(["CAP_BOGUS"])
    });
    fails_naming(&b, "process.capabilities.bounding");
}

#[test]
fn bad_seccomp_action() {
    let b = Bundle::with(&["true"], |c| {
        c["linux"]["seccomp"] = json!({"defaultAction": "SCMP_ACT_BOGUS"})
    });
    fails_naming(&b, "linux.seccomp");
}

#[test]
fn seccomp_arg_index_out_of_range() {
    let b = Bundle::with(&["true"], |c| {
        c["linux"]["seccomp"] = json!({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["mkdir"], "action": "SCMP_ACT_ERRNO", "args": [{"index": 9, "value": 1, "op": "SCMP_CMP_EQ"}]}]});
    });
    fails_naming(&b, "index");
}

#[test]
fn missing_bundle() {
    let b = Bundle::new(&["true"]);
    let o = b.rt(&["create", "--bundle", "/nonexistent/bundle", &b.id]);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("/nonexistent/bundle"), "{}", stderr(&o));
    assert_nothing_left(&b);
}

#[test]
fn duplicate_id() {
    let b = Bundle::new(&["sleep", "30"]);
    ok(&b.create());
    let o = b.create();
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("container with id exists"),
        "{}",
        stderr(&o)
    );
    assert_eq!(b.status(), "created", "the first container was disturbed");
}

#[test]
fn unknown_id() {
    let b = Bundle::new(&["true"]);
    for cmd in [
        vec!["state", "nope"],
        vec!["start", "nope"],
        vec!["kill", "nope"],
        vec!["delete", "nope"],
        vec!["pause", "nope"],
        vec!["exec", "nope", "true"],
    ] {
        let o = b.rt(&cmd);
        assert!(!o.status.success(), "{cmd:?} succeeded");
        assert!(
            stderr(&o).contains("container does not exist"),
            "{cmd:?}: {}",
            stderr(&o)
        );
    }
}

#[test]
fn failure_in_create_runtime_hook_leaves_nothing() {
    let b = Bundle::with(&["true"], |c| {
        c["hooks"] = json!({"createRuntime": [{"path": "/bin/false"}]})
    });
    fails_naming(&b, "createRuntime");
}

#[test]
fn failure_in_create_container_hook_leaves_nothing() {
    let b = Bundle::with(&["true"], |c| {
        c["hooks"] = json!({"createContainer": [{"path": "/bin/false"}]})
    });
    fails_naming(&b, "createContainer");
}

#[test]
fn failure_at_mount_leaves_nothing() {
    let b = Bundle::with(&["true"], |c| {
        c["mounts"]
            .as_array_mut()
            .unwrap()
            .push(json!({"destination": "/x", "type": "nosuchfs", "source": "none"}))
    });
    fails_naming(&b, "/x");
}

#[test]
fn capabilities_the_process_cannot_get_fail_create_and_leave_nothing() {
    // capset(2) refuses an effective capability outside the permitted set: a create error,
    // not a container whose process dies with 127 after start.
    let b = Bundle::with(&["true"], |c| {
        c["process"]["capabilities"]["effective"] = json!(["CAP_CHOWN", "CAP_SYS_ADMIN"]);
        c["process"]["capabilities"]["permitted"] = json!(["CAP_CHOWN"]);
    });
    fails_naming(
        &b,
        "CAP_SYS_ADMIN in the effective set but not in the permitted set",
    );
    // An inheritable capability outside the bounding set.
    let b = Bundle::with(&["true"], |c| {
        c["process"]["capabilities"]["inheritable"] = json!(["CAP_SYS_ADMIN"]);
    });
    fails_naming(&b, "CAP_SYS_ADMIN in the inheritable set");
}

#[test]
fn a_capability_the_runtime_does_not_hold_fails_create() {
    let held = std::fs::read_to_string("/proc/self/status")
        .unwrap()
        .lines()
        .find_map(|l| {
            l.strip_prefix("CapPrm:")
                .map(|h| u64::from_str_radix(h.trim(), 16).unwrap())
        })
        .unwrap();
    let last: u32 = std::fs::read_to_string("/proc/sys/kernel/cap_last_cap")
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    let names = [
        "CAP_SYS_RESOURCE",
        "CAP_SYS_MODULE",
        "CAP_SYS_BOOT",
        "CAP_MAC_ADMIN",
    ];
    let numbers = [24, 16, 22, 33];
    let Some(missing) = names
        .iter()
        .zip(numbers)
        .find(|(_, n)| *n <= last && held & (1 << n) == 0)
        .map(|(name, _)| *name)
    else {
        eprintln!("skipped: this test runs as a root that holds every capability it checks");
        return;
    };
    let b = Bundle::with(&["true"], |c| {
        for set in ["bounding", "effective", "permitted"] {
            c["process"]["capabilities"][set] = json!([missing]);
        }
    });
    fails_naming(
        &b,
        &format!("{missing} requested but not held by the runtime"),
    );
}

#[test]
fn missing_executable_fails_at_create_and_leaves_nothing() {
    let b = Bundle::new(&["no-such-binary"]);
    fails_naming(&b, "executable file not found");
}

#[test]
fn invalid_cgroup_value_leaves_nothing() {
    let b = Bundle::with(&["true"], |c| {
        c["linux"]["resources"]["cpu"] = json!({"cpus": "999999"})
    });
    fails_naming(&b, "cpuset");
}
