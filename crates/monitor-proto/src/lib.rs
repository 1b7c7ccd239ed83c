//! # berth-monitor-proto
//!
//! What a container's monitor and its clients (the engine, so the CLI and the API server)
//! say to each other, spelled once for both sides:
//!
//! - `monitor.sock` ([`SOCKET`], in the container's dir): a client sends one JSON line, a
//!   [`Request`]. An attach is then answered with output frames ([`frame`]) until an exit
//!   frame, and may send raw stdin bytes (its half-close closes the container's stdin); a
//!   wait is answered with one [`WaitAnswer`] line when the container exits; a resize with
//!   [`RESIZED`].
//! - `exit.json` ([`EXIT_FILE`]): the monitor's record of how the init ended, an
//!   [`ExitRecord`], written whole (temp file + rename).

use serde::{Deserialize, Serialize};

/// The monitor's socket, in the container's dir.
pub const SOCKET: &str = "monitor.sock";
/// The monitor's exit record, in the container's dir.
pub const EXIT_FILE: &str = "exit.json";
/// The answer to a resize that was applied.
pub const RESIZED: &str = "{}\n";
/// A request line longer than this is not the protocol: the client is dropped.
pub const MAX_REQUEST: usize = 4096;

/// Which of the container's streams an attach asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Streams {
    #[serde(default)]
    pub stdin: bool,
    #[serde(default)]
    pub stdout: bool,
    #[serde(default)]
    pub stderr: bool,
}

/// A client's request, its first line on the socket: `{"attach":{"stdin":..,"stdout":..,
/// "stderr":..}}`, `{"wait":{}}` or `{"resize":{"rows":R,"cols":C}}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Request {
    Attach(Streams),
    Wait {},
    Resize { rows: u16, cols: u16 },
}

impl Request {
    /// The request as sent: one JSON line.
    pub fn line(&self) -> Vec<u8> {
        let mut v = serde_json::to_vec(self).expect("a request always serializes");
        v.push(b'\n');
        v
    }

    /// A request line (without its newline); None when it is not one.
    pub fn parse(line: &[u8]) -> Option<Request> {
        serde_json::from_slice(line).ok()
    }
}

/// The answer to a wait: the container's exit status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct WaitAnswer {
    pub exit_code: i32,
}

impl WaitAnswer {
    pub fn line(&self) -> Vec<u8> {
        let mut v = serde_json::to_vec(self).expect("an answer always serializes");
        v.push(b'\n');
        v
    }

    pub fn parse(text: &[u8]) -> Option<WaitAnswer> {
        serde_json::from_slice(text.trim_ascii()).ok()
    }
}

/// What `exit.json` says: how the container's init ended.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExitRecord {
    pub exit_code: i32,
    /// RFC 3339 with nanoseconds (empty: not known).
    #[serde(default)]
    pub finished_at: String,
    /// The memory cgroup's OOM killer ended it.
    #[serde(default)]
    pub oom_killed: bool,
}

/// The frames of an attach: `[stream u8][len u32 BE][bytes]`.
pub mod frame {
    pub const STDOUT: u8 = 1;
    pub const STDERR: u8 = 2;
    /// Its body is the container's exit status, 4 bytes BE; nothing follows it.
    pub const EXIT: u8 = 3;
    /// The length of a frame's head.
    pub const HEAD: usize = 5;

    pub fn head(stream: u8, len: usize) -> [u8; HEAD] {
        let n = (len as u32).to_be_bytes();
        [stream, n[0], n[1], n[2], n[3]]
    }

    /// The stream and body length a head announces.
    pub fn parse_head(head: &[u8; HEAD]) -> (u8, usize) {
        let len = u32::from_be_bytes([head[1], head[2], head[3], head[4]]) as usize;
        (head[0], len)
    }

    pub fn exit_body(code: i32) -> [u8; 4] {
        code.to_be_bytes()
    }

    /// The status of an exit frame's body; None when it is not one.
    pub fn exit_code(body: &[u8]) -> Option<i32> {
        Some(i32::from_be_bytes(body.try_into().ok()?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_are_the_lines_the_monitor_has_always_read() {
        let attach = Request::Attach(Streams {
            stdin: true,
            stdout: true,
            stderr: false,
        });
        assert_eq!(
            attach.line(),
            b"{\"attach\":{\"stdin\":true,\"stdout\":true,\"stderr\":false}}\n"
        );
        assert_eq!(Request::Wait {}.line(), b"{\"wait\":{}}\n");
        assert_eq!(
            Request::Resize { rows: 24, cols: 80 }.line(),
            b"{\"resize\":{\"rows\":24,\"cols\":80}}\n"
        );
        for r in [
            attach,
            Request::Wait {},
            Request::Resize { rows: 1, cols: 2 },
        ] {
            let line = r.line();
            assert_eq!(Request::parse(&line[..line.len() - 1]), Some(r));
        }
        // Streams left out are not asked for.
        assert_eq!(
            Request::parse(b"{\"attach\":{\"stdout\":true}}"),
            Some(Request::Attach(Streams {
                stdout: true,
                ..Default::default()
            }))
        );
        assert_eq!(Request::parse(b"{\"launch\":{}}"), None);
        assert_eq!(
            Request::parse(b"{\"resize\":{\"rows\":70000,\"cols\":1}}"),
            None
        );
    }

    #[test]
    fn answers_records_and_frames_round_trip() {
        let w = WaitAnswer { exit_code: -1 };
        assert_eq!(w.line(), b"{\"exit_code\":-1}\n");
        assert_eq!(WaitAnswer::parse(&w.line()), Some(w));
        let x: ExitRecord =
            serde_json::from_str(r#"{"exit_code":137,"finished_at":"2026-01-01T00:00:00Z"}"#)
                .unwrap();
        assert!(
            !x.oom_killed,
            "records written before oom_killed existed still read"
        );
        let h = frame::head(frame::STDERR, 70_000);
        assert_eq!(frame::parse_head(&h), (frame::STDERR, 70_000));
        assert_eq!(frame::exit_code(&frame::exit_body(-2)), Some(-2));
        assert_eq!(frame::exit_code(&[0, 1]), None);
    }
}
