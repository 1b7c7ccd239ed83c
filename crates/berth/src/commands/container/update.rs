//! `berth update` / `berth container update`: new limits and restart policy for containers.

use super::{each, engine, Failure};
use crate::env::Env;
use berth_engine::container::update::Update;
use berth_engine::options::parse;
use clap::Args;

#[derive(Args, Debug)]
pub struct UpdateArgs {
    /// Block IO (relative weight), between 10 and 1000, or 0 to disable
    #[arg(long, value_name = "UINT16")]
    pub blkio_weight: Option<u16>,
    /// Limit CPU CFS (Completely Fair Scheduler) period
    #[arg(long, value_name = "INT", allow_hyphen_values = true)]
    pub cpu_period: Option<i64>,
    /// Limit CPU CFS (Completely Fair Scheduler) quota
    #[arg(long, value_name = "INT", allow_hyphen_values = true)]
    pub cpu_quota: Option<i64>,
    /// CPU shares (relative weight)
    #[arg(short = 'c', long, value_name = "INT")]
    pub cpu_shares: Option<String>,
    /// Number of CPUs
    #[arg(long, value_name = "DECIMAL")]
    pub cpus: Option<String>,
    /// CPUs in which to allow execution (0-3, 0,1)
    #[arg(long)]
    pub cpuset_cpus: Option<String>,
    /// MEMs in which to allow execution (0-3, 0,1)
    #[arg(long)]
    pub cpuset_mems: Option<String>,
    /// Memory limit
    #[arg(short = 'm', long, value_name = "BYTES")]
    pub memory: Option<String>,
    /// Memory soft limit
    #[arg(long, value_name = "BYTES")]
    pub memory_reservation: Option<String>,
    /// Swap limit equal to memory plus swap: -1 to enable unlimited swap
    #[arg(long, value_name = "BYTES", allow_hyphen_values = true)]
    pub memory_swap: Option<String>,
    /// Tune container pids limit (set -1 for unlimited)
    #[arg(long, allow_hyphen_values = true)]
    pub pids_limit: Option<String>,
    /// Restart policy to apply when a container exits
    #[arg(long)]
    pub restart: Option<String>,
    #[arg(required = true, value_name = "CONTAINER")]
    pub containers: Vec<String>,
}

fn request(a: &UpdateArgs) -> Result<Update, Failure> {
    let mem =
        |flag: &str, v: &Option<String>| v.as_deref().map(|m| parse::memory(flag, m)).transpose();
    Ok(Update {
        memory: mem("-m, --memory", &a.memory)?,
        memory_swap: mem("--memory-swap", &a.memory_swap)?,
        memory_reservation: mem("--memory-reservation", &a.memory_reservation)?,
        nano_cpus: a.cpus.as_deref().map(parse::cpus).transpose()?,
        cpu_shares: a.cpu_shares.as_deref().map(parse::cpu_shares).transpose()?,
        cpu_period: a.cpu_period,
        cpu_quota: a.cpu_quota,
        cpuset_cpus: a.cpuset_cpus.as_deref().map(parse::cpuset).transpose()?,
        cpuset_mems: a.cpuset_mems.clone(),
        pids_limit: a.pids_limit.as_deref().map(parse::pids_limit).transpose()?,
        blkio_weight: a.blkio_weight,
        // Docker's CLI parses the policy after its flags, so a bad one is a failure (1), not
        // a flag error (125) like the values above.
        restart: a
            .restart
            .as_deref()
            .map(parse::restart)
            .transpose()
            .map_err(|e| Failure {
                msg: e.to_string(),
                code: 1,
            })?,
    })
}

/// Docker's CLI exits 1 when the daemon refuses an update; a bad flag value is 125.
pub fn update(env: &Env, a: &UpdateArgs) -> Result<i32, Failure> {
    let u = request(a)?;
    let e = engine(env)?;
    let r = each(&a.containers, |c| {
        e.update(c, &u)?;
        Ok(Some(c.to_string()))
    });
    r.map_err(|f| Failure { code: 1, ..f })
}
