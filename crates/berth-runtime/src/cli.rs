//! The command-line surface, shaped like runc's: global flags anywhere before a command's
//! trailing arguments, command flags before or after the container id, `--flag value` and
//! `--flag=value`. Parsed by hand over `lexopt`: the parser runs at every container start and
//! its code is part of the runtime's resident memory, so it is kept small.

use lexopt::prelude::*;
use std::ffi::OsString;
use std::path::PathBuf;

pub struct Cli {
    pub global: Global,
    pub cmd: Cmd,
}

#[derive(Clone)]
pub struct Global {
    pub root: PathBuf,
    pub log: Option<PathBuf>,
    pub log_format: String,
    pub debug: bool,
    pub systemd_cgroup: bool,
}

impl Default for Global {
    fn default() -> Self {
        Global {
            root: PathBuf::from("/run/berth-runtime"),
            log: None,
            log_format: "text".into(),
            debug: false,
            systemd_cgroup: false,
        }
    }
}

pub enum Cmd {
    Create(CreateArgs),
    Start {
        id: String,
    },
    Run {
        create: CreateArgs,
        detach: bool,
        keep: bool,
    },
    State {
        id: String,
    },
    Kill {
        id: String,
        signal: String,
        all: bool,
    },
    Delete {
        id: String,
        force: bool,
    },
    Exec(ExecArgs),
    Ps {
        format: String,
        id: String,
        ps_args: Vec<String>,
    },
    List {
        format: String,
        quiet: bool,
    },
    Pause {
        id: String,
    },
    Resume {
        id: String,
    },
    Update(UpdateArgs),
    Events {
        id: String,
        stats: bool,
        interval: String,
    },
    Spec {
        bundle: PathBuf,
        rootless: bool,
    },
    Features,
}

#[derive(Clone, Default)]
pub struct CreateArgs {
    pub bundle: PathBuf,
    pub console_socket: Option<PathBuf>,
    pub pid_file: Option<PathBuf>,
    pub preserve_fds: i32,
    pub no_pivot: bool,
    pub no_new_keyring: bool,
    pub id: String,
}

#[derive(Default)]
pub struct ExecArgs {
    pub process: Option<PathBuf>,
    pub tty: bool,
    pub console_socket: Option<PathBuf>,
    pub detach: bool,
    pub pid_file: Option<PathBuf>,
    pub env: Vec<String>,
    pub cwd: Option<PathBuf>,
    pub user: Option<String>,
    pub additional_gids: Vec<u32>,
    pub cap: Vec<String>,
    pub no_new_privs: bool,
    pub preserve_fds: i32,
    pub id: String,
    pub command: Vec<String>,
}

#[derive(Default)]
pub struct UpdateArgs {
    pub resources: Option<PathBuf>,
    pub blkio_weight: Option<u16>,
    pub cpu_period: Option<u64>,
    pub cpu_quota: Option<i64>,
    pub cpu_rt_period: Option<u64>,
    pub cpu_rt_runtime: Option<i64>,
    pub cpu_share: Option<u64>,
    pub cpuset_cpus: Option<String>,
    pub cpuset_mems: Option<String>,
    pub memory: Option<String>,
    pub memory_reservation: Option<String>,
    pub memory_swap: Option<String>,
    pub pids_limit: Option<i64>,
    pub id: String,
}

pub const VERSION: &str = concat!(
    "berth-runtime version ",
    env!("CARGO_PKG_VERSION"),
    "\nspec: 1.2.0\n"
);

const HELP: &str = "berth-runtime: Berth's OCI container runtime (runc-compatible)

Usage: berth-runtime [global options] <command> [options] [<id>] [args]

Commands:
  create   create a container (the user process waits for `start`)
           --bundle/-b DIR  --console-socket PATH  --pid-file PATH  --preserve-fds N
           --no-pivot  --no-new-keyring
  start    start a created container
  run      create and start a container (create's options, --detach/-d, --keep)
  state    output the OCI state of a container
  kill     send a signal (name or number, default SIGTERM) [--all/-a]
  delete   delete a container [--force/-f]
  exec     run a process in a container: --process/-p FILE or <id> <command> [args...]
           --tty/-t  --console-socket  --detach/-d  --pid-file  --env/-e  --cwd  --user/-u UID[:GID]
           --additional-gids/-g  --cap/-c  --no-new-privs  --preserve-fds N
  ps       processes of a container [--format/-f table|json] [ps options]
  list     list containers [--format/-f table|json] [--quiet/-q]
  pause    freeze a container      resume   thaw a paused container
  update   change resources: --resources/-r FILE|-  --memory  --memory-reservation  --memory-swap
           --cpu-share  --cpu-period  --cpu-quota  --cpu-rt-period  --cpu-rt-runtime
           --cpuset-cpus  --cpuset-mems  --pids-limit  --blkio-weight
  events   container statistics [--stats] [--interval 5s]
  spec     write a default config.json [--bundle/-b DIR] [--rootless]
  features show the runtime's features (OCI features JSON)

Global options:
  --root DIR (default /run/berth-runtime)  --log FILE  --log-format text|json  --debug
  --systemd-cgroup  --version/-v  --help/-h
";

type R<T> = Result<T, String>;

fn err(e: lexopt::Error) -> String {
    e.to_string()
}

fn text(v: OsString) -> R<String> {
    v.into_string()
        .map_err(|v| format!("invalid UTF-8 in argument {v:?}"))
}

fn num<T: std::str::FromStr>(flag: &str, v: OsString) -> R<T> {
    let s = text(v)?;
    s.parse()
        .map_err(|_| format!("invalid value {s:?} for --{flag}"))
}

/// Parse argv; `Ok(None)` when help or version was printed.
pub fn parse() -> R<Option<Cli>> {
    parse_from(std::env::args_os())
}

pub fn parse_from(args: impl IntoIterator<Item = OsString>) -> R<Option<Cli>> {
    let mut p = lexopt::Parser::from_iter(args);
    let mut g = Global::default();
    let mut name: Option<String> = None;
    let mut a = Acc::default();
    while let Some(arg) = p.next().map_err(err)? {
        // Global options are accepted before and after the command name.
        match arg {
            Long("root") => g.root = p.value().map_err(err)?.into(),
            Long("log") => g.log = Some(p.value().map_err(err)?.into()),
            Long("log-format") => {
                g.log_format = text(p.value().map_err(err)?)?;
                if g.log_format != "text" && g.log_format != "json" {
                    return Err(format!(
                        "invalid --log-format {:?}: want text or json",
                        g.log_format
                    ));
                }
            }
            Long("debug") => g.debug = true,
            Long("systemd-cgroup") => g.systemd_cgroup = true,
            // Accepted for runc compatibility: rootless mode is detected; no checkpointing.
            Long("rootless") if name.is_none() => {
                let _ = p.optional_value();
            }
            Long("criu") if name.is_none() => {
                p.value().map_err(err)?;
            }
            Long("help") | Short('h') => {
                print!("{HELP}");
                return Ok(None);
            }
            Long("version") | Short('v') if name.is_none() => {
                print!("{VERSION}");
                return Ok(None);
            }
            Value(v) if name.is_none() => name = Some(text(v)?),
            arg => {
                let cmd = name
                    .clone()
                    .ok_or_else(|| "no command given; see berth-runtime --help".to_string())?;
                let opt = Opt::from(arg, &cmd);
                a.take(&cmd, opt, &mut p)?;
            }
        }
    }
    let name = name.ok_or_else(|| format!("no command given\n{HELP}"))?;
    Ok(Some(Cli {
        global: g,
        cmd: a.finish(&name)?,
    }))
}

/// An argument detached from the parser's borrow; short flags named by their long form.
enum Opt {
    Flag(String),
    Value(OsString),
}

impl Opt {
    fn from(arg: lexopt::Arg, cmd: &str) -> Opt {
        match arg {
            Long(l) => Opt::Flag(l.to_string()),
            Short(c) => Opt::Flag(
                match (cmd, c) {
                    (_, 'b') => "bundle",
                    (_, 'd') => "detach",
                    (_, 'a') => "all",
                    ("delete", 'f') => "force",
                    (_, 'f') => "format",
                    (_, 'p') => "process",
                    (_, 't') => "tty",
                    (_, 'e') => "env",
                    (_, 'u') => "user",
                    (_, 'g') => "additional-gids",
                    (_, 'c') => "cap",
                    (_, 'q') => "quiet",
                    (_, 'r') => "resources",
                    _ => return Opt::Flag(format!("-{c}")),
                }
                .to_string(),
            ),
            Value(v) => Opt::Value(v),
        }
    }
}

/// Everything any command may set; `finish` checks what the named command requires.
#[derive(Default)]
struct Acc {
    create: CreateArgs,
    exec: ExecArgs,
    update: UpdateArgs,
    positional: Vec<String>,
    trailing: Vec<String>,
    detach: bool,
    keep: bool,
    all: bool,
    force: bool,
    quiet: bool,
    stats: bool,
    rootless: bool,
    format: Option<String>,
    interval: Option<String>,
}

impl Acc {
    fn take(&mut self, cmd: &str, opt: Opt, p: &mut lexopt::Parser) -> R<()> {
        let flag = match opt {
            // exec: <id> <command> [args...]; ps: <id> [ps options]. Everything after that
            // belongs to the process, flags included.
            Opt::Value(v) => {
                self.positional.push(text(v)?);
                let n = self.positional.len();
                if (cmd == "exec" && n == 2) || (cmd == "ps" && n == 1) {
                    for rest in p.raw_args().map_err(err)? {
                        self.trailing.push(text(rest)?);
                    }
                }
                return Ok(());
            }
            Opt::Flag(f) => f,
        };
        let mut val = || p.value().map_err(err);
        match (cmd, flag.as_str()) {
            ("create" | "run" | "spec", "bundle") => self.create.bundle = val()?.into(),
            ("create" | "run" | "exec", "console-socket") => {
                let v: PathBuf = val()?.into();
                self.create.console_socket = Some(v.clone());
                self.exec.console_socket = Some(v);
            }
            ("create" | "run" | "exec", "pid-file") => {
                let v: PathBuf = val()?.into();
                self.create.pid_file = Some(v.clone());
                self.exec.pid_file = Some(v);
            }
            ("create" | "run" | "exec", "preserve-fds") => {
                let n = num("preserve-fds", val()?)?;
                self.create.preserve_fds = n;
                self.exec.preserve_fds = n;
            }
            ("create" | "run", "no-pivot") => self.create.no_pivot = true,
            ("create" | "run", "no-new-keyring") => self.create.no_new_keyring = true,
            ("run" | "exec", "detach") => self.detach = true,
            ("run", "keep") => self.keep = true,
            ("kill", "all") => self.all = true,
            ("delete", "force") => self.force = true,
            ("exec", "process") => self.exec.process = Some(val()?.into()),
            ("exec", "tty") => self.exec.tty = true,
            ("exec", "env") => self.exec.env.push(text(val()?)?),
            ("exec", "cwd") => self.exec.cwd = Some(val()?.into()),
            ("exec", "user") => self.exec.user = Some(text(val()?)?),
            ("exec", "additional-gids") => self
                .exec
                .additional_gids
                .push(num("additional-gids", val()?)?),
            ("exec", "cap") => self.exec.cap.push(text(val()?)?),
            ("exec", "no-new-privs") => self.exec.no_new_privs = true,
            ("exec", "apparmor" | "process-label") => {
                val()?;
            }
            ("exec", "ignore-paused") => {}
            ("ps" | "list", "format") => {
                let f = text(val()?)?;
                if f != "table" && f != "json" {
                    return Err(format!("invalid --format {f:?}: want table or json"));
                }
                self.format = Some(f);
            }
            ("list", "quiet") => self.quiet = true,
            ("events", "stats") => self.stats = true,
            ("events", "interval") => self.interval = Some(text(val()?)?),
            ("spec", "rootless") => self.rootless = true,
            ("update", f) => return self.take_update(f, val()?),
            (cmd, f) => {
                return Err(format!(
                    "{cmd}: unexpected option {}{f}",
                    if f.starts_with('-') { "" } else { "--" }
                ))
            }
        }
        Ok(())
    }

    fn take_update(&mut self, flag: &str, v: OsString) -> R<()> {
        let u = &mut self.update;
        match flag {
            "resources" => u.resources = Some(v.into()),
            "blkio-weight" => u.blkio_weight = Some(num(flag, v)?),
            "cpu-period" => u.cpu_period = Some(num(flag, v)?),
            "cpu-quota" => u.cpu_quota = Some(num(flag, v)?),
            "cpu-rt-period" => u.cpu_rt_period = Some(num(flag, v)?),
            "cpu-rt-runtime" => u.cpu_rt_runtime = Some(num(flag, v)?),
            "cpu-share" => u.cpu_share = Some(num(flag, v)?),
            "cpuset-cpus" => u.cpuset_cpus = Some(text(v)?),
            "cpuset-mems" => u.cpuset_mems = Some(text(v)?),
            "memory" => u.memory = Some(text(v)?),
            "memory-reservation" => u.memory_reservation = Some(text(v)?),
            "memory-swap" => u.memory_swap = Some(text(v)?),
            "pids-limit" => u.pids_limit = Some(num(flag, v)?),
            "kernel-memory" | "kernel-memory-tcp" => {}
            _ => return Err(format!("update: unexpected option --{flag}")),
        }
        Ok(())
    }

    fn id(&mut self, cmd: &str) -> R<String> {
        match self.positional.len() {
            0 => Err(format!("{cmd}: requires a container id")),
            1 => Ok(self.positional.remove(0)),
            _ => Err(format!(
                "{cmd}: unexpected argument {:?}",
                self.positional[1]
            )),
        }
    }

    fn finish(mut self, cmd: &str) -> R<Cmd> {
        let default_bundle = |b: &mut PathBuf| {
            if b.as_os_str().is_empty() {
                *b = PathBuf::from(".");
            }
        };
        Ok(match cmd {
            "create" | "run" => {
                self.create.id = self.id(cmd)?;
                default_bundle(&mut self.create.bundle);
                if cmd == "create" {
                    Cmd::Create(self.create)
                } else {
                    Cmd::Run {
                        create: self.create,
                        detach: self.detach,
                        keep: self.keep,
                    }
                }
            }
            "start" => Cmd::Start { id: self.id(cmd)? },
            "state" => Cmd::State { id: self.id(cmd)? },
            "pause" => Cmd::Pause { id: self.id(cmd)? },
            "resume" => Cmd::Resume { id: self.id(cmd)? },
            "kill" => {
                let signal = if self.positional.len() == 2 {
                    self.positional.pop().expect("len 2")
                } else {
                    "SIGTERM".into()
                };
                Cmd::Kill {
                    id: self.id(cmd)?,
                    signal,
                    all: self.all,
                }
            }
            "delete" => Cmd::Delete {
                id: self.id(cmd)?,
                force: self.force,
            },
            "exec" => {
                let mut pos = std::mem::take(&mut self.positional);
                if pos.is_empty() {
                    return Err("exec: requires a container id".into());
                }
                self.exec.id = pos.remove(0);
                self.exec.command = pos.into_iter().chain(self.trailing).collect();
                self.exec.detach = self.detach;
                Cmd::Exec(self.exec)
            }
            "ps" => {
                let id = self.id(cmd)?;
                Cmd::Ps {
                    format: self.format.unwrap_or_else(|| "table".into()),
                    id,
                    ps_args: self.trailing,
                }
            }
            "list" | "ls" => Cmd::List {
                format: self.format.unwrap_or_else(|| "table".into()),
                quiet: self.quiet,
            },
            "update" => {
                self.update.id = self.id(cmd)?;
                Cmd::Update(self.update)
            }
            "events" => Cmd::Events {
                id: self.id(cmd)?,
                stats: self.stats,
                interval: self.interval.unwrap_or_else(|| "5s".into()),
            },
            "spec" => {
                default_bundle(&mut self.create.bundle);
                Cmd::Spec {
                    bundle: self.create.bundle,
                    rootless: self.rootless,
                }
            }
            "features" => Cmd::Features,
            other => {
                return Err(format!(
                    "unknown command {other:?}; see berth-runtime --help"
                ))
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Cli {
        let v: Vec<OsString> = std::iter::once("berth-runtime")
            .chain(args.iter().copied())
            .map(OsString::from)
            .collect();
        parse_from(v).expect("parse").expect("not help")
    }

    #[test]
    fn options_before_or_after_the_id_and_globals_anywhere() {
        for args in [
            &["--root", "/r", "create", "--bundle", "/b", "c1"][..],
            &["create", "c1", "--bundle=/b", "--root", "/r"][..],
            &["create", "-b", "/b", "c1", "--root=/r"][..],
        ] {
            let c = parse(args);
            assert_eq!(c.global.root, PathBuf::from("/r"));
            match c.cmd {
                Cmd::Create(a) => {
                    assert_eq!(a.id, "c1");
                    assert_eq!(a.bundle, PathBuf::from("/b"));
                }
                _ => panic!("not create"),
            }
        }
    }

    #[test]
    fn exec_command_keeps_its_own_flags() {
        match parse(&[
            "exec",
            "-t",
            "--env",
            "A=1",
            "c1",
            "sh",
            "-c",
            "echo --root",
        ])
        .cmd
        {
            Cmd::Exec(e) => {
                assert_eq!(e.id, "c1");
                assert!(e.tty);
                assert_eq!(e.env, vec!["A=1"]);
                assert_eq!(e.command, vec!["sh", "-c", "echo --root"]);
            }
            _ => panic!("not exec"),
        }
    }

    #[test]
    fn kill_signal_and_errors() {
        match parse(&["kill", "--all", "c1", "KILL"]).cmd {
            Cmd::Kill { id, signal, all } => {
                assert_eq!((id.as_str(), signal.as_str(), all), ("c1", "KILL", true))
            }
            _ => panic!("not kill"),
        }
        let bad = |a: &[&str]| {
            parse_from(
                std::iter::once("x")
                    .chain(a.iter().copied())
                    .map(OsString::from),
            )
            .is_err()
        };
        assert!(bad(&["start"]));
        assert!(bad(&["bogus", "c1"]));
        assert!(bad(&["delete", "--nope", "c1"]));
        assert!(bad(&["list", "--format", "yaml"]));
    }
}
