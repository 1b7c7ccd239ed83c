//! cgroupsPath resolution, like runc: absolute -> under each hierarchy root; relative -> under
//! the cgroup of the calling process; none -> /berth/<id>.

use std::collections::HashMap;
use std::path::{Component, Path, PathBuf};

use crate::error::{Error, Result};

/// Where the container cgroup goes, before picking a hierarchy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Target {
    /// Relative to each hierarchy's mount root (no leading '/').
    Absolute(PathBuf),
    /// Relative to the cgroup of the current process in each hierarchy.
    Relative(PathBuf),
}

impl Target {
    pub(crate) fn new(cgroups_path: Option<&Path>, id: &str) -> Result<Target> {
        match cgroups_path {
            Some(p) if !p.as_os_str().is_empty() => {
                let clean = normalize(p)?;
                if clean.as_os_str().is_empty() {
                    return Err(Error::InvalidPath {
                        path: p.to_path_buf(),
                        reason: "resolves to the hierarchy root".into(),
                    });
                }
                if p.is_absolute() {
                    Ok(Target::Absolute(clean))
                } else {
                    Ok(Target::Relative(clean))
                }
            }
            _ => {
                if id.is_empty() || id.contains('/') || id == "." || id == ".." {
                    return Err(Error::InvalidPath {
                        path: PathBuf::from(id),
                        reason: "container id is not a single path component".into(),
                    });
                }
                Ok(Target::Absolute(Path::new("berth").join(id)))
            }
        }
    }

    /// Directory of this target in a hierarchy mounted at `mount_point` whose mount root is
    /// `mount_root`; `own` is the current process's cgroup there (needed for Relative only).
    pub(crate) fn resolve(
        &self,
        mount_point: &Path,
        mount_root: &Path,
        own: Option<&Path>,
    ) -> PathBuf {
        match self {
            Target::Absolute(rel) => mount_point.join(rel),
            Target::Relative(rel) => {
                let own = own.unwrap_or(Path::new("/"));
                let inside = own.strip_prefix(mount_root).unwrap_or(own);
                let inside = clamp(inside);
                mount_point.join(inside).join(rel)
            }
        }
    }

    pub(crate) fn is_relative(&self) -> bool {
        matches!(self, Target::Relative(_))
    }
}

/// Lexically clean `p` into a relative path (no leading '/', no '.'); a `..` that would leave
/// the starting point is an error.
pub(crate) fn normalize(p: &Path) -> Result<PathBuf> {
    let mut parts: Vec<&std::ffi::OsStr> = Vec::new();
    for c in p.components() {
        match c {
            Component::RootDir | Component::CurDir | Component::Prefix(_) => {}
            Component::ParentDir => {
                if parts.pop().is_none() {
                    return Err(Error::InvalidPath {
                        path: p.to_path_buf(),
                        reason: "'..' escapes the cgroup root".into(),
                    });
                }
            }
            Component::Normal(s) => parts.push(s),
        }
    }
    Ok(parts.iter().collect())
}

/// Like `normalize` but `..` past the start is dropped instead of failing.
pub(crate) fn clamp(p: &Path) -> PathBuf {
    let mut parts: Vec<&std::ffi::OsStr> = Vec::new();
    for c in p.components() {
        match c {
            Component::ParentDir => {
                parts.pop();
            }
            Component::Normal(s) => parts.push(s),
            _ => {}
        }
    }
    parts.iter().collect()
}

/// The current process's cgroups, from /proc/self/cgroup.
#[derive(Debug, Default)]
pub(crate) struct OwnCgroups {
    /// v1 subsystem (e.g. "memory", "name=systemd") -> cgroup path.
    pub v1: HashMap<String, PathBuf>,
    /// The "0::" entry.
    pub unified: Option<PathBuf>,
}

pub(crate) fn own_cgroups() -> Result<OwnCgroups> {
    let path = "/proc/self/cgroup";
    let text = std::fs::read_to_string(path).map_err(|e| Error::io("read", path, e))?;
    Ok(parse_proc_cgroup(&text))
}

pub(crate) fn parse_proc_cgroup(text: &str) -> OwnCgroups {
    let mut out = OwnCgroups::default();
    for line in text.lines() {
        let mut f = line.splitn(3, ':');
        let (Some(id), Some(ctrls), Some(p)) = (f.next(), f.next(), f.next()) else {
            continue;
        };
        if id == "0" && ctrls.is_empty() {
            out.unified = Some(PathBuf::from(p));
            continue;
        }
        for c in ctrls.split(',') {
            out.v1.insert(c.to_string(), PathBuf::from(p));
        }
    }
    out
}

/// The cgroup directories process `pid` is in, from /proc/PID/cgroup, keyed as
/// [`crate::Manager::from_paths`] wants them (controller names, `name=X`, and "" for the
/// unified hierarchy).
pub(crate) fn paths_of_process(pid: i32) -> Result<std::collections::BTreeMap<String, PathBuf>> {
    use crate::layout::{Layout, CGROUP_ROOT, HYBRID_UNIFIED_ROOT};
    let file = format!("/proc/{pid}/cgroup");
    let text = std::fs::read_to_string(&file).map_err(|e| Error::io("read", &file, e))?;
    let own = parse_proc_cgroup(&text);
    let rel = |p: &Path| p.strip_prefix("/").unwrap_or(p).to_path_buf();
    let mut out = std::collections::BTreeMap::new();
    let layout = Layout::detect()?;
    if layout != Layout::Unified {
        for (c, p) in &own.v1 {
            let mount = c.strip_prefix("name=").unwrap_or(c);
            out.insert(c.clone(), Path::new(CGROUP_ROOT).join(mount).join(rel(p)));
        }
    }
    if let Some(u) = &own.unified {
        match layout {
            Layout::Unified => {
                out.insert(String::new(), Path::new(CGROUP_ROOT).join(rel(u)));
            }
            Layout::Hybrid => {
                out.insert(String::new(), Path::new(HYBRID_UNIFIED_ROOT).join(rel(u)));
            }
            Layout::Legacy => {}
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn none_goes_to_berth_id() {
        let t = Target::new(None, "abc").unwrap();
        assert_eq!(t, Target::Absolute(PathBuf::from("berth/abc")));
        assert!(Target::new(None, "a/b").is_err());
        assert!(Target::new(None, "..").is_err());
    }

    #[test]
    fn dotdot_escape_is_rejected() {
        assert!(Target::new(Some(Path::new("/../etc")), "x").is_err());
        assert!(Target::new(Some(Path::new("a/../../b")), "x").is_err());
        let t = Target::new(Some(Path::new("/a/./b/../c")), "x").unwrap();
        assert_eq!(t, Target::Absolute(PathBuf::from("a/c")));
    }

    #[test]
    fn relative_resolves_under_own_cgroup_minus_mount_root() {
        let t = Target::new(Some(Path::new("ctr")), "x").unwrap();
        let p = t.resolve(
            Path::new("/sys/fs/cgroup/memory"),
            Path::new("/outer"),
            Some(Path::new("/outer/me")),
        );
        assert_eq!(p, PathBuf::from("/sys/fs/cgroup/memory/me/ctr"));
    }

    #[test]
    fn parses_proc_self_cgroup() {
        let o = parse_proc_cgroup("4:memory:/a/b\n2:cpu,cpuacct:/\n1:name=systemd:/s\n0::/u\n");
        assert_eq!(o.v1["memory"], PathBuf::from("/a/b"));
        assert_eq!(o.v1["cpuacct"], PathBuf::from("/"));
        assert_eq!(o.v1["name=systemd"], PathBuf::from("/s"));
        assert_eq!(o.unified, Some(PathBuf::from("/u")));
    }
}
