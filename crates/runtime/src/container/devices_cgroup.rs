//! The device rules a container's cgroup really gets: the config's rules, then (as runc
//! does) the nodes every container needs and the devices it configured. Later rules win.

use oci_spec::runtime::{LinuxDeviceCgroup, LinuxDeviceType, LinuxResources, Spec};

fn rule(typ: LinuxDeviceType, major: i64, minor: i64) -> LinuxDeviceCgroup {
    let mut r = LinuxDeviceCgroup::default();
    r.set_allow(true);
    r.set_typ(Some(typ));
    r.set_major(Some(major));
    r.set_minor(Some(minor));
    r.set_access(Some("rwm".to_string()));
    r
}

pub fn effective_resources(spec: &Spec) -> Option<LinuxResources> {
    let linux = spec.linux().as_ref()?;
    let mut r = linux.resources().clone().unwrap_or_default();
    let mut devs = r.devices().clone().unwrap_or_default();
    devs.extend(berth_cgroups::default_allowed_devices());
    for d in linux.devices().as_deref().unwrap_or(&[]) {
        devs.push(rule(d.typ(), d.major(), d.minor()));
    }
    r.set_devices(Some(devs));
    Some(r)
}
