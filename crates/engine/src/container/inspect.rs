//! `inspect`: Docker's ContainerInspect JSON (its HostConfig in `host_config`, its
//! NetworkSettings from the network attachments).

use super::{exit, options_of, Engine};
use crate::options::RunOptions;
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

/// Docker's MountPoints: a volume's source is where its data is on the host.
fn mounts_json(root: &std::path::Path, o: &RunOptions) -> Value {
    serde_json::to_value(crate::service::containers::mount_points(root, o)).unwrap_or_default()
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
        let mut v = json!({
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
            "HostConfig": super::host_config::host_config(&o, &spec),
            "GraphDriver": {
                "Name": "overlay2",
                "Data": {
                    "MergedDir": dir.join("rootfs"),
                    "UpperDir": dir.join("upper"),
                    "WorkDir": dir.join("work"),
                },
            },
            "Mounts": mounts_json(&self.root, &o),
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
                "Volumes": Value::Null,
                "OnBuild": Value::Null,
                "Labels": o.labels,
            },
            "NetworkSettings": self.network_settings(r),
        });
        if let Some(h) = super::health::read(self, r) {
            v["State"]["Health"] = json!(h);
        }
        // Docker prints these only when set.
        let config = &mut v["Config"];
        if let Some(s) = &o.stop_signal {
            config["StopSignal"] = json!(s);
        }
        if let Some(t) = o.stop_timeout {
            config["StopTimeout"] = json!(t);
        }
        if let Some(h) = &o.healthcheck {
            config["Healthcheck"] = json!(h);
        }
        v
    }
}
