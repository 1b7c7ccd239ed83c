//! `pull`: a reference from its registry into the store ([`berth_engine::Engine::pull`]),
//! printed the way docker pull does.

use super::s;
use crate::cli::PullArgs;
use crate::env::Env;

pub fn pull(env: &Env, a: &PullArgs) -> Result<i32, String> {
    let quiet = a.quiet;
    let r: berth_image::Reference = a.reference.parse().map_err(s)?;
    let e = berth_engine::Engine::open_only(&env.root).map_err(s)?;
    if !quiet {
        println!(
            "{}: Pulling from {}",
            r.tag().unwrap_or("latest"),
            r.path().strip_prefix("library/").unwrap_or(r.path())
        );
    }
    let progress = crate::progress::for_stdout(quiet);
    let pulled = e
        .pull(&a.reference, a.platform.as_deref(), progress.as_ref())
        .map_err(s)?;
    if quiet {
        // The digest only, which a script can pin (docker -q prints the name).
        println!("{}", pulled.manifest);
        return Ok(0);
    }
    println!("Digest: {}", pulled.manifest);
    if pulled.up_to_date {
        println!("Status: Image is up to date for {}", r.familiar())
    } else {
        println!("Status: Downloaded newer image for {}", r.familiar())
    }
    println!("{r}");
    Ok(0)
}
