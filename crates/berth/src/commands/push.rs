//! `push`: a local image name to its registry, printed the way docker push does.
//! `BERTH_PUSH_CHUNK_SIZE` (bytes) sets the size above which blobs go up in chunks.

use super::s;
use crate::cli::PushArgs;
use crate::env::Env;
use berth_image::registry::push::{LayerPushed, PushOptions};
use berth_image::Reference;

pub fn push(env: &Env, a: &PushArgs) -> Result<i32, String> {
    let r: Reference = a.reference.parse().map_err(s)?;
    let mut opts = PushOptions::default();
    if let Some(v) = std::env::var_os("BERTH_PUSH_CHUNK_SIZE") {
        opts.chunk_size = v
            .to_str()
            .and_then(|v| v.parse().ok())
            .filter(|n| *n > 0)
            .ok_or("BERTH_PUSH_CHUNK_SIZE must be a positive number of bytes")?;
    }
    let e = berth_engine::Engine::open_only(&env.root).map_err(s)?;
    if !a.quiet {
        println!("The push refers to repository [{}]", r.name());
    }
    let quiet = a.quiet;
    let pushed = e
        .push(&a.reference, None, &opts, &mut |d, how| {
            if quiet {
                return;
            }
            let short = &d.hex()[..12];
            match how {
                LayerPushed::Exists => println!("{short}: Layer already exists"),
                LayerPushed::Mounted(from) => println!("{short}: Mounted from {from}"),
                LayerPushed::Uploaded => println!("{short}: Pushed"),
            }
        })
        .map_err(s)?;
    if a.quiet {
        println!("{}", pushed.digest);
    } else {
        println!(
            "{}: digest: {} size: {}",
            r.tag().unwrap_or("latest"),
            pushed.digest,
            pushed.size
        );
    }
    Ok(0)
}
