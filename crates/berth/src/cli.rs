//! Arguments, shaped like the docker CLI's: the same command names, aliases and flags.
//! One `Args` struct per command keeps each command's options next to its name.

use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

#[derive(Parser, Debug)]
#[command(
    name = "berth",
    about = "Berth: containers on one Linux kernel, managed the Docker way",
    disable_version_flag = true
)]
pub struct Cli {
    /// Data root (default $BERTH_ROOT, else /var/lib/berth)
    #[arg(long, global = true, value_name = "DIR")]
    pub root: Option<PathBuf>,
    /// Print the version and exit
    #[arg(short = 'v', long = "version")]
    pub version: bool,
    #[command(subcommand)]
    pub cmd: Option<Cmd>,
}

#[derive(Subcommand, Debug)]
pub enum Cmd {
    /// Download an image from a registry
    Pull(PullArgs),
    /// Upload an image to a registry
    Push(PushArgs),
    /// List images
    Images(ImagesArgs),
    /// Give an image another name
    Tag(TagArgs),
    /// Remove image names
    Rmi(RmiArgs),
    /// Manage images
    #[command(subcommand)]
    Image(ImageCmd),
    /// Write images to a tar archive (Docker's format, also an OCI layout)
    Save(SaveArgs),
    /// Load images from a tar archive (Docker or OCI layout; plain, gzip or zstd)
    Load(LoadArgs),
    /// Make an image from a root filesystem tarball
    Import(ImportArgs),
    /// Show the history of an image
    History(HistoryArgs),
    /// Search an index (Docker Hub, or the one the term names) for images
    Search(SearchArgs),
    /// Store credentials for a registry
    Login(LoginArgs),
    /// Remove stored credentials for a registry
    Logout(LogoutArgs),
    /// Show the Berth version information
    Version(crate::commands::info::VersionArgs),
    /// Create and start a container from an image
    Run(RunArgs),
    /// Create a container from an image without starting it
    Create(RunArgs),
    /// Start stopped containers
    Start(StartArgs),
    /// Stop running containers (stop signal, then SIGKILL after the timeout)
    Stop(StopArgs),
    /// Restart containers
    Restart(StopArgs),
    /// Send a signal to running containers
    Kill(KillArgs),
    /// Remove containers
    Rm(RmArgs),
    /// List containers
    Ps(PsArgs),
    /// Details of containers or images as JSON (Docker's shape)
    Inspect(ObjectsArgs),
    /// Block until containers stop, then print their exit codes
    Wait(ContainersArgs),
    /// Rename a container
    Rename(RenameArgs),
    /// Freeze every process of containers
    Pause(ContainersArgs),
    /// Thaw paused containers
    Unpause(ContainersArgs),
    /// Fetch the logs of a container
    Logs(LogsArgs),
    /// Attach to a running container's output (and input, if it was created with -i)
    Attach(AttachArgs),
    /// Display the running processes of a container
    Top(TopArgs),
    /// Display a live stream of containers' resource usage statistics
    Stats(StatsArgs),
    /// List port mappings or a specific mapping for the container
    Port(PortArgs),
    /// Inspect changes to files or directories on a container's filesystem
    Diff(ContainerArg),
    /// Create a new image from a container's changes
    Commit(CommitArgs),
    /// Export a container's filesystem as a tar archive
    Export(ExportArgs),
    /// Copy files/folders between a container and the local filesystem
    Cp(CpArgs),
    /// Run a command in a running container
    Exec(ExecArgs),
    /// Update the limits and restart policy of containers
    Update(crate::commands::container::update::UpdateArgs),
    /// Get real time events from Berth
    Events(crate::commands::events::EventsArgs),
    /// Serve the Docker Engine API (berth-serve): -H unix://PATH|tcp://ADDR:PORT|fd://
    Serve(ServeArgs),
    /// Manage containers
    #[command(subcommand)]
    Container(ContainerCmd),
    /// Used by berth-monitor to apply a restart policy
    #[command(name = "container-restart-from-monitor", hide = true)]
    ContainerRestartFromMonitor { id: String },
    /// Used by berth-monitor to run a container's healthcheck
    #[command(name = "container-health-check", hide = true)]
    ContainerHealthCheck { id: String },
    /// Used by berth-monitor to take back a container's network when it ends
    #[command(name = "container-cleanup", hide = true)]
    ContainerCleanup { id: String },
    /// Run by the watcher of a berth-monitor that died: record the end, apply the policy
    #[command(name = "container-monitor-died", hide = true)]
    ContainerMonitorDied { id: String },
    /// Manage networks
    #[command(subcommand)]
    Network(crate::commands::network::NetworkCmd),
    /// Manage volumes
    #[command(subcommand)]
    Volume(crate::commands::volume::VolumeCmd),
    /// Manage Berth
    #[command(subcommand)]
    System(crate::commands::system::SystemCmd),
    /// Display system-wide information
    Info(crate::commands::info::InfoArgs),
}

/// `berth container CMD`: every container command under Docker's group names.
#[derive(Subcommand, Debug)]
pub enum ContainerCmd {
    /// Create and start a container from an image
    Run(RunArgs),
    /// Create a container from an image without starting it
    Create(RunArgs),
    /// Start stopped containers
    Start(StartArgs),
    /// Stop running containers
    Stop(StopArgs),
    /// Restart containers
    Restart(StopArgs),
    /// Send a signal to running containers
    Kill(KillArgs),
    /// Remove containers
    #[command(alias = "remove")]
    Rm(RmArgs),
    /// List containers
    #[command(alias = "list", alias = "ps")]
    Ls(PsArgs),
    /// Details of containers as JSON
    Inspect(InspectContainersArgs),
    /// Block until containers stop, then print their exit codes
    Wait(ContainersArgs),
    /// Rename a container
    Rename(RenameArgs),
    /// Freeze every process of containers
    Pause(ContainersArgs),
    /// Thaw paused containers
    Unpause(ContainersArgs),
    /// Fetch the logs of a container
    Logs(LogsArgs),
    /// Attach to a running container's output (and input)
    Attach(AttachArgs),
    /// Display the running processes of a container
    Top(TopArgs),
    /// Display a live stream of containers' resource usage statistics
    Stats(StatsArgs),
    /// List port mappings or a specific mapping for the container
    Port(PortArgs),
    /// Inspect changes to files or directories on a container's filesystem
    Diff(ContainerArg),
    /// Create a new image from a container's changes
    Commit(CommitArgs),
    /// Export a container's filesystem as a tar archive
    Export(ExportArgs),
    /// Copy files/folders between a container and the local filesystem
    Cp(CpArgs),
    /// Run a command in a running container
    Exec(ExecArgs),
    /// Update the limits and restart policy of containers
    Update(crate::commands::container::update::UpdateArgs),
    /// Remove all stopped containers
    Prune(crate::commands::container::prune::ContainerPruneArgs),
}

#[derive(Args, Debug)]
pub struct LogsArgs {
    /// Follow log output (until the container exits)
    #[arg(short, long)]
    pub follow: bool,
    /// Number of lines to show from the end of the logs, or "all"
    #[arg(short = 'n', long, default_value = "all")]
    pub tail: String,
    /// Show logs since a timestamp (e.g. 2013-01-02T13:23:37Z) or relative (e.g. 42m)
    #[arg(long)]
    pub since: Option<String>,
    /// Show logs before a timestamp (e.g. 2013-01-02T13:23:37Z) or relative (e.g. 42m)
    #[arg(long)]
    pub until: Option<String>,
    /// Show timestamps
    #[arg(short, long)]
    pub timestamps: bool,
    /// Show extra details (accepted; Berth's log entries have no attributes)
    #[arg(long)]
    pub details: bool,
    pub container: String,
}

#[derive(Args, Debug)]
pub struct AttachArgs {
    /// Do not attach STDIN
    #[arg(long)]
    pub no_stdin: bool,
    /// Proxy all received signals to the process (accepted; without a terminal, signals
    /// reach berth only)
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set, num_args = 0..=1,
          default_missing_value = "true", require_equals = true)]
    pub sig_proxy: bool,
    /// Override the key sequence for detaching a container (with -t)
    #[arg(long)]
    pub detach_keys: Option<String>,
    pub container: String,
}

#[derive(Args, Debug)]
#[command(override_usage = "berth exec [OPTIONS] CONTAINER COMMAND [ARG...]")]
pub struct ExecArgs {
    /// Detached mode: run the command in the background
    #[arg(short, long)]
    pub detach: bool,
    /// Keep STDIN open even if not attached
    #[arg(short, long)]
    pub interactive: bool,
    /// Allocate a pseudo-TTY
    #[arg(short, long)]
    pub tty: bool,
    /// Set environment variables
    #[arg(short, long)]
    pub env: Vec<String>,
    /// Read in a file of environment variables
    #[arg(long)]
    pub env_file: Vec<PathBuf>,
    /// Username or UID (format: "<name|uid>[:<group|gid>]")
    #[arg(short, long)]
    pub user: Option<String>,
    /// Working directory inside the container
    #[arg(short, long)]
    pub workdir: Option<String>,
    /// Give extended privileges to the command
    #[arg(long)]
    pub privileged: bool,
    /// Override the key sequence for detaching (with -t)
    #[arg(long)]
    pub detach_keys: Option<String>,
    // One list, as docker parses it: the first word that is not an option ends exec's own
    // options, so the command's options (`ls -d`) are never taken for exec's.
    /// The container, then the command and its arguments
    #[arg(
        value_name = "CONTAINER COMMAND [ARG...]",
        required = true,
        num_args = 2..,
        trailing_var_arg = true
    )]
    pub container_and_cmd: Vec<String>,
}

impl ExecArgs {
    pub fn container(&self) -> &str {
        &self.container_and_cmd[0]
    }

    pub fn cmd(&self) -> &[String] {
        &self.container_and_cmd[1..]
    }
}

/// `[--root DIR] run|create|exec ...` parsed with only that command's arguments built:
/// clap builds every command's arguments before it parses, which cost ~0.5 ms of a ~10 ms
/// `run` (measured). Help, errors and every other shape are left to the full parser (None),
/// so what the user sees stays the same.
fn parse_start_path(args: &[std::ffi::OsString]) -> Option<Cli> {
    use clap::{Command, FromArgMatches};
    let mut root = None;
    let mut i = 1;
    loop {
        let arg = args.get(i)?.to_str()?;
        if arg == "--root" {
            root = Some(PathBuf::from(args.get(i + 1)?));
            i += 2;
        } else if let Some(dir) = arg.strip_prefix("--root=") {
            root = Some(PathBuf::from(dir));
            i += 1;
        } else {
            break;
        }
    }
    fn sub<T: Args + FromArgMatches>(name: &'static str, args: &[std::ffi::OsString]) -> Option<T> {
        let cmd = T::augment_args(Command::new(name).bin_name(format!("berth {name}")));
        let m = cmd.try_get_matches_from(args).ok()?;
        T::from_arg_matches(&m).ok()
    }
    let rest = &args[i..];
    let cmd = match rest.first()?.to_str()? {
        "run" => Cmd::Run(sub("run", rest)?),
        "create" => Cmd::Create(sub("create", rest)?),
        "exec" => Cmd::Exec(sub("exec", rest)?),
        _ => return None,
    };
    Some(Cli {
        root,
        version: false,
        cmd: Some(cmd),
    })
}

#[derive(Args, Debug)]
#[command(override_usage = "berth run|create [OPTIONS] IMAGE [COMMAND] [ARG...]")]
pub struct RunArgs {
    #[command(flatten)]
    pub flags: crate::commands::run_flags::RunFlags,
    /// Override the key sequence for detaching a container (with -t)
    #[arg(long)]
    pub detach_keys: Option<String>,
    // One list, as docker parses it: the first word that is not an option ends run's own
    // options, so everything after the image (`-c`, `-d`, `--help`, `--`) is the
    // container's.
    /// The image, then the command and its arguments (they replace the image's CMD)
    #[arg(
        value_name = "IMAGE [COMMAND] [ARG...]",
        required = true,
        num_args = 1..,
        trailing_var_arg = true
    )]
    pub image_and_cmd: Vec<String>,
}

impl RunArgs {
    pub fn image(&self) -> &str {
        &self.image_and_cmd[0]
    }

    pub fn cmd(&self) -> &[String] {
        &self.image_and_cmd[1..]
    }
}

#[derive(Args, Debug)]
pub struct StartArgs {
    /// Attach the container's output and wait for its exit
    #[arg(short, long)]
    pub attach: bool,
    /// Attach the container's standard input
    #[arg(short, long)]
    pub interactive: bool,
    /// Override the key sequence for detaching a container (with -t)
    #[arg(long)]
    pub detach_keys: Option<String>,
    #[arg(required = true, value_name = "CONTAINER")]
    pub containers: Vec<String>,
}

#[derive(Args, Debug)]
pub struct StopArgs {
    /// Seconds to wait before killing the container
    #[arg(
        short = 't',
        long = "time",
        visible_alias = "timeout",
        allow_negative_numbers = true
    )]
    pub time: Option<i64>,
    #[arg(required = true, value_name = "CONTAINER")]
    pub containers: Vec<String>,
}

#[derive(Args, Debug)]
pub struct KillArgs {
    /// Signal to send (name or number)
    #[arg(short, long, default_value = "KILL")]
    pub signal: String,
    #[arg(required = true, value_name = "CONTAINER")]
    pub containers: Vec<String>,
}

#[derive(Args, Debug)]
pub struct RmArgs {
    /// Kill and remove running containers
    #[arg(short, long)]
    pub force: bool,
    /// Remove the anonymous volumes of the containers
    #[arg(short, long)]
    pub volumes: bool,
    #[arg(required = true, value_name = "CONTAINER")]
    pub containers: Vec<String>,
}

#[derive(Args, Debug)]
pub struct PsArgs {
    /// Show all containers (only running ones without)
    #[arg(short, long)]
    pub all: bool,
    /// Only show container IDs
    #[arg(short, long)]
    pub quiet: bool,
    /// Show the N last created containers (all states)
    #[arg(short = 'n', long = "last")]
    pub last: Option<usize>,
    /// Show the latest created container (all states)
    #[arg(short, long)]
    pub latest: bool,
    /// Show sizes
    #[arg(short, long)]
    pub size: bool,
    /// Do not truncate output
    #[arg(long)]
    pub no_trunc: bool,
    /// Filter: status=, name=, id=, label=K[=V], ancestor=IMAGE, exited=N, health=,
    /// before=CONTAINER, since=CONTAINER, volume=NAME|PATH, network=NAME|ID, is-task=
    #[arg(short, long, value_name = "FILTER")]
    pub filter: Vec<String>,
    /// table, json, or a Go template such as 'table {{.ID}}\t{{.Names}}'
    #[arg(long)]
    pub format: Option<String>,
}

#[derive(Args, Debug)]
pub struct ContainersArgs {
    #[arg(required = true, value_name = "CONTAINER")]
    pub containers: Vec<String>,
}

#[derive(Args, Debug)]
pub struct ObjectsArgs {
    #[arg(required = true, value_name = "NAME|ID")]
    pub objects: Vec<String>,
    /// json, or a Go template such as '{{.State.Status}}'
    #[arg(short, long)]
    pub format: Option<String>,
}

#[derive(Args, Debug)]
pub struct InspectContainersArgs {
    #[arg(required = true, value_name = "CONTAINER")]
    pub containers: Vec<String>,
    /// json, or a Go template such as '{{.State.Status}}'
    #[arg(short, long)]
    pub format: Option<String>,
}

#[derive(Args, Debug)]
pub struct RenameArgs {
    pub container: String,
    pub new_name: String,
}

#[derive(Subcommand, Debug)]
pub enum ImageCmd {
    /// Download an image from a registry
    Pull(PullArgs),
    /// List images
    #[command(alias = "list")]
    Ls(ImagesArgs),
    /// Image details as JSON (Docker's shape)
    Inspect(InspectArgs),
    /// Give an image another name
    Tag(TagArgs),
    /// Remove image names
    #[command(alias = "remove")]
    Rm(RmiArgs),
    /// Write images to a tar archive (Docker's format, also an OCI layout)
    Save(SaveArgs),
    /// Load images from a tar archive (Docker or OCI layout; plain, gzip or zstd)
    Load(LoadArgs),
    /// Make an image from a root filesystem tarball
    Import(ImportArgs),
    /// Show the history of an image
    History(HistoryArgs),
    /// Remove unused images
    Prune(PruneArgs),
}

#[derive(Args, Debug)]
pub struct SaveArgs {
    /// Write to a file instead of standard output
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    #[arg(required = true, value_name = "IMAGE")]
    pub images: Vec<String>,
}

#[derive(Args, Debug)]
pub struct LoadArgs {
    /// Read from a tar archive file instead of standard input
    #[arg(short, long, value_name = "FILE")]
    pub input: Option<PathBuf>,
    /// Suppress the load output
    #[arg(short, long)]
    pub quiet: bool,
}

#[derive(Args, Debug)]
pub struct ImportArgs {
    /// Root filesystem tarball (plain, gzip or zstd), or - for standard input
    #[arg(value_name = "file|-")]
    pub file: String,
    /// Name for the image: REPOSITORY[:TAG]
    pub reference: Option<String>,
    /// Commit message for the imported image
    #[arg(short, long)]
    pub message: Option<String>,
    /// Apply a Dockerfile instruction to the image (CMD, ENTRYPOINT, ENV, EXPOSE, LABEL,
    /// STOPSIGNAL, USER, VOLUME, WORKDIR)
    #[arg(short, long)]
    pub change: Vec<String>,
}

#[derive(Args, Debug)]
pub struct HistoryArgs {
    pub image: String,
    /// Print sizes and dates in human readable format (--human=false for raw)
    #[arg(short = 'H', long, default_value_t = true, action = clap::ArgAction::Set,
          num_args = 0..=1, default_missing_value = "true", require_equals = true)]
    pub human: bool,
    /// Do not truncate output
    #[arg(long)]
    pub no_trunc: bool,
    /// Only show image IDs
    #[arg(short, long)]
    pub quiet: bool,
}

#[derive(Args, Debug)]
pub struct SearchArgs {
    /// What to look for; `host:port/words` searches that index instead of Docker Hub's
    pub term: String,
    /// Filter the results (is-official=true, is-automated=false, stars=N)
    #[arg(short, long)]
    pub filter: Vec<String>,
    /// Pretty-print results with a Go template
    #[arg(long)]
    pub format: Option<String>,
    /// Max number of search results (the index's default when 0)
    #[arg(long, default_value_t = 0)]
    pub limit: u32,
    /// Do not truncate output
    #[arg(long)]
    pub no_trunc: bool,
}

#[derive(Args, Debug)]
pub struct PruneArgs {
    /// Remove all images not used by a container, not just dangling ones
    #[arg(short, long)]
    pub all: bool,
    /// Do not prompt for confirmation
    #[arg(short, long)]
    pub force: bool,
}

#[derive(Args, Debug)]
pub struct PullArgs {
    /// NAME[:TAG|@DIGEST]
    pub reference: String,
    /// Print only the digest of the pulled image
    #[arg(short, long)]
    pub quiet: bool,
    /// os/arch[/variant] to pull from a multi-platform index (default: this host's)
    #[arg(long)]
    pub platform: Option<String>,
}

#[derive(Args, Debug)]
pub struct PushArgs {
    /// NAME[:TAG]
    pub reference: String,
    /// Print only the manifest digest
    #[arg(short, long)]
    pub quiet: bool,
}

#[derive(Args, Debug)]
pub struct ImagesArgs {
    /// Only this repository (and tag), e.g. busybox or 'team/*:v1'
    pub repository: Option<String>,
    /// Show all images (Berth keeps no intermediate images, so the same as without)
    #[arg(short, long)]
    pub all: bool,
    /// Filter: dangling=true|false, reference=PATTERN, before=IMAGE, since=IMAGE, label=K[=V]
    #[arg(short, long, value_name = "FILTER")]
    pub filter: Vec<String>,
    /// table, json, or a Go template such as 'table {{.Repository}}\t{{.ID}}'
    #[arg(long)]
    pub format: Option<String>,
    /// Only show image IDs
    #[arg(short, long)]
    pub quiet: bool,
    /// Show digests
    #[arg(long)]
    pub digests: bool,
    /// Do not truncate output
    #[arg(long)]
    pub no_trunc: bool,
}

#[derive(Args, Debug)]
pub struct TagArgs {
    pub source: String,
    pub target: String,
}

#[derive(Args, Debug)]
pub struct RmiArgs {
    #[arg(required = true, value_name = "IMAGE")]
    pub references: Vec<String>,
    /// Remove an image ID with several names (every name goes)
    #[arg(short, long)]
    pub force: bool,
    /// Do not delete untagged parents (accepted; Berth keeps no parent images)
    #[arg(long)]
    pub no_prune: bool,
}

#[derive(Args, Debug)]
pub struct InspectArgs {
    #[arg(required = true, value_name = "IMAGE")]
    pub references: Vec<String>,
    /// json, or a Go template such as '{{.Config.Cmd}}'
    #[arg(short, long)]
    pub format: Option<String>,
}

#[derive(Args, Debug)]
pub struct LoginArgs {
    /// Registry (default docker.io)
    pub server: Option<String>,
    #[arg(short, long)]
    pub username: Option<String>,
    #[arg(short, long)]
    pub password: Option<String>,
    /// Read the password from standard input
    #[arg(long)]
    pub password_stdin: bool,
}

#[derive(Args, Debug)]
pub struct LogoutArgs {
    pub server: Option<String>,
}

/// A command line that cannot be used: the line(s) `main` prints after `Error: ` and the
/// status, docker's: 125 for a bad flag or flag value, 1 for missing arguments or an unknown
/// command.
#[derive(Debug)]
pub struct UsageError {
    pub msg: String,
    pub code: i32,
}

/// Parse the command line. Help and version requests are `Ok(None)` once printed.
pub fn parse() -> Result<Option<Cli>, UsageError> {
    use clap::error::ErrorKind;
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    if let Some(cli) = parse_start_path(&args) {
        return Ok(Some(cli));
    }
    match Cli::try_parse_from(&args) {
        Ok(cli) => Ok(Some(cli)),
        Err(e) => match e.kind() {
            ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => {
                print!("{}", e.render());
                Ok(None)
            }
            _ => Err(usage_error(&e, &args)),
        },
    }
}

/// The command the arguments name (`berth run`, `berth container rm`): the first word
/// after the global options, and the next one for a command group.
fn command_of(args: &[std::ffi::OsString]) -> String {
    let mut words = vec!["berth".to_string()];
    let mut it = args.iter().skip(1).filter_map(|a| a.to_str());
    while let Some(a) = it.next() {
        if a == "--root" {
            it.next();
            continue;
        }
        if a.starts_with('-') {
            if words.len() > 1 {
                break;
            }
            continue;
        }
        words.push(a.to_string());
        let group = ["container", "image", "network", "volume", "system"];
        if words.len() > 2 || !group.contains(&a) {
            break;
        }
    }
    words.join(" ")
}

fn usage_error(e: &clap::Error, args: &[std::ffi::OsString]) -> UsageError {
    use clap::error::{ContextKind, ErrorKind};
    let cmd = command_of(args);
    let see = format!("See '{cmd} --help'.");
    let context = |k: ContextKind| e.get(k).map(|v| v.to_string()).unwrap_or_default();
    match e.kind() {
        ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
            eprint!("{}", e.render());
            UsageError {
                msg: "a subcommand is needed".into(),
                code: 1,
            }
        }
        ErrorKind::InvalidSubcommand => UsageError {
            msg: format!(
                "unknown command: berth {}\nSee 'berth --help'.",
                context(ContextKind::InvalidSubcommand)
            ),
            code: 1,
        },
        ErrorKind::MissingRequiredArgument | ErrorKind::TooFewValues => UsageError {
            msg: format!("'{cmd}' requires more arguments.\n{see}"),
            code: 1,
        },
        ErrorKind::UnknownArgument => {
            let arg = context(ContextKind::InvalidArg);
            let what = match arg.strip_prefix('-') {
                Some(short) if !short.starts_with('-') => {
                    format!("unknown shorthand flag: '{short}' in {arg}")
                }
                _ => format!("unknown flag: {}", arg.split('=').next().unwrap_or(&arg)),
            };
            UsageError {
                msg: format!("{what}\n{see}"),
                code: 125,
            }
        }
        _ => {
            // clap's message up to its usage block, on one line.
            let text = e.render().to_string();
            let what: Vec<&str> = text
                .lines()
                .map(str::trim)
                .take_while(|l| !l.is_empty() && !l.starts_with("Usage:"))
                .collect();
            let what = what.join(" ");
            UsageError {
                msg: format!("{}\n{see}", what.trim_start_matches("error: ")),
                code: 125,
            }
        }
    }
}

#[derive(Args, Debug)]
#[command(override_usage = "berth top CONTAINER [ps OPTIONS]")]
pub struct TopArgs {
    // The first word that is not an option ends top's own, as docker parses it.
    /// The container, then options for ps (default -ef)
    #[arg(
        value_name = "CONTAINER [ps OPTIONS]",
        required = true,
        num_args = 1..,
        trailing_var_arg = true
    )]
    pub container_and_ps_args: Vec<String>,
}

impl TopArgs {
    pub fn container(&self) -> &str {
        &self.container_and_ps_args[0]
    }

    pub fn ps_args(&self) -> &[String] {
        &self.container_and_ps_args[1..]
    }
}

#[derive(Args, Debug)]
pub struct StatsArgs {
    /// Show all containers (only running ones without)
    #[arg(short, long)]
    pub all: bool,
    /// Print one table and exit
    #[arg(long)]
    pub no_stream: bool,
    /// Do not truncate output
    #[arg(long)]
    pub no_trunc: bool,
    /// table, json, or a Go template such as 'table {{.Name}}\t{{.CPUPerc}}'
    #[arg(long)]
    pub format: Option<String>,
    #[arg(value_name = "CONTAINER")]
    pub containers: Vec<String>,
}

#[derive(Args, Debug)]
pub struct PortArgs {
    pub container: String,
    /// PRIVATE_PORT[/PROTO]
    pub port: Option<String>,
}

#[derive(Args, Debug)]
pub struct ContainerArg {
    pub container: String,
}

#[derive(Args, Debug)]
pub struct CommitArgs {
    /// Author (e.g. "John Hannibal Smith <hannibal@a-team.com>")
    #[arg(short, long)]
    pub author: Option<String>,
    /// Commit message
    #[arg(short, long)]
    pub message: Option<String>,
    /// Apply Dockerfile instruction to the created image
    #[arg(short, long)]
    pub change: Vec<String>,
    /// Pause the container during commit (--pause=false to not)
    #[arg(short, long, default_value_t = true, action = clap::ArgAction::Set, num_args = 0..=1,
          default_missing_value = "true", require_equals = true)]
    pub pause: bool,
    pub container: String,
    /// REPOSITORY[:TAG]
    pub reference: Option<String>,
}

#[derive(Args, Debug)]
pub struct ExportArgs {
    /// Write to a file, instead of STDOUT
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    pub container: String,
}

#[derive(Args, Debug)]
pub struct CpArgs {
    /// Archive mode (copy all uid/gid information)
    #[arg(short, long)]
    pub archive: bool,
    /// Always follow symbol link in SRC_PATH
    #[arg(short = 'L', long)]
    pub follow_link: bool,
    /// Suppress progress output (accepted; Berth prints none)
    #[arg(short, long)]
    pub quiet: bool,
    /// CONTAINER:SRC_PATH, host SRC_PATH, or - (a tar on standard input)
    #[arg(allow_hyphen_values = true)]
    pub src: String,
    /// CONTAINER:DEST_PATH, host DEST_PATH, or - (a tar on standard output)
    #[arg(allow_hyphen_values = true)]
    pub dst: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn argv(s: &[&str]) -> Vec<std::ffi::OsString> {
        std::iter::once("berth")
            .chain(s.iter().copied())
            .map(Into::into)
            .collect()
    }

    /// The start path's parser gives what the full one gives, or leaves the arguments to it.
    #[test]
    fn start_path_parse_matches_the_full_parser() {
        let agree = [
            &["run", "--rm", "bb", "true"][..],
            &[
                "--root", "/x", "run", "-d", "--name", "n", "-p", "8080:80", "bb",
            ],
            &[
                "--root=/x",
                "run",
                "-it",
                "-e",
                "A=1",
                "bb",
                "sh",
                "-c",
                "echo $A",
            ],
            &["run", "--network", "none", "bb", "ls", "-la", "--", "-x"],
            &["create", "-v", "/a:/b:ro", "--memory", "12m", "bb"],
            &["exec", "-it", "-u", "0:0", "c1", "sh"],
            &["exec", "c1", "ls", "-l"],
            &["run", "--entrypoint", "sh", "bb", "-c", "echo hi"],
            &["run", "bb", "-d", "/etc", "-l", "x", "--help", "--"],
            &["run", "--", "bb", "x"],
            &["exec", "c1", "-it", "sh"],
        ];
        for a in agree {
            let fast = parse_start_path(&argv(a)).unwrap_or_else(|| panic!("{a:?}: not taken"));
            let full = Cli::try_parse_from(argv(a)).unwrap();
            assert_eq!(format!("{fast:?}"), format!("{full:?}"), "{a:?}");
        }
        let left = [
            &["run", "--help"][..],
            &["run"],
            &["run", "--no-such-flag", "bb"],
            &["run", "--root", "/x", "bb"],
            &["ps"],
            &["container", "run", "bb"],
            &["--root"],
        ];
        for a in left {
            assert!(parse_start_path(&argv(a)).is_none(), "{a:?}");
        }
    }

    fn run_args(a: &[&str]) -> RunArgs {
        match Cli::try_parse_from(argv(a)).unwrap().cmd {
            Some(Cmd::Run(r)) => r,
            other => panic!("{other:?}"),
        }
    }

    /// docker's parse: berth's options end at the image; what follows is the container's.
    #[test]
    fn words_after_the_image_are_the_containers() {
        let r = run_args(&["run", "--entrypoint", "sh", "bb", "-c", "echo hi"]);
        assert_eq!(
            (r.image(), r.cmd()),
            ("bb", &["-c".to_string(), "echo hi".into()][..])
        );
        assert_eq!(r.flags.cpu_shares, None);
        let r = run_args(&["run", "bb", "-d", "/etc", "-l", "k=v", "--help", "--", "-x"]);
        assert!(!r.flags.detach && r.flags.label.is_empty());
        assert_eq!(r.cmd(), ["-d", "/etc", "-l", "k=v", "--help", "--", "-x"]);
        let r = run_args(&["run", "-d", "--", "bb", "x"]);
        assert!(r.flags.detach);
        assert_eq!((r.image(), r.cmd()), ("bb", &["x".to_string()][..]));
    }

    #[test]
    fn usage_errors_have_dockers_codes_and_words() {
        let e = |a: &[&str]| usage_error(&Cli::try_parse_from(argv(a)).unwrap_err(), &argv(a));
        let u = e(&["run", "--no-such", "bb"]);
        assert_eq!(u.code, 125);
        assert_eq!(u.msg, "unknown flag: --no-such\nSee 'berth run --help'.");
        let u = e(&["container", "rm", "-x", "c"]);
        assert_eq!(u.code, 125);
        assert!(
            u.msg
                .starts_with("unknown shorthand flag: 'x' in -x\nSee 'berth container rm --help'."),
            "{}",
            u.msg
        );
        assert_eq!(e(&["run", "--rm=maybe", "bb"]).code, 125);
        assert_eq!(e(&["run"]).code, 1);
        assert_eq!(e(&["exec", "c1"]).code, 1);
        assert_eq!(e(&["rm"]).code, 1);
        assert_eq!(e(&["no-such-command"]).code, 1);
    }
}

#[derive(Args, Debug)]
pub struct ServeArgs {
    /// berth-serve's options (see `berth serve --help`)
    #[arg(allow_hyphen_values = true, trailing_var_arg = true, num_args = 0..)]
    pub args: Vec<String>,
}
