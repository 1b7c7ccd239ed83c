//! `pull`: a reference from its registry into the store, printed the way docker pull does.

use super::s;
use crate::cli::PullArgs;
use crate::env::Env;
use berth_image::manifest::Platform;
use berth_image::metadata::ImageRecord;
use berth_image::registry::client::Client;
use berth_image::Reference;

pub fn pull(env: &Env, a: &PullArgs) -> Result<i32, String> {
    let quiet = a.quiet;
    let r: Reference = a.reference.parse().map_err(s)?;
    let platform: Platform = match a.platform.as_deref() {
        Some(p) => p.parse().map_err(s)?,
        None => Platform::host(),
    };
    let (store, snaps, md) = (
        env.store().map_err(s)?,
        env.snapshots().map_err(s)?,
        env.metadata().map_err(s)?,
    );
    if !quiet {
        println!(
            "{}: Pulling from {}",
            r.tag().unwrap_or("latest"),
            r.path().strip_prefix("library/").unwrap_or(r.path())
        );
    }
    // Partial downloads of pulls that were killed are of no use to anyone.
    // Garbage collection waits until this pull's image is named (md.tag below).
    let _writing = store.write_guard().map_err(s)?;
    let _ = store.clean_ingest();
    let _ = snaps.clean_staging();
    let before = md.get(&r.to_string()).map_err(s)?;
    let creds = berth_image::registry::credentials::load(
        &berth_image::registry::credentials::config_path(),
        r.domain(),
    )
    .map_err(s)?;
    let config = berth_image::registry::config::RegistryConfig::load().map_err(s)?;
    let client = Client::from_config(config, creds);
    let progress = crate::progress::for_stdout(quiet);
    let pulled = berth_image::pull::pull_with_progress(
        &client,
        &r,
        &store,
        &snaps,
        &platform,
        progress.as_ref(),
    )
    .map_err(s)?;
    md.tag(&ImageRecord {
        name: r.to_string(),
        manifest: pulled.manifest.clone(),
        config: pulled.config.clone(),
        chain: pulled.chain.clone(),
        created: berth_image::timestamp::now(),
    })
    .map_err(s)?;
    super::events::image_event(env, "pull", &r.to_string(), Some(&r.to_string()));
    if quiet {
        // The digest only, which a script can pin (docker -q prints the name).
        println!("{}", pulled.manifest);
        return Ok(0);
    }
    println!("Digest: {}", pulled.manifest);
    match before {
        Some(b) if b.manifest == pulled.manifest => {
            println!("Status: Image is up to date for {}", r.familiar())
        }
        _ => println!("Status: Downloaded newer image for {}", r.familiar()),
    }
    println!("{r}");
    Ok(0)
}
