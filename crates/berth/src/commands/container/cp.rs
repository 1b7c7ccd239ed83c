//! `cp [-a] [-L] SRC DST`: `CONTAINER:PATH` to a host path or `-` (a tar on stdout), a
//! host path or `-` (a tar on stdin) to `CONTAINER:PATH`, with docker's archive rules
//! (`berth_engine::container::cp::plan`). The container side is read and written by the
//! engine inside the container's root; the host side with the tar crate, which refuses
//! entries that would leave the destination.

use super::{engine, fail, Failure};
use crate::cli::CpArgs;
use crate::env::Env;
use berth_engine::container::cp::{plan, wants_contents, InRoot};
use std::ffi::OsStr;
use std::io::Write;
use std::path::{Path, PathBuf};

/// `CONTAINER:PATH` -> (Some(container), path); a path that starts with `/` or `.`, or
/// has no `:`, is a host path (docker's rule, so `./a:b` is a file).
pub fn split(arg: &str) -> (Option<&str>, &str) {
    if arg.starts_with('/') || arg.starts_with('.') {
        return (None, arg);
    }
    match arg.split_once(':') {
        Some((c, p)) if !c.is_empty() => (Some(c), p),
        _ => (None, arg),
    }
}

fn container_path(p: &str) -> String {
    if p.starts_with('/') {
        p.to_string()
    } else {
        format!("/{p}")
    }
}

fn top_name(src: &str, is_dir: bool, contents: bool) -> Option<std::ffi::OsString> {
    if is_dir && contents {
        return None;
    }
    let t = src.trim_end_matches("/.").trim_end_matches('/');
    Some(
        Path::new(t)
            .file_name()
            .map(OsStr::to_os_string)
            .unwrap_or_else(|| "/".into()),
    )
}

pub fn cp(env: &Env, a: &CpArgs) -> Result<i32, Failure> {
    match (split(&a.src), split(&a.dst)) {
        ((Some(_), _), (Some(_), _)) => Err(fail("copying between containers is not supported")),
        ((None, _), (None, _)) => Err(fail("must specify at least one container source")),
        ((Some(c), p), (None, dst)) => from_container(env, a, c, &container_path(p), dst),
        ((None, src), (Some(c), p)) => into_container(env, a, src, c, &container_path(p)),
    }
}

fn from_container(env: &Env, a: &CpArgs, ctr: &str, path: &str, dst: &str) -> Result<i32, Failure> {
    let e = engine(env)?;
    let r = e.find(ctr)?;
    let inroot = e.cp_root(&r, path)?;
    let follow = a.follow_link || path.ends_with('/') || wants_contents(path);
    let found = inroot
        .find(follow)?
        .ok_or_else(|| fail(format!("Could not find the file {path} in container {ctr}")))?;
    if path.ends_with('/') && !found.is_dir {
        return Err(fail(format!("{path}: not a directory")));
    }
    let contents = wants_contents(path);
    if dst == "-" {
        let top = top_name(path, found.is_dir, contents);
        let mut out = std::io::BufWriter::new(std::io::stdout().lock());
        inroot.archive(&found, top.as_deref(), &mut out)?;
        out.flush().map_err(|err| fail(format!("write: {err}")))?;
        return Ok(0);
    }
    let dst_kind = std::fs::metadata(dst).ok().map(|m| m.is_dir());
    let dest = plan(path, found.is_dir, dst, dst_kind)?;
    if !dest.dir.is_dir() {
        return Err(fail(format!(
            "lstat {}: no such file or directory",
            dest.dir.display()
        )));
    }
    let (reader, writer) = std::io::pipe().map_err(|err| fail(format!("pipe: {err}")))?;
    std::thread::scope(|s| {
        let producer = s.spawn(|| {
            let w = std::io::BufWriter::with_capacity(1 << 20, writer);
            inroot.archive(&found, dest.top.as_deref(), w)
        });
        let mut ar = tar::Archive::new(std::io::BufReader::with_capacity(1 << 20, reader));
        ar.set_preserve_permissions(true);
        ar.set_preserve_mtime(true);
        ar.set_overwrite(true);
        let res = ar
            .unpack(&dest.dir)
            .map_err(|err| fail(format!("copy to {dst}: {err}")));
        drop(ar);
        let produced = producer.join().expect("archive thread");
        res?;
        produced?;
        Ok(0)
    })
}

/// A tar of the host path `src` whose top entry is named `top` (None: the directory's
/// contents). Symlinks are archived as links (`-L` resolved the top before this).
fn host_tar(w: impl Write, src: &Path, top: Option<&OsStr>) -> std::io::Result<()> {
    let mut b = tar::Builder::new(w);
    b.follow_symlinks(false);
    let add = |b: &mut tar::Builder<_>, p: &Path, name: &OsStr| -> std::io::Result<()> {
        if std::fs::symlink_metadata(p)?.is_dir() {
            b.append_dir_all(name, p)
        } else {
            b.append_path_with_name(p, name)
        }
    };
    match top {
        Some(n) => add(&mut b, src, n)?,
        None => {
            let mut names: Vec<_> = std::fs::read_dir(src)?
                .flatten()
                .map(|e| e.file_name())
                .collect();
            names.sort();
            for n in names {
                add(&mut b, &src.join(&n), &n)?;
            }
        }
    }
    b.finish()
}

fn into_container(env: &Env, a: &CpArgs, src: &str, ctr: &str, path: &str) -> Result<i32, Failure> {
    let e = engine(env)?;
    let r = e.find(ctr)?;
    if src == "-" {
        let inroot = e.cp_root(&r, path)?;
        match inroot.find(true)? {
            Some(f) if f.is_dir => {}
            _ => {
                return Err(fail(format!(
                    "destination \"{ctr}:{path}\" must be a directory"
                )))
            }
        }
        let input = std::io::BufReader::with_capacity(1 << 20, std::io::stdin().lock());
        inroot.extract(input, a.archive)?;
        return Ok(0);
    }
    let follow = a.follow_link || src.ends_with('/') || wants_contents(src);
    let meta = if follow {
        std::fs::metadata(src)
    } else {
        std::fs::symlink_metadata(src)
    }
    .map_err(|err| fail(format!("lstat {src}: {err}")))?;
    if src.ends_with('/') && !meta.is_dir() {
        return Err(fail(format!("{src}: not a directory")));
    }
    let host_src: PathBuf = if follow {
        std::fs::canonicalize(src).map_err(|err| fail(format!("{src}: {err}")))?
    } else {
        PathBuf::from(src)
    };
    let dst_kind = e.cp_root(&r, path)?.find(true)?.map(|f| f.is_dir);
    let dest = plan(src, meta.is_dir(), path, dst_kind)?;
    let dir = dest.dir.to_string_lossy().into_owned();
    let target: InRoot = e.cp_root(&r, &dir)?;
    match target.find(true)? {
        Some(f) if f.is_dir => {}
        _ => {
            return Err(fail(format!(
                "Could not find the file {dir} in container {ctr}"
            )))
        }
    }
    let (reader, writer) = std::io::pipe().map_err(|err| fail(format!("pipe: {err}")))?;
    std::thread::scope(|s| {
        let top = dest.top.clone();
        let host_src = &host_src;
        let producer = s.spawn(move || {
            let w = std::io::BufWriter::with_capacity(1 << 20, writer);
            host_tar(w, host_src, top.as_deref())
        });
        let res = target.extract(
            std::io::BufReader::with_capacity(1 << 20, reader),
            a.archive,
        );
        let produced = producer.join().expect("archive thread");
        res?;
        produced.map_err(|err| fail(format!("read {src}: {err}")))?;
        Ok(0)
    })
}

#[cfg(test)]
mod tests {
    use super::split;

    #[test]
    fn container_and_host_paths_as_docker_splits_them() {
        assert_eq!(split("ctr:/etc"), (Some("ctr"), "/etc"));
        assert_eq!(split("/a:b"), (None, "/a:b"));
        assert_eq!(split("./a:b"), (None, "./a:b"));
        assert_eq!(split("file"), (None, "file"));
        assert_eq!(split("-"), (None, "-"));
    }
}
