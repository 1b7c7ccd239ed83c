//! `image prune [-a] [-f]`: dangling images (with -a, every image no container uses), then
//! the blobs and snapshots only they needed; docker's output.

use super::format::human_size_digits;
use super::resolve::familiar;
use super::s;
use crate::cli::PruneArgs;
use crate::env::Env;
use berth_image::metadata::StoredImage;
use std::io::BufRead;

/// Images that containers are made from must not be pruned: the engine's state database
/// says which (any container, running or not, as docker counts them).
fn images_used_by_containers(env: &Env) -> Result<Vec<String>, String> {
    let st = berth_engine::store::Store::open(&env.root.join("berth.db")).map_err(s)?;
    st.image_ids().map_err(s)
}

pub fn prune(env: &Env, a: &PruneArgs) -> Result<i32, String> {
    if !a.force {
        if a.all {
            println!("WARNING! This will remove all images without at least one container associated to them.");
        } else {
            println!("WARNING! This will remove all dangling images.");
        }
        print!("Are you sure you want to continue? [y/N] ");
        use std::io::Write;
        let _ = std::io::stdout().flush();
        let mut answer = String::new();
        let _ = std::io::stdin().lock().read_line(&mut answer);
        if !matches!(answer.trim().to_ascii_lowercase().as_str(), "y" | "yes") {
            return Ok(0);
        }
    }
    let (md, store, snaps) = (
        env.metadata().map_err(s)?,
        env.store().map_err(s)?,
        env.snapshots().map_err(s)?,
    );
    let used = images_used_by_containers(env)?;
    let used_by_containers = |img: &StoredImage| used.contains(&img.id.to_string());
    let pruned =
        berth_image::gc::prune(&md, &store, &snaps, a.all, &used_by_containers).map_err(s)?;
    let mut lines = Vec::new();
    for r in &pruned.removals {
        super::events::image_removal_events(env, r);
        lines.extend(
            r.untagged
                .iter()
                .map(|n| format!("untagged: {}", familiar(n))),
        );
        lines.extend(r.deleted.iter().map(|i| format!("deleted: {}", i.id)));
    }
    lines.extend(
        pruned
            .freed
            .snapshots
            .iter()
            .map(|c| format!("deleted: {c}")),
    );
    if !lines.is_empty() {
        println!("Deleted Images:\n{}\n", lines.join("\n"));
    }
    // What killed pulls, loads, imports and commits left is unused image data too.
    let unfinished = berth_image::gc::clean_leftovers(&env.root);
    println!(
        "Total reclaimed space: {}",
        human_size_digits(pruned.freed.bytes + unfinished, 4)
    );
    Ok(0)
}
