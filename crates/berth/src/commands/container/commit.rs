//! `commit [-a] [-m] [-c]... [-p] CONTAINER [REPO[:TAG]]`: prints the new image's ID.

use super::{engine, fail, Failure};
use crate::cli::CommitArgs;
use crate::env::Env;
use berth_engine::container::commit::CommitOptions;
use berth_image::Reference;

pub fn commit(env: &Env, a: &CommitArgs) -> Result<i32, Failure> {
    let name = match &a.reference {
        Some(r) => {
            let r: Reference = r
                .parse()
                .map_err(|e: berth_image::Error| fail(e.to_string()))?;
            if r.digest().is_some() {
                return Err(fail(format!(
                    "refusing to create a tag with a digest reference: {r}"
                )));
            }
            Some(r.to_string())
        }
        None => None,
    };
    let e = engine(env)?;
    let id = e.commit(
        &a.container,
        &CommitOptions {
            author: a.author.clone(),
            message: a.message.clone(),
            changes: a.change.clone(),
            pause: a.pause,
        },
    )?;
    if let Some(n) = name {
        env.metadata()?.set_name(&n, &id)?;
    }
    println!("{id}");
    Ok(0)
}
