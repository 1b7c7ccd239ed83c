//! `update`: new limits and restart policy for a container, as `docker update` sets them.
//! A live container gets them in its cgroup at once (through its runtime: the built-in one's
//! `update`, or `PATH update --resources -`); every container keeps them in its options (so
//! inspect shows them) and in its bundle's config.json (so the next start applies them).
//! The monitor decides restarts from its arguments, so a new policy is also written to
//! `restart-policy` in the container's dir, which it reads when the container exits.

use super::{exit, options_of, Engine};
use crate::options::{RestartPolicy, RunOptions};
use crate::spec::resources;
use crate::store::{Row, State};
use crate::{Error, Result};
use serde_json::{json, Value};

/// Read by the monitor when it decides on a restart (see berth-monitor's policy).
pub const RESTART_POLICY_FILE: &str = "restart-policy";

/// What `update` changes; `None` keeps the current value.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Update {
    pub memory: Option<i64>,
    pub memory_swap: Option<i64>,
    pub memory_reservation: Option<i64>,
    pub nano_cpus: Option<i64>,
    pub cpu_shares: Option<u64>,
    pub cpu_period: Option<i64>,
    pub cpu_quota: Option<i64>,
    pub cpuset_cpus: Option<String>,
    pub cpuset_mems: Option<String>,
    pub pids_limit: Option<i64>,
    pub blkio_weight: Option<u16>,
    pub restart: Option<RestartPolicy>,
}

impl Update {
    pub fn is_empty(&self) -> bool {
        *self == Update::default()
    }
}

/// Docker's form of a refused update.
fn cannot(id: &str, why: &str) -> Error {
    Error::InvalidArgument(format!("Cannot update container {id}: {why}"))
}

/// A policy in `--restart`'s syntax, as the monitor reads it (argument and file).
pub(super) fn policy_arg(p: &RestartPolicy) -> String {
    match p {
        RestartPolicy::No => "no".into(),
        RestartPolicy::Always => "always".into(),
        RestartPolicy::UnlessStopped => "unless-stopped".into(),
        RestartPolicy::OnFailure(0) => "on-failure".into(),
        RestartPolicy::OnFailure(n) => format!("on-failure:{n}"),
    }
}

/// The options after `u`, with Docker's checks of the combination.
pub fn merge(id: &str, old: &RunOptions, u: &Update) -> Result<RunOptions> {
    let mut o = old.clone();
    if let Some(w) = u.blkio_weight {
        if w != 0 && !(10..=1000).contains(&w) {
            return Err(cannot(id, "Range of blkio weight is from 10 to 1000"));
        }
        o.blkio_weight = Some(w);
    }
    if let Some(m) = u.memory.filter(|m| *m != 0) {
        // The swap limit Docker has stored: twice -m when only -m was given at create.
        let stored_swap = match (old.memory_swap, old.memory) {
            (Some(s), _) if s != 0 => s,
            (_, Some(m)) if m > 0 => m * 2,
            _ => 0,
        };
        if u.memory_swap.is_none() && m > stored_swap {
            return Err(cannot(
                id,
                "Memory limit should be smaller than already set memoryswap limit, update the memoryswap at the same time",
            ));
        }
        if old.memory_swap.is_none() && stored_swap != 0 {
            o.memory_swap = Some(stored_swap);
        }
        o.memory = Some(m);
    }
    if let Some(s) = u.memory_swap {
        o.memory_swap = Some(s);
    }
    if let Some(r) = u.memory_reservation {
        o.memory_reservation = Some(r);
    }
    if let Some(n) = u.nano_cpus {
        if o.cpu_quota.is_some_and(|q| q > 0) && u.cpu_quota.is_none() {
            return Err(cannot(
                id,
                "Conflicting options: Nano CPUs cannot be updated as CPU Quota has already been set",
            ));
        }
        if o.cpu_period.is_some_and(|p| p > 0) && u.cpu_period.is_none() {
            return Err(cannot(
                id,
                "Conflicting options: Nano CPUs cannot be updated as CPU Period has already been set",
            ));
        }
        o.nano_cpus = Some(n);
    }
    if u.nano_cpus.is_some_and(|n| n > 0)
        && (u.cpu_quota.is_some_and(|q| q > 0) || u.cpu_period.is_some_and(|p| p > 0))
    {
        return Err(cannot(
            id,
            "Conflicting options: Nano CPUs and CPU Period cannot both be set",
        ));
    }
    if u.cpu_quota.is_some() || u.cpu_period.is_some() {
        if o.nano_cpus.is_some_and(|n| n > 0) && u.nano_cpus.is_none() {
            return Err(cannot(
                id,
                "Conflicting options: CPU Quota cannot be updated as NanoCPUs has already been set",
            ));
        }
        if let Some(p) = u.cpu_period {
            if p != 0 && !(1000..=1_000_000).contains(&p) {
                return Err(Error::InvalidArgument(
                    "CPU cfs period can not be less than 1ms (i.e. 1000) or larger than 1s (i.e. 1000000)"
                        .into(),
                ));
            }
            o.cpu_period = Some(p);
        }
        if let Some(q) = u.cpu_quota {
            if q > 0 && q < 1000 {
                return Err(Error::InvalidArgument(
                    "CPU cfs quota can not be less than 1ms (i.e. 1000)".into(),
                ));
            }
            o.cpu_quota = Some(q);
        }
    }
    if let Some(s) = u.cpu_shares {
        o.cpu_shares = Some(s);
    }
    if let Some(c) = &u.cpuset_cpus {
        o.cpuset_cpus = Some(c.clone());
    }
    if let Some(m) = &u.cpuset_mems {
        o.cpuset_mems = Some(m.clone());
    }
    if let Some(p) = u.pids_limit {
        o.pids_limit = Some(p);
    }
    if let Some(p) = &u.restart {
        if old.auto_remove && *p != RestartPolicy::No {
            return Err(cannot(
                id,
                "Restart policy cannot be updated because AutoRemove is enabled for the container",
            ));
        }
        o.restart = p.clone();
    }
    resources::validate(&o)?;
    Ok(o)
}

/// `linux.resources` for the new options, with the limits `u` lifts written as "no limit"
/// (left out, the old value would stay in the cgroup).
fn resources_json(o: &RunOptions, u: &Update) -> Result<serde_json::Map<String, Value>> {
    let mut r = resources::linux_resources(o)?;
    if u.pids_limit.is_some_and(|p| p <= 0) {
        r.insert("pids".into(), json!({"limit": -1}));
    }
    let lifted_quota = u.nano_cpus == Some(0) || u.cpu_quota.is_some_and(|q| q <= 0);
    if lifted_quota {
        let cpu = r.entry("cpu").or_insert_with(|| json!({}));
        cpu["quota"] = json!(-1);
    }
    Ok(r)
}

impl Engine {
    /// `update [flags] CONTAINER`: see the module's doc.
    pub fn update(&self, arg: &str, u: &Update) -> Result<Row> {
        if u.is_empty() {
            return Err(Error::InvalidArgument(
                "you must provide one or more flags when using this command".into(),
            ));
        }
        let found = self.find(arg)?;
        let _lock = self.lock(&found.id)?;
        let mut r = self.reload(&found.id, arg)?;
        exit::refresh(self, &mut r)?;
        if matches!(r.state, State::Removing | State::Dead) {
            return Err(cannot(
                &r.id,
                "container is marked for removal and cannot be \"update\"",
            ));
        }
        let old = options_of(&r);
        let new = merge(&r.id, &old, u)?;
        let res = resources_json(&new, u)?;
        let live = matches!(r.state, State::Running | State::Paused)
            && self.runtime_for(&r).live_init(&r.id).is_some();
        if live {
            let typed: oci_spec::runtime::LinuxResources =
                serde_json::from_value(Value::Object(res.clone()))
                    .map_err(|e| Error::InvalidArgument(format!("resources: {e}")))?;
            self.runtime_for(&r)
                .update(&r.id, &typed)
                .map_err(|e| cannot(&r.id, &e.to_string()))?;
        }
        self.update_bundle(&r.id, res)?;
        if let Some(p) = &u.restart {
            let file = self.dir(&r.id).join(RESTART_POLICY_FILE);
            super::create::write_atomic(&file, policy_arg(p).as_bytes())?;
        }
        r.options = serde_json::to_string(&new)
            .map_err(|e| Error::InvalidArgument(format!("options: {e}")))?;
        self.store.update(&r)?;
        self.container_event(&r, "update", &[]);
        Ok(r)
    }

    /// The bundle's config.json gets the new limits (its devices rules are kept): a later
    /// start creates the cgroup from it.
    fn update_bundle(&self, id: &str, res: serde_json::Map<String, Value>) -> Result<()> {
        let path = self.dir(id).join("config.json");
        let Ok(bytes) = std::fs::read(&path) else {
            return Ok(());
        };
        let mut spec: Value = serde_json::from_slice(&bytes)
            .map_err(|e| Error::InvalidArgument(format!("{}: {e}", path.display())))?;
        let Some(linux) = spec.get_mut("linux").and_then(Value::as_object_mut) else {
            return Ok(());
        };
        let cur = linux
            .entry("resources")
            .or_insert_with(|| json!({}))
            .as_object_mut()
            .ok_or_else(|| Error::InvalidArgument("config.json: linux.resources".into()))?;
        for key in ["memory", "cpu", "pids", "blockIO"] {
            match res.get(key) {
                Some(v) => {
                    let mut v = v.clone();
                    // "No limit" is the absence of one at create.
                    if key == "pids" && v["limit"].as_i64().is_some_and(|l| l <= 0) {
                        cur.remove(key);
                        continue;
                    }
                    if let Some(c) = v.as_object_mut().filter(|_| key == "cpu") {
                        if c.get("quota")
                            .and_then(Value::as_i64)
                            .is_some_and(|q| q <= 0)
                        {
                            c.remove("quota");
                            c.remove("period");
                        }
                    }
                    cur.insert(key.into(), v);
                }
                None => {
                    cur.remove(key);
                }
            }
        }
        let out = serde_json::to_vec_pretty(&spec)
            .map_err(|e| Error::InvalidArgument(format!("spec: {e}")))?;
        super::create::write_atomic(&path, &out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_needs_room_under_the_stored_swap() {
        let none = RunOptions::default();
        let u = Update {
            memory: Some(64 << 20),
            ..Default::default()
        };
        // No swap stored: Docker asks for --memory-swap too.
        assert!(merge("c", &none, &u).is_err());
        let with_swap = Update {
            memory_swap: Some(128 << 20),
            ..u.clone()
        };
        let o = merge("c", &none, &with_swap).unwrap();
        assert_eq!((o.memory, o.memory_swap), (Some(64 << 20), Some(128 << 20)));
        // -m 64m at create stored a 128m swap limit: 100m fits, 200m does not.
        let m64 = RunOptions {
            memory: Some(64 << 20),
            ..Default::default()
        };
        let up = |m: i64| Update {
            memory: Some(m),
            ..Default::default()
        };
        let o = merge("c", &m64, &up(100 << 20)).unwrap();
        assert_eq!(o.memory_swap, Some(128 << 20));
        assert!(merge("c", &m64, &up(200 << 20)).is_err());
    }

    #[test]
    fn dockers_limits_are_checked() {
        let o = RunOptions::default();
        let small = Update {
            memory: Some(1 << 20),
            memory_swap: Some(-1),
            ..Default::default()
        };
        let err = merge("c", &o, &small).unwrap_err().to_string();
        assert!(err.contains("Minimum memory limit allowed is 6MB"), "{err}");
        let swap_below = Update {
            memory: Some(64 << 20),
            memory_swap: Some(32 << 20),
            ..Default::default()
        };
        assert!(merge("c", &o, &swap_below).is_err());
        let rm = RunOptions {
            auto_remove: true,
            ..Default::default()
        };
        let always = Update {
            restart: Some(RestartPolicy::Always),
            ..Default::default()
        };
        assert!(merge("c", &rm, &always).is_err());
        assert!(merge("c", &o, &always).is_ok());
        let weight = Update {
            blkio_weight: Some(5),
            ..Default::default()
        };
        assert!(merge("c", &o, &weight).is_err());
    }
}
