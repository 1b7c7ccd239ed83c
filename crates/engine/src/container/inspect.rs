//! `inspect`: Docker's ContainerInspect JSON for the fields Berth has.

use super::{exit, options_of, Engine};
use crate::options::{MountKind, RestartPolicy, RunOptions};
use crate::store::{Row, State};
use serde_json::{json, Value};

const ZERO_TIME: &str = "0001-01-01T00:00:00Z";

fn or_zero(t: &str) -> &str {
    if t.is_empty() {
        ZERO_TIME
    } else {
        t
    }
}

fn restart_json(p: &RestartPolicy) -> Value {
    let (name, n) = match p {
        RestartPolicy::No => ("no", 0),
        RestartPolicy::OnFailure(n) => ("on-failure", *n),
        RestartPolicy::Always => ("always", 0),
        RestartPolicy::UnlessStopped => ("unless-stopped", 0),
    };
    json!({"Name": name, "MaximumRetryCount": n})
}

fn mounts_json(o: &RunOptions) -> Value {
    Value::Array(
        o.mounts
            .iter()
            .map(|m| {
                let kind = match m.kind {
                    MountKind::Bind => "bind",
                    MountKind::Volume => "volume",
                    MountKind::Tmpfs => "tmpfs",
                };
                json!({
                    "Type": kind,
                    "Name": if m.kind == MountKind::Volume { m.source.clone() } else { None },
                    "Source": m.source.clone().unwrap_or_default(),
                    "Destination": m.target,
                    "Mode": if m.read_only { "ro" } else { "" },
                    "RW": !m.read_only,
                    "Propagation": "",
                })
            })
            .collect(),
    )
}

impl Engine {
    /// Docker's inspect document of one container.
    pub fn inspect_json(&self, r: &Row) -> Value {
        let o = options_of(r);
        let dir = self.dir(&r.id);
        let spec: Value = std::fs::read(dir.join("config.json"))
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .unwrap_or(Value::Null);
        let process = &spec["process"];
        let args: Vec<String> = serde_json::from_value(process["args"].clone()).unwrap_or_default();
        let (path, rest) = match args.split_first() {
            Some((p, rest)) => (p.clone(), rest.to_vec()),
            None => (String::new(), Vec::new()),
        };
        let oom = exit::read(self, &r.id)
            .map(|x| x.oom_killed)
            .unwrap_or(false);
        let status = r.state.as_str();
        let log_path = dir.join(format!("{}-json.log", r.id));
        let mut doc = json!({
            "Id": r.id,
            "Created": r.created,
            "Path": path,
            "Args": rest,
            "State": {
                "Status": status,
                "Running": matches!(r.state, State::Running | State::Paused | State::Restarting),
                "Paused": r.state == State::Paused,
                "Restarting": r.state == State::Restarting,
                "OOMKilled": oom,
                "Dead": r.state == State::Dead,
                "Pid": if r.state.is_live() { r.pid } else { 0 },
                "ExitCode": r.exit_code,
                "Error": r.error,
                "StartedAt": or_zero(&r.started_at),
                "FinishedAt": or_zero(&r.finished_at),
            },
            "Image": r.image_id,
            "ResolvConfPath": dir.join("resolv.conf"),
            "HostnamePath": dir.join("hostname"),
            "HostsPath": dir.join("hosts"),
            "LogPath": log_path,
            "Name": format!("/{}", r.name),
            "RestartCount": r.restart_count,
            "Driver": "overlay2",
            "Platform": "linux",
            "MountLabel": "",
            "ProcessLabel": "",
            "AppArmorProfile": "",
            "HostConfig": {
                "AutoRemove": o.auto_remove,
                "RestartPolicy": restart_json(&o.restart),
                "ReadonlyRootfs": o.read_only,
                "Privileged": o.privileged,
                "Memory": o.memory.unwrap_or(0),
                "MemorySwap": o.memory_swap.unwrap_or(0),
                "MemoryReservation": o.memory_reservation.unwrap_or(0),
                "NanoCpus": o.nano_cpus.unwrap_or(0),
                "CpuShares": o.cpu_shares.unwrap_or(0),
                "CpusetCpus": o.cpuset_cpus.clone().unwrap_or_default(),
                "PidsLimit": o.pids_limit,
                "CapAdd": o.cap_add,
                "CapDrop": o.cap_drop,
                "Init": o.init,
                "LogConfig": {
                    "Type": match o.log.driver { crate::options::LogDriver::JsonFile => "json-file", crate::options::LogDriver::None => "none" },
                    "Config": {},
                },
                "Runtime": o.runtime.as_ref().map(|p| p.display().to_string()).unwrap_or_else(|| "berth".into()),
            },
            "GraphDriver": {
                "Name": "overlay2",
                "Data": {
                    "MergedDir": dir.join("rootfs"),
                    "UpperDir": dir.join("upper"),
                    "WorkDir": dir.join("work"),
                },
            },
            "Mounts": mounts_json(&o),
            "Config": {
                "Hostname": spec["hostname"].as_str().unwrap_or(""),
                "Domainname": "",
                "User": o.user.clone().unwrap_or_default(),
                "AttachStdin": o.interactive && !o.detach,
                "AttachStdout": !o.detach,
                "AttachStderr": !o.detach,
                "Tty": o.tty,
                "OpenStdin": o.interactive,
                "StdinOnce": o.interactive && !o.detach,
                "Env": process["env"],
                "Cmd": if o.cmd.is_empty() { Value::Null } else { json!(o.cmd) },
                "Image": r.image,
                "WorkingDir": process["cwd"].as_str().unwrap_or(""),
                "Entrypoint": o.entrypoint,
                "Labels": o.labels,
                "StopSignal": o.stop_signal,
                "StopTimeout": o.stop_timeout,
            },
            "NetworkSettings": self.network_settings(r),
        });
        super::inspect_host_options::add(&mut doc, &o);
        doc
    }
}
