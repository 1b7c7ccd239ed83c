//! `docker logs` over a container's json-file log (`<id>-json.log` and its rotated
//! `.1` (newer) ... `.N` (oldest) files, written by berth-monitor): `--tail`, `--since`,
//! `--until`, `-t`, and `-f`, which keeps reading across rotations until the container's
//! run ends (its `exit.json` appears), or, for a container with a restart policy, across its
//! restarts until no restart is coming (its monitor is done), as docker's does.

use crate::error::{Error, Result};
use std::fs::File;
use std::io::{Read, Seek, SeekFrom, Write};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// How often `follow` looks for new lines.
const FOLLOW_POLL: Duration = Duration::from_millis(50);
/// The most of a log file read into memory at once.
const READ_CHUNK: usize = 64 << 10;

/// Nanoseconds since the Unix epoch.
pub type Nanos = i128;

#[derive(Debug, Clone, Default)]
pub struct LogOptions {
    /// Only the last N entries (`--tail N`); None for all.
    pub tail: Option<usize>,
    /// Entries at or after this time (`--since`).
    pub since: Option<Nanos>,
    /// Entries at or before this time (`--until`).
    pub until: Option<Nanos>,
    /// Prefix each entry with its time (`-t`).
    pub timestamps: bool,
    /// Keep reading until the container's run ends (`-f`).
    pub follow: bool,
    /// The container's monitor: when it is gone without writing `exit.json` (killed),
    /// following ends too.
    pub monitor_pid: Option<i32>,
    /// The container has a restart policy: `follow` goes on across restarts, until its
    /// monitor is done (it removes `monitor.sock` when no restart is coming, or is gone).
    pub across_restarts: bool,
}

/// One entry of the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub stderr: bool,
    pub time: Nanos,
    pub text: Vec<u8>,
}

#[derive(serde::Deserialize)]
struct Line {
    log: String,
    stream: String,
    time: String,
}

fn parse_line(line: &[u8]) -> Option<Entry> {
    let l: Line = serde_json::from_slice(line).ok()?;
    Some(Entry {
        stderr: l.stream == "stderr",
        time: parse_rfc3339_nanos(&l.time)?,
        text: l.log.into_bytes(),
    })
}

/// The log files of container `id` in `dir`, oldest first.
pub fn log_files(dir: &Path, id: &str) -> Vec<PathBuf> {
    let base = dir.join(format!("{id}-json.log"));
    let mut files = Vec::new();
    for n in 1.. {
        let p = numbered(&base, n);
        if !p.exists() {
            break;
        }
        files.push(p);
    }
    files.reverse();
    if base.exists() {
        files.push(base);
    }
    files
}

fn numbered(base: &Path, n: u32) -> PathBuf {
    let mut p = base.as_os_str().to_owned();
    p.push(format!(".{n}"));
    PathBuf::from(p)
}

/// Writes the log of container `id` (dir `dir`) to `stdout`/`stderr` as its entries say.
pub fn write_logs(
    dir: &Path,
    id: &str,
    opts: &LogOptions,
    stdout: &mut dyn Write,
    stderr: &mut dyn Write,
) -> Result<()> {
    let mut sink = Sink {
        opts,
        stdout,
        stderr,
        done: false,
        last_stderr: None,
    };
    // Each file is opened once and read up to its length now: `follow` goes on from there in
    // the current file, so no line is lost or written twice between the two.
    let mut files = Vec::new();
    for path in log_files(dir, id) {
        if let Some(f) = open_follow(&path)? {
            let len = f.metadata().map_err(|e| Error::io("read", &path, e))?.len();
            files.push((path, f, len));
        }
    }
    let mut lines: Vec<Vec<u8>> = Vec::new();
    match opts.tail {
        Some(n) => {
            // From the newest file back, only as much as the tail needs.
            for (path, f, len) in files.iter_mut().rev() {
                if lines.len() >= n {
                    break;
                }
                let mut more = last_lines(f, *len, n - lines.len())
                    .map_err(|e| Error::io("read", &*path, e))?;
                more.append(&mut lines);
                lines = more;
            }
        }
        None => {
            // Streamed a line at a time: memory stays bounded whatever the log's size, and a
            // reader that goes away (`| head -1`) ends the reading at once.
            let last = files.len().saturating_sub(1);
            for (i, (path, f, len)) in files.iter_mut().enumerate() {
                let complete =
                    stream_lines(f, *len, &mut sink).map_err(|e| Error::io("read", &*path, e))?;
                if sink.done {
                    return sink.flush();
                }
                if i == last {
                    // A line being written goes to `follow` whole, from its start.
                    *len = complete;
                }
            }
        }
    }
    for e in lines.iter().filter_map(|l| parse_line(l)) {
        sink.put(&e)?;
        if sink.done {
            return sink.flush();
        }
    }
    sink.flush()?;
    if opts.follow {
        let base = dir.join(format!("{id}-json.log"));
        let current = files
            .pop()
            .filter(|(path, _, _)| *path == base)
            .map(|(_, f, len)| (f, len));
        follow(dir, &base, current, &mut sink)?;
    }
    Ok(())
}

struct Sink<'a> {
    opts: &'a LogOptions,
    stdout: &'a mut dyn Write,
    stderr: &'a mut dyn Write,
    /// An entry after `--until` was seen: nothing more is written.
    done: bool,
    /// The stream of the entry written last.
    last_stderr: Option<bool>,
}

impl Sink<'_> {
    fn put(&mut self, e: &Entry) -> Result<()> {
        if self.opts.since.is_some_and(|s| e.time < s) {
            return Ok(());
        }
        if self.opts.until.is_some_and(|u| e.time > u) {
            self.done = true;
            return Ok(());
        }
        if self.last_stderr.is_some_and(|was| was != e.stderr) {
            // The caller may buffer each stream: what came first reaches a shared
            // terminal or pipe first.
            let previous: &mut dyn Write = if e.stderr {
                &mut *self.stdout
            } else {
                &mut *self.stderr
            };
            if let Err(err) = previous.flush() {
                return self.failed(err);
            }
        }
        self.last_stderr = Some(e.stderr);
        let out: &mut dyn Write = if e.stderr {
            &mut *self.stderr
        } else {
            &mut *self.stdout
        };
        let mut write = || -> std::io::Result<()> {
            if self.opts.timestamps {
                out.write_all(format_rfc3339_nanos(e.time).as_bytes())?;
                out.write_all(b" ")?;
            }
            out.write_all(&e.text)
        };
        match write() {
            Ok(()) => Ok(()),
            Err(err) => self.failed(err),
        }
    }

    /// A write failed: the reader went away (`berth logs | head`), which ends the output
    /// with no error, or something else did.
    fn failed(&mut self, err: std::io::Error) -> Result<()> {
        if err.kind() == std::io::ErrorKind::BrokenPipe {
            self.done = true;
            return Ok(());
        }
        Err(Error::io("write", "the log output", err))
    }

    fn flush(&mut self) -> Result<()> {
        match self.stdout.flush().and_then(|_| self.stderr.flush()) {
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {
                self.done = true;
                Ok(())
            }
            r => r.map_err(|e| Error::io("write", "the log output", e)),
        }
    }
}

/// Every complete line of `f` before offset `len` to the sink, read through a bounded
/// buffer; stops early once the sink is done. Returns the offset after the last complete
/// line (a cut last line is left unread).
fn stream_lines(f: &File, len: u64, sink: &mut Sink) -> std::io::Result<u64> {
    use std::io::BufRead;
    let mut r = std::io::BufReader::with_capacity(READ_CHUNK, f.take(len));
    let mut line = Vec::new();
    let mut complete = 0u64;
    loop {
        line.clear();
        let n = r.read_until(b'\n', &mut line)?;
        if n == 0 || line.last() != Some(&b'\n') {
            return Ok(complete);
        }
        complete += n as u64;
        if let Some(e) = parse_line(&line[..n - 1]) {
            sink.put(&e).map_err(std::io::Error::other)?;
            if sink.done {
                return Ok(complete);
            }
        }
    }
}

/// The last `n` complete lines of `f` before offset `end`, read backwards in blocks.
fn last_lines(f: &mut File, mut end: u64, n: usize) -> std::io::Result<Vec<Vec<u8>>> {
    if n == 0 {
        return Ok(Vec::new());
    }
    let mut tail: Vec<u8> = Vec::new();
    const BLOCK: u64 = 64 << 10;
    let mut newlines = 0;
    // n lines need n + 1 newlines before them, unless the file starts there.
    while newlines <= n && end > 0 {
        let start = end.saturating_sub(BLOCK);
        let mut block = vec![0u8; (end - start) as usize];
        f.seek(SeekFrom::Start(start))?;
        f.read_exact(&mut block)?;
        newlines += block.iter().filter(|&&b| b == b'\n').count();
        block.extend_from_slice(&tail);
        tail = block;
        end = start;
    }
    let mut lines: Vec<Vec<u8>> = tail
        .split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
        .map(<[u8]>::to_vec)
        .collect();
    if end > 0 && !lines.is_empty() {
        // The first piece may be cut: it was not preceded by a newline we read.
        lines.remove(0);
    }
    let skip = lines.len().saturating_sub(n);
    Ok(lines.split_off(skip))
}

/// Reads new lines of `base` as they are written, from `current` (the file already read up
/// to its offset), following rotations, until `exit.json` appears (then reads what is left
/// and returns).
fn follow(dir: &Path, base: &Path, current: Option<(File, u64)>, sink: &mut Sink) -> Result<()> {
    let exit = dir.join(berth_monitor_proto::EXIT_FILE);
    let io = |e| Error::io("read", base, e);
    let (mut file, mut pos) = match current {
        Some((f, len)) => (Some(f), len),
        None => (None, 0),
    };
    let mut partial: Vec<u8> = Vec::new();
    loop {
        // Checked before reading, so that every line written before the end is read.
        let ended = run_ended(dir, &exit, sink.opts);
        if let Some(f) = file.as_mut() {
            read_new(f, &mut pos, &mut partial, sink).map_err(io)?;
            if sink.done {
                return sink.flush();
            }
            let now = std::fs::metadata(base).ok();
            let open = f.metadata().map_err(io)?;
            if now.as_ref().is_some_and(|m| m.ino() != open.ino()) {
                // Rotated: the open file is now `.1`. The monitor wrote its last line before
                // the rename: read it to the end once more, then go on with the new file.
                read_new(f, &mut pos, &mut partial, sink).map_err(io)?;
                // More rotations may have come since the last look: the files between
                // ours and the new one are read whole first.
                for newer in rotated_after(base, open.ino()) {
                    if let Some(mut f) = open_follow(&newer)? {
                        let (mut at, mut cut) = (0, Vec::new());
                        read_new(&mut f, &mut at, &mut cut, sink)
                            .map_err(|e| Error::io("read", &newer, e))?;
                    }
                }
                file = open_follow(base)?;
                pos = 0;
                partial.clear();
                continue;
            }
            if open.len() < pos {
                // Truncated (max-file 1): start again.
                pos = 0;
                partial.clear();
                continue;
            }
        } else {
            file = open_follow(base)?;
            pos = 0;
            if file.is_some() {
                continue;
            }
        }
        sink.flush()?;
        // `--until` in the past of the clock: nothing written from now on can be shown.
        if ended || sink.done || sink.opts.until.is_some_and(|u| now() > u) {
            return Ok(());
        }
        std::thread::sleep(FOLLOW_POLL);
    }
}

/// Has the container's run ended for `follow`? Without a restart policy, when `exit.json`
/// appears; with one, the monitor writes `exit.json` at every exit and removes it when it
/// restarts, so only the monitor being done (`monitor.sock` removed after the final exit,
/// or the monitor gone, or the container removed) ends it.
fn run_ended(dir: &Path, exit: &Path, opts: &LogOptions) -> bool {
    let monitor_gone = opts.monitor_pid.is_some_and(|p| !monitor_alive(p));
    if !opts.across_restarts || opts.monitor_pid.is_none() {
        return monitor_gone || exit.exists();
    }
    monitor_gone || !dir.exists() || (exit.exists() && !dir.join("monitor.sock").exists())
}

/// Is `pid` a live berth-monitor (not a zombie, not a reused pid)?
fn monitor_alive(pid: i32) -> bool {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let state = stat
        .rfind(')')
        .and_then(|i| stat[i + 1..].split_whitespace().next().map(str::to_owned));
    if matches!(state.as_deref(), None | Some("Z") | Some("X")) {
        return false;
    }
    std::fs::read(format!("/proc/{pid}/cmdline"))
        .map(|c| String::from_utf8_lossy(&c).contains("berth-monitor"))
        .unwrap_or(false)
}

/// The rotated files (`.1` newest) written after the one with inode `ino`, oldest first.
/// If that file is gone (max-file reached), every rotated file left is newer than it.
fn rotated_after(base: &Path, ino: u64) -> Vec<PathBuf> {
    let mut rotated = Vec::new();
    for k in 1.. {
        let path = PathBuf::from(format!("{}.{k}", base.display()));
        match std::fs::metadata(&path) {
            Ok(m) if m.ino() == ino => break,
            Ok(_) => rotated.push(path),
            Err(_) => break,
        }
    }
    rotated.reverse();
    rotated
}

fn open_follow(path: &Path) -> Result<Option<File>> {
    match File::open(path) {
        Ok(f) => Ok(Some(f)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(Error::io("open", path, e)),
    }
}

/// Reads from `pos` to the end; complete lines go to the sink, a cut last line waits.
fn read_new(
    f: &mut File,
    pos: &mut u64,
    partial: &mut Vec<u8>,
    sink: &mut Sink,
) -> std::io::Result<()> {
    f.seek(SeekFrom::Start(*pos))?;
    // A chunk at a time: a container writing fast never makes this hold its whole output.
    let mut buf = vec![0u8; READ_CHUNK];
    loop {
        let got = match f.read(&mut buf) {
            Ok(0) => return Ok(()),
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        *pos += got as u64;
        partial.extend_from_slice(&buf[..got]);
        let Some(last) = partial.iter().rposition(|&b| b == b'\n') else {
            continue;
        };
        let rest = partial.split_off(last + 1);
        for line in partial.split(|&b| b == b'\n') {
            if let Some(e) = parse_line(line) {
                sink.put(&e).map_err(std::io::Error::other)?;
                if sink.done {
                    return Ok(());
                }
            }
        }
        *partial = rest;
    }
}

/// Parses `--since`/`--until` as docker does: a Go duration before now (`10m`, `1h30m`,
/// `1.5h`), an RFC 3339 time (`2026-01-02T15:04:05Z`, with a fraction or an offset, or local
/// time without a zone; also `2026-01-02` and `2026-01-02T15:04`), or Unix seconds with an
/// optional fraction (`1700000000.5`).
pub fn parse_time(flag: &str, value: &str, now: Nanos) -> Result<Nanos> {
    let bad = || Error::invalid(flag, value, "not a time, a Unix timestamp or a duration");
    if value != "0" {
        if let Some(d) = parse_go_duration(value) {
            return Ok(now - d);
        }
    }
    if let Some(t) = parse_date_time(value) {
        return Ok(t);
    }
    if value.contains('-') {
        return Err(bad());
    }
    parse_unix(value).ok_or_else(bad)
}

/// Unix seconds with an optional fraction: `1700000000`, `1700000000.000000001`.
fn parse_unix(v: &str) -> Option<Nanos> {
    let (secs, frac) = v.split_once('.').unwrap_or((v, ""));
    if secs.is_empty() || !secs.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    if frac.len() > 9 || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let secs: i128 = secs.parse().ok()?;
    let nanos: i128 = format!("{frac:0<9}").parse().ok()?;
    Some(secs * 1_000_000_000 + nanos)
}

/// A Go `time.ParseDuration` string in nanoseconds.
fn parse_go_duration(v: &str) -> Option<Nanos> {
    crate::options::health::go_duration(v).map(Nanos::from)
}

/// RFC 3339 and the shorter forms docker accepts; without a zone, the time is local.
fn parse_date_time(v: &str) -> Option<Nanos> {
    let b = v.as_bytes();
    if b.len() < 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        let s = v.get(r)?;
        s.bytes()
            .all(|c| c.is_ascii_digit())
            .then(|| s.parse().ok())?
    };
    let (y, mo, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) {
        return None;
    }
    let mut rest = &v[10..];
    let (mut h, mut mi, mut sec, mut nanos) = (0, 0, 0, 0i128);
    if let Some(t) = rest.strip_prefix(['T', 't']) {
        h = num(11..13)?;
        rest = &t[2..];
        if let Some(r) = rest.strip_prefix(':') {
            mi = num(14..16)?;
            rest = &r[2..];
            if let Some(r) = rest.strip_prefix(':') {
                sec = num(17..19)?;
                rest = &r[2..];
                if let Some(frac) = rest.strip_prefix('.') {
                    let n = frac.bytes().take_while(u8::is_ascii_digit).count();
                    if n == 0 || n > 9 {
                        return None;
                    }
                    nanos = format!("{:0<9}", &frac[..n]).parse().ok()?;
                    rest = &frac[n..];
                }
            }
        }
        if h > 23 || mi > 59 || sec > 60 {
            return None;
        }
    }
    let wall =
        (berth_image::timestamp::days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec)
            as i128;
    let offset: i128 = match rest {
        "Z" | "z" => 0,
        "" => local_offset(wall as i64) as i128,
        z => {
            let sign = match z.as_bytes()[0] {
                b'+' => 1,
                b'-' => -1,
                _ => return None,
            };
            let zb = z.as_bytes();
            if z.len() != 6 || zb[3] != b':' {
                return None;
            }
            let oh: i128 = z[1..3].parse().ok()?;
            let om: i128 = z[4..6].parse().ok()?;
            sign * (oh * 3600 + om * 60)
        }
    };
    Some((wall - offset) * 1_000_000_000 + nanos)
}

/// The local zone's offset from UTC, in seconds, around the wall-clock time `wall`.
fn local_offset(wall: i64) -> i64 {
    let t = wall as libc::time_t;
    // SAFETY: localtime_r writes into the zeroed tm we own.
    unsafe {
        let mut tm: libc::tm = std::mem::zeroed();
        if libc::localtime_r(&t, &mut tm).is_null() {
            return 0;
        }
        tm.tm_gmtoff
    }
}

/// An RFC 3339 time with any fraction and offset, in nanoseconds.
pub fn parse_rfc3339_nanos(s: &str) -> Option<Nanos> {
    let b = s.as_bytes();
    if b.len() < 20 || !matches!(b[10], b'T' | b't') {
        return None;
    }
    parse_date_time(s).filter(|_| !s.ends_with(|c: char| c.is_ascii_digit()))
}

/// `2026-11-28T19:42:13.123456789Z`, as `docker logs -t` prints (nine digits, UTC).
pub fn format_rfc3339_nanos(t: Nanos) -> String {
    let secs = t.div_euclid(1_000_000_000) as i64;
    let nanos = t.rem_euclid(1_000_000_000);
    let (days, rem) = (secs.div_euclid(86400), secs.rem_euclid(86400));
    let (y, m, d) = berth_image::timestamp::civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{nanos:09}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// Now, in nanoseconds since the epoch.
pub fn now() -> Nanos {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as i128)
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    const S: i128 = 1_000_000_000;

    #[test]
    fn times_parse_as_docker_reads_them() {
        let now = 1_800_000_000 * S;
        assert_eq!(parse_time("--since", "10m", now).unwrap(), now - 600 * S);
        assert_eq!(parse_time("--since", "1h30m", now).unwrap(), now - 5400 * S);
        assert_eq!(
            parse_time("--since", "1.5s", now).unwrap(),
            now - 1_500_000_000
        );
        assert_eq!(
            parse_time("--since", "1700000000", now).unwrap(),
            1_700_000_000 * S
        );
        assert_eq!(
            parse_time("--since", "1700000000.000000005", now).unwrap(),
            1_700_000_000 * S + 5
        );
        assert_eq!(parse_time("--since", "0", now).unwrap(), 0);
        assert_eq!(
            parse_time("--since", "2023-11-14T22:13:20Z", now).unwrap(),
            1_700_000_000 * S
        );
        assert_eq!(
            parse_time("--since", "2023-11-15T00:13:20.5+02:00", now).unwrap(),
            1_700_000_000 * S + S / 2
        );
        for bad in ["yesterday", "10x", "2023-13-01", "12-", ""] {
            assert!(parse_time("--since", bad, now).is_err(), "{bad}");
        }
    }

    #[test]
    fn log_times_round_trip() {
        let t = "2026-11-28T19:42:13.123456789Z";
        assert_eq!(format_rfc3339_nanos(parse_rfc3339_nanos(t).unwrap()), t);
        // Docker trims trailing zeros of the fraction in its own files.
        assert_eq!(
            format_rfc3339_nanos(parse_rfc3339_nanos("2026-11-28T19:42:13.5Z").unwrap()),
            "2026-11-28T19:42:13.500000000Z"
        );
    }
}
