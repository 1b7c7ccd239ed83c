//! Arguments, shaped like the docker CLI's for the commands Berth has so far.

use lexopt::prelude::*;
use std::path::PathBuf;

pub struct Cli {
    pub root: Option<PathBuf>,
    pub cmd: Cmd,
}

pub enum Cmd {
    Pull {
        reference: String,
        quiet: bool,
        platform: Option<String>,
    },
    Images {
        quiet: bool,
        digests: bool,
        no_trunc: bool,
    },
    Tag {
        source: String,
        target: String,
    },
    Rmi {
        references: Vec<String>,
    },
    Login {
        server: Option<String>,
        username: Option<String>,
        password: Option<String>,
        password_stdin: bool,
    },
    Logout {
        server: Option<String>,
    },
    Inspect {
        references: Vec<String>,
    },
    Version,
    Help,
}

const HELP: &str = "Usage: berth [--root DIR] COMMAND

Commands:
  pull [-q] [--platform os/arch[/variant]] NAME[:TAG|@DIGEST]   pull an image from a registry
  images [-q] [--digests] [--no-trunc]                          list images
  tag SOURCE TARGET                                             give an image another name
  rmi NAME...                                                   remove image names
  login [-u USER] [-p PASS | --password-stdin] [SERVER]         store registry credentials
  logout [SERVER]                                               remove them
  image inspect NAME...                                         image details (Docker's JSON shape)
  version                                                       show the version

Data lives under --root, else $BERTH_ROOT, else /var/lib/berth.
(Containers, volumes and networks come next; the OCI runtime is berth-runtime.)";

pub fn help() -> &'static str {
    HELP
}

pub fn parse() -> Result<Cli, String> {
    let mut p = lexopt::Parser::from_env();
    let mut root = None;
    let mut name: Option<String> = None;
    let mut pos: Vec<String> = Vec::new();
    let (mut quiet, mut digests, mut no_trunc) = (false, false, false);
    let mut platform = None;
    let (mut username, mut password, mut password_stdin) = (None, None, false);
    let e = |e: lexopt::Error| e.to_string();
    while let Some(arg) = p.next().map_err(e)? {
        match arg {
            Long("root") => root = Some(PathBuf::from(p.value().map_err(e)?)),
            Long("help") | Short('h') => {
                return Ok(Cli {
                    root,
                    cmd: Cmd::Help,
                })
            }
            Long("version") | Short('v') if name.is_none() => {
                return Ok(Cli {
                    root,
                    cmd: Cmd::Version,
                })
            }
            Short('q') | Long("quiet") => quiet = true,
            Long("digests") => digests = true,
            Long("no-trunc") => no_trunc = true,
            Long("platform") => platform = Some(p.value().map_err(e)?.string().map_err(e)?),
            Short('u') | Long("username") => {
                username = Some(p.value().map_err(e)?.string().map_err(e)?)
            }
            Short('p') | Long("password") => {
                password = Some(p.value().map_err(e)?.string().map_err(e)?)
            }
            Long("password-stdin") => password_stdin = true,
            Value(v) => {
                let v = v.string().map_err(e)?;
                if name.is_none() {
                    name = Some(v);
                } else {
                    pos.push(v);
                }
            }
            other => return Err(other.unexpected().to_string()),
        }
    }
    let one = |cmd: &str, pos: &mut Vec<String>| -> Result<String, String> {
        if pos.len() != 1 {
            return Err(format!(
                "\"berth {cmd}\" requires exactly 1 argument.\nSee 'berth --help'."
            ));
        }
        Ok(pos.remove(0))
    };
    let cmd = match name.as_deref() {
        None => Cmd::Help,
        Some("pull") => Cmd::Pull {
            reference: one("pull", &mut pos)?,
            quiet,
            platform,
        },
        Some("images") => Cmd::Images {
            quiet,
            digests,
            no_trunc,
        },
        Some("tag") if pos.len() == 2 => Cmd::Tag {
            source: pos.remove(0),
            target: pos.remove(0),
        },
        Some("tag") => {
            return Err("\"berth tag\" requires exactly 2 arguments.\nSee 'berth --help'.".into())
        }
        Some("rmi") if !pos.is_empty() => Cmd::Rmi { references: pos },
        Some("rmi") => {
            return Err("\"berth rmi\" requires at least 1 argument.\nSee 'berth --help'.".into())
        }
        Some("version") => Cmd::Version,
        Some("login") => Cmd::Login {
            server: pos.pop(),
            username,
            password,
            password_stdin,
        },
        Some("logout") => Cmd::Logout { server: pos.pop() },
        Some("image") if pos.first().map(String::as_str) == Some("inspect") && pos.len() > 1 => {
            Cmd::Inspect {
                references: pos.split_off(1),
            }
        }
        Some("image") if pos.first().map(String::as_str) == Some("ls") => Cmd::Images {
            quiet,
            digests,
            no_trunc,
        },
        Some("image") if pos.first().map(String::as_str) == Some("pull") && pos.len() == 2 => {
            Cmd::Pull {
                reference: pos.remove(1),
                quiet,
                platform,
            }
        }
        Some("image") => {
            return Err(
                "usage: berth image inspect NAME... | ls | pull NAME\nSee 'berth --help'.".into(),
            )
        }
        Some(other) => {
            return Err(format!(
                "unknown command: berth {other}\nSee 'berth --help'."
            ))
        }
    };
    Ok(Cli { root, cmd })
}
