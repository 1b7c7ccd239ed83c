//! `push`: a local image name to its registry, printed the way docker push does.
//! `BERTH_PUSH_CHUNK_SIZE` (bytes) sets the size above which blobs go up in chunks.

use super::s;
use crate::cli::PushArgs;
use crate::env::Env;
use berth_image::registry::client::Client;
use berth_image::registry::credentials;
use berth_image::registry::push::{self, LayerPushed, PushOptions};
use berth_image::Reference;

pub fn push(env: &Env, a: &PushArgs) -> Result<i32, String> {
    let r: Reference = a.reference.parse().map_err(s)?;
    let (store, md) = (env.store().map_err(s)?, env.metadata().map_err(s)?);
    let rec = md
        .get(&r.to_string())
        .map_err(s)?
        .ok_or_else(|| format!("No such image: {}", a.reference))?;
    let mut opts = PushOptions::default();
    if let Some(v) = std::env::var_os("BERTH_PUSH_CHUNK_SIZE") {
        opts.chunk_size = v
            .to_str()
            .and_then(|v| v.parse().ok())
            .filter(|n| *n > 0)
            .ok_or("BERTH_PUSH_CHUNK_SIZE must be a positive number of bytes")?;
    }
    let creds = credentials::load(&credentials::config_path(), r.domain()).map_err(s)?;
    let client = Client::new(Vec::new(), creds);
    let mounts = push::mount_sources(&md, &store, &r).map_err(s)?;
    if !a.quiet {
        println!("The push refers to repository [{}]", r.name());
    }
    let quiet = a.quiet;
    let pushed = push::push(
        &client,
        &r,
        &store,
        &rec.manifest,
        &mounts,
        &opts,
        &mut |d, how| {
            if quiet {
                return;
            }
            let short = &d.hex()[..12];
            match how {
                LayerPushed::Exists => println!("{short}: Layer already exists"),
                LayerPushed::Mounted(from) => println!("{short}: Mounted from {from}"),
                LayerPushed::Uploaded => println!("{short}: Pushed"),
            }
        },
    )
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
