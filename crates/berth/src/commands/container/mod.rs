//! The container commands: thin layers over `berth_engine::Engine`, one file per group.
//! Their errors carry Docker's exit codes (125 for Berth's failures, 126/127 for a command
//! that cannot be run, the container's status otherwise).

pub mod attach;
pub mod cidfile;
pub mod exec;
pub mod image;
pub mod inspect;
pub mod lifecycle;
pub mod logs;
pub mod prune;
pub mod ps;
pub mod run;
pub mod tty;
pub mod update;

// Looking into containers and taking things out of them.
pub mod commit;
pub mod cp;
pub mod diff;
pub mod export;
pub mod port;
pub mod stats;
pub mod top;

use crate::env::Env;
use berth_engine::Engine;

/// A failed command: the line to print and the status to exit with.
#[derive(Debug)]
pub struct Failure {
    pub msg: String,
    pub code: i32,
}

impl From<String> for Failure {
    /// Image commands exit 1 on error, as docker's do.
    fn from(msg: String) -> Failure {
        Failure { msg, code: 1 }
    }
}

impl From<berth_engine::Error> for Failure {
    fn from(e: berth_engine::Error) -> Failure {
        Failure {
            msg: e.to_string(),
            code: e.exit_code(),
        }
    }
}

impl From<berth_image::Error> for Failure {
    fn from(e: berth_image::Error) -> Failure {
        Failure {
            msg: e.to_string(),
            code: 125,
        }
    }
}

/// A Berth failure (125) from a message.
pub fn fail(msg: impl Into<String>) -> Failure {
    Failure {
        msg: msg.into(),
        code: 125,
    }
}

pub fn engine(env: &Env) -> Result<Engine, Failure> {
    Ok(Engine::open(&env.root)?)
}

/// Run `f` on each argument as docker does: print what it returns, report each error on
/// stderr as it comes, and fail (125) if any failed.
pub fn each(
    args: &[String],
    mut f: impl FnMut(&str) -> Result<Option<String>, Failure>,
) -> Result<i32, Failure> {
    let mut failed = false;
    for a in args {
        match f(a) {
            Ok(Some(out)) => println!("{out}"),
            Ok(None) => {}
            Err(e) => {
                eprintln!("Error: {}", e.msg);
                failed = true;
            }
        }
    }
    if failed {
        // Already printed: an empty message tells main not to print again.
        return Err(fail(""));
    }
    Ok(0)
}
