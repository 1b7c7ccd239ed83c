//! Blob bodies that survive a broken connection: when a body ends early (a reset, or EOF
//! before its Content-Length) the rest is asked for with `Range: bytes=N-`. A 206 answer
//! continues where we were; a server that ignores ranges answers 200 with the whole blob, and
//! its first N bytes are skipped. The caller still verifies the whole by digest.

use super::client::{Client, Request};
use std::io::{self, Read};

/// How many times one body may be resumed before the download fails.
const MAX_RESUMES: u32 = 5;

pub(crate) struct ResumingBody {
    client: Client,
    req: Request<'static>,
    what: String,
    inner: Box<dyn Read + Send>,
    /// Bytes handed to the reader so far.
    done: u64,
    /// Total length when the server said.
    total: Option<u64>,
    resumes: u32,
}

fn content_length(resp: &ureq::Response) -> Option<u64> {
    resp.header("content-length").and_then(|v| v.parse().ok())
}

impl ResumingBody {
    pub fn open(client: Client, req: Request<'static>, what: String) -> crate::Result<Self> {
        let resp = client.send(&req)?;
        let total = content_length(&resp);
        Ok(ResumingBody {
            client,
            req,
            what,
            inner: Box::new(resp.into_reader()),
            done: 0,
            total,
            resumes: 0,
        })
    }

    fn resume(&mut self, cause: io::Error) -> io::Result<()> {
        if self.resumes >= MAX_RESUMES {
            return Err(io::Error::new(
                cause.kind(),
                format!(
                    "download of {} broke off after {} bytes, {} times: {cause}",
                    self.what,
                    self.done,
                    self.resumes + 1
                ),
            ));
        }
        self.resumes += 1;
        std::thread::sleep(std::time::Duration::from_millis(100 << self.resumes));
        let mut req = Request::new("GET", self.req.url.clone(), &self.req.registry);
        req.scope = self.req.scope.clone();
        let req = req.header("Range", format!("bytes={}-", self.done));
        let resp = self
            .client
            .send(&req)
            .map_err(|e| io::Error::other(format!("resume {}: {e}", self.what)))?;
        match resp.status() {
            206 => {
                let start = resp
                    .header("content-range")
                    .and_then(|v| v.strip_prefix("bytes "))
                    .and_then(|v| v.split('-').next())
                    .and_then(|v| v.parse::<u64>().ok());
                if start != Some(self.done) {
                    return Err(io::Error::other(format!(
                        "resume {}: asked for bytes from {}, got range {:?}",
                        self.what,
                        self.done,
                        resp.header("content-range")
                    )));
                }
                if let Some(n) = content_length(&resp) {
                    self.total = Some(self.done + n);
                }
                self.inner = Box::new(resp.into_reader());
            }
            _ => {
                // The whole blob again: skip what we already have.
                let mut r = resp.into_reader();
                let skipped = io::copy(&mut (&mut r).take(self.done), &mut io::sink())?;
                if skipped != self.done {
                    return Err(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        format!("resume {}: the blob got shorter", self.what),
                    ));
                }
                self.inner = Box::new(r);
            }
        }
        Ok(())
    }
}

impl Read for ResumingBody {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        loop {
            match self.inner.read(buf) {
                Ok(0) if self.total.is_some_and(|t| self.done < t) => {
                    self.resume(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        "connection closed before the end of the body",
                    ))?;
                }
                Ok(n) => {
                    self.done += n as u64;
                    return Ok(n);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => self.resume(e)?,
            }
        }
    }
}
