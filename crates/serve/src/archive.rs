//! Files in and out of a container: `GET|HEAD|PUT /containers/{id}/archive` (`docker cp`),
//! `GET /containers/{id}/export` and `GET /containers/{id}/changes`. Paths resolve inside
//! the container's root or its mounts as `berth cp` resolves them (never through a symlink
//! out of the root).

use crate::body::{Body, ChanWriter};
use crate::reply::{self, ApiError, ApiResult};
use crate::req::Ctx;
use berth_engine::container::cp::{wants_contents, Found, InRoot};
use berth_engine::container::diff::Kind;
use http::{Request, StatusCode};
use http_body_util::BodyExt;
use hyper::body::Incoming;
use std::os::fd::AsRawFd;

/// Docker's `X-Docker-Container-Path-Stat`: the resource's name, size, Go file mode, mtime.
fn path_stat(found: &Found, path: &str) -> String {
    // SAFETY: fstat writes into our zeroed local; an O_PATH fd may be fstat'ed.
    let st = unsafe {
        let mut st: libc::stat = std::mem::zeroed();
        libc::fstat(found.fd.as_raw_fd(), &mut st);
        st
    };
    let fmt = st.st_mode & libc::S_IFMT;
    // Go's os.FileMode: the permission bits, and a bit per type.
    let mut mode = st.st_mode & 0o777;
    if fmt == libc::S_IFDIR {
        mode |= 1 << 31;
    } else if fmt == libc::S_IFLNK {
        mode |= 1 << 27;
    }
    let name = std::path::Path::new(path.trim_end_matches('/'))
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "/".into());
    let mtime = berth_engine::logs::format_rfc3339_nanos(
        (st.st_mtime as i128 * 1_000_000_000 + st.st_mtime_nsec as i128).max(0) as _,
    );
    let v = serde_json::json!({
        "name": name, "size": st.st_size, "mode": mode, "mtime": mtime, "linkTarget": "",
    });
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(v.to_string())
}

fn path_param(ctx: &Ctx) -> Result<String, ApiError> {
    ctx.q("path")
        .filter(|p| !p.is_empty())
        .map(str::to_string)
        .ok_or_else(|| ApiError::bad_request("path is required"))
}

/// The container's path, resolved; a 404 as dockerd's when nothing is there.
fn locate(e: &berth_engine::Engine, id: &str, path: &str) -> Result<(InRoot, Found), ApiError> {
    let r = e.find(id)?;
    let inroot = e.cp_root(&r, path)?;
    let follow = path.ends_with('/') || wants_contents(path);
    let found = inroot.find(follow)?.ok_or_else(|| {
        ApiError::not_found(format!("Could not find the file {path} in container {id}"))
    })?;
    Ok((inroot, found))
}

pub async fn head(ctx: &Ctx, id: &str) -> ApiResult {
    let path = path_param(ctx)?;
    let id = id.to_string();
    let stat = ctx
        .engine(move |e| {
            let (_, found) = locate(e, &id, &path)?;
            Ok(path_stat(&found, &path))
        })
        .await?;
    Ok(http::Response::builder()
        .status(StatusCode::OK)
        .header("x-docker-container-path-stat", stat)
        .body(Body::empty())
        .unwrap_or_else(|_| reply::status(StatusCode::INTERNAL_SERVER_ERROR)))
}

pub async fn get(ctx: &Ctx, id: &str) -> ApiResult {
    let path = path_param(ctx)?;
    let id = id.to_string();
    let (tx, body) = Body::channel();
    let (ready_tx, ready_rx) = tokio::sync::oneshot::channel();
    let state = ctx.state.clone();
    // The lookup and the tar in one thread: the answer's status and stat header are sent
    // once the path is found, the tar follows.
    tokio::task::spawn_blocking(move || {
        let located = state
            .engine()
            .map_err(ApiError::from)
            .and_then(|e| locate(&e, &id, &path));
        let (inroot, found) = match located {
            Ok(x) => x,
            Err(err) => {
                let _ = ready_tx.send(Err(err));
                return;
            }
        };
        let _ = ready_tx.send(Ok(path_stat(&found, &path)));
        let top = if found.is_dir && wants_contents(&path) {
            None
        } else {
            let t = path.trim_end_matches("/.").trim_end_matches('/');
            Some(
                std::path::Path::new(t)
                    .file_name()
                    .map(|n| n.to_os_string())
                    .unwrap_or_else(|| "/".into()),
            )
        };
        let w = std::io::BufWriter::with_capacity(256 << 10, ChanWriter(tx));
        // A client gone mid-way ends the tar with a write error: nothing to report.
        let _ = inroot.archive(&found, top.as_deref(), w);
    });
    let stat = ready_rx
        .await
        .map_err(|_| ApiError::internal("archive: the reader ended"))??;
    Ok(http::Response::builder()
        .status(StatusCode::OK)
        .header("content-type", "application/x-tar")
        .header("x-docker-container-path-stat", stat)
        .body(body)
        .unwrap_or_else(|_| reply::status(StatusCode::INTERNAL_SERVER_ERROR)))
}

/// The request body as a blocking `Read`, for a thread that unpacks it.
pub struct BodyReader {
    body: Incoming,
    buf: bytes::Bytes,
    rt: tokio::runtime::Handle,
}

impl BodyReader {
    /// Call from the runtime (it keeps the runtime's handle for the reads).
    pub fn new(body: Incoming) -> BodyReader {
        BodyReader {
            body,
            buf: bytes::Bytes::new(),
            rt: tokio::runtime::Handle::current(),
        }
    }
}

impl std::io::Read for BodyReader {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        while self.buf.is_empty() {
            match self.rt.block_on(self.body.frame()) {
                None => return Ok(0),
                Some(Err(e)) => return Err(std::io::Error::other(e)),
                Some(Ok(f)) => {
                    if let Ok(d) = f.into_data() {
                        self.buf = d;
                    }
                }
            }
        }
        let n = out.len().min(self.buf.len());
        out[..n].copy_from_slice(&self.buf[..n]);
        let _ = self.buf.split_to(n);
        Ok(n)
    }
}

pub async fn put(ctx: &Ctx, id: &str, req: Request<Incoming>) -> ApiResult {
    let path = path_param(ctx)?;
    let keep_owner = ctx.flag("copyUIDGID");
    let id = id.to_string();
    let reader = BodyReader::new(req.into_body());
    ctx.engine(move |e| {
        let (inroot, found) = locate(e, &id, &path)?;
        if !found.is_dir {
            return Err(ApiError::bad_request(format!(
                "extraction point is not a directory: {path}"
            )));
        }
        inroot.extract(
            std::io::BufReader::with_capacity(256 << 10, reader),
            keep_owner,
        )?;
        Ok(())
    })
    .await?;
    Ok(reply::status(StatusCode::OK))
}

pub async fn export(ctx: &Ctx, id: &str) -> ApiResult {
    let id = id.to_string();
    let r = ctx.engine(move |e| Ok(e.find(&id)?)).await?;
    let (tx, body) = Body::channel();
    let state = ctx.state.clone();
    tokio::task::spawn_blocking(move || {
        if let Ok(e) = state.engine() {
            let w = std::io::BufWriter::with_capacity(256 << 10, ChanWriter(tx));
            let _ = e.export(&r, w);
        }
    });
    Ok(http::Response::builder()
        .status(StatusCode::OK)
        .header("content-type", "application/x-tar")
        .body(body)
        .unwrap_or_else(|_| reply::status(StatusCode::INTERNAL_SERVER_ERROR)))
}

pub async fn changes(ctx: &Ctx, id: &str) -> ApiResult {
    let id = id.to_string();
    let v = ctx
        .engine(move |e| {
            let r = e.find(&id)?;
            let list: Vec<serde_json::Value> = e
                .diff(&r)?
                .into_iter()
                .map(|c| {
                    let kind = match c.kind {
                        Kind::Changed => 0,
                        Kind::Added => 1,
                        Kind::Deleted => 2,
                    };
                    serde_json::json!({ "Path": c.path, "Kind": kind })
                })
                .collect();
            Ok(list)
        })
        .await?;
    Ok(reply::ok(&v))
}
