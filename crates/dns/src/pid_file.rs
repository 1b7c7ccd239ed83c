//! The pid file the starter waits for: written only once both sockets are bound, and
//! atomically (a rename), so whoever sees it may query at once.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

pub struct PidFile {
    path: PathBuf,
    contents: String,
}

impl PidFile {
    pub fn write(path: &Path) -> io::Result<PidFile> {
        let contents = format!("{}\n", std::process::id());
        let mut tmp = path.as_os_str().to_owned();
        tmp.push(".tmp");
        fs::write(&tmp, &contents)?;
        if let Err(e) = fs::rename(&tmp, path) {
            let _ = fs::remove_file(&tmp);
            return Err(e);
        }
        Ok(PidFile {
            path: path.to_owned(),
            contents,
        })
    }

    /// Removes the file on a clean exit, unless a newer server already wrote its own pid
    /// there (a repair that started another before this one was gone).
    pub fn remove(self) {
        if fs::read_to_string(&self.path).is_ok_and(|c| c == self.contents) {
            let _ = fs::remove_file(&self.path);
        }
    }
}
