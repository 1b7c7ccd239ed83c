//! `export [-o FILE] CONTAINER`: the container's filesystem as a tar, never to a terminal.

use super::{engine, fail, Failure};
use crate::cli::ExportArgs;
use crate::env::Env;
use std::io::Write;

pub fn export(env: &Env, a: &ExportArgs) -> Result<i32, Failure> {
    let e = engine(env)?;
    let r = e.find(&a.container)?;
    match &a.output {
        Some(p) => {
            let f = std::fs::File::create(p).map_err(|err| {
                fail(format!(
                    "failed to export container: {}: {err}",
                    p.display()
                ))
            })?;
            let mut w = std::io::BufWriter::with_capacity(1 << 20, f);
            let res = e.export(&r, &mut w).map_err(Failure::from).and_then(|_| {
                w.flush()
                    .map_err(|err| fail(format!("write {}: {err}", p.display())))
            });
            if res.is_err() {
                let _ = std::fs::remove_file(p);
            }
            res?;
        }
        None => {
            // SAFETY: isatty only inspects fd 1.
            if unsafe { libc::isatty(1) } == 1 {
                return Err(fail(
                    "cowardly refusing to save to a terminal. Use the -o flag or redirect",
                ));
            }
            let out = std::io::stdout().lock();
            let mut w = std::io::BufWriter::with_capacity(1 << 20, out);
            e.export(&r, &mut w)?;
            w.flush().map_err(|err| fail(format!("write: {err}")))?;
        }
    }
    Ok(0)
}
