//! The image a container is made from: looked up by name or ID in the image metadata, pulled
//! as `--pull missing|always|never` says.

use super::{fail, Failure};
use crate::cli::PullArgs;
use crate::commands::resolve::resolve;
use crate::env::Env;
use berth_engine::image_config::ImageConfig;
use berth_engine::options::PullPolicy;
use berth_image::metadata::StoredImage;

pub struct Resolved {
    pub image: StoredImage,
    pub config: ImageConfig,
}

fn lookup(env: &Env, arg: &str) -> Result<Option<StoredImage>, Failure> {
    let md = env.metadata()?;
    match resolve(&md, arg) {
        Ok(t) => Ok(Some(t.image().clone())),
        Err(e) if e.starts_with("No such image") => Ok(None),
        Err(e) => Err(fail(e)),
    }
}

fn pull(env: &Env, arg: &str, platform: Option<&str>) -> Result<(), Failure> {
    let a = PullArgs {
        reference: arg.to_string(),
        quiet: false,
        platform: platform.map(str::to_string),
    };
    crate::commands::pull::pull(env, &a).map_err(fail)?;
    Ok(())
}

/// The image `arg` as `--pull` says; a pull takes `--platform`'s image of an index.
pub fn resolve_image(
    env: &Env,
    arg: &str,
    policy: PullPolicy,
    platform: Option<&str>,
) -> Result<Resolved, Failure> {
    let image = match policy {
        PullPolicy::Always => {
            pull(env, arg, platform)?;
            lookup(env, arg)?
        }
        PullPolicy::Missing => match lookup(env, arg)? {
            Some(i) => Some(i),
            None => {
                eprintln!("Unable to find image '{arg}' locally");
                pull(env, arg, platform)?;
                lookup(env, arg)?
            }
        },
        PullPolicy::Never => lookup(env, arg)?,
    };
    let image = image.ok_or_else(|| fail(format!("No such image: {arg}")))?;
    let bytes = env.store()?.read(&image.id)?;
    if let Some(p) = platform {
        berth_engine::options::host_config::check_platform(p, arg, &bytes)?;
    }
    let config = ImageConfig::from_image_config(&bytes)?;
    Ok(Resolved { image, config })
}
