//! `--cidfile`: the container's ID written to a file, as the docker CLI does: a file that
//! already exists is refused before anything is made, and a create that fails leaves none.

use super::{fail, Failure};
use std::io::Write;
use std::path::{Path, PathBuf};

pub struct CidFile {
    path: PathBuf,
    file: Option<std::fs::File>,
    written: bool,
}

impl CidFile {
    pub fn create(path: &Path) -> Result<CidFile, Failure> {
        let file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(path)
            .map_err(|e| {
                if e.kind() == std::io::ErrorKind::AlreadyExists {
                    fail(format!(
                        "container ID file found, make sure the other container isn't running \
                         or delete {}",
                        path.display()
                    ))
                } else {
                    fail(format!("failed to create the container ID file: {e}"))
                }
            })?;
        Ok(CidFile {
            path: path.to_path_buf(),
            file: Some(file),
            written: false,
        })
    }

    pub fn write(mut self, id: &str) -> Result<(), Failure> {
        let mut f = self.file.take().expect("written once");
        f.write_all(id.as_bytes())
            .map_err(|e| fail(format!("failed to write the container ID to the file: {e}")))?;
        self.written = true;
        Ok(())
    }
}

impl Drop for CidFile {
    fn drop(&mut self) {
        if !self.written {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}
