//! Where the server listens: `-H unix://PATH`, `tcp://ADDR:PORT` (with TLS and client
//! verification, `--tlsverify`, or plain only with `--insecure-tcp`), `fd://` (systemd socket
//! activation: the sockets passed as fds 3.. with LISTEN_PID and LISTEN_FDS).

use std::os::fd::{FromRawFd, RawFd};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

pub const DEFAULT_HOST: &str = "unix:///run/berth/berth.sock";

pub enum Listener {
    Unix(tokio::net::UnixListener, Option<PathBuf>),
    Tcp(tokio::net::TcpListener),
    Tls(tokio::net::TcpListener, tokio_rustls::TlsAcceptor),
}

#[derive(Debug, thiserror::Error)]
pub enum ListenError {
    #[error("invalid host {0:?}: want unix://PATH, tcp://ADDR:PORT or fd://")]
    BadHost(String),
    #[error("refusing to listen on {0} without TLS: give --tlsverify --tlscacert --tlscert --tlskey, or --insecure-tcp to accept unauthenticated clients on the network")]
    InsecureTcp(String),
    #[error(transparent)]
    Tls(#[from] crate::tls::TlsError),
    #[error("fd://: no sockets were passed by systemd (LISTEN_FDS)")]
    NoActivation,
    #[error("listen on {what}: {source}")]
    Io {
        what: String,
        #[source]
        source: std::io::Error,
    },
}

fn io(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> ListenError {
    let what = what.into();
    move |source| ListenError::Io { what, source }
}

/// Binds every host; call from inside the runtime.
pub fn bind_all(
    hosts: &[String],
    insecure_tcp: bool,
    tls: Option<&crate::tls::TlsFiles>,
) -> Result<Vec<Listener>, ListenError> {
    let acceptor = tls.map(crate::tls::acceptor).transpose()?;
    let mut out = Vec::new();
    for h in hosts {
        if let Some(path) = h.strip_prefix("unix://") {
            out.push(bind_unix(Path::new(path))?);
        } else if let Some(addr) = h.strip_prefix("tcp://") {
            if acceptor.is_none() && !insecure_tcp {
                return Err(ListenError::InsecureTcp(h.clone()));
            }
            let l = std::net::TcpListener::bind(addr).map_err(io(h.clone()))?;
            l.set_nonblocking(true).map_err(io(h.clone()))?;
            let l = tokio::net::TcpListener::from_std(l).map_err(io(h.clone()))?;
            out.push(match &acceptor {
                Some(a) => Listener::Tls(l, a.clone()),
                None => Listener::Tcp(l),
            });
        } else if h == "fd://" || h.starts_with("fd://") {
            out.extend(activated()?);
        } else {
            return Err(ListenError::BadHost(h.clone()));
        }
    }
    Ok(out)
}

fn bind_unix(path: &Path) -> Result<Listener, ListenError> {
    let what = format!("unix://{}", path.display());
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(io(what.clone()))?;
    }
    // A socket left by a server that was killed: nobody answers on it.
    if std::os::unix::net::UnixStream::connect(path).is_err() {
        let _ = std::fs::remove_file(path);
    }
    let l = std::os::unix::net::UnixListener::bind(path).map_err(io(what.clone()))?;
    // Root and the `berth` group (when there is one), as dockerd does with `docker`.
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o660))
        .map_err(io(what.clone()))?;
    if let Some(gid) = group_id("berth") {
        std::os::unix::fs::chown(path, None, Some(gid)).map_err(io(what.clone()))?;
    }
    l.set_nonblocking(true).map_err(io(what.clone()))?;
    let l = tokio::net::UnixListener::from_std(l).map_err(io(what))?;
    Ok(Listener::Unix(l, Some(path.to_path_buf())))
}

fn group_id(name: &str) -> Option<u32> {
    let groups = std::fs::read_to_string("/etc/group").ok()?;
    groups.lines().find_map(|l| {
        let mut f = l.split(':');
        (f.next()? == name).then_some(())?;
        f.nth(1)?.parse().ok()
    })
}

/// The sockets systemd passed (socket activation), when they are for this process.
fn activated() -> Result<Vec<Listener>, ListenError> {
    let for_us = std::env::var("LISTEN_PID")
        .ok()
        .and_then(|p| p.parse::<u32>().ok())
        == Some(std::process::id());
    let n: RawFd = std::env::var("LISTEN_FDS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    if !for_us || n <= 0 {
        return Err(ListenError::NoActivation);
    }
    let mut out = Vec::new();
    for fd in 3..3 + n {
        let what = format!("fd://{fd}");
        // Ours alone from here: not passed on to what we start.
        // SAFETY: fcntl on an fd number; no memory is passed.
        unsafe { libc::fcntl(fd, libc::F_SETFD, libc::FD_CLOEXEC) };
        if is_unix_socket(fd) {
            // SAFETY: systemd passed us this fd, a listening socket, for this process alone,
            // and it is wrapped once.
            let l = unsafe { std::os::unix::net::UnixListener::from_raw_fd(fd) };
            l.set_nonblocking(true).map_err(io(what.clone()))?;
            out.push(Listener::Unix(
                tokio::net::UnixListener::from_std(l).map_err(io(what))?,
                None,
            ));
        } else {
            // SAFETY: as above.
            let l = unsafe { std::net::TcpListener::from_raw_fd(fd) };
            l.set_nonblocking(true).map_err(io(what.clone()))?;
            out.push(Listener::Tcp(
                tokio::net::TcpListener::from_std(l).map_err(io(what))?,
            ));
        }
    }
    Ok(out)
}

fn is_unix_socket(fd: RawFd) -> bool {
    // SAFETY: getsockname writes at most `len` bytes into our zeroed local.
    unsafe {
        let mut addr: libc::sockaddr_storage = std::mem::zeroed();
        let mut len = std::mem::size_of::<libc::sockaddr_storage>() as libc::socklen_t;
        libc::getsockname(fd, &mut addr as *mut _ as *mut libc::sockaddr, &mut len) == 0
            && addr.ss_family as i32 == libc::AF_UNIX
    }
}
