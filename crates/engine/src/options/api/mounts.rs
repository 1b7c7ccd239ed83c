//! Binds, Mounts, Tmpfs, Config.Volumes, VolumesFrom and Devices.

use super::*;

/// Binds, Mounts, Tmpfs, then Config.Volumes at the paths nothing else took, VolumesFrom
/// and Devices.
pub(super) fn mounts(req: &CreateRequest, hc: &HostConfig, o: &mut RunOptions) -> Result<()> {
    for b in list(&hc.binds) {
        o.mounts.push(at("HostConfig.Binds", parse::volume(b))?);
    }
    for (i, m) in hc.mounts.iter().flatten().enumerate() {
        o.mounts
            .push(api_mount(&format!("HostConfig.Mounts[{i}]"), m)?);
    }
    for (path, opts) in hc.tmpfs.iter().flatten() {
        let spec = match opts.is_empty() {
            true => path.clone(),
            false => format!("{path}:{opts}"),
        };
        o.mounts.push(at("HostConfig.Tmpfs", parse::tmpfs(&spec))?);
    }
    for path in req.volumes.iter().flat_map(|v| v.keys()) {
        let m = at("Volumes", parse::volume(path))?;
        if !o.mounts.iter().any(|x| x.target == m.target) {
            o.mounts.push(m);
        }
    }
    o.volumes_from = list(&hc.volumes_from).to_vec();
    for d in hc.devices.iter().flatten() {
        let host = d.path_on_host.clone().unwrap_or_default();
        let ctr = non_empty(&d.path_in_container).unwrap_or_else(|| host.clone());
        let perms = non_empty(&d.cgroup_permissions).unwrap_or_else(|| "rwm".into());
        let spec = format!("{host}:{ctr}:{perms}");
        o.devices
            .push(at("HostConfig.Devices", parse::device(&spec))?);
    }
    Ok(())
}

/// One of HostConfig.Mounts, through `--mount`'s parser field by field.
fn api_mount(field: &str, m: &ApiMount) -> Result<crate::options::Mount> {
    let mut fields = vec![format!("type={}", m.kind.as_deref().unwrap_or(""))];
    if let Some(s) = non_empty(&m.source) {
        fields.push(format!("source={s}"));
    }
    if let Some(t) = non_empty(&m.target) {
        fields.push(format!("target={t}"));
    }
    if m.read_only.unwrap_or(false) {
        fields.push("readonly=true".into());
    }
    let mut create_mountpoint = false;
    if let Some(b) = &m.bind_options {
        if let Some(p) = non_empty(&b.propagation) {
            fields.push(format!("bind-propagation={p}"));
        }
        if b.non_recursive.unwrap_or(false) {
            fields.push("bind-nonrecursive=true".into());
        }
        refuse(
            &format!("{field}.BindOptions.ReadOnlyNonRecursive"),
            &b.read_only_non_recursive,
            |x| *x,
        )?;
        refuse(
            &format!("{field}.BindOptions.ReadOnlyForceRecursive"),
            &b.read_only_force_recursive,
            |x| *x,
        )?;
        create_mountpoint = b.create_mountpoint.unwrap_or(false);
    }
    if let Some(v) = &m.volume_options {
        if v.no_copy.unwrap_or(false) {
            fields.push("volume-nocopy=true".into());
        }
        refuse(&format!("{field}.VolumeOptions.Labels"), &v.labels, |l| {
            !l.is_empty()
        })?;
        refuse(&format!("{field}.VolumeOptions.Subpath"), &v.subpath, |s| {
            !s.is_empty()
        })?;
        if let Some(d) = &v.driver_config {
            if let Some(n) = non_empty(&d.name) {
                fields.push(format!("volume-driver={n}"));
            }
            refuse(
                &format!("{field}.VolumeOptions.DriverConfig.Options"),
                &d.options,
                |o| !o.is_empty(),
            )?;
        }
    }
    if let Some(t) = &m.tmpfs_options {
        match t.size_bytes.unwrap_or(0) {
            0 => {}
            n if n < 0 => return Err(Error::invalid(field, &n.to_string(), "invalid tmpfs size")),
            n => fields.push(format!("tmpfs-size={n}")),
        }
        if let Some(mode) = t.mode.filter(|m| *m != 0) {
            fields.push(format!("tmpfs-mode={mode:o}"));
        }
        refuse(&format!("{field}.TmpfsOptions.Options"), &t.options, |o| {
            !o.is_empty()
        })?;
    }
    let shown = fields.join(",");
    let mut mount = at(
        field,
        parse::mount_fields(&shown, fields.iter().map(String::as_str)),
    )?;
    mount.create_source = create_mountpoint;
    Ok(mount)
}
