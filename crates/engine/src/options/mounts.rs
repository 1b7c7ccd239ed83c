//! `-v`, `--mount`, `--tmpfs` and `--device`: the flags that put something at a path in the
//! container. Only the syntax is checked here; whether a bind source or a device exists is
//! checked when the spec is built (the flags may be parsed on another machine, by the API).

use super::{Device, Mount, MountKind};
use crate::{Error, Result};

/// Modes `-v` accepts after the target, comma-separated (`ro,z`).
const VOLUME_MODES: &[&str] = &[
    "ro",
    "rw",
    "z",
    "Z",
    "shared",
    "rshared",
    "slave",
    "rslave",
    "private",
    "rprivate",
    "nocopy",
    "consistent",
    "cached",
    "delegated",
];

const PROPAGATIONS: &[&str] = &[
    "shared", "rshared", "slave", "rslave", "private", "rprivate",
];

/// A container path: absolute, not `/`, `.`/`..` and doubled slashes removed.
pub fn target_path(flag: &str, spec: &str, t: &str) -> Result<String> {
    if !t.starts_with('/') {
        return Err(Error::invalid(
            flag,
            spec,
            format!("invalid mount path: '{t}' mount path must be absolute"),
        ));
    }
    let mut parts: Vec<&str> = Vec::new();
    for c in t.split('/') {
        match c {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            c => parts.push(c),
        }
    }
    if parts.is_empty() {
        return Err(Error::invalid(
            flag,
            spec,
            "invalid specification: destination can't be '/'",
        ));
    }
    Ok(format!("/{}", parts.join("/")))
}

/// `-v /host:/ctr[:opts]`, `-v name:/ctr[:opts]`, `-v /ctr` (an anonymous volume).
pub fn volume(spec: &str) -> Result<Mount> {
    let flag = "-v, --volume";
    let malformed = || {
        Error::invalid(
            flag,
            spec,
            format!("invalid volume specification: '{spec}'"),
        )
    };
    if spec.is_empty() {
        return Err(Error::invalid(flag, spec, "invalid empty volume spec"));
    }
    let parts: Vec<&str> = spec.split(':').collect();
    let (source, target, mode) = match parts.as_slice() {
        [t] => (None, *t, None),
        [s, t] if !t.is_empty() && t.starts_with('/') => (Some(*s), *t, None),
        // `/ctr:ro` is an anonymous volume with a mode.
        [t, m] if t.starts_with('/') && !m.starts_with('/') => (None, *t, Some(*m)),
        [s, t, m] => (Some(*s), *t, Some(*m)),
        _ => return Err(malformed()),
    };
    if target.is_empty() || source == Some("") || mode == Some("") {
        return Err(malformed());
    }
    let target = target_path(flag, spec, target)?;
    let mut read_only = false;
    let mut options = Vec::new();
    for m in mode
        .map(|m| m.split(',').collect::<Vec<_>>())
        .unwrap_or_default()
    {
        if !VOLUME_MODES.contains(&m) {
            return Err(Error::invalid(flag, spec, format!("invalid mode: {m}")));
        }
        match m {
            "ro" => read_only = true,
            "rw" => read_only = false,
            m => options.push(m.to_string()),
        }
    }
    let modes = |o: &Vec<String>| {
        o.iter()
            .filter(|m| m.as_str() == "ro" || m.as_str() == "rw")
            .count()
            + o.iter()
                .filter(|m| PROPAGATIONS.contains(&m.as_str()))
                .count()
    };
    if mode.is_some_and(|m| m.split(',').filter(|x| *x == "ro" || *x == "rw").count() > 1)
        || modes(&options) > 1
    {
        return Err(Error::invalid(
            flag,
            spec,
            format!("invalid mode: {}", mode.unwrap_or("")),
        ));
    }
    let (kind, source) = match source {
        None => (MountKind::Volume, None),
        Some(s) if s.starts_with('/') => (MountKind::Bind, Some(s.to_string())),
        Some(s) if super::parse::valid_name(s) && !s.contains('/') => {
            if options.iter().any(|o| PROPAGATIONS.contains(&o.as_str())) {
                return Err(Error::invalid(
                    flag,
                    spec,
                    "invalid mode: propagation applies to bind mounts only",
                ));
            }
            (MountKind::Volume, Some(s.to_string()))
        }
        Some(s) => {
            return Err(Error::invalid(
                flag,
                spec,
                format!(
                    "create {s}: \"{s}\" includes invalid characters for a local volume name, \
                     only \"[a-zA-Z0-9][a-zA-Z0-9_.-]\" are allowed. If you intended to pass a \
                     host directory, use absolute path"
                ),
            ))
        }
    };
    Ok(Mount {
        create_source: kind == MountKind::Bind,
        kind,
        source,
        target,
        read_only,
        options,
    })
}

fn bool_value(flag: &str, spec: &str, key: &str, v: Option<&str>) -> Result<bool> {
    match v.map(str::to_ascii_lowercase).as_deref() {
        None | Some("true") | Some("1") => Ok(true),
        Some("false") | Some("0") => Ok(false),
        Some(_) => Err(Error::invalid(
            flag,
            spec,
            format!("invalid value for {key}: {}", v.unwrap_or_default()),
        )),
    }
}

/// `--mount type=bind|volume|tmpfs,source=..,target=..,readonly,...` (docker's CSV keys).
pub fn mount(spec: &str) -> Result<Mount> {
    mount_fields(spec, spec.split(','))
}

/// A mount from `--mount`'s fields (`key=value` or a bare `key`), given one by one: the
/// Engine API's structured Mounts come here without a CSV line that their values could
/// break. `spec` is what errors show.
pub fn mount_fields<'a>(spec: &str, fields: impl IntoIterator<Item = &'a str>) -> Result<Mount> {
    let flag = "--mount";
    let err = |why: String| Error::invalid(flag, spec, why);
    let mut kind = None;
    let (mut source, mut target) = (None, None);
    let mut read_only = false;
    let mut options = Vec::new();
    let mut seen_kind_specific = Vec::new();
    for field in fields {
        let (k, v) = match field.split_once('=') {
            Some((k, v)) => (k.trim().to_ascii_lowercase(), Some(v)),
            None => (field.trim().to_ascii_lowercase(), None),
        };
        let need =
            || v.ok_or_else(|| err(format!("invalid field '{field}' must be a key=value pair")));
        match k.as_str() {
            "type" => {
                kind = Some(match need()? {
                    "bind" => MountKind::Bind,
                    "volume" => MountKind::Volume,
                    "tmpfs" => MountKind::Tmpfs,
                    t => {
                        return Err(err(format!(
                            "invalid value for type: {t:?} (bind, volume or tmpfs)"
                        )))
                    }
                })
            }
            "source" | "src" => source = Some(need()?.to_string()),
            "target" | "destination" | "dst" => target = Some(need()?.to_string()),
            "readonly" | "ro" => read_only = bool_value(flag, spec, &k, v)?,
            "consistency" => {
                need()?;
            }
            "bind-propagation" => {
                let p = need()?;
                if !PROPAGATIONS.contains(&p) {
                    return Err(err(format!("invalid value for bind-propagation: {p}")));
                }
                options.push(p.to_string());
                seen_kind_specific.push((MountKind::Bind, k.clone()));
            }
            "bind-nonrecursive" => {
                if bool_value(flag, spec, &k, v)? {
                    options.push("bind".into());
                }
                seen_kind_specific.push((MountKind::Bind, k.clone()));
            }
            "volume-nocopy" => {
                if bool_value(flag, spec, &k, v)? {
                    options.push("nocopy".into());
                }
                seen_kind_specific.push((MountKind::Volume, k.clone()));
            }
            "volume-driver" => {
                if need()? != "local" {
                    return Err(err("only the local volume driver is available".into()));
                }
                seen_kind_specific.push((MountKind::Volume, k.clone()));
            }
            "tmpfs-size" => {
                let v = need()?;
                let n = super::parse::ram_bytes(v)
                    .filter(|n| *n > 0)
                    .ok_or_else(|| err(format!("invalid value for tmpfs-size: {v}")))?;
                options.push(format!("size={n}"));
                seen_kind_specific.push((MountKind::Tmpfs, k.clone()));
            }
            "tmpfs-mode" => {
                let v = need()?;
                let m = u32::from_str_radix(v, 8)
                    .ok()
                    .filter(|m| *m <= 0o7777)
                    .ok_or_else(|| err(format!("invalid value for tmpfs-mode: {v}")))?;
                options.push(format!("mode={m:o}"));
                seen_kind_specific.push((MountKind::Tmpfs, k.clone()));
            }
            _ => return Err(err(format!("unexpected key '{k}' in '{field}'"))),
        }
    }
    let kind = kind.unwrap_or(MountKind::Volume);
    if let Some((_, k)) = seen_kind_specific.iter().find(|(m, _)| *m != kind) {
        return Err(err(format!(
            "cannot mix '{k}' with mount type '{}'",
            kind_name(kind)
        )));
    }
    let target = target.ok_or_else(|| {
        err(format!(
            "invalid mount config for type \"{}\": field Target must not be empty",
            kind_name(kind)
        ))
    })?;
    let target = target_path(flag, spec, &target)?;
    let source = match kind {
        MountKind::Bind => {
            let s = source.filter(|s| !s.is_empty()).ok_or_else(|| {
                err("invalid mount config for type \"bind\": field Source must not be empty".into())
            })?;
            if !s.starts_with('/') {
                return Err(err(format!(
                    "invalid mount config for type \"bind\": invalid mount path: '{s}' mount path must be absolute"
                )));
            }
            Some(s)
        }
        MountKind::Volume => match source.filter(|s| !s.is_empty()) {
            None => None,
            Some(s) if super::parse::valid_name(&s) => Some(s),
            Some(s) => {
                return Err(err(format!(
                    "create {s}: \"{s}\" includes invalid characters for a local volume name, only \"[a-zA-Z0-9][a-zA-Z0-9_.-]\" are allowed"
                )))
            }
        },
        MountKind::Tmpfs => {
            if source.is_some_and(|s| !s.is_empty()) {
                return Err(err(
                    "invalid mount config for type \"tmpfs\": field Source must not be specified".into(),
                ));
            }
            None
        }
    };
    Ok(Mount {
        kind,
        source,
        target,
        read_only,
        create_source: false,
        options,
    })
}

fn kind_name(k: MountKind) -> &'static str {
    match k {
        MountKind::Bind => "bind",
        MountKind::Volume => "volume",
        MountKind::Tmpfs => "tmpfs",
    }
}

/// Options `--tmpfs` passes on to the tmpfs mount.
const TMPFS_OPTIONS: &[&str] = &[
    "ro",
    "rw",
    "exec",
    "noexec",
    "suid",
    "nosuid",
    "dev",
    "nodev",
    "atime",
    "noatime",
    "diratime",
    "nodiratime",
    "relatime",
    "norelatime",
    "strictatime",
    "nostrictatime",
    "sync",
    "async",
    "dirsync",
    "mand",
    "nomand",
];

/// `--tmpfs /run[:rw,size=64m,mode=1777,uid=0,gid=0]`.
pub fn tmpfs(spec: &str) -> Result<Mount> {
    let flag = "--tmpfs";
    let (t, opts) = spec.split_once(':').unwrap_or((spec, ""));
    let target = target_path(flag, spec, t)?;
    let mut read_only = false;
    let mut options = Vec::new();
    for o in opts.split(',').filter(|o| !o.is_empty()) {
        let (k, v) = o.split_once('=').unwrap_or((o, ""));
        match k {
            "ro" => read_only = true,
            "rw" => read_only = false,
            "size" => {
                let n = super::parse::ram_bytes(v)
                    .filter(|n| *n > 0)
                    .ok_or_else(|| {
                        Error::invalid(flag, spec, format!("invalid tmpfs size: {v}"))
                    })?;
                options.push(format!("size={n}"));
            }
            "mode" if u32::from_str_radix(v, 8).is_ok_and(|m| m <= 0o7777) => {
                options.push(o.into())
            }
            "uid" | "gid" | "nr_inodes" | "nr_blocks" if v.parse::<u64>().is_ok() => {
                options.push(o.into())
            }
            _ if v.is_empty() && TMPFS_OPTIONS.contains(&k) => options.push(o.into()),
            _ => {
                return Err(Error::invalid(
                    flag,
                    spec,
                    format!("invalid tmpfs option: {o:?}"),
                ))
            }
        }
    }
    Ok(Mount {
        kind: MountKind::Tmpfs,
        source: None,
        target,
        read_only,
        create_source: false,
        options,
    })
}

fn valid_permissions(p: &str) -> bool {
    !p.is_empty() && p.len() <= 3 && p.chars().all(|c| "rwm".contains(c)) && {
        let mut v: Vec<char> = p.chars().collect();
        v.sort();
        v.dedup();
        v.len() == p.len()
    }
}

/// `--device /dev/x[:/dev/y][:rwm]`.
pub fn device(spec: &str) -> Result<Device> {
    let flag = "--device";
    let bad = || Error::invalid(flag, spec, format!("invalid device specification: {spec}"));
    let parts: Vec<&str> = spec.split(':').collect();
    let (host, ctr, perms) = match parts.as_slice() {
        [h] => (*h, *h, "rwm"),
        [h, p] if valid_permissions(p) => (*h, *h, *p),
        [h, c] => (*h, *c, "rwm"),
        [h, c, p] => (*h, *c, *p),
        _ => return Err(bad()),
    };
    if !valid_permissions(perms) {
        return Err(Error::invalid(
            flag,
            spec,
            format!("invalid device mode: {perms}"),
        ));
    }
    if !host.starts_with('/') || host.len() < 2 {
        return Err(bad());
    }
    if !ctr.starts_with('/') {
        return Err(Error::invalid(
            flag,
            spec,
            format!("{ctr} is not an absolute path"),
        ));
    }
    Ok(Device {
        host_path: host.to_string(),
        container_path: target_path(flag, spec, ctr)?,
        permissions: perms.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg<T: std::fmt::Debug>(r: Result<T>) -> String {
        r.unwrap_err().to_string()
    }

    fn m(kind: MountKind, source: Option<&str>, target: &str, ro: bool, opts: &[&str]) -> Mount {
        Mount {
            kind,
            source: source.map(Into::into),
            target: target.into(),
            read_only: ro,
            create_source: false,
            options: opts.iter().map(|s| s.to_string()).collect(),
        }
    }

    /// What `-v` gives: a missing host directory is made.
    fn v(mut x: Mount) -> Mount {
        x.create_source = x.kind == MountKind::Bind;
        x
    }

    #[test]
    fn volume_forms() {
        use MountKind::*;
        assert_eq!(
            volume("/h:/c").unwrap(),
            v(m(Bind, Some("/h"), "/c", false, &[]))
        );
        assert_eq!(
            volume("/h:/c:ro").unwrap(),
            v(m(Bind, Some("/h"), "/c", true, &[]))
        );
        assert_eq!(
            volume("/h:/c:rw,z").unwrap(),
            v(m(Bind, Some("/h"), "/c", false, &["z"]))
        );
        assert_eq!(
            volume("/h:/c:ro,Z,rshared").unwrap(),
            v(m(Bind, Some("/h"), "/c", true, &["Z", "rshared"]))
        );
        assert_eq!(
            volume("data:/c").unwrap(),
            v(m(Volume, Some("data"), "/c", false, &[]))
        );
        assert_eq!(
            volume("data:/c:ro,nocopy").unwrap(),
            v(m(Volume, Some("data"), "/c", true, &["nocopy"]))
        );
        assert_eq!(volume("/c").unwrap(), v(m(Volume, None, "/c", false, &[])));
        assert_eq!(
            volume("/c:ro").unwrap(),
            v(m(Volume, None, "/c", true, &[]))
        );
        assert_eq!(volume("/h:/c/./d/../e/").unwrap().target, "/c/e");
    }

    #[test]
    fn volume_refusals_say_what_docker_says() {
        assert_eq!(
            msg(volume("rel/dir:/c")),
            "invalid argument \"rel/dir:/c\" for \"-v, --volume\": create rel/dir: \"rel/dir\" \
             includes invalid characters for a local volume name, only \"[a-zA-Z0-9][a-zA-Z0-9_.-]\" \
             are allowed. If you intended to pass a host directory, use absolute path"
        );
        assert!(msg(volume("./dir:/c")).contains("use absolute path"));
        assert!(msg(volume("/h:/c:xyz")).contains("invalid mode: xyz"));
        assert!(msg(volume("/h:/c:ro,rw")).contains("invalid mode"));
        assert!(msg(volume("a:b:c:d")).contains("invalid volume specification: 'a:b:c:d'"));
        assert!(msg(volume("/h:")).contains("invalid volume specification"));
        assert!(volume("/h:rel").is_err());
        assert!(msg(volume("name:rel:ro")).contains("mount path must be absolute"));
        assert!(msg(volume("/h:/")).contains("destination can't be '/'"));
        assert!(msg(volume("")).contains("invalid empty volume spec"));
        assert!(volume("vol:/c:rshared").is_err());
        assert!(volume("c").is_err());
    }

    #[test]
    fn mount_forms() {
        use MountKind::*;
        assert_eq!(
            mount("type=bind,source=/h,target=/c,readonly").unwrap(),
            m(Bind, Some("/h"), "/c", true, &[])
        );
        assert_eq!(
            mount("type=bind,src=/h,dst=/c,ro=false,bind-propagation=rslave").unwrap(),
            m(Bind, Some("/h"), "/c", false, &["rslave"])
        );
        assert_eq!(
            mount("type=volume,source=data,destination=/c,volume-nocopy").unwrap(),
            m(Volume, Some("data"), "/c", false, &["nocopy"])
        );
        assert_eq!(
            mount("target=/c").unwrap(),
            m(Volume, None, "/c", false, &[])
        );
        assert_eq!(
            mount("type=tmpfs,target=/t,tmpfs-size=64m,tmpfs-mode=1770").unwrap(),
            m(Tmpfs, None, "/t", false, &["size=67108864", "mode=1770"])
        );
    }

    #[test]
    fn mount_refusals() {
        assert!(msg(mount("type=bind,target=/c")).contains("field Source must not be empty"));
        assert!(msg(mount("type=bind,source=rel,target=/c")).contains("must be absolute"));
        assert!(msg(mount("type=bind,source=/h")).contains("field Target must not be empty"));
        assert!(msg(mount("type=nfs,target=/c")).contains("invalid value for type"));
        assert!(msg(mount("type=tmpfs,source=/x,target=/c")).contains("must not be specified"));
        assert!(
            msg(mount("type=bind,source=/h,target=/c,foo=bar")).contains("unexpected key 'foo'")
        );
        assert!(msg(mount("type=volume,target=/c,tmpfs-size=1m")).contains("cannot mix"));
        assert!(mount("type=tmpfs,target=/c,tmpfs-size=12x").is_err());
        assert!(mount("type=tmpfs,target=/c,tmpfs-mode=999").is_err());
        assert!(mount("type=bind,source=/h,target=/c,readonly=maybe").is_err());
        assert!(mount("type").is_err());
    }

    #[test]
    fn tmpfs_forms() {
        let t = tmpfs("/run").unwrap();
        assert_eq!(
            (t.target.as_str(), t.read_only, t.options.len()),
            ("/run", false, 0)
        );
        let t = tmpfs("/run:rw,noexec,size=64m,mode=1777,uid=1000").unwrap();
        assert_eq!(
            t.options,
            vec!["noexec", "size=67108864", "mode=1777", "uid=1000"]
        );
        assert!(tmpfs("/run:ro").unwrap().read_only);
        assert!(tmpfs("run").is_err());
        assert!(msg(tmpfs("/run:size=big")).contains("invalid tmpfs size"));
        assert!(tmpfs("/run:bogus").is_err());
    }

    #[test]
    fn device_forms() {
        let d = device("/dev/fuse").unwrap();
        assert_eq!(
            (
                d.host_path.as_str(),
                d.container_path.as_str(),
                d.permissions.as_str()
            ),
            ("/dev/fuse", "/dev/fuse", "rwm")
        );
        let d = device("/dev/null:/dev/mynull").unwrap();
        assert_eq!(
            (d.container_path.as_str(), d.permissions.as_str()),
            ("/dev/mynull", "rwm")
        );
        let d = device("/dev/null:r").unwrap();
        assert_eq!(
            (d.container_path.as_str(), d.permissions.as_str()),
            ("/dev/null", "r")
        );
        let d = device("/dev/null:/dev/n:rw").unwrap();
        assert_eq!(d.permissions, "rw");
        assert!(msg(device("/dev/null:/dev/n:rwx")).contains("invalid device mode: rwx"));
        assert!(msg(device("null")).contains("invalid device specification"));
        assert!(device("/dev/null:rel").is_err());
        assert!(device("/a:/b:r:x").is_err());
    }
}
