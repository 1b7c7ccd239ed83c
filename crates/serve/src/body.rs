//! Response bodies: whole ones (JSON, empty) and streamed ones fed from a blocking thread
//! (logs, pull progress, events, wait), and the writers those threads write through: a
//! channel writer, and Docker's multiplexed stream framing.

use bytes::Bytes;
use http_body::{Body as HttpBody, Frame};
use std::convert::Infallible;
use std::io::Write;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use tokio::sync::mpsc;

/// The one body type of every response.
pub enum Body {
    Full(Option<Bytes>),
    Channel(mpsc::Receiver<Bytes>),
}

impl Body {
    pub fn empty() -> Body {
        Body::Full(None)
    }

    pub fn bytes(b: impl Into<Bytes>) -> Body {
        Body::Full(Some(b.into()))
    }

    /// A body streamed from `rx` until every sender is gone.
    pub fn channel() -> (mpsc::Sender<Bytes>, Body) {
        let (tx, rx) = mpsc::channel(64);
        (tx, Body::Channel(rx))
    }
}

impl HttpBody for Body {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        match self.get_mut() {
            Body::Full(b) => Poll::Ready(b.take().map(|b| Ok(Frame::data(b)))),
            Body::Channel(rx) => rx.poll_recv(cx).map(|b| b.map(|b| Ok(Frame::data(b)))),
        }
    }

    fn is_end_stream(&self) -> bool {
        matches!(self, Body::Full(None))
    }
}

/// A `Write` that sends what it is given to a streamed body, from a blocking thread. A write
/// fails once the client is gone (the body was dropped), which ends the producer's work.
#[derive(Clone)]
pub struct ChanWriter(pub mpsc::Sender<Bytes>);

impl Write for ChanWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        self.0
            .blocking_send(Bytes::copy_from_slice(buf))
            .map_err(|_| std::io::ErrorKind::BrokenPipe)?;
        Ok(buf.len())
    }

    /// Fails once the client is gone: a producer that flushes while it waits (a followed
    /// log) learns it then, not at its next write.
    fn flush(&mut self) -> std::io::Result<()> {
        if self.0.is_closed() {
            return Err(std::io::ErrorKind::BrokenPipe.into());
        }
        Ok(())
    }
}

/// Docker's multiplexed stream (`application/vnd.docker.multiplexed-stream`): each write is
/// one frame, an 8-byte header (stream: 0 stdin, 1 stdout, 2 stderr; 3 bytes zero; length,
/// big-endian u32) then the bytes. stdout and stderr share the writer underneath.
pub struct MuxWriter<W: Write> {
    pub stream: u8,
    pub inner: Arc<Mutex<W>>,
}

impl<W: Write> Write for MuxWriter<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        let mut frame = Vec::with_capacity(8 + buf.len());
        frame.extend_from_slice(&[self.stream, 0, 0, 0]);
        frame.extend_from_slice(&(buf.len() as u32).to_be_bytes());
        frame.extend_from_slice(buf);
        let mut w = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        w.write_all(&frame)?;
        w.flush()?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner()).flush()
    }
}

/// The raw stream of a container with a terminal: stdout and stderr are one, unframed.
pub struct RawWriter<W: Write>(pub Arc<Mutex<W>>);

impl<W: Write> Write for RawWriter<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let mut w = self.0.lock().unwrap_or_else(|p| p.into_inner());
        w.write_all(buf)?;
        w.flush()?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).flush()
    }
}

/// The stdout and stderr writers of a stream: framed, or raw for a terminal.
pub fn stream_writers<W: Write + Send + 'static>(
    w: W,
    tty: bool,
) -> (Box<dyn Write + Send>, Box<dyn Write + Send>) {
    shared_writers(Arc::new(Mutex::new(w)), tty)
}

/// [`stream_writers`] over a writer the caller keeps a handle to (to shut it down).
pub fn shared_writers<W: Write + Send + 'static>(
    inner: Arc<Mutex<W>>,
    tty: bool,
) -> (Box<dyn Write + Send>, Box<dyn Write + Send>) {
    if tty {
        (
            Box::new(RawWriter(inner.clone())),
            Box::new(RawWriter(inner)),
        )
    } else {
        (
            Box::new(MuxWriter {
                stream: 1,
                inner: inner.clone(),
            }),
            Box::new(MuxWriter { stream: 2, inner }),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_carry_stream_and_big_endian_length() {
        let (out, err) = {
            let buf: Vec<u8> = Vec::new();
            let inner = Arc::new(Mutex::new(buf));
            let mut o = MuxWriter {
                stream: 1,
                inner: inner.clone(),
            };
            let mut e = MuxWriter {
                stream: 2,
                inner: inner.clone(),
            };
            o.write_all(b"hi\n").unwrap();
            e.write_all(&[0u8; 300]).unwrap();
            let v = inner.lock().unwrap().clone();
            (v[..11].to_vec(), v[11..19].to_vec())
        };
        assert_eq!(out, [1, 0, 0, 0, 0, 0, 0, 3, b'h', b'i', b'\n']);
        assert_eq!(err, [2, 0, 0, 0, 0, 0, 1, 44]);
    }
}
