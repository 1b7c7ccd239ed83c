//! Docker's json-file log: one JSON object per line,
//! `{"log":"text\n","stream":"stdout","time":"<RFC 3339 nanos>"}`, rotated at `max-size` into
//! `<file>.1` (newest) ... `<file>.<max-file - 1>` (oldest).

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::PathBuf;

pub struct JsonLog {
    path: PathBuf,
    file: File,
    size: u64,
    max_size: u64,
    max_file: u32,
}

impl JsonLog {
    pub fn open(path: PathBuf, max_size: u64, max_file: u32) -> std::io::Result<Self> {
        let file = open_append(&path)?;
        let size = file.metadata()?.len();
        Ok(JsonLog {
            path,
            file,
            size,
            max_size,
            max_file,
        })
    }

    /// One entry: `text` is a whole line with its `\n`, or a part of a line too long to hold
    /// (Docker splits at 16 KiB) or cut by the stream's end.
    pub fn write(&mut self, stream: &str, text: &[u8], time: &str) -> std::io::Result<()> {
        let mut line = Vec::with_capacity(text.len() + 64);
        line.extend_from_slice(b"{\"log\":");
        push_json_string(&mut line, &String::from_utf8_lossy(text));
        line.extend_from_slice(b",\"stream\":\"");
        line.extend_from_slice(stream.as_bytes());
        line.extend_from_slice(b"\",\"time\":\"");
        line.extend_from_slice(time.as_bytes());
        line.extend_from_slice(b"\"}\n");
        if self.max_size > 0 && self.size > 0 && self.size + line.len() as u64 > self.max_size {
            self.rotate()?;
        }
        self.file.write_all(&line)?;
        self.size += line.len() as u64;
        Ok(())
    }

    fn rotate(&mut self) -> std::io::Result<()> {
        if self.max_file < 2 {
            // One file only: start it again, as Docker does.
            self.file.set_len(0)?;
            self.size = 0;
            return Ok(());
        }
        let numbered = |n: u32| {
            let mut p = self.path.clone().into_os_string();
            p.push(format!(".{n}"));
            PathBuf::from(p)
        };
        for n in (1..self.max_file - 1).rev() {
            match std::fs::rename(numbered(n), numbered(n + 1)) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
                _ => {}
            }
        }
        std::fs::rename(&self.path, numbered(1))?;
        self.file = open_append(&self.path)?;
        self.size = 0;
        Ok(())
    }
}

fn open_append(path: &PathBuf) -> std::io::Result<File> {
    OpenOptions::new()
        .create(true)
        .append(true)
        .mode(0o640)
        .custom_flags(libc::O_CLOEXEC)
        .open(path)
}

/// A JSON string as Go's encoding/json writes it (Docker's logs are read by tools that expect
/// that shape): `<`, `>`, `&` and U+2028/U+2029 escaped too.
fn push_json_string(out: &mut Vec<u8>, s: &str) {
    out.push(b'"');
    for c in s.chars() {
        match c {
            '"' => out.extend_from_slice(b"\\\""),
            '\\' => out.extend_from_slice(b"\\\\"),
            '\n' => out.extend_from_slice(b"\\n"),
            '\r' => out.extend_from_slice(b"\\r"),
            '\t' => out.extend_from_slice(b"\\t"),
            c if (c as u32) < 0x20 || matches!(c, '<' | '>' | '&' | '\u{2028}' | '\u{2029}') => {
                out.extend_from_slice(format!("\\u{:04x}", c as u32).as_bytes())
            }
            c => {
                let mut b = [0u8; 4];
                out.extend_from_slice(c.encode_utf8(&mut b).as_bytes());
            }
        }
    }
    out.push(b'"');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_json_that_reads_back() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x-json.log");
        let mut log = JsonLog::open(path.clone(), 0, 1).unwrap();
        log.write("stdout", b"a \"q\" <b>\t\x01\n", "T").unwrap();
        log.write("stderr", b"\xff\xfe", "T").unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        let lines: Vec<serde_json::Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines[0]["log"], "a \"q\" <b>\t\u{1}\n");
        assert!(text.contains("\\u003cb\\u003e"));
        assert_eq!(lines[1]["stream"], "stderr");
        assert_eq!(lines[1]["log"], "\u{fffd}\u{fffd}");
    }

    #[test]
    fn rotation_keeps_max_file_files() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x-json.log");
        let mut log = JsonLog::open(path.clone(), 200, 3).unwrap();
        for i in 0..50 {
            log.write("stdout", format!("line {i}\n").as_bytes(), "T")
                .unwrap();
        }
        let mut names: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        names.sort();
        assert_eq!(names, ["x-json.log", "x-json.log.1", "x-json.log.2"]);
        assert!(std::fs::read_to_string(&path)
            .unwrap()
            .contains("line 49\\n"));
        for n in &names {
            assert!(std::fs::metadata(dir.path().join(n)).unwrap().len() <= 200);
        }
    }
}
