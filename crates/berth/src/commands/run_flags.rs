//! The flags `run` and `create` share (a placeholder with the few the engine core needs and tests;
//! the complete set, with every `docker run` flag, replaces this file).

use berth_engine::options::{PullPolicy, RestartPolicy, RunOptions};

#[derive(clap::Args, Debug, Clone, Default)]
pub struct RunFlags {
    /// Run in the background and print the container ID
    #[arg(short = 'd', long)]
    pub detach: bool,
    /// Remove the container when it exits
    #[arg(long)]
    pub rm: bool,
    /// Name of the container
    #[arg(long)]
    pub name: Option<String>,
    /// Set an environment variable (KEY=VALUE, or KEY to take this shell's value)
    #[arg(short = 'e', long = "env", value_name = "KEY=VALUE")]
    pub env: Vec<String>,
    /// Keep standard input open
    #[arg(short = 'i', long)]
    pub interactive: bool,
    /// Allocate a pseudo-terminal
    #[arg(short = 't', long)]
    pub tty: bool,
    /// Override the image's ENTRYPOINT
    #[arg(long)]
    pub entrypoint: Option<String>,
    /// Working directory inside the container
    #[arg(short = 'w', long = "workdir")]
    pub workdir: Option<String>,
    /// Restart policy: no, on-failure[:max-retries], always, unless-stopped
    #[arg(long, default_value = "no")]
    pub restart: String,
    /// Pull the image before running: missing, always or never
    #[arg(long, default_value = "missing")]
    pub pull: String,
}

impl RunFlags {
    pub fn to_options(
        &self,
        image: &str,
        cmd: &[String],
    ) -> Result<RunOptions, berth_engine::Error> {
        let pull = match self.pull.as_str() {
            "missing" => PullPolicy::Missing,
            "always" => PullPolicy::Always,
            "never" => PullPolicy::Never,
            v => {
                return Err(berth_engine::Error::invalid(
                    "--pull",
                    v,
                    "must be missing, always or never",
                ))
            }
        };
        let env = self
            .env
            .iter()
            .filter_map(|e| match e.split_once('=') {
                Some(_) => Some(e.clone()),
                None => std::env::var(e).ok().map(|v| format!("{e}={v}")),
            })
            .collect();
        let restart = match self.restart.split_once(':') {
            None if self.restart == "no" => RestartPolicy::No,
            None if self.restart == "always" => RestartPolicy::Always,
            None if self.restart == "unless-stopped" => RestartPolicy::UnlessStopped,
            None if self.restart == "on-failure" => RestartPolicy::OnFailure(0),
            Some(("on-failure", n)) => RestartPolicy::OnFailure(n.parse().map_err(|_| {
                berth_engine::Error::invalid("--restart", &self.restart, "bad retry count")
            })?),
            _ => {
                return Err(berth_engine::Error::invalid(
                    "--restart",
                    &self.restart,
                    "must be no, on-failure[:N], always or unless-stopped",
                ))
            }
        };
        Ok(RunOptions {
            restart,
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
            env,
            workdir: self.workdir.clone(),
            tty: self.tty,
            interactive: self.interactive,
            detach: self.detach,
            auto_remove: self.rm,
            pull,
            ..Default::default()
        })
    }
}
