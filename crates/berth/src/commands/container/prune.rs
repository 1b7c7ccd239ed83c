//! `berth container prune`: remove every stopped container (the engine's prune, which
//! `system prune` uses too).

use super::{engine, Failure};
use crate::commands::format::human_size_digits;
use crate::env::Env;
use berth_engine::container::prune::PruneFilter;
use clap::Args;

#[derive(Args, Debug)]
pub struct ContainerPruneArgs {
    /// Do not prompt for confirmation
    #[arg(short, long)]
    pub force: bool,
    /// Filter: until=TIME, label=K[=V], label!=K[=V]
    #[arg(long, value_name = "FILTER")]
    pub filter: Vec<String>,
}

pub fn prune(env: &Env, a: &ContainerPruneArgs) -> Result<i32, Failure> {
    let filter = PruneFilter::parse(&a.filter)?;
    if !a.force
        && !crate::commands::volume::confirm("WARNING! This will remove all stopped containers.")
    {
        return Ok(0);
    }
    let pruned = engine(env)?.prune_containers(&filter)?;
    if !pruned.ids.is_empty() {
        println!("Deleted Containers:\n{}\n", pruned.ids.join("\n"));
    }
    println!(
        "Total reclaimed space: {}",
        human_size_digits(pruned.bytes, 4)
    );
    Ok(0)
}
