//! `export`: a container's merged root filesystem as a tar stream (its overlay, mounted
//! again first if it is not), read by fd so nothing in it can point the reader elsewhere.
//! Mounts made inside the container (volumes, /proc) live in its own mount namespace and
//! are not part of the export, as with docker.

use super::fs_tar::{TarOpts, TreeWriter};
use super::Engine;
use crate::store::Row;
use crate::{Error, Result};
use std::io::Write;
use std::os::fd::AsFd;
use std::path::Path;

impl Engine {
    pub fn export(&self, r: &Row, out: impl Write) -> Result<()> {
        let rootfs = self.rootfs(&r.id);
        if !super::create::is_mounted(&rootfs) {
            let _l = self.lock(&r.id)?;
            self.ensure_mounted(&r.id, &self.image_chain(r)?)?;
        }
        let root = std::fs::File::open(&rootfs).map_err(|e| Error::io("open", &rootfs, e))?;
        let mut b = tar::Builder::new(out);
        TreeWriter::new(&mut b, TarOpts::default())
            .append_fd(root.as_fd(), Path::new(""))
            .and_then(|_| b.finish())
            .map_err(|e| Error::io("export", &rootfs, e))
    }
}
