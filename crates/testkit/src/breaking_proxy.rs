//! A loopback proxy in front of a real registry that breaks responses on purpose: bodies cut
//! off half-way (a connection that dies mid-download), or answers rewritten (a registry that
//! serves garbage). Every request head is logged, so tests can see `Range` requests.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

#[derive(Clone)]
enum Fault {
    /// Cut the first `times` GET bodies of at least `min_len` bytes after half of them;
    /// with `ignore_ranges`, `Range` headers are dropped (a server without range support).
    Cut {
        min_len: u64,
        times: usize,
        ignore_ranges: bool,
    },
    /// Replace the Content-Type and/or the body of answers to GETs whose path has `path`.
    Rewrite {
        path: String,
        content_type: Option<String>,
        body: Option<Vec<u8>>,
    },
}

pub struct BreakingProxy {
    pub port: u16,
    /// Every request head, as sent by the client.
    pub heads: Arc<Mutex<Vec<String>>>,
    /// How many bodies were cut.
    pub cuts: Arc<AtomicUsize>,
}

impl BreakingProxy {
    /// Cut the body of the first `times` GET responses of at least `min_len` bytes half-way
    /// (the connection is then closed); everything else passes.
    pub fn cut_bodies(upstream: u16, min_len: u64, times: usize) -> BreakingProxy {
        Self::start(
            upstream,
            Fault::Cut {
                min_len,
                times,
                ignore_ranges: false,
            },
        )
    }

    /// As [`BreakingProxy::cut_bodies`], in front of a server that ignores `Range` (the
    /// header is not passed on, so every answer is the whole blob with 200).
    pub fn cut_bodies_ignoring_ranges(upstream: u16, min_len: u64, times: usize) -> BreakingProxy {
        Self::start(
            upstream,
            Fault::Cut {
                min_len,
                times,
                ignore_ranges: true,
            },
        )
    }

    /// Answer GETs whose path contains `path` with `content_type` and/or `body` instead of
    /// the registry's (status and other headers kept).
    pub fn rewrite(
        upstream: u16,
        path: &str,
        content_type: Option<&str>,
        body: Option<&[u8]>,
    ) -> BreakingProxy {
        Self::start(
            upstream,
            Fault::Rewrite {
                path: path.to_string(),
                content_type: content_type.map(str::to_string),
                body: body.map(<[u8]>::to_vec),
            },
        )
    }

    /// The `Range` header values of all requests so far.
    pub fn ranges(&self) -> Vec<String> {
        self.heads
            .lock()
            .unwrap()
            .iter()
            .flat_map(|h| h.lines().map(str::to_string).collect::<Vec<_>>())
            .filter_map(|l| {
                let (k, v) = l.split_once(':')?;
                k.eq_ignore_ascii_case("range")
                    .then(|| v.trim().to_string())
            })
            .collect()
    }

    fn start(upstream: u16, fault: Fault) -> BreakingProxy {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let heads = Arc::new(Mutex::new(Vec::new()));
        let cuts = Arc::new(AtomicUsize::new(0));
        let (h, c) = (heads.clone(), cuts.clone());
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                let Ok(conn) = conn else { continue };
                let (h, c, fault) = (h.clone(), c.clone(), fault.clone());
                std::thread::spawn(move || {
                    let _ = relay(conn, upstream, &fault, &h, &c);
                });
            }
        });
        BreakingProxy { port, heads, cuts }
    }
}

fn read_head(s: &mut TcpStream) -> std::io::Result<Vec<u8>> {
    let mut head = Vec::new();
    let mut b = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if s.read(&mut b)? == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        head.push(b[0]);
    }
    Ok(head)
}

fn header<'a>(head: &'a str, name: &str) -> Option<&'a str> {
    head.lines().find_map(|l| {
        let (k, v) = l.split_once(':')?;
        k.trim().eq_ignore_ascii_case(name).then(|| v.trim())
    })
}

fn relay(
    mut client: TcpStream,
    upstream: u16,
    fault: &Fault,
    heads: &Mutex<Vec<String>>,
    cuts: &AtomicUsize,
) -> std::io::Result<()> {
    let head = read_head(&mut client)?;
    let text = String::from_utf8_lossy(&head).into_owned();
    heads.lock().unwrap().push(text.clone());
    let mut first = text.lines().next().unwrap_or("").split_whitespace();
    let (method, path) = (first.next().unwrap_or(""), first.next().unwrap_or(""));
    let mut up = TcpStream::connect(("127.0.0.1", upstream))?;
    let mut fwd = String::new();
    for l in text.trim_end().lines() {
        let is_range = l
            .split_once(':')
            .is_some_and(|(k, _)| k.trim().eq_ignore_ascii_case("range"));
        if !(is_range
            && matches!(
                fault,
                Fault::Cut {
                    ignore_ranges: true,
                    ..
                }
            ))
        {
            fwd.push_str(l);
            fwd.push_str("\r\n");
        }
    }
    // One request per connection, so each one passes through here.
    fwd.push_str("Connection: close\r\n\r\n");
    up.write_all(fwd.as_bytes())?;
    let (mut c2, mut u2) = (client.try_clone()?, up.try_clone()?);
    let body = std::thread::spawn(move || {
        let _ = std::io::copy(&mut c2, &mut u2);
        let _ = u2.shutdown(Shutdown::Write);
    });
    let resp_head = read_head(&mut up)?;
    let rtext = String::from_utf8_lossy(&resp_head).into_owned();
    let len: Option<u64> = header(&rtext, "content-length").and_then(|v| v.parse().ok());
    let cut = match fault {
        Fault::Cut { min_len, times, .. }
            if method == "GET" && len.is_some_and(|l| l >= *min_len) =>
        {
            cuts.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| {
                (n < *times).then_some(n + 1)
            })
            .is_ok()
        }
        _ => false,
    };
    match fault {
        Fault::Cut { .. } if cut => {
            client.write_all(&resp_head)?;
            let half = len.unwrap_or(0) / 2;
            std::io::copy(&mut (&mut up).take(half), &mut client)?;
        }
        Fault::Rewrite {
            path: p,
            content_type,
            body,
        } if method == "GET" && path.contains(p.as_str()) => {
            let mut orig = Vec::new();
            (&mut up)
                .take(len.unwrap_or(u64::MAX))
                .read_to_end(&mut orig)?;
            let new_body = body.clone().unwrap_or(orig);
            let mut out = String::new();
            for l in rtext.trim_end().lines() {
                let name = l.split_once(':').map_or("", |(k, _)| k.trim());
                if ["content-type", "content-length", "docker-content-digest"]
                    .iter()
                    .any(|h| name.eq_ignore_ascii_case(h))
                {
                    continue;
                }
                out.push_str(l);
                out.push_str("\r\n");
            }
            let ct = content_type
                .clone()
                .or_else(|| header(&rtext, "content-type").map(str::to_string));
            if let Some(ct) = ct {
                out.push_str(&format!("Content-Type: {ct}\r\n"));
            }
            out.push_str(&format!("Content-Length: {}\r\n\r\n", new_body.len()));
            client.write_all(out.as_bytes())?;
            client.write_all(&new_body)?;
        }
        _ => {
            client.write_all(&resp_head)?;
            std::io::copy(&mut up, &mut client)?;
        }
    }
    let _ = client.shutdown(Shutdown::Both);
    let _ = up.shutdown(Shutdown::Both);
    let _ = body.join();
    Ok(())
}
