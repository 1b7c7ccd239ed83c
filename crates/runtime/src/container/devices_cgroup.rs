//! The device rules a container's cgroup really gets: the config's rules, then (as runc
//! does) the nodes every container needs and the devices it configured. Later rules win.

use oci_spec::runtime::{LinuxDeviceCgroup, LinuxDeviceType, LinuxResources, Spec};

fn rule(
    typ: LinuxDeviceType,
    major: Option<i64>,
    minor: Option<i64>,
    access: &str,
) -> LinuxDeviceCgroup {
    let mut r = LinuxDeviceCgroup::default();
    r.set_allow(true);
    r.set_typ(Some(typ));
    r.set_major(major);
    r.set_minor(minor);
    r.set_access(Some(access.to_string()));
    r
}

pub fn effective_resources(spec: &Spec) -> Option<LinuxResources> {
    let linux = spec.linux().as_ref()?;
    let mut r = linux.resources().clone().unwrap_or_default();
    let mut devs = r.devices().clone().unwrap_or_default();
    use LinuxDeviceType::{B, C};
    devs.push(rule(C, None, None, "m"));
    devs.push(rule(B, None, None, "m"));
    for (ma, mi) in [
        (1, 3),
        (1, 5),
        (1, 7),
        (1, 8),
        (1, 9),
        (5, 0),
        (5, 2),
        (10, 200),
    ] {
        devs.push(rule(C, Some(ma), Some(mi), "rwm"));
    }
    devs.push(rule(C, Some(136), None, "rwm"));
    for d in linux.devices().as_deref().unwrap_or(&[]) {
        devs.push(rule(d.typ(), Some(d.major()), Some(d.minor()), "rwm"));
    }
    r.set_devices(Some(devs));
    Some(r)
}
