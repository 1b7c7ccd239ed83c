//! The flags `run` and `create` share, named as docker names them, and their conversion to
//! the engine's [`RunOptions`] through `berth_engine::options::parse` (one parser per
//! flag, docker's error messages, exit 125).
//!
//! `-h` is `--hostname` here, as in docker: the commands using these flags must disable
//! clap's automatic help flag; [`RunFlags`] brings its own `--help`.

use berth_engine::options::parse::{self, SecurityOpt};
use berth_engine::options::{health, host_config};
use berth_engine::options::{LogConfig, RunOptions};
use berth_engine::Error;
use clap::{ArgAction, Args};
use std::path::PathBuf;

/// A bare `-e KEY` / `--env-file` line takes the value of the client's environment: this
/// process's, the one the user typed the command in (the engine never reads its own).
pub fn client_env(key: &str) -> Option<String> {
    std::env::var(key).ok()
}

#[derive(Args, Debug, Default, Clone)]
#[command(disable_help_flag = true)]
pub struct RunFlags {
    /// Print help
    #[arg(long, action = ArgAction::Help)]
    pub help: Option<bool>,
    /// Run the container in the background and print its ID
    #[arg(short = 'd', long)]
    pub detach: bool,
    /// Keep STDIN open even if not attached
    #[arg(short = 'i', long)]
    pub interactive: bool,
    /// Allocate a pseudo-TTY
    #[arg(short = 't', long)]
    pub tty: bool,
    /// Automatically remove the container when it exits
    #[arg(long)]
    pub rm: bool,
    /// Assign a name to the container
    #[arg(long)]
    pub name: Option<String>,
    /// Set environment variables
    #[arg(short = 'e', long = "env", value_name = "KEY=VALUE")]
    pub env: Vec<String>,
    /// Read in a file of environment variables
    #[arg(long = "env-file", value_name = "FILE")]
    pub env_file: Vec<PathBuf>,
    /// Working directory inside the container
    #[arg(short = 'w', long = "workdir")]
    pub workdir: Option<String>,
    /// Username or UID (format: <name|uid>[:<group|gid>])
    #[arg(short = 'u', long = "user")]
    pub user: Option<String>,
    /// Overwrite the default ENTRYPOINT of the image
    #[arg(long, allow_hyphen_values = true)]
    pub entrypoint: Option<String>,
    /// Bind mount a volume
    #[arg(short = 'v', long = "volume", value_name = "[SRC:]DST[:OPTS]")]
    pub volume: Vec<String>,
    /// Attach a filesystem mount to the container
    #[arg(long)]
    pub mount: Vec<String>,
    /// Mount a tmpfs directory
    #[arg(long)]
    pub tmpfs: Vec<String>,
    /// Mount the container's root filesystem as read only
    #[arg(long = "read-only")]
    pub read_only: bool,
    /// Memory limit
    #[arg(short = 'm', long, value_name = "BYTES", allow_hyphen_values = true)]
    pub memory: Option<String>,
    /// Swap limit equal to memory plus swap: '-1' to enable unlimited swap
    #[arg(long = "memory-swap", value_name = "BYTES", allow_hyphen_values = true)]
    pub memory_swap: Option<String>,
    /// Memory soft limit
    #[arg(
        long = "memory-reservation",
        value_name = "BYTES",
        allow_hyphen_values = true
    )]
    pub memory_reservation: Option<String>,
    /// Number of CPUs
    #[arg(long, allow_hyphen_values = true)]
    pub cpus: Option<String>,
    /// CPU shares (relative weight)
    #[arg(short = 'c', long = "cpu-shares", allow_hyphen_values = true)]
    pub cpu_shares: Option<String>,
    /// CPUs in which to allow execution (0-3, 0,1)
    #[arg(long = "cpuset-cpus")]
    pub cpuset_cpus: Option<String>,
    /// Tune container pids limit (set -1 for unlimited)
    #[arg(long = "pids-limit", allow_hyphen_values = true)]
    pub pids_limit: Option<String>,
    /// Ulimit options
    #[arg(long)]
    pub ulimit: Vec<String>,
    /// Add Linux capabilities
    #[arg(long = "cap-add")]
    pub cap_add: Vec<String>,
    /// Drop Linux capabilities
    #[arg(long = "cap-drop")]
    pub cap_drop: Vec<String>,
    /// Give extended privileges to this container
    #[arg(long)]
    pub privileged: bool,
    /// Security Options
    #[arg(long = "security-opt")]
    pub security_opt: Vec<String>,
    /// Add a host device to the container
    #[arg(long)]
    pub device: Vec<String>,
    /// Container host name
    #[arg(short = 'h', long)]
    pub hostname: Option<String>,
    /// Run an init inside the container that forwards signals and reaps processes
    #[arg(long)]
    pub init: bool,
    /// Restart policy to apply when a container exits
    #[arg(long, default_value = "no")]
    pub restart: String,
    /// Signal to stop the container
    #[arg(long = "stop-signal")]
    pub stop_signal: Option<String>,
    /// Timeout (in seconds) to stop a container
    #[arg(long = "stop-timeout", allow_hyphen_values = true)]
    pub stop_timeout: Option<i64>,
    /// Set meta data on a container
    #[arg(short = 'l', long = "label")]
    pub label: Vec<String>,
    /// Read in a line delimited file of labels
    #[arg(long = "label-file", value_name = "FILE")]
    pub label_file: Vec<PathBuf>,
    /// User namespace to use (host, or private: a private uid/gid range)
    #[arg(long)]
    pub userns: Option<String>,
    /// Connect a container to a network (bridge, NAME, none, host, container:NAME, a netns path)
    #[arg(long = "network", alias = "net")]
    pub network: Option<String>,
    /// Publish a container's port(s) to the host ([ip:][hostPort:]containerPort[/proto])
    #[arg(short = 'p', long = "publish")]
    pub publish: Vec<String>,
    /// Publish all exposed ports to random ports
    #[arg(short = 'P', long = "publish-all")]
    pub publish_all: bool,
    /// IPv4 address (e.g., 172.30.100.104)
    #[arg(long)]
    pub ip: Option<String>,
    /// Add network-scoped alias for the container
    #[arg(long = "network-alias")]
    pub network_alias: Vec<String>,
    /// Runtime to use for this container (path to an OCI runtime's CLI)
    #[arg(long)]
    pub runtime: Option<PathBuf>,
    /// Logging driver for the container (json-file, none)
    #[arg(long = "log-driver")]
    pub log_driver: Option<String>,
    /// Log driver options
    #[arg(long = "log-opt")]
    pub log_opt: Vec<String>,
    /// Pull image before running ("always", "missing", "never")
    #[arg(long, default_value = "missing")]
    pub pull: String,
    /// Add a custom host-to-IP mapping (host:ip; ip may be host-gateway)
    #[arg(long = "add-host", value_name = "HOST:IP")]
    pub add_host: Vec<String>,
    /// Set custom DNS servers
    #[arg(long)]
    pub dns: Vec<String>,
    /// Set custom DNS search domains
    #[arg(long = "dns-search")]
    pub dns_search: Vec<String>,
    /// Set DNS options
    #[arg(long = "dns-option", alias = "dns-opt")]
    pub dns_option: Vec<String>,
    /// Sysctl options (namespaced ones only: net.*, kernel.msg*/sem/shm*, fs.mqueue.*)
    #[arg(long, value_name = "KEY=VALUE")]
    pub sysctl: Vec<String>,
    /// Size of /dev/shm
    #[arg(long = "shm-size", value_name = "BYTES", allow_hyphen_values = true)]
    pub shm_size: Option<String>,
    /// PID namespace to use (host, container:NAME)
    #[arg(long)]
    pub pid: Option<String>,
    /// IPC mode to use (private, shareable, none, host, container:NAME)
    #[arg(long)]
    pub ipc: Option<String>,
    /// UTS namespace to use (host)
    #[arg(long)]
    pub uts: Option<String>,
    /// Add additional groups to join
    #[arg(long = "group-add")]
    pub group_add: Vec<String>,
    /// Write the container ID to the file
    #[arg(long)]
    pub cidfile: Option<PathBuf>,
    /// Mount volumes from the specified container(s) (CONTAINER[:ro|:rw])
    #[arg(long = "volumes-from")]
    pub volumes_from: Vec<String>,
    /// Set platform if server is multi-platform capable (os/arch[/variant])
    #[arg(long)]
    pub platform: Option<String>,
    /// Tune host's OOM preferences (-1000 to 1000)
    #[arg(long = "oom-score-adj", allow_hyphen_values = true)]
    pub oom_score_adj: Option<i64>,
    /// Disable OOM Killer
    #[arg(long = "oom-kill-disable")]
    pub oom_kill_disable: bool,
    /// Command to run to check health
    #[arg(long = "health-cmd")]
    pub health_cmd: Option<String>,
    /// Time between running the check (ms|s|m|h)
    #[arg(long = "health-interval", allow_hyphen_values = true)]
    pub health_interval: Option<String>,
    /// Maximum time to allow one check to run (ms|s|m|h)
    #[arg(long = "health-timeout", allow_hyphen_values = true)]
    pub health_timeout: Option<String>,
    /// Consecutive failures needed to report unhealthy
    #[arg(long = "health-retries", allow_hyphen_values = true)]
    pub health_retries: Option<i64>,
    /// Start period for the container to initialize before counting retries (ms|s|m|h)
    #[arg(long = "health-start-period", allow_hyphen_values = true)]
    pub health_start_period: Option<String>,
    /// Disable any container-specified HEALTHCHECK
    #[arg(long = "no-healthcheck")]
    pub no_healthcheck: bool,
}

impl RunFlags {
    /// The engine's options for a container of `image` running `cmd` (empty: the image's).
    pub fn to_options(&self, image: &str, cmd: &[String]) -> Result<RunOptions, Error> {
        let mut o = RunOptions {
            name: self.name.clone(),
            image: image.to_string(),
            cmd: cmd.to_vec(),
            entrypoint: self.entrypoint.as_ref().map(|e| {
                if e.is_empty() {
                    vec![]
                } else {
                    vec![e.clone()]
                }
            }),
            workdir: self.workdir.clone(),
            user: self.user.clone(),
            hostname: self.hostname.clone(),
            stop_timeout: self.stop_timeout,
            tty: self.tty,
            interactive: self.interactive,
            detach: self.detach,
            auto_remove: self.rm,
            read_only: self.read_only,
            cpuset_cpus: self.cpuset_cpus.as_deref().map(parse::cpuset).transpose()?,
            privileged: self.privileged,
            init: self.init,
            runtime: self.runtime.clone(),
            ..Default::default()
        };
        if let Some(n) = &self.name {
            berth_engine::names::validate(n)?;
        }
        // docker: --env-file first, then -e.
        for f in &self.env_file {
            o.env.extend(parse::env_file(f, &client_env)?);
        }
        for e in &self.env {
            o.env.extend(parse::env(e, &client_env)?);
        }
        for f in &self.label_file {
            o.labels.extend(parse::label_file(f)?);
        }
        for l in &self.label {
            let (k, v) = parse::label(l)?;
            o.labels.insert(k, v);
        }
        if let Some(s) = &self.stop_signal {
            o.stop_signal = Some(parse::stop_signal(s)?);
        }
        for v in &self.volume {
            o.mounts.push(parse::volume(v)?);
        }
        for m in &self.mount {
            o.mounts.push(parse::mount(m)?);
        }
        for t in &self.tmpfs {
            o.mounts.push(parse::tmpfs(t)?);
        }
        o.memory = self
            .memory
            .as_deref()
            .map(|m| parse::memory("-m, --memory", m))
            .transpose()?;
        o.memory_swap = self
            .memory_swap
            .as_deref()
            .map(|m| parse::memory("--memory-swap", m))
            .transpose()?;
        o.memory_reservation = self
            .memory_reservation
            .as_deref()
            .map(|m| parse::memory("--memory-reservation", m))
            .transpose()?;
        o.nano_cpus = self.cpus.as_deref().map(parse::cpus).transpose()?;
        o.cpu_shares = self
            .cpu_shares
            .as_deref()
            .map(parse::cpu_shares)
            .transpose()?;
        o.pids_limit = self
            .pids_limit
            .as_deref()
            .map(parse::pids_limit)
            .transpose()?;
        for u in &self.ulimit {
            let u = parse::ulimit(u)?;
            o.ulimits.retain(|x| x.name != u.name);
            o.ulimits.push(u);
        }
        for c in &self.cap_add {
            o.cap_add.push(parse::capability("--cap-add", c)?);
        }
        for c in &self.cap_drop {
            o.cap_drop.push(parse::capability("--cap-drop", c)?);
        }
        for s in &self.security_opt {
            if let Some(label) = host_config::security_label(s)? {
                o.security_labels.push(label);
                continue;
            }
            match parse::security_opt(s)? {
                SecurityOpt::Seccomp(p) => o.seccomp = p,
                SecurityOpt::NoNewPrivileges(b) => o.no_new_privileges = b,
            }
        }
        for d in &self.device {
            o.devices.push(parse::device(d)?);
        }
        o.restart = parse::restart(&self.restart)?;
        if o.auto_remove && o.restart != Default::default() {
            return Err(Error::InvalidArgument(
                "Conflicting options: --restart and --rm".into(),
            ));
        }
        if let Some(u) = &self.userns {
            o.userns = parse::userns(u)?;
        }
        if let Some(n) = &self.network {
            o.network = parse::network(n)?;
        }
        for p in &self.publish {
            o.ports.extend(parse::publish(p)?);
        }
        o.publish_all = self.publish_all;
        if let Some(ip) = &self.ip {
            o.ip = Some(ip.parse().map_err(|_| Error::InvalidValue {
                flag: "--ip".into(),
                value: ip.clone(),
                why: "invalid IPv4 address".into(),
            })?);
        }
        o.network_aliases = self.network_alias.clone();
        o.log = LogConfig {
            driver: match &self.log_driver {
                Some(d) => parse::log_driver(d)?,
                None => Default::default(),
            },
            ..Default::default()
        };
        for l in &self.log_opt {
            parse::log_opt(&mut o.log, l)?;
        }
        o.pull = parse::pull(&self.pull)?;
        self.host_options(&mut o)?;
        berth_engine::spec::resources::validate(&o)?;
        Ok(o)
    }
}

impl RunFlags {
    /// Name resolution, kernel parameters, namespaces, groups, health.
    fn host_options(&self, o: &mut RunOptions) -> Result<(), Error> {
        for h in &self.add_host {
            o.extra_hosts.push(host_config::add_host(h)?);
        }
        for d in &self.dns {
            o.dns.push(host_config::dns(d)?);
        }
        for d in &self.dns_search {
            o.dns_search.push(host_config::dns_search(d)?);
        }
        o.dns_options = self.dns_option.clone();
        for s in &self.sysctl {
            let (k, v) = host_config::sysctl(s)?;
            o.sysctls.insert(k, v);
        }
        o.shm_size = self
            .shm_size
            .as_deref()
            .map(host_config::shm_size)
            .transpose()?
            .filter(|n| *n > 0);
        if let Some(p) = &self.pid {
            o.pid_mode = host_config::namespace_mode("--pid", p, true)?;
        }
        if let Some(i) = &self.ipc {
            o.ipc_mode = host_config::ipc_mode(i)?;
        }
        if let Some(u) = &self.uts {
            o.uts_mode = host_config::namespace_mode("--uts", u, false)?;
        }
        o.group_add = self.group_add.clone();
        o.volumes_from = self.volumes_from.clone();
        o.platform = self.platform.clone().filter(|p| !p.is_empty());
        o.oom_score_adj = self
            .oom_score_adj
            .map(host_config::oom_score_adj)
            .transpose()?;
        o.oom_kill_disable = self.oom_kill_disable;
        o.healthcheck = health::healthcheck(&health::HealthFlags {
            cmd: self.health_cmd.as_deref(),
            interval: self.health_interval.as_deref(),
            timeout: self.health_timeout.as_deref(),
            start_period: self.health_start_period.as_deref(),
            retries: self.health_retries,
            none: self.no_healthcheck,
        })?;
        host_config::check(o)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use berth_engine::options::{MountKind, Network, RestartPolicy, Seccomp};
    use clap::Parser;

    #[derive(Parser, Debug)]
    #[command(disable_help_flag = true)]
    struct Run {
        #[command(flatten)]
        flags: RunFlags,
        image: String,
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        cmd: Vec<String>,
    }

    fn opts(args: &[&str]) -> Result<RunOptions, Error> {
        let r = Run::try_parse_from(std::iter::once("run").chain(args.iter().copied()))
            .unwrap_or_else(|e| panic!("{args:?}: {e}"));
        r.flags.to_options(&r.image, &r.cmd)
    }

    #[test]
    fn docker_short_and_long_names() {
        let o = opts(&[
            "-d",
            "-i",
            "-t",
            "--name",
            "web",
            "-e",
            "A=1",
            "-w",
            "/srv",
            "-u",
            "1000:1000",
            "-h",
            "box",
            "-m",
            "512m",
            "-c",
            "512",
            "-l",
            "k=v",
            "--net",
            "none",
            "--rm",
            "busybox",
            "sh",
            "-c",
            "echo hi",
        ])
        .unwrap();
        assert!(o.detach && o.interactive && o.tty && o.auto_remove);
        assert_eq!(o.name.as_deref(), Some("web"));
        assert_eq!(o.env, vec!["A=1"]);
        assert_eq!(o.workdir.as_deref(), Some("/srv"));
        assert_eq!(o.user.as_deref(), Some("1000:1000"));
        assert_eq!(
            o.hostname.as_deref(),
            Some("box"),
            "-h is --hostname, as docker"
        );
        assert_eq!(o.memory, Some(512 << 20));
        assert_eq!(o.cpu_shares, Some(512));
        assert_eq!(o.labels.get("k").map(String::as_str), Some("v"));
        assert_eq!(o.network, Network::None);
        assert_eq!(o.image, "busybox");
        assert_eq!(o.cmd, vec!["sh", "-c", "echo hi"]);
    }

    #[test]
    fn every_long_flag_reaches_the_options() {
        let o = opts(&[
            "--volume",
            "/tmp:/t:ro",
            "--mount",
            "type=tmpfs,target=/m",
            "--tmpfs",
            "/run",
            "--read-only",
            "--memory-swap",
            "-1",
            "--memory",
            "64m",
            "--memory-reservation",
            "32m",
            "--cpus",
            "0.5",
            "--cpuset-cpus",
            "0",
            "--pids-limit",
            "-1",
            "--ulimit",
            "nofile=10:20",
            "--cap-add",
            "net_admin",
            "--cap-drop",
            "ALL",
            "--security-opt",
            "seccomp=unconfined",
            "--security-opt",
            "no-new-privileges",
            "--device",
            "/dev/null",
            "--init",
            "--restart",
            "on-failure:3",
            "--stop-signal",
            "SIGINT",
            "--stop-timeout",
            "5",
            "--userns",
            "host",
            "--runtime",
            "/usr/bin/crun",
            "--log-driver",
            "json-file",
            "--log-opt",
            "max-size=10m",
            "--log-opt",
            "max-file=3",
            "--pull",
            "never",
            "--entrypoint",
            "",
            "--privileged",
            "img",
        ])
        .unwrap();
        let kinds: Vec<MountKind> = o.mounts.iter().map(|m| m.kind).collect();
        assert_eq!(
            kinds,
            vec![MountKind::Bind, MountKind::Tmpfs, MountKind::Tmpfs]
        );
        assert!(o.read_only && o.init && o.privileged && o.no_new_privileges);
        assert_eq!(
            (o.memory, o.memory_swap, o.memory_reservation),
            (Some(64 << 20), Some(-1), Some(32 << 20))
        );
        assert_eq!(o.nano_cpus, Some(500_000_000));
        assert_eq!(o.pids_limit, Some(-1));
        assert_eq!(o.ulimits[0].hard, 20);
        assert_eq!(
            (o.cap_add.as_slice(), o.cap_drop.as_slice()),
            (&["CAP_NET_ADMIN".to_string()][..], &["ALL".to_string()][..])
        );
        assert_eq!(o.seccomp, Seccomp::Unconfined);
        assert_eq!(o.devices[0].host_path, "/dev/null");
        assert_eq!(o.restart, RestartPolicy::OnFailure(3));
        assert_eq!(o.stop_signal.as_deref(), Some("SIGINT"));
        assert_eq!(o.stop_timeout, Some(5));
        assert_eq!(
            o.runtime.as_deref(),
            Some(std::path::Path::new("/usr/bin/crun"))
        );
        assert_eq!((o.log.max_size, o.log.max_file), (Some(10 << 20), Some(3)));
        assert_eq!(o.pull, berth_engine::options::PullPolicy::Never);
        assert_eq!(o.entrypoint, Some(vec![]));
    }

    #[test]
    fn bad_values_are_docker_like_errors_with_exit_125() {
        for (args, want) in [
            (&["-m", "12x", "img"][..], "invalid size: '12x'"),
            (&["--cpus", "-1", "img"][..], "range of CPUs"),
            (
                &["--restart", "sometimes", "img"][..],
                "unknown policy 'sometimes'",
            ),
            (
                &["-v", "a:b:c:d", "img"][..],
                "invalid volume specification",
            ),
            (
                &["--rm", "--restart", "always", "img"][..],
                "Conflicting options: --restart and --rm",
            ),
            (
                &["--memory-swap", "1g", "img"][..],
                "always set the Memory limit",
            ),
            (&["--name", "bad/name", "img"][..], "Invalid container name"),
            (&["--cap-add", "nope", "img"][..], "unknown capability"),
            (&["--pull", "sometimes", "img"][..], "invalid pull option"),
            (&["--log-driver", "syslog", "img"][..], "not found"),
        ] {
            let e = opts(args).unwrap_err();
            assert!(e.to_string().contains(want), "{args:?}: {e}");
            assert_eq!(e.exit_code(), 125);
        }
    }

    #[test]
    fn host_facing_flags_reach_the_options() {
        use berth_engine::options::{IpcMode, NamespaceMode};
        let o = opts(&[
            "--add-host",
            "db:10.0.0.2",
            "--dns",
            "1.1.1.1",
            "--dns-search",
            "example.com",
            "--dns-option",
            "ndots:2",
            "--sysctl",
            "net.core.somaxconn=1024",
            "--shm-size",
            "128m",
            "--pid",
            "host",
            "--ipc",
            "container:web",
            "--uts",
            "host",
            "--group-add",
            "audio",
            "--volumes-from",
            "data:ro",
            "--platform",
            "linux/amd64",
            "--oom-score-adj",
            "-5",
            "--oom-kill-disable",
            "--security-opt",
            "label=disable",
            "--health-cmd",
            "true",
            "--health-retries",
            "2",
            "img",
        ])
        .unwrap();
        assert_eq!(o.extra_hosts, vec!["db:10.0.0.2"]);
        assert_eq!(o.dns[0].to_string(), "1.1.1.1");
        assert_eq!((o.dns_search.len(), o.dns_options.len()), (1, 1));
        assert_eq!(o.sysctls["net.core.somaxconn"], "1024");
        assert_eq!(o.shm_size, Some(128 << 20));
        assert_eq!(o.pid_mode, NamespaceMode::Host);
        assert_eq!(o.ipc_mode, IpcMode::Container("web".into()));
        assert_eq!(o.uts_mode, NamespaceMode::Host);
        assert_eq!(o.group_add, vec!["audio"]);
        assert_eq!(o.volumes_from, vec!["data:ro"]);
        assert_eq!(o.platform.as_deref(), Some("linux/amd64"));
        assert_eq!((o.oom_score_adj, o.oom_kill_disable), (Some(-5), true));
        assert_eq!(o.security_labels, vec!["label=disable"]);
        let h = o.healthcheck.unwrap();
        assert_eq!((h.test.len(), h.retries), (2, 2));
        let e = opts(&["--uts", "host", "-h", "box", "img"]).unwrap_err();
        assert!(e.to_string().contains("hostname and the UTS mode"), "{e}");
    }

    #[test]
    fn env_file_before_e_and_label_file_before_label() {
        let d = tempfile::tempdir().unwrap();
        let ef = d.path().join("env");
        std::fs::write(&ef, "A=file\nB=file\n").unwrap();
        let lf = d.path().join("labels");
        std::fs::write(&lf, "x=file\ny=file\n").unwrap();
        let o = opts(&[
            "-e",
            "A=flag",
            "--env-file",
            ef.to_str().unwrap(),
            "-l",
            "x=flag",
            "--label-file",
            lf.to_str().unwrap(),
            "img",
        ])
        .unwrap();
        assert_eq!(o.env, vec!["A=file", "B=file", "A=flag"]);
        assert_eq!(o.labels.get("x").map(String::as_str), Some("flag"));
        assert_eq!(o.labels.get("y").map(String::as_str), Some("file"));
    }

    /// What the engine commands do: flatten the flags into their own command, nothing more.
    #[derive(Parser, Debug)]
    struct Create {
        #[command(flatten)]
        flags: RunFlags,
        image: String,
    }

    #[test]
    fn the_flags_disable_clap_short_help_themselves() {
        let c = Create::try_parse_from(["create", "-h", "box", "img"]).unwrap();
        assert_eq!(c.flags.hostname.as_deref(), Some("box"));
    }

    #[derive(Parser, Debug)]
    struct Top {
        #[command(subcommand)]
        cmd: Sub,
    }

    #[derive(clap::Subcommand, Debug)]
    enum Sub {
        Run(Create),
    }

    #[test]
    fn h_is_hostname_in_a_subcommand_too() {
        let Sub::Run(c) = Top::try_parse_from(["berth", "run", "-h", "box", "img"])
            .unwrap()
            .cmd;
        assert_eq!(c.flags.hostname.as_deref(), Some("box"));
        let e = Top::try_parse_from(["berth", "run", "--help"]).unwrap_err();
        assert_eq!(e.kind(), clap::error::ErrorKind::DisplayHelp);
    }

    #[test]
    fn help_is_long_only() {
        let e = Run::try_parse_from(["run", "--help"]).unwrap_err();
        assert_eq!(e.kind(), clap::error::ErrorKind::DisplayHelp);
    }
}
